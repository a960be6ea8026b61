"""Regenerate ``synthetic_prompts.jsonl``: SYNTHETIC samples of three prompts, one JSON object
per sample as a generation pipeline writes them (prompt, completion, reference log-prob,
number of tokens, a reward model's score).

Nothing here comes from a model: the shapes mimic those paper A describes for its Fig. 4
(Gemma-9B-IT on Alpaca prompts), which cannot be rerun here.

- a low-entropy factual prompt: one answer holds most of the mass, a few rephrasings the rest;
- an open-ended prompt: every sample is a different poem, log-probs spread over a few nats;
- a list-like prompt: a handful of orderings and formats of the same three items.

The factual and the list-like prompt get 200 draws each from their listed completions (so
repeats, with equal log-probs, are frequent); the open-ended one gets 200 distinct poems, as
sampling a model would give. The log-probs cover only the sampled completions, so
the file is read with ``normalize``. Scores are rounded to 0.1, so rewards tie.
Run: ``python config/samples/make_synthetic_prompts.py``.
"""

import itertools
import json
from pathlib import Path

import numpy as np

rng = np.random.default_rng(20240102)
DRAWS = 200


def prompt_rows(prompt, completions, logprob, score, draw=True):
    """``DRAWS`` samples of ``prompt``, drawn in proportion to ``exp(logprob)`` (else each
    completion once)."""
    logprob = np.asarray(logprob, dtype=float)
    weight = np.exp(logprob - logprob.max())
    picks = (rng.choice(len(completions), DRAWS, p=weight / weight.sum()) if draw
             else range(len(completions)))
    return [{"prompt": prompt, "completion": completions[k], "logprob": round(logprob[k], 6),
             "num_tokens": len(completions[k].split()) + 1, "reward": round(score[k], 1)}
            for k in picks]


factual = ["Paris", "Paris.", "The capital of France is Paris.", "It is Paris.",
           "Paris, France.", "The answer is Paris.", "Paris is the capital of France.", "Lyon"]
factual_logprob = [-0.06, -3.4, -4.1, -5.0, -5.6, -6.3, -6.9, -9.5]
factual_score = [0.8, 0.8, 0.9, 0.8, 0.8, 0.7, 0.9, 0.0]

words = ("sea wave salt blue deep tide foam shore wind moon grey light drift song").split()
poems = [" ".join(rng.choice(words, int(rng.integers(12, 40)))) for _ in range(DRAWS)]
poem_logprob = rng.normal(-45.0, 1.0, DRAWS)
poem_score = np.clip(rng.normal(0.5, 0.2, DRAWS), 0, 1)

colors = ["red", "yellow", "blue"]
formats = ["{}, {} and {}.", "1. {}\n2. {}\n3. {}", "- {}\n- {}\n- {}"]
lists = [f.format(*order) for f in formats for order in itertools.permutations(colors)]
list_logprob = [-0.9 - 0.5 * i - 1.2 * j for j in range(3) for i in range(6)]
list_score = [0.7 + 0.1 * (j == 1) for j in range(3) for _ in range(6)]

rows = (prompt_rows("What is the capital of France?", factual, factual_logprob, factual_score)
        + prompt_rows("Write a short poem about the sea.", poems, poem_logprob, poem_score,
                      draw=False)
        + prompt_rows("List the three primary colours.", lists, list_logprob, list_score))
with Path(__file__).with_name("synthetic_prompts.jsonl").open("w", encoding="utf-8") as out:
    out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
