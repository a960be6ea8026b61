"""Sampled RL, paper C's "1 or 2" experiment scaled down to NumPy: a tabular autoregressive
policy, the tasks and their pretrained references, the run metrics, the policy-gradient
trainer, Adam, and the policy fits of paper C's Fig. 1."""
