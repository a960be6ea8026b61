"""Best-of-n KL and win rate from a model's *sampled* candidates, with 95 % intervals.

A file of sampled completions per prompt (each with its exact sequence log-probability under
the reference and its reward) covers a vanishing share of the reference's mass, so it is not
a reference to pass to :func:`bonkl.bestofn.kl`. What it does give is a sample of the **law
of the reward under the reference**, and ``KL(π_n ‖ p)`` and ``W_n`` depend on ``p`` through
that law alone (paper A's digest, "Best-of-n KL from a real model's samples"): a law with no
atoms gives exactly ``log n - (n-1)/n`` and ``n/(n+1)``; atoms (a heavy answer, rewards tied
over many completions) pull the KL below.

Per prompt, :func:`analyze` tells two situations apart and says which in ``method``:

- the distinct completions' masses sum to 1 (``|log Σ p| <= SUM_TOLERANCE``): the prompt
  enumerates its support, computed exactly (``method = "exact"``);
- otherwise the prompt holds samples, and one of :data:`ESTIMATORS` estimates the KL and the
  win rate with an interval (``method`` is its name).

The estimated reward law. Candidates sharing a reward form a group ``g`` with ``c_g`` of the
prompt's ``N`` candidates, frequency ``f_g = c_g/N`` and seen mass ``s_g`` (the sum of its
distinct completions' ``p(y)``). Its atom mass is

.. math::

    a_g = \\begin{cases} s_g & \\text{one distinct completion (its mass is known exactly)} \\\\
    \\max(s_g, f_g) & \\text{several distinct completions tie (the group's mass is unseen;
    its frequency estimates it)} \\end{cases}

and the rest of the mass, ``1 - Σ a_g``, is continuous: spread over the reward axis in
proportion to the excess frequencies ``max(f_g - a_g, 0)``, just below each group's reward.
A diffuse completion (``p(y) = e^{-45}``) is thus continuous mass ``≈ 1/N``; a heavy answer
is an atom of its exact mass; a 0/1 verifier's two groups are atoms of their frequencies.

Intervals: a delete-a-block jackknife over candidates (``JACKKNIFE_BLOCKS`` blocks, each
candidate put in a block at random by a counter-based hash seeded from a SHA-256 of the prompt,
so a prompt's interval does not depend on the other prompts or on the run), with a Student ``t``
quantile on ``blocks - 1`` degrees of freedom, clipped to the always-true ranges
``0 <= KL <= log n - (n-1)/n`` and ``1/2 <= W_n <= n/(n+1)`` (paper A, Thms 3.1 and 5.3).
The ground-truth stage (``estimators``) measures their coverage.

References
----------
Beirami, Agarwal, Berant, D'Amour, Eisenstein, Nagpal, Suresh, "Theoretical guarantees on
the best-of-n alignment policy", arXiv:2401.01879.

Examples
--------
>>> import pandas as pd
>>> from bonkl import sampled
>>> samples = pd.DataFrame({"prompt": ["q"] * 4, "completion": list("abcd"),
...                         "logprob": [-40.0, -41.0, -39.0, -45.0],
...                         "reward": [0.1, 0.7, 0.3, 0.9], "count": [1, 1, 1, 1]})
>>> table = sampled.analyze(samples, [1, 2])
>>> table[["n", "method", "kl"]].round(4).to_string(index=False)
' n  method     kl\\n 1 plug-in 0.0000\\n 2 plug-in 0.1931'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from bonkl import bestofn
from bonkl.groups import reward_groups
from bonkl.logspace import log1mexp

#: A prompt enumerates its support when ``|log Σ_y p(y)| <= SUM_TOLERANCE`` over its distinct
#: completions (a relative error of the masses' sum, about ``1e-6``).
SUM_TOLERANCE = 1e-6
#: Blocks of the delete-a-block jackknife behind every estimate's interval.
JACKKNIFE_BLOCKS = 10
#: name -> what the estimator computes and which mass it uses for a tie group.
ESTIMATORS = {
    "plug-in": (
        "exact KL and W_n of the estimated reward law (atoms: a completion's exact mass, or a "
        "tie group's max(seen mass, frequency); the rest continuous, placed by frequency)"),
    "u-statistic": (
        "the paper's estimator D̂_n(ε) averaged over every n-subset of the candidates "
        "(order-statistic weights), ε the selected group's atom mass (a completion's exact "
        "mass, or a tie group's max(seen mass, frequency)); W_n as the matching U-statistic"),
}
#: The estimator :func:`analyze` uses unless told otherwise (the ground-truth stage's winner).
DEFAULT_ESTIMATOR = "plug-in"
#: ``support`` values of :func:`analyze`.
SUPPORTS = ("auto", "enumerated", "sampled")
#: Columns of :func:`analyze`'s table.
COLUMNS = ["prompt", "n", "candidates", "distinct", "log_seen_mass", "kl", "kl_low", "kl_high",
           "formula", "win_rate", "win_rate_low", "win_rate_high", "method", "note"]
NOTE_NONE = "-"  # never an empty cell, which CSV readers take for a missing value
NOTE_SINGLE = "single candidate: the interval is the always-true range"
NOTE_U_UNDEFINED = "n >= candidates: the u-statistic needs n < N (use plug-in)"
_LOG_TINY = -700.0  # log ε below which D̂_n(ε) equals log n - (n-1)/n in doubles
_CHUNK_ROWS = 2**16  # candidate rows per vectorised pass (bounds the work arrays' memory)
_CHUNK_PROMPTS = 256  # prompts per pass (bounds the rounding of the running sums)
_NEGLIGIBLE_ATOM = 1e-18  # an atom below this mass is taken as continuous (plug-in)
_HASHED_COUNT = 64  # completions drawn more often are split among blocks by a multinomial


@dataclass(frozen=True)
class _Prompts:
    """Rows sorted by (prompt, reward) with their tie groups; prompts in first-seen order."""

    names: np.ndarray  # prompt names (object), first-seen order
    row_prompt: np.ndarray  # prompt index of each sorted row
    logprob: np.ndarray
    reward: np.ndarray
    count: np.ndarray
    group_start: np.ndarray  # first row of each group (sorted rows)
    group_prompt: np.ndarray  # prompt index of each group
    prompt_group_start: np.ndarray  # first group of each prompt, then the number of groups


def _check(samples: pd.DataFrame) -> None:
    missing = [c for c in ("prompt", "completion", "logprob", "reward", "count")
               if c not in samples]
    if missing:
        raise ValueError(f"samples: missing column(s) {missing}; expected prompt, completion, "
                         "logprob, reward, count")
    for column in ("logprob", "reward"):
        values = samples[column].to_numpy(float)
        bad = ~np.isfinite(values) if column == "reward" else ~(values <= 0) | np.isnan(values)
        if np.any(bad):
            row = int(np.flatnonzero(bad)[0])
            want = "finite" if column == "reward" else "<= 0 (a log-probability)"
            prompt = str(samples["prompt"].iloc[row])[:60]
            raise ValueError(f"samples: row {row} (prompt {prompt!r}): {column} = "
                             f"{values[row]!r}, expected {want}")
    count = samples["count"].to_numpy()
    if np.any(count < 1) or not np.all(np.equal(np.mod(count, 1), 0)):
        row = int(np.flatnonzero((count < 1) | (np.mod(count, 1) != 0))[0])
        raise ValueError(f"samples: row {row}: count = {count[row]!r}, expected an integer >= 1")


def _prompts(samples: pd.DataFrame) -> _Prompts:
    """The rows grouped by prompt (a stable sort by prompt: the file's order within each), not
    yet by reward (:func:`_by_reward` sorts each chunk); no groups yet."""
    _check(samples)
    codes, names = pd.factorize(samples["prompt"], sort=False)
    order = np.argsort(codes, kind="stable")  # linear when the prompts are already contiguous
    empty = np.empty(0, dtype=np.int64)
    return _Prompts(np.asarray(names, dtype=object), codes[order],
                    samples["logprob"].to_numpy(float)[order],
                    samples["reward"].to_numpy(float)[order],
                    samples["count"].to_numpy(np.int64)[order], empty, empty, empty)


def _by_reward(rows: _Prompts, r0: int, r1: int, p0: int, p1: int) -> _Prompts:
    """The rows ``r0:r1`` (the whole prompts ``p0:p1``) sorted by (prompt, reward), ties in
    the file's order, with their tie groups; prompt indices local to the chunk."""
    codes = rows.row_prompt[r0:r1] - p0
    reward = rows.reward[r0:r1]
    order = np.lexsort((reward, codes))
    codes, reward = codes[order], reward[order]
    new_prompt = np.r_[True, codes[1:] != codes[:-1]]
    new_group = new_prompt | np.r_[True, reward[1:] != reward[:-1]]
    group_start = np.flatnonzero(new_group)
    group_prompt = codes[group_start]
    prompt_group_start = np.r_[np.flatnonzero(np.r_[True, group_prompt[1:] != group_prompt[:-1]]),
                               group_start.size]
    return _Prompts(rows.names[p0:p1], codes, rows.logprob[r0:r1][order], reward,
                    rows.count[r0:r1][order], group_start, group_prompt, prompt_group_start)


def log_seen_mass(samples: pd.DataFrame) -> pd.Series:
    """``log Σ_y p(y)`` over each prompt's distinct completions, indexed by prompt (first-seen
    order): 0 when the file enumerates the prompt's support, very negative for samples.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"prompt": ["a", "a", "b"], "completion": ["x", "y", "z"],
    ...                       "logprob": [-0.5, -1.0, -30.0], "reward": [1.0, 2.0, 0.0],
    ...                       "count": [3, 1, 1]})
    >>> log_seen_mass(frame).round(4).to_dict()
    {'a': -0.0259, 'b': -30.0}
    """
    codes, names = pd.factorize(samples["prompt"], sort=False)
    logprob = samples["logprob"].to_numpy(float)
    top = np.full(names.size, -np.inf)
    np.maximum.at(top, codes, logprob)
    total = np.bincount(codes, weights=np.exp(logprob - top[codes]), minlength=names.size)
    return pd.Series(top + np.log(total), index=pd.Index(names, name="prompt"),
                     name="log_seen_mass")


def _segment_cumsum(values: np.ndarray, segment: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Inclusive cumulative sums of ``values`` within each run of equal ``segment`` labels
    (summed from the end of each run when ``reverse``). One running sum minus its value at each
    run's start: the rounding error is ``eps`` times the running total, at most
    ``_CHUNK_PROMPTS`` (each prompt's masses sum to 1)."""
    if reverse:
        return _segment_cumsum(values[::-1], segment[::-1])[::-1]
    total = np.cumsum(values)
    starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    before = total[starts] - values[starts]
    return total - np.repeat(before, np.diff(np.r_[starts, values.size]))


@dataclass(frozen=True)
class _Law:
    """Per tie group: the estimated reward law's continuous mass below it and its atom."""

    prompt: np.ndarray  # local prompt index of each group
    count: np.ndarray  # candidates in the group
    below: np.ndarray  # candidates of the prompt strictly below the group
    total: np.ndarray  # candidates of the group's prompt, per group
    log_atom: np.ndarray  # log a_g
    continuous: np.ndarray  # continuous mass just below the group's reward


def _estimated_law(rows: _Prompts, count: np.ndarray) -> _Law:
    """The estimated reward law of each prompt from the candidates' ``count`` (see the module
    doc); groups whose count is 0 (a jackknife replicate) get no mass."""
    starts = rows.group_start
    present = count > 0
    logprob = np.where(present, rows.logprob, -np.inf)
    if starts.size == count.size:  # no reward shared by two completions: groups are rows
        group_count, distinct, log_seen = count, present.astype(np.int64), logprob
    else:
        group_count = np.add.reduceat(count, starts)
        distinct = np.add.reduceat(present.astype(np.int64), starts)
        top = np.maximum.reduceat(logprob, starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            shifted = np.exp(logprob - np.repeat(np.where(np.isfinite(top), top, 0.0),
                                                 np.diff(np.r_[starts, logprob.size])))
            log_seen = top + np.log(np.add.reduceat(shifted, starts))
        log_seen = np.where(group_count > 0, log_seen, -np.inf)
    prompt = rows.group_prompt
    total_by_prompt = np.bincount(prompt, weights=group_count)
    total = total_by_prompt[prompt]
    with np.errstate(invalid="ignore"):  # a prompt left without candidates: no mass
        frequency = np.where(total > 0, group_count / np.maximum(total, 1), 0.0)
    with np.errstate(divide="ignore"):
        log_atom = np.where(distinct > 1, np.maximum(log_seen, np.log(frequency)), log_seen)
    with np.errstate(under="ignore"):
        atom = np.exp(log_atom)
    atoms = np.bincount(prompt, weights=atom)
    over = atoms > 1.0  # the atoms' estimates exceed the mass: rescale them, nothing continuous
    log_atom = log_atom - np.log(np.where(over, atoms, 1.0))[prompt]
    rest = np.clip(1.0 - atoms, 0.0, None)
    rest[rest < 1e-14] = 0.0  # the frequencies' rounding
    excess = np.clip(frequency - np.exp(log_atom), 0.0, None)
    excess_total = np.bincount(prompt, weights=excess)
    with np.errstate(invalid="ignore", divide="ignore"):
        continuous = np.where(excess_total[prompt] > 0,
                              rest[prompt] * excess / excess_total[prompt], 0.0)
    below = _segment_cumsum(group_count, prompt) - group_count
    return _Law(prompt, group_count, below, total, log_atom, continuous)


def _g(log_u: np.ndarray, n: float) -> np.ndarray:
    """``G(u) = u^n (log n - (n-1)/n + (n-1) log u)``, so that a continuous piece ``[a, b]`` of
    the reward law's quantile axis adds ``∫_a^b n u^{n-1} log(n u^{n-1}) du = G(b) - G(a)``."""
    with np.errstate(invalid="ignore", over="ignore"):
        value = np.exp(n * log_u) * (bestofn.kl_formula(n) + (n - 1.0) * log_u)
    return np.where(np.isneginf(log_u), 0.0, value)


def _law_kernels(prompt: np.ndarray, continuous: np.ndarray, log_atom: np.ndarray,
                 n_values: np.ndarray, prompts: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``KL(π_n ‖ p)`` and ``W_n`` of per-prompt reward laws given per level (increasing
    reward, grouped by ``prompt``) as a continuous mass below the level and an atom at it;
    arrays ``(prompts, len(n_values))``.

    With ``a_0 <= a_1 <= a_2`` the level's quantiles (below its continuous piece, below its
    atom, above it), the atom adds ``π log(π/a)``, ``π = a_2^n - a_1^n``, to the KL and
    ``π (a_1 + a_2)/2`` to the win rate; the continuous piece adds ``G(a_1) - G(a_0)`` and
    ``n/(n+1) (a_1^{n+1} - a_0^{n+1})``. Upper quantiles come from the tail summed from the
    top, so that ``log a_2`` keeps its digits near 1.
    """
    atom = np.exp(log_atom)
    mass = continuous + atom
    above = _segment_cumsum(mass, prompt, reverse=True) - mass
    below_incl = _segment_cumsum(mass, prompt)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a2 = np.where(above < 0.5, np.log1p(-np.minimum(above, 0.5)), np.log(below_incl))
        share = np.where(mass > 0, np.minimum(atom / np.exp(log_a2), 1.0), 0.0)
        log_a1 = log_a2 + np.log1p(-share)  # the atom's share of a_2, from its own mass
        a1 = np.exp(log_a1)
        share = np.where(a1 > 0, np.minimum(continuous / a1, 1.0), 0.0)
        log_a0 = np.where(a1 > 0, log_a1 + np.log1p(-share), -np.inf)
        log_ratio = log_a1 - log_a2
    kl = np.zeros((prompts, n_values.size))
    win = np.full((prompts, n_values.size), 0.5)
    for j, n in enumerate(n_values):
        if n == 1:
            continue  # best-of-1 is the reference: KL 0, W 1/2 exactly
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_pi = np.where(atom > 0, n * log_a2 + log1mexp(np.minimum(n * log_ratio, 0.0)),
                              -np.inf)
            pi = np.exp(log_pi)
            atom_kl = np.where(pi > 0, pi * (log_pi - log_atom), 0.0)
            cont_kl = _g(log_a1, n) - _g(log_a0, n)
            atom_win = pi * (a1 + np.exp(log_a2)) / 2.0
            cont_win = n / (n + 1.0) * (np.exp((n + 1.0) * log_a1) - np.exp((n + 1.0) * log_a0))
        kl[:, j] = np.bincount(prompt, weights=atom_kl + cont_kl, minlength=prompts)
        win[:, j] = np.bincount(prompt, weights=atom_win + cont_win, minlength=prompts)
    return (np.clip(kl, 0.0, bestofn.kl_formula(n_values)),
            np.clip(win, 0.5, n_values / (n_values + 1)))


def law_kl_and_win_rate(continuous, atom, n) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``KL(π_n ‖ p)`` (nats) and ``W_n`` of best-of-n for a reward law given, level by
    level in increasing reward, as a continuous mass just below the level and an atom at it.

    A continuous piece ``[a, b]`` of the quantile axis (``u = F(r)``) adds

    .. math::

        \\int_a^b n u^{n-1} \\log(n u^{n-1})\\, du = G(b) - G(a), \\quad
        G(u) = u^n \\Big(\\log n - \\frac{n-1}{n} + (n-1) \\log u\\Big),

    and ``n/(n+1)·(b^{n+1} - a^{n+1})`` to the win rate; an atom of mass ``a`` between
    quantiles ``F⁻`` and ``F`` adds ``π log(π/a)``, ``π = F^n - F⁻^n``, and
    ``π (F + F⁻)/2`` (paper A, "Best-of-n pmf" and "Win rate", with ties). A law with no atom
    gives ``log n - (n-1)/n`` and ``n/(n+1)``; one atom ``ε`` at the top over a continuous
    rest gives the paper's ``D̂_n(ε)``.

    Parameters
    ----------
    continuous, atom
        Arrays of non-negative masses per level, summing together to 1 (within 1e-9).
    n
        Values of ``n >= 1`` (an array or a number).

    Returns
    -------
    tuple of numpy.ndarray
        ``(kl, win_rate)``, each of the shape of ``n``.

    References
    ----------
    arXiv:2401.01879 (paper A).

    Examples
    --------
    >>> kl, w = law_kl_and_win_rate([0.5, 0.0], [0.0, 0.5], [1, 4])
    >>> bool(abs(kl[1] - bestofn.kl_estimator(0.5, 4)) < 1e-12), float(w[0])
    (True, 0.5)
    """
    continuous = np.asarray(continuous, dtype=float)
    atom = np.asarray(atom, dtype=float)
    if continuous.shape != atom.shape or continuous.ndim != 1:
        raise ValueError("continuous and atom must be 1-D arrays of one length")
    if np.any(continuous < 0) or np.any(atom < 0):
        raise ValueError("masses must be >= 0")
    total = continuous.sum() + atom.sum()
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"the masses sum to {total!r}, expected 1")
    n = bestofn._as_n(n)
    with np.errstate(divide="ignore"):
        kl, win = _law_kernels(np.zeros(atom.size, dtype=np.int64), continuous / total,
                               np.log(atom / total), np.atleast_1d(n).ravel(), 1)
    return kl[0].reshape(n.shape), win[0].reshape(n.shape)


def _log_binom(m: np.ndarray, n: float) -> np.ndarray:
    """``log C(m, n)``, ``-inf`` for ``m < n``."""
    with np.errstate(invalid="ignore"):
        value = special.gammaln(m + 1.0) - special.gammaln(n + 1.0) - special.gammaln(m - n + 1.0)
    return np.where(m >= n, value, -np.inf)


def _u_statistic(law: _Law, n_values: np.ndarray, prompts: int) -> tuple[np.ndarray, np.ndarray]:
    """The U-statistics of the KL estimator and the win rate, ``(prompts, len(n))``; NaN
    where ``n >= N``.

    A random n-subset's best lies in group ``g`` with probability
    ``[C(B_g + c_g, n) - C(B_g, n)]/C(N, n)`` (``B_g`` candidates below ``g``); its kernel is
    ``D̂_n(a_g)``. For the win rate the opponent is one of the ``N - n`` candidates left out;
    given the best in ``g``, the subset holds on average ``E_in = n c_g/M / (1 - C(B_g, n)/
    C(M, n))`` candidates of ``g`` (``M = B_g + c_g``, a hypergeometric count given at least
    one), so the kernel's mean is ``(B_g - (n - E_in) + (c_g - E_in)/2)/(N - n)``.
    """
    kl = np.full((prompts, n_values.size), np.nan)
    win = np.full((prompts, n_values.size), np.nan)
    top = law.below + law.count
    # D̂_n(ε) = φ(n) - O(n ε log 1/ε): below e^-700 it is φ(n) in doubles, where its closed
    # form would divide by an ε that underflows
    log_eps = np.clip(law.log_atom, _LOG_TINY, 0.0)
    log_rest = log1mexp(log_eps)
    totals = np.bincount(law.prompt, weights=law.count, minlength=prompts)
    for j, n in enumerate(n_values):
        defined = totals > n
        with np.errstate(divide="ignore", invalid="ignore"):
            log_top = _log_binom(top, n)
            log_low = _log_binom(law.below, n)
            live = (law.count > 0) & np.isfinite(log_top)
            log_w = np.where(live, log_top + log1mexp(np.minimum(log_low - log_top, 0.0))
                             - _log_binom(law.total, n), -np.inf)
            w = np.exp(log_w)
            d = np.where(w > 0, bestofn._estimator(log_eps, log_rest, np.float64(n)), 0.0)
            e_in = np.where(w > 0, n * law.count / top / -np.expm1(log_low - log_top), 0.0)
            win_kernel = (law.below - (n - e_in) + 0.5 * (law.count - e_in)) / (law.total - n)
            k = np.bincount(law.prompt, weights=w * d, minlength=prompts)
            v = np.bincount(law.prompt, weights=np.where(w > 0, w * win_kernel, 0.0),
                            minlength=prompts)
        kl[defined, j] = 0.0 if n == 1 else k[defined]
        win[defined, j] = 0.5 if n == 1 else v[defined]
    return kl, win


def _estimate(rows: _Prompts, count: np.ndarray, n_values: np.ndarray, estimator: str,
              prompts: int) -> tuple[np.ndarray, np.ndarray]:
    law = _estimated_law(rows, count)
    if estimator == "plug-in":
        return _law_kernels(*_levels(law), n_values, prompts)
    return _u_statistic(law, n_values, prompts)


def _levels(law: _Law) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The estimated laws with every atom below ``_NEGLIGIBLE_ATOM`` taken as continuous mass and
    runs of continuous mass merged: ``(prompt, continuous, log_atom)`` per level, each level a
    continuous piece ending at an atom (the last level of a prompt has none). An atom ``a``
    taken as continuous moves the KL by at most about ``n·a·(log n + log 1/a)``; a diffuse
    prompt becomes one continuous piece."""
    keep = law.log_atom > np.log(_NEGLIGIBLE_ATOM)
    kept_before = _segment_cumsum(keep.astype(np.int64), law.prompt) - keep
    per_prompt = np.bincount(law.prompt, weights=keep).astype(np.int64) + 1
    offset = np.cumsum(per_prompt) - per_prompt
    level = offset[law.prompt] + kept_before
    size = int(per_prompt.sum())
    with np.errstate(under="ignore"):
        loose = law.continuous + np.where(keep, 0.0, np.exp(law.log_atom))
    continuous = np.bincount(level, weights=loose, minlength=size)
    log_atom = np.full(size, -np.inf)
    log_atom[level[keep]] = law.log_atom[keep]
    return np.repeat(np.arange(per_prompt.size), per_prompt), continuous, log_atom


def _prompt_key(prompt) -> np.uint64:
    """A 64-bit key of the prompt's text (SHA-256), the seed of its blocks."""
    return np.frombuffer(hashlib.sha256(str(prompt).encode("utf-8")).digest()[:8], "<u8")[0]


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 (wrapping): a counter-based stream of random words."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _blocks(chunk: _Prompts) -> np.ndarray:
    """``(rows, JACKKNIFE_BLOCKS)`` counts: every candidate of the chunk put in a block
    uniformly at random, from a counter-based hash of its prompt's key and its position among
    the prompt's candidates (so a prompt's blocks depend on its own rows only). A completion
    drawn more than ``_HASHED_COUNT`` times is split by a multinomial draw from a generator
    seeded by the same hash."""
    blocks = JACKKNIFE_BLOCKS
    keys = np.array([_prompt_key(name) for name in chunk.names], dtype=np.uint64)
    many = chunk.count > _HASHED_COUNT
    units = np.where(many, 1, chunk.count)
    row_of_unit = np.repeat(np.arange(units.size), units)
    first_unit = _segment_cumsum(units, chunk.row_prompt) - units  # within the prompt
    position = np.repeat(first_unit, units) + (np.arange(row_of_unit.size)
                                               - np.repeat(np.cumsum(units) - units, units))
    with np.errstate(over="ignore"):
        word = _mix(keys[chunk.row_prompt[row_of_unit]] + _mix(position.astype(np.uint64)
                                                              + np.uint64(1)))
    block = ((word >> np.uint64(32)) * np.uint64(blocks)) >> np.uint64(32)
    split = np.bincount(row_of_unit * blocks + block.astype(np.int64),
                        minlength=units.size * blocks).reshape(units.size, blocks)
    for row in np.flatnonzero(many):
        seed = int(word[np.searchsorted(row_of_unit, row)])
        split[row] = np.random.default_rng(seed).multinomial(chunk.count[row],
                                                             np.full(blocks, 1 / blocks))
    return split


def _sampled_values(rows: _Prompts, n_values: np.ndarray, estimator: str, level: float):
    """Estimates and jackknife intervals for every prompt of ``rows``: a dict of arrays
    ``(prompts, len(n))``, computed over chunks of whole prompts."""
    prompts = rows.names.size
    out = {key: np.empty((prompts, n_values.size))
           for key in ("kl", "kl_low", "kl_high", "win_rate", "win_rate_low", "win_rate_high")}
    row_bounds = np.r_[np.flatnonzero(np.r_[True, np.diff(rows.row_prompt) != 0]),
                       rows.row_prompt.size]
    cuts = [0]
    for k in range(1, prompts + 1):
        if (row_bounds[k] - row_bounds[cuts[-1]] >= _CHUNK_ROWS
                or k - cuts[-1] >= _CHUNK_PROMPTS or k == prompts):
            cuts.append(k)
    t = stats.t.ppf(0.5 + level / 2, JACKKNIFE_BLOCKS - 1)
    upper = {"kl": bestofn.kl_formula(n_values), "win_rate": n_values / (n_values + 1)}
    lower = {"kl": 0.0, "win_rate": 0.5}
    for p0, p1 in zip(cuts[:-1], cuts[1:], strict=True):
        chunk = _by_reward(rows, row_bounds[p0], row_bounds[p1], p0, p1)
        size = p1 - p0
        kl, win = _estimate(chunk, chunk.count, n_values, estimator, size)
        split = _blocks(chunk)
        replicates = {"kl": [], "win_rate": []}
        for b in range(JACKKNIFE_BLOCKS):
            k_b, w_b = _estimate(chunk, chunk.count - split[:, b], n_values, estimator, size)
            replicates["kl"].append(k_b)
            replicates["win_rate"].append(w_b)
        # blocks of unequal sizes m_b: the weighted delete-a-group jackknife (Busing, Meijer
        # and van der Leeden 1999), h_b = N/m_b, pseudo-values h_b θ - (h_b - 1) θ_(b)
        sizes = np.add.reduceat(split, np.r_[0, np.flatnonzero(np.diff(chunk.row_prompt)) + 1])
        total = sizes.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(sizes > 0, total / sizes, np.inf).T[:, :, None]  # (blocks, prompts, 1)
        used = np.isfinite(h) & (h > 1)
        for key, value in (("kl", kl), ("win_rate", win)):
            reps = np.stack(replicates[key])
            with np.errstate(invalid="ignore"):
                pseudo = np.where(used, h * value - (h - 1) * reps, 0.0)
                centre = np.sum(pseudo, axis=0) / np.sum(used, axis=0)
                spread = np.sqrt(np.sum(np.where(used, (pseudo - centre) ** 2 / (h - 1), 0.0),
                                        axis=0) / np.sum(used, axis=0))
            out[key][p0:p1] = value
            low, high = value - t * spread, value + t * spread
            failed = ~np.isfinite(spread)  # a replicate undefined: the always-true range
            out[f"{key}_low"][p0:p1] = np.where(failed, lower[key], np.maximum(low, lower[key]))
            out[f"{key}_high"][p0:p1] = np.where(failed, upper[key],
                                                 np.minimum(high, upper[key]))
    return out


def _exact_values(samples: pd.DataFrame, names: np.ndarray, n_values: np.ndarray) -> dict:
    """The exact KL and win rate of each named prompt whose distinct completions are its whole
    support (masses renormalised to sum to 1), by :func:`bonkl.bestofn.kl_of_groups`."""
    values = {}
    for name, rows in samples[samples["prompt"].isin(names)].groupby("prompt", sort=False):
        logprob = rows["logprob"].to_numpy(float)
        p = np.exp(logprob - special.logsumexp(logprob))
        groups = reward_groups(p / p.sum(), rows["reward"].to_numpy(float))
        values[name] = (bestofn.kl_of_groups(groups, n_values),
                        bestofn.win_rate_of_groups(groups, n_values))
    return values


def analyze(samples: pd.DataFrame, n, *, estimator: str | None = None, level: float = 0.95,
            support: str = "auto") -> pd.DataFrame:
    """Best-of-n KL and win rate per prompt of a samples frame, exact or estimated.

    Per prompt, when its distinct completions' masses sum to 1 (``|log Σ p| <=``
    :data:`SUM_TOLERANCE`) the prompt enumerates its support and the values are exact
    (:func:`bonkl.bestofn.kl_of_groups`, ``method = "exact"``, interval = the value);
    otherwise they are estimated by ``estimator`` with a ``level`` jackknife interval
    (``method`` = the estimator's name). The exact value is

    .. math::

        \\mathrm{KL}(\\pi_n \\| p) = \\sum_C \\pi_n(C) \\log \\frac{\\pi_n(C)}{p(C)}
        + \\int n u^{n-1} \\log(n u^{n-1})\\, du,

    over the reward law's atoms ``C`` and its continuous part; the plug-in evaluates it on the
    estimated law, the U-statistic averages ``D̂_n`` over every n-subset (module doc).

    Parameters
    ----------
    samples
        A DataFrame, one row per distinct (prompt, completion): ``prompt``, ``completion``,
        ``logprob`` (exact sequence log-prob under the reference, nats, any magnitude), ``reward``
        (finite), ``count`` (candidates that were this completion, >= 1).
    n
        Values of ``n >= 1``, integers (one or a sequence).
    estimator
        A key of :data:`ESTIMATORS`; default :data:`DEFAULT_ESTIMATOR`.
    level
        Interval level, in (0, 1).
    support
        One of :data:`SUPPORTS`. ``"auto"`` decides per prompt; ``"enumerated"`` treats every
        prompt's distinct completions as its whole support (renormalised;
        ``method = "exact-normalised"`` where they do not sum to 1); ``"sampled"`` estimates
        every prompt.

    Returns
    -------
    pandas.DataFrame
        One row per (prompt, n), prompts in first-seen order, columns :data:`COLUMNS`:
        ``candidates`` (sum of counts), ``distinct`` (completions), ``log_seen_mass``,
        ``kl`` and ``kl_low``/``kl_high``, ``formula`` (``log n - (n-1)/n``), ``win_rate``
        and its interval, ``method`` and ``note``.

    Raises
    ------
    ValueError
        A prompt whose seen mass exceeds ``1`` by more than the tolerance (no model gives its
        completions more than probability 1: per-token *mean* log-probs do), a bad column,
        ``n``, ``estimator`` or ``support``.

    References
    ----------
    Beirami et al., arXiv:2401.01879 (paper A), sections 3-5.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"prompt": ["p", "p"], "completion": ["a", "b"],
    ...                       "logprob": [np.log(0.25), np.log(0.75)], "reward": [1.0, 0.0],
    ...                       "count": [1, 3]})
    >>> row = analyze(frame, [4]).iloc[0]
    >>> row["method"], bool(abs(row["kl"] - bestofn.kl([0.25, 0.75], [1, 0], 4)) < 1e-12)
    ('exact', True)
    """
    estimator = DEFAULT_ESTIMATOR if estimator is None else estimator
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator {estimator!r}: expected one of {sorted(ESTIMATORS)}")
    if support not in SUPPORTS:
        raise ValueError(f"support {support!r}: expected one of {list(SUPPORTS)}")
    if not 0 < level < 1:
        raise ValueError(f"level {level!r}: expected a number in (0, 1)")
    n_values = np.unique(np.atleast_1d(bestofn._as_n(n)).ravel())
    if np.any(n_values != np.round(n_values)):
        raise ValueError(f"n must be integers >= 1, got {n!r}")
    rows = _prompts(samples)
    seen = log_seen_mass(samples)
    too_much = seen.to_numpy() > SUM_TOLERANCE
    if np.any(too_much) and support != "enumerated":
        k = int(np.flatnonzero(too_much)[0])
        raise ValueError(
            f"prompt {str(seen.index[k])[:60]!r}: its distinct completions' probabilities sum to "
            f"{np.exp(seen.iloc[k]):.6g} > 1; no model gives that (were the log-probs "
            "per-token means instead of sums over the completion's tokens?)")
    enumerated = (np.ones(seen.size, bool) if support == "enumerated"
                  else np.zeros(seen.size, bool) if support == "sampled"
                  else np.abs(seen.to_numpy()) <= SUM_TOLERANCE)
    values = _sampled_values(rows, n_values, estimator, level)
    method = np.full(seen.size, estimator, dtype=object)
    exact = _exact_values(samples, rows.names[enumerated], n_values)
    for k in np.flatnonzero(enumerated):
        kl, win = exact[rows.names[k]]
        for key in ("kl", "kl_low", "kl_high"):
            values[key][k] = kl
        for key in ("win_rate", "win_rate_low", "win_rate_high"):
            values[key][k] = win
        method[k] = ("exact" if abs(seen.iloc[k]) <= SUM_TOLERANCE else "exact-normalised")
    candidates = np.bincount(rows.row_prompt, weights=rows.count).astype(np.int64)
    distinct = np.bincount(rows.row_prompt)
    note = np.full((seen.size, n_values.size), NOTE_NONE, dtype=object)
    sampled_rows = ~enumerated
    note[sampled_rows & (candidates == 1)] = NOTE_SINGLE
    if estimator == "u-statistic":
        note[sampled_rows[:, None] & (n_values[None, :] >= candidates[:, None])] = NOTE_U_UNDEFINED
    size = n_values.size
    table = pd.DataFrame({
        "prompt": np.repeat(rows.names, size),
        "n": np.tile(n_values.astype(np.int64), seen.size),
        "candidates": np.repeat(candidates, size), "distinct": np.repeat(distinct, size),
        "log_seen_mass": np.repeat(seen.to_numpy(), size),
        **{key: value.ravel() for key, value in values.items()},
        "formula": np.tile(bestofn.kl_formula(n_values), seen.size),
        "method": np.repeat(method, size), "note": note.ravel()})
    return table[COLUMNS]


def summarize(per_prompt: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per ``n`` over the prompts of :func:`analyze`'s table: the mean KL and win rate
    with ``level`` intervals and the KL's 10/50/90 % quantiles.

    The interval of a mean is a Student ``t`` interval over the prompts' values,
    ``mean ± t_{P-1} s/√P``: each prompt's value is its true value plus its estimation error,
    so the spread over prompts carries both, and the interval is conservative for this file's
    own prompts (it also counts the between-prompt spread of the true values). Prompts with a
    single candidate are left out (``single_candidate_prompts`` says how many), and so are
    rows with no estimate (the u-statistic at ``n >= N``: ``prompts`` counts the rest); a lone
    prompt keeps its own interval.

    .. math::

        \\overline{\\mathrm{KL}} = \\frac1P \\sum_i \\widehat{\\mathrm{KL}}_i, \\qquad
        \\overline{\\mathrm{KL}} \\pm t_{P-1, (1+\\ell)/2}\\, s / \\sqrt{P}

    References
    ----------
    arXiv:2401.01879 (paper A).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"prompt": list("aabb"), "completion": list("xyzw"),
    ...                       "logprob": [-50.0, -51.0, -52.0, -53.0],
    ...                       "reward": [0.0, 1.0, 0.0, 1.0], "count": [1, 1, 1, 1]})
    >>> summarize(analyze(frame, [2]))[["n", "prompts", "kl_mean"]].round(4).to_dict("records")
    [{'n': 2, 'prompts': 2, 'kl_mean': 0.1931}]
    """
    single = per_prompt["candidates"] <= 1
    kept = per_prompt[~single & per_prompt["kl"].notna()]  # a u-statistic at n >= N: undefined
    dropped = per_prompt.loc[single, "prompt"].nunique()
    rows = []
    for n, group in kept.groupby("n", sort=True):
        row = {"n": n, "prompts": len(group), "single_candidate_prompts": dropped,
               "formula": float(bestofn.kl_formula(n))}
        for key in ("kl", "win_rate"):
            values = group[key].to_numpy(float)
            mean = float(values.mean())
            if len(values) > 1:
                half = (stats.t.ppf(0.5 + level / 2, len(values) - 1)
                        * values.std(ddof=1) / np.sqrt(len(values)))
                low, high = mean - half, mean + half
            else:
                low, high = float(group[f"{key}_low"].iloc[0]), float(group[f"{key}_high"].iloc[0])
            row.update({f"{key}_mean": mean, f"{key}_mean_low": low, f"{key}_mean_high": high})
        for q in (0.1, 0.5, 0.9):
            row[f"kl_q{round(100 * q):02d}"] = float(np.quantile(group["kl"], q))
        row["methods"] = ", ".join(sorted(group["method"].unique()))
        rows.append(row)
    columns = ["n", "prompts", "single_candidate_prompts", "kl_mean", "kl_mean_low",
               "kl_mean_high", "formula", "win_rate_mean", "win_rate_mean_low",
               "win_rate_mean_high", "kl_q10", "kl_q50", "kl_q90", "methods"]
    return pd.DataFrame(rows, columns=columns)
