"""Best-of-n on a user's sampling run, prompt by prompt (stage ``samples``, ``bonkl analyze --by
prompt``): paper A's Fig. 4 analysis for every prompt of a file.

Each prompt's distinct completions, with their normalised reference probabilities and
rewards (:func:`bonkl.plumbing.userfile.load_samples`), are a reference; per prompt and
``n``: the exact KL of best-of-n, the formula ``log n - (n-1)/n``, the exact expected
estimator and the exact win rate (paper A, sections 3-5), beside the prompt's number of
distinct outcomes, entropy and masses. A prompt whose outcomes all share one reward (one
outcome, or all tied) has best-of-n equal to its reference: KL 0, win rate 1/2, and its
rows say so.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from bonkl import bestofn
from bonkl.groups import as_reference, reward_groups
from bonkl.plumbing.userfile import Columns, load_samples

#: Quantiles over prompts in the summary.
QUANTILES = (0.1, 0.5, 0.9)
#: Columns of the per-prompt table.
PER_PROMPT = ["prompt", "n", "kl", "kl_formula", "expected_estimator", "win_rate",
              "win_rate_bound", "outcomes", "entropy", "top_mass", "top_reward_mass", "note"]
PER_PROMPT_NOTE = (
    "One row per reward, prompt and n: exact KL(best-of-n ‖ reference) and the formula log n − "
    "(n−1)/n (nats), the exact expected estimator, the exact win rate and its bound n/(n+1) "
    "(paper A); the prompt's distinct outcomes, entropy (nats), likeliest outcome's mass and "
    "best outcomes' mass p(C*). Each prompt's probabilities are its sampled completions', "
    "normalised.")
SUMMARY_NOTE = (
    "Per reward and n, over the file's prompts: the mean and the 10%, 50% and 90% quantiles of "
    "the exact KL, of the formula's overstatement log n − (n−1)/n − KL (nats) and of the win "
    "rate (paper A).")
#: The note of a row whose best-of-n differs from the reference.
DIFFERS = "-"  # never an empty cell, which CSV readers take for a missing value
SINGLE = "single outcome: best-of-n is the reference, KL 0"
TIED = "all rewards tie: best-of-n is the reference, KL 0"


def read_config_samples(section: Mapping, reward: str) -> pd.DataFrame:
    """The file of the config's ``samples`` section, read with ``reward`` (a column or one of
    paper A's rewards) and the section's ``columns`` and ``normalize``."""
    names = section.get("columns", {})
    columns = Columns(prompt=names.get("prompt", "prompt"), outcome=names.get("completion"),
                      logprob=names.get("logprob"), reward=reward)
    return load_samples(section["path"], columns, bool(section.get("normalize", False)),
                        normalize_hint="set 'normalize: true' under samples")


def per_prompt(samples: pd.DataFrame, n_grid) -> pd.DataFrame:
    """One row per (prompt, n) of ``samples`` (columns ``prompt, prob, reward``), prompts in
    first-seen order. Columns :data:`PER_PROMPT`: ``outcomes`` distinct outcomes, ``entropy``
    ``-Σ p log p`` (nats), ``top_mass`` ``max p(y)``, ``top_reward_mass`` ``p(C*)`` (the KL's
    cap is ``log 1/p(C*)``), ``note`` :data:`DIFFERS` unless best-of-n is the reference."""
    n = np.atleast_1d(np.asarray(n_grid, dtype=float))
    formula = bestofn.kl_formula(n)
    codes, prompts = pd.factorize(samples["prompt"])
    order = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(codes))]
    prob = samples["prob"].to_numpy(float)[order]
    reward = samples["reward"].to_numpy(float)[order]
    columns = {name: [] for name in ("kl", "expected_estimator", "win_rate")}
    per = {name: [] for name in ("outcomes", "entropy", "top_mass", "top_reward_mass", "note")}
    for k in range(prompts.size):
        p, r = as_reference(prob[bounds[k]:bounds[k + 1]], reward[bounds[k]:bounds[k + 1]])
        groups = reward_groups(p, r)
        columns["kl"].append(bestofn.kl_of_groups(groups, n))
        columns["expected_estimator"].append(bestofn.expected_kl_estimator_of_groups(p, groups, n))
        columns["win_rate"].append(bestofn.win_rate_of_groups(groups, n))
        per["outcomes"].append(p.size)
        per["entropy"].append(np.sum(special.entr(p)))
        per["top_mass"].append(p.max())
        per["top_reward_mass"].append(groups.top_mass)
        per["note"].append(DIFFERS if groups.mass.size > 1 else (SINGLE if p.size == 1 else TIED))
    table = pd.DataFrame({"prompt": np.repeat(np.asarray(prompts, dtype=object), n.size),
                          "n": np.tile(n, prompts.size)})
    table = table.assign(**{name: np.concatenate(values) for name, values in columns.items()})
    table["kl_formula"] = np.tile(formula, prompts.size)
    table["win_rate_bound"] = np.tile(n / (n + 1.0), prompts.size)
    table = table.assign(**{name: np.repeat(values, n.size) for name, values in per.items()})
    return table[PER_PROMPT]


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per ``n``, over prompts: the mean and :data:`QUANTILES` of the exact KL, of the
    formula's overstatement ``log n - (n-1)/n - KL`` and of the win rate; ``prompts`` counted."""
    data = table.assign(overstatement=table["kl_formula"] - table["kl"])
    by_n = data.groupby("n", sort=True)
    out = by_n.agg(prompts=("prompt", "size"), kl_formula=("kl_formula", "first"))
    for column in ("kl", "overstatement", "win_rate"):
        out[f"{column}_mean"] = by_n[column].mean()
        for q in QUANTILES:
            out[f"{column}_q{round(100 * q):02d}"] = by_n[column].quantile(q)
    return out.reset_index()
