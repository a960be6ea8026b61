"""Best-of-n on a sampling run, prompt by prompt (stage ``samples``): paper A's Fig. 4 with the
exact KL beside the estimates.

The stage reads a file of sampled completions (one row per sample, or per distinct completion
with a ``count``; exact sequence log-probs) as the canonical samples frame of
:mod:`bonkl.sampled` (:func:`read_samples`) and, per reward of paper A's Fig. 4 and per n,
estimates each prompt's KL and win rate with every configured estimator, with intervals. When
the file was drawn from the known-law prompts of :func:`bonkl.reward_laws.prompt_models`
(``known_law: fig4``; ``config/samples/make_known_law_samples.py`` draws it by
:func:`draw_known_law_file`), each row also carries the exact values from the model's reward
law, so the estimates can be judged; a user's own file has no truth.

"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bonkl import reward_laws, sampled
from bonkl.plumbing.userfile import REWARDS, Columns, load_samples

#: Known-law prompt sets a drawn file can name (``samples.known_law``), each a function of the
#: reward giving the models by prompt.
KNOWN_LAWS = {"fig4": reward_laws.prompt_models}
#: Paper A's Fig. 4 rewards computed from a file, the log-prob and minus the length in tokens.
COMPUTED_REWARDS = REWARDS
#: Columns of the stage's per-prompt table (``exact_kl`` and ``exact_win_rate`` only with a
#: known law).
ESTIMATES = ["prompt", "n", "estimator", "candidates", "distinct", "kl", "kl_low", "kl_high",
             "formula", "win_rate", "win_rate_low", "win_rate_high", "method", "trusted",
             "note"]
ESTIMATES_NOTE = (
    "One row per reward, prompt, n and estimator (bonkl.sampled): the estimated KL(best-of-n ‖ "
    "reference) with its 95% interval, the formula log n − (n−1)/n (nats), the estimated win "
    "rate with its interval, the method, whether n <= N/16 (where the estimators are held to "
    "their accuracy goal), and with a known law the exact KL and win rate from the model. "
    "The u-statistic has no row where n >= N (it is undefined there).")
ESTIMATES_SUMMARY_NOTE = (
    "Per reward, estimator and n, over the file's prompts (bonkl.sampled.summarize): the mean "
    "KL with a t-interval over prompts, the formula, the mean win rate with its interval, KL "
    "quantiles, and with a known law the mean exact KL.")
TRUSTED_RATIO = 16  # the estimators are held to their goal for n <= N/16 (docs/estimators.md)


def read_samples(path, reward: str, columns: Mapping | None = None) -> pd.DataFrame:
    """The canonical samples frame of :mod:`bonkl.sampled` from a file of samples, read by
    :func:`bonkl.plumbing.userfile.load_samples` (every format and check of ``bonkl analyze``).

    ``reward`` is a column's name or one of :data:`COMPUTED_REWARDS` (``loglik`` the log-prob,
    ``neg-length`` minus ``num_tokens``); ``columns`` may rename ``prompt``, ``completion`` and
    ``logprob``. Raises :class:`~bonkl.plumbing.userfile.ReferenceFileError` naming the file,
    the line and what was expected.
    """
    names = dict(columns or {})
    return load_samples(path, Columns(prompt=names.get("prompt", "prompt"),
                                      outcome=names.get("completion"),
                                      logprob=names.get("logprob"), reward=reward))


def read_config_samples(section: Mapping, reward: str) -> pd.DataFrame:
    """The file of the config's ``samples`` section as a samples frame, with ``reward``."""
    return read_samples(section["path"], reward, section.get("columns"))


def draw_known_law_file(candidates: int, seed: int, known_law: str = "fig4") -> pd.DataFrame:
    """``candidates`` samples of every prompt of a known-law set, one row per distinct
    completion: ``prompt, completion, logprob, num_tokens, count`` (the draws do not depend on
    the reward, so one file serves both of paper A's rewards)."""
    models = KNOWN_LAWS[known_law]("loglik")
    parts = []
    for j, (prompt, model) in enumerate(models.items()):
        rng = np.random.default_rng(np.random.SeedSequence([seed, j]))
        d = model.draw(rng, candidates)
        parts.append(pd.DataFrame({"prompt": prompt, "completion": model.text(d["tokens"],
                                                                               d["answer"]),
                                   "logprob": d["logprob"], "num_tokens": d["length"]}))
    raw = pd.concat(parts, ignore_index=True)
    return (raw.groupby(["prompt", "completion"], sort=False)
            .agg(logprob=("logprob", "first"), num_tokens=("num_tokens", "first"),
                 count=("logprob", "size")).reset_index())


def estimate(samples: pd.DataFrame, n_grid, estimators, level: float = 0.95,
             known_law: str | None = None, reward: str | None = None) -> pd.DataFrame:
    """Per (prompt, n, estimator): :func:`bonkl.sampled.analyze`'s values (columns
    :data:`ESTIMATES`); with a ``known_law`` (and its ``reward``), ``exact_kl`` and
    ``exact_win_rate`` of each prompt from its model."""
    n = np.atleast_1d(np.asarray(n_grid, dtype=np.int64))
    tables = []
    for name in estimators:
        table = sampled.analyze(samples, n, estimator=name, level=level)
        tables.append(table.assign(estimator=name))
    table = pd.concat(tables, ignore_index=True)
    table = table[table["kl"].notna()].reset_index(drop=True)  # a u-statistic at n >= N
    table["trusted"] = table["n"] * TRUSTED_RATIO <= table["candidates"]
    table = table[ESTIMATES]
    if known_law is None:
        return table
    models = KNOWN_LAWS[known_law](reward)
    unknown = sorted(set(table["prompt"]) - set(models))
    if unknown:
        raise ValueError(f"known_law {known_law!r}: prompt {unknown[0][:60]!r} is not one of "
                         "its prompts")
    exact = {prompt: model.exact(n) for prompt, model in models.items()}
    index = {value: j for j, value in enumerate(n)}
    position = table["n"].map(index).to_numpy()
    table["exact_kl"] = [exact[p][0][k] for p, k in zip(table["prompt"], position, strict=True)]
    table["exact_win_rate"] = [exact[p][1][k]
                               for p, k in zip(table["prompt"], position, strict=True)]
    return table


def estimate_summary(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per estimator and n, over prompts: :func:`bonkl.sampled.summarize`, with the mean exact
    KL when the table has it."""
    parts = []
    for name, rows in table.groupby("estimator", sort=False):
        summary = sampled.summarize(rows, level)
        if "exact_kl" in rows:
            kept = rows[rows["candidates"] > 1]
            summary["exact_kl_mean"] = kept.groupby("n")["exact_kl"].mean().to_numpy()
        parts.append(summary.assign(estimator=name))
    out = pd.concat(parts, ignore_index=True)
    return out[["estimator"] + [c for c in out.columns if c != "estimator"]]


def _nats(value: float) -> str:
    return f"{value:.3f}"


def findings(table: pd.DataFrame, path: str, points: int = 3) -> str:
    """The stage's Markdown findings fragment, from its per-prompt table of every reward
    (column ``reward``): per reward and prompt, at ``points`` values of n that the default
    estimator is trusted at, the exact KL (with a known law), the default estimate with its
    interval, and the formula; which estimator, and where the formula is off."""
    default = table[table["estimator"] == sampled.DEFAULT_ESTIMATOR]
    lines = [f"On `{path}`, per prompt, the default estimator (`{sampled.DEFAULT_ESTIMATOR}`, "
             "docs/estimators.md) against the formula log n − (n−1)/n"
             + (" and the exact KL from the model the file was drawn from" if "exact_kl" in table
                else "") + ", in nats, 95% intervals in brackets:", ""]
    for reward, rows in default.groupby("reward", sort=False):
        lines.append(f"- reward `{reward}`:")
        for prompt, prompt_rows in rows.groupby("prompt", sort=False):
            usable = prompt_rows[prompt_rows["trusted"] & (prompt_rows["n"] > 1)]
            if usable.empty:
                continue
            picks = usable.iloc[np.unique(np.linspace(0, len(usable) - 1, points).round()
                                          .astype(int))]
            cells = []
            for _, row in picks.iterrows():
                cell = (f"n = {row['n']}: estimate {_nats(row['kl'])} "
                        f"[{_nats(row['kl_low'])}, {_nats(row['kl_high'])}], formula "
                        f"{_nats(row['formula'])}")
                if "exact_kl" in row:
                    cell += f", exact {_nats(row['exact_kl'])}"
                cells.append(cell)
            last = picks.iloc[-1]
            gap = last["formula"] - (last["exact_kl"] if "exact_kl" in last else last["kl"])
            lines.append(f"  - {prompt!r} ({last['method']}): " + "; ".join(cells)
                         + f". At n = {last['n']} the formula exceeds the "
                         + ("exact KL" if "exact_kl" in last else "estimate")
                         + f" by {_nats(gap)}.")
    if "exact_kl" in default:
        trusted = default[default["trusted"]]
        covered = ((trusted["kl_low"] <= trusted["exact_kl"] + 1e-12)
                   & (trusted["exact_kl"] - 1e-12 <= trusted["kl_high"]))
        lines += ["", f"The intervals of the default estimator cover the exact KL in "
                  f"{int(covered.sum())} of {len(trusted)} (prompt, n, reward) rows with "
                  f"n <= N/{TRUSTED_RATIO}."]
    return "\n".join(lines) + "\n"
