"""Regenerate ``lm_samples.csv``: a synthetic stand-in for one low-entropy LLM prompt.

Shaped like the paper's "capital of France" prompt: one answer holds most of the
reference mass, a long tail of rarer phrasings holds the rest, and a reward model scores
them with ties (scores rounded to 0.05). Each row is one distinct output as a user would
save it after sampling: its reference log-prob, its reward and how often it was drawn in
500 samples. The log-probs cover only the sampled outputs, so the pipeline reads the file
with ``normalize: true``. Run: ``python config/samples/make_lm_samples.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20240101)
tail = 79
logprob = np.r_[np.log(0.9), np.log(0.1) + np.sort(rng.normal(-2.0, 1.0, tail))[::-1]]
logprob[1:] -= np.log(np.exp(logprob[1:]).sum() / 0.1)
reward = np.r_[0.9, np.clip(rng.normal(0.45, 0.25, tail), 0, 1)]
reward[rng.choice(tail, 3, replace=False) + 1] = 0.95
count = rng.multinomial(500, np.exp(logprob))
seen = count > 0
table = pd.DataFrame({
    "outcome": [f"answer_{i:02d}" for i in range(tail + 1)],
    "logprob": np.round(logprob, 6),
    "reward": np.round(reward / 0.05) * 0.05,
    "count": count,
})[seen]
table["reward"] = table["reward"].round(2)
table.to_csv(Path(__file__).with_name("lm_samples.csv"), index=False, lineterminator="\n")
