"""The study: one module per pipeline stage (named after it) with the stage's summaries and
its claims, and :mod:`bonkl.study.ledger`, which checks the claims and merges them."""
