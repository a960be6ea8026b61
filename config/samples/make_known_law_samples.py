"""Regenerate ``known_law_prompts.csv``: samples of paper A's Fig. 4 prompts drawn from models
whose reward laws are known exactly (:func:`bonkl.reward_laws.prompt_models`).

Three prompts: "What is the capital of France?" (low entropy: a heavy answer), a yes/no prompt
(a few short answers hold most of the mass) and an open-ended poem (only a diffuse tail).
Each completion has its exact sequence log-prob and its length in tokens, so both of the
paper's rewards (log-likelihood, minus length) are computed from the file; one row per
distinct completion with its ``count``. The exact KL of each prompt under each reward comes
from the models, not from this file (``samples.known_law: fig4`` in the config).
``tests/unit/test_samples.py`` checks that this script reproduces the committed file.

Run: ``python config/samples/make_known_law_samples.py``.
"""

from pathlib import Path

from bonkl.study.samples import draw_known_law_file

CANDIDATES = 1024  # per prompt: the estimators are held to their goal for n <= N/16
SEED = 20240101

if __name__ == "__main__":
    table = draw_known_law_file(CANDIDATES, SEED)
    table.to_csv(Path(__file__).with_name("known_law_prompts.csv"), index=False,
                 lineterminator="\n")
