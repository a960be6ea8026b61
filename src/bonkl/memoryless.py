"""Memoryless language model, linear reward: best-of-N against the tilted optimum (paper B).

Sequences ``y = (y_1..y_m)`` with ``p(y) = Π p(y_i)`` and ``r(y) = Σ r(y_i)`` (digest,
"Memoryless language model, linear reward"). Per-token rewards must be integers, so the
summed reward lives on the lattice ``m·r_min + g·s``, ``s = 0..m·w`` (``g`` the gcd of the
reward gaps, ``w`` the largest gap over ``g``). Best-of-N and the tilt ``φ_Δ = φ_λ^{⊗m}``
(``Δ = mδ``) both have likelihood ratios to ``p`` that depend on ``y`` only through
``r(y)``, so every quantity is a sum over ``s``.

Accuracy. Best-of-N with ``N = e^{mδ}`` lives where ``P_p(r(Y) > s) ≈ e^{−mδ}``, far in the
upper tail of ``p`` and in the bulk of the tilted law ``φ_λ^{⊗m}`` (digest, "Computation").
We compute the tilted law and work with ``log(N·p(s)) = log φ(s) − θ(s − mμ_θ)`` (``θ = λg``,
``μ_θ`` the tilted per-token mean on the lattice), which never forms ``N`` itself:
``N·S(s)``, ``N·(−log F(s))`` and ``N·(−log(F⁻/F))`` are kept in logs, and
``π_N(s) = F^N − F⁻^N = exp(−N(−log F))·(1 − exp(−N(−log(F⁻/F))))``.

Two ways to get the law of the summed reward:

- ``exact``: the convolution power by ``m`` log-space convolutions with the per-token pmf
  (every ``s``, relative accuracy ~1e-15, ``O(m²w²)`` work; the baseline of the benchmark).
- ``fft``: the tilted law by one FFT of length ``m·w + 1`` (no wrap-around). The per-token
  transform is centred on an integer multiple of ``1/m`` near the tilted mean and powered as
  ``exp(m·log1p(z))``, so the phase error stays ``O(ε)`` for ``m`` up to 10⁶ and beyond.
  The result has absolute error ~1e-16 of its peak; values below ``1e-11`` of the peak
  are FFT noise and the window of ``s`` kept is where ``φ`` is above that. The π_N mass
  outside the window is bounded and returned (``truncated_mass``): below it by
  ``F(s_lo)^N`` (double-exponentially small), above it by
  ``Σ_{t>s_hi} N p(t) <= e^{−θ(s_hi + 1 − mμ_θ)}·e^{−m I((s_hi + 1)/m)}`` (Chernoff bound
  with the tilted law's rate function). An error is raised if the bound exceeds 1e-12.
  Inside the window, the FFT's absolute error ``ε·max φ`` becomes an error
  ``ε·max φ·e^{θ(mμ_θ − s)}`` in ``N p(s)``; below the mean this grows, but there
  ``π_N(s) <= F(s)^N`` dies double-exponentially, so the mass-weighted error stays at the
  ``ε`` level (checked against mpmath at m <= 1000 in the tests).

References
----------
J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of Language Model
Alignment", `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__ (paper B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft, optimize, special

from bonkl.groups import as_reference
from bonkl.logspace import log1mexp
from bonkl.tilt import cgf, kl_cap, kl_constrained, log_tilt

__all__ = [
    "Lattice", "best_of_n_vs_tilt", "lattice", "log_convolution_power", "log_reverse_kl",
    "rate_function", "renyi_cross_entropy", "scaled_cgf", "scaled_cgf_renyi",
    "scaled_cumulants", "sum_law", "tail_rate",
]

FFT_RESOLUTION = 1e-11  # φ(s) below this fraction of its peak is FFT noise
EXACT_WORK = 1e7  # the exact recursion is used when m·(w+1)·(m·w+1) is below this
TRUNCATION_LIMIT = 1e-12  # largest π_N mass we accept to leave out of the FFT window
_HALF = np.log(0.5)


@dataclass(frozen=True)
class Lattice:
    r"""Per-token rewards ``r = offset + step·a`` with ``a = 0..width``; ``log_p`` over ``a``.

    Attributes
    ----------
    log_p : ndarray
        ``log p(a)`` over the lattice points ``a = 0..width`` (``-inf`` where empty).
    offset : float
        The smallest per-token reward on the support.
    step : float
        The gcd ``g`` of the reward gaps.

    Examples
    --------
    >>> from bonkl import memoryless
    >>> grid = memoryless.lattice([0.5, 0.25, 0.25], [1, 3, 7])
    >>> grid.offset, grid.step, grid.width
    (1.0, 2.0, 3)
    """

    log_p: np.ndarray
    offset: float
    step: float

    @property
    def width(self) -> int:
        return self.log_p.size - 1

    @property
    def points(self) -> np.ndarray:
        return np.arange(self.log_p.size, dtype=float)


def lattice(p, r) -> Lattice:
    r"""The reward lattice of a per-token reference; rewards on the support must be integers.

    Parameters
    ----------
    p : array_like
        Per-token reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Per-token rewards, shape ``(k,)``: integers on the support of ``p``.

    Returns
    -------
    Lattice
        The lattice ``r = offset + step·a`` and the per-token law over ``a``.

    Raises
    ------
    ValueError
        If a reward on the support is not an integer, or the reward is constant there.

    Notes
    -----
    With ``g`` the gcd of the reward gaps, the summed reward of ``m`` tokens lives on

    .. math::

        r(y) \in \{m\, r_{\min} + g\, s : s = 0, \dots, m w\}, \qquad
        w = (r_{\max} - r_{\min})/g.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "Memoryless language model, linear reward".

    Examples
    --------
    >>> from bonkl import memoryless
    >>> memoryless.lattice([0.5, 0.5], [0, 2]).log_p.round(6)
    array([-0.693147, -0.693147])
    """
    p, r = as_reference(p, r)
    support = p > 0
    rewards = r[support]
    if not np.all(rewards == np.round(rewards)):
        bad = float(rewards[np.flatnonzero(rewards != np.round(rewards))[0]])
        raise ValueError(f"per-token rewards must be integers, got {bad!r}")
    ints = np.round(rewards).astype(np.int64)
    low = int(ints.min())
    step = int(np.gcd.reduce(ints - low))
    if step == 0:
        raise ValueError("the per-token reward is constant on the support of p: nothing to tilt")
    index = (ints - low) // step
    mass = np.bincount(index, weights=p[support], minlength=int(index.max()) + 1)
    with np.errstate(divide="ignore"):
        return Lattice(np.log(mass), float(low), float(step))


def _lattice_p(grid: Lattice) -> np.ndarray:
    return np.exp(grid.log_p)


def log_convolution_power(log_q: np.ndarray, m: int) -> np.ndarray:
    r"""``log P(a_1 + .. + a_m = s)``, ``s = 0..m·w``, for i.i.d. ``a_i`` with log-pmf ``log_q``.

    Parameters
    ----------
    log_q : ndarray
        Per-token log-pmf over ``a = 0..w`` (``-inf`` allowed).
    m : int
        Number of tokens.

    Returns
    -------
    ndarray
        The log-pmf of the sum, length ``m·w + 1``.

    Notes
    -----
    ``m`` log-space convolutions with the per-token pmf: exact in logs for every ``s``
    (no tail is lost), ``O(m²w²)`` work:

    .. math::

        \log P_m(s) = \operatorname{logsumexp}_a \big(\log P_{m-1}(s - a) + \log q(a)\big).

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import memoryless
    >>> np.exp(memoryless.log_convolution_power(np.log([0.5, 0.5]), 3)).round(6)
    array([0.125, 0.375, 0.375, 0.125])
    """
    width = log_q.size - 1
    law = np.zeros(1)
    for _ in range(int(m)):
        grown = np.full(law.size + width, -np.inf)
        for a in np.flatnonzero(np.isfinite(log_q)):
            part = grown[a : a + law.size]
            np.logaddexp(part, law + log_q[a], out=part)
        law = grown
    return law


def _tilted_law_fft(q: np.ndarray, m: int) -> tuple[int, np.ndarray]:
    """``(lo, φ[lo..hi])``: the law of the sum of ``m`` draws of ``q`` by one centred FFT."""
    support = m * (q.size - 1) + 1
    size = fft.next_fast_len(support, real=True)  # any length >= the support: no wrap-around
    shift = int(np.rint(m * np.sum(q * np.arange(q.size))))
    omega = 2.0 * np.pi * np.arange(size // 2 + 1) / size
    z = np.zeros(omega.size, dtype=complex)
    for a in np.flatnonzero(q > 0):
        z += q[a] * np.expm1(-1j * omega * (a - shift / m))
    law = np.roll(fft.irfft(np.exp(m * np.log1p(z)), n=size), shift)[:support]
    kept = np.flatnonzero(law > FFT_RESOLUTION * law.max())
    lo, hi = int(kept[0]), int(kept[-1])
    return lo, law[lo : hi + 1]


@dataclass(frozen=True)
class _SumLaw:
    """Log-laws of the lattice sum ``s = first, first+1, ...`` under ``φ`` and ``N·p``."""

    s: np.ndarray
    log_phi: np.ndarray
    log_np: np.ndarray  # log(N·p(s))
    log_p_below: float | None  # log p(sum < first) if known exactly (None: bounded instead)
    upper_bound: float  # bound on Σ_{t > last} N·p(t)


def _tilted_sum_law(grid: Lattice, theta: float, m: int, m_delta: float, method: str) -> _SumLaw:
    q = np.exp(log_tilt(_lattice_p(grid), grid.points, theta))
    mean = float(np.sum(q * grid.points))
    if method == "auto":
        work = m * grid.log_p.size * (m * grid.width + 1)
        method = "exact" if work <= EXACT_WORK else "fft"
    if method == "exact":
        log_p = log_convolution_power(grid.log_p, m)
        s = np.arange(log_p.size, dtype=float)
        log_phi = log_p + theta * s - m * cgf(_lattice_p(grid), grid.points, theta)
        return _SumLaw(s, log_phi, log_p + m_delta, -np.inf, 0.0)
    if method != "fft":
        raise ValueError(f"method must be 'auto', 'exact' or 'fft', got {method!r}")
    lo, phi = _tilted_law_fft(q, m)
    s = lo + np.arange(phi.size, dtype=float)
    with np.errstate(divide="ignore"):
        log_phi = np.log(np.maximum(phi, 0.0))
    beyond = s[-1] + 1.0
    upper = 0.0
    if beyond <= m * grid.width:
        chernoff = m * rate_function(q, grid.points, 0.0, beyond / m)
        upper = float(np.exp(-theta * (beyond - m * mean) - chernoff))
    return _SumLaw(s, log_phi, log_phi - theta * (s - m * mean), None, upper)


def _log_neg_log1p_over(x: np.ndarray) -> np.ndarray:
    """``log(−log1p(−x)/x)`` for ``x`` in ``[0, 1/2]`` (``x/2`` below 1e-10)."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x < 1e-10, 0.5, x)
    return np.where(x < 1e-10, 0.5 * x, np.log(-np.log1p(-safe)) - np.log(safe))


def _log_best_of_n(law: _SumLaw, m_delta: float) -> tuple[np.ndarray, ...]:
    """``log π_N(s)``, ``log(−N log F(s))`` and ``log(−log π_N(s))`` over the law's window.

    From ``log(N p(s))`` only (module doc): ``π_N = F^N − F⁻^N`` with ``F^N`` as
    ``exp(−N·(−log F))`` and ``1 − (F⁻/F)^N`` as ``−expm1(−N·(−log(F⁻/F)))``.
    """
    log_np = law.log_np
    log_ns = np.r_[np.logaddexp.accumulate(log_np[::-1])[::-1][1:], -np.inf]  # log N·S(s)
    log_s = log_ns - m_delta
    with np.errstate(divide="ignore", over="ignore"):
        log_f = log1mexp(np.minimum(log_s, 0.0))
        if law.log_p_below is not None:  # the whole support: F from below where S >= 1/2
            log_below = np.logaddexp.accumulate(np.r_[law.log_p_below, log_np[:-1]] - m_delta)
            log_f_below = np.logaddexp(log_below, log_np - m_delta)
            log_f = np.where(log_s >= _HALF, log_f_below, log_f)
        small = log_s < _HALF
        log_neg_log_f = np.where(
            small,
            log_ns + _log_neg_log1p_over(np.exp(np.minimum(log_s, _HALF))),
            m_delta + np.log(-np.minimum(log_f, -1e-300)),
        )
        if law.log_p_below is None:  # window: F(s−1) from the tail S(s−1) = S(s) + p(s)
            log_f_prev = log1mexp(np.minimum(np.logaddexp(log_s, log_np - m_delta), 0.0))
        else:
            log_f_prev = np.r_[law.log_p_below, log_f[:-1]]
        log_x = log_np - m_delta - log_f  # log p(s)/F(s)
        near = log_x < _HALF
        log_neg_log_ratio = np.where(
            near,
            log_np - log_f + _log_neg_log1p_over(np.exp(np.minimum(log_x, _HALF))),
            m_delta + np.log(np.maximum(log_f - log_f_prev, 0.0)),
        )
        log_top = log1mexp(-np.exp(log_neg_log_ratio))  # log(1 − (F⁻/F)^N)
        log_pi = -np.exp(log_neg_log_f) + log_top
        neg_log_top = np.where(log_neg_log_ratio < -30, -log_neg_log_ratio, -log_top)  # x/2 off
        log_neg_log_pi = np.logaddexp(log_neg_log_f, np.log(neg_log_top))
    return log_pi, log_neg_log_f, log_neg_log_pi


def best_of_n_vs_tilt(p, r, m: int, delta: float, method: str = "auto") -> dict:
    r"""Best-of-N (``N = e^{mδ}``) over length-``m`` sequences against ``φ_Δ``, ``Δ = mδ``.

    Parameters
    ----------
    p : array_like
        Per-token reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Per-token rewards, shape ``(k,)``: integers on the support of ``p``.
    m : int
        Sequence length, at least 1.
    delta : float
        Per-token KL ``δ`` in ``(0, log 1/p(C*))``.
    method : {"auto", "exact", "fft"}
        How the law of the summed reward is computed (module doc); ``auto`` is exact for
        small ``m``.

    Returns
    -------
    dict
        Per-token values (each divided by ``m``): ``reward_bon`` (``E_{π_N} r/m``),
        ``reward_tilt`` (``E_{φ_Δ} r/m = Λ'(λ)``), ``kl_bon`` (``KL(π_N ‖ p)/m``),
        ``kl_bon_to_tilt`` (``KL(π_N ‖ φ_Δ)/m``), ``kl_formula`` (``(log N − (N−1)/N)/m``),
        and ``lam`` (the per-token λ), ``truncated_mass`` (bound on the π_N mass left out;
        0 for ``exact``).

    Raises
    ------
    ValueError
        If ``m < 1``, ``delta`` is outside ``(0, log 1/p(C*))``, the rewards are not integers,
        or the FFT window would leave out more than ``TRUNCATION_LIMIT`` of π_N's mass.

    Notes
    -----
    Both ``π_N`` and ``φ_Δ = φ_λ^{⊗m}`` have likelihood ratios to ``p`` that depend on ``y``
    only through ``r(y)``: every quantity is a sum over the summed reward ``s``, with

    .. math::

        \pi_N(s) = F(s)^N - F(s-1)^N, \qquad N = e^{m\delta},

        \frac{1}{m}\mathrm{KL}(\pi_N \,\|\, \phi_\Delta) \to 0 \quad (m \to \infty).

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "Best-of-N is asymptotically KL-constrained RL".

    Examples
    --------
    >>> from bonkl import memoryless
    >>> out = memoryless.best_of_n_vs_tilt([0.5, 0.5], [0, 1], 50, 0.1)
    >>> round(out["reward_bon"], 4), round(out["reward_tilt"], 4), round(out["kl_bon"], 4)
    (0.685, 0.7198, 0.0793)
    """
    m = int(m)
    if m < 1:
        raise ValueError(f"m must be an integer >= 1, got {m!r}")
    delta = float(delta)
    cap = kl_cap(p, r)
    if not 0 < delta < cap:
        raise ValueError(f"delta must lie in (0, log 1/p(C*) = {cap!r}), got {delta!r}")
    p, r = as_reference(p, r)
    grid = lattice(p, r)
    _, lam = kl_constrained(p, r, delta)
    theta = lam * grid.step
    m_delta = m * delta
    law = _tilted_sum_law(grid, theta, m, m_delta, method)
    log_pi, log_neg_log_f, _ = _log_best_of_n(law, m_delta)
    pi = np.exp(log_pi)
    mass = pi > 0
    with np.errstate(over="ignore"):
        lower = 0.0 if law.log_p_below is not None else float(np.exp(-np.exp(log_neg_log_f[0])))
    truncated = lower + law.upper_bound
    if truncated > TRUNCATION_LIMIT:
        raise ValueError(f"m={m}, delta={delta}: best-of-N mass outside the FFT window may "
                         f"reach {truncated:.3g} > {TRUNCATION_LIMIT}; use method='exact'")
    rewards = m * grid.offset + grid.step * law.s
    log_ratio_p = log_pi[mass] - law.log_np[mass] + m_delta
    kl_bon = float(np.sum(pi[mass] * log_ratio_p))
    kl_to_tilt = float(np.sum(pi[mass] * (log_pi[mass] - law.log_phi[mass])))
    reward_tilt = float(np.sum(np.exp(log_tilt(p, r, lam)) * r))
    return {
        "reward_bon": float(np.sum(pi * rewards)) / m,
        "reward_tilt": reward_tilt,
        "kl_bon": kl_bon / m,
        "kl_bon_to_tilt": kl_to_tilt / m,
        "kl_formula": delta + np.expm1(-m_delta) / m,
        "lam": float(lam),
        "truncated_mass": truncated,
    }


def log_reverse_kl(p, r, m: int, delta: float) -> float:
    r"""``log(KL(φ_Δ ‖ π_N)/m)`` with ``N = e^{mδ}``: the reverse direction (ours, after paper B).

    Parameters
    ----------
    p : array_like
        Per-token reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Per-token rewards, shape ``(k,)``: integers on the support of ``p``.
    m : int
        Sequence length.
    delta : float
        Per-token KL ``δ`` in ``(0, log 1/p(C*))``.

    Returns
    -------
    float
        The log of the per-token reverse KL.

    Notes
    -----
    .. math::

        \mathrm{KL}(\phi_\Delta \,\|\, \pi_N) = \sum_s \phi(s)\,\big(-\log \pi_N(s)\big) - H(\phi),

    where ``−log π_N(s)`` is astronomically large below best-of-N's range (``≈ N·S(s)``), so
    the cross term is summed in logs. It needs the whole law of the summed reward: exact
    method only (``m`` up to ~10³).

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__ (the reverse direction is ours).

    Examples
    --------
    >>> import math
    >>> from bonkl import memoryless
    >>> round(math.exp(memoryless.log_reverse_kl([0.5, 0.5], [0, 1], 10, 0.1)), 4)
    0.0356
    """
    m = int(m)
    _, lam = kl_constrained(p, r, delta)
    grid = lattice(p, r)
    law = _tilted_sum_law(grid, lam * grid.step, m, m * float(delta), "exact")
    _, _, log_neg_log_pi = _log_best_of_n(law, m * float(delta))
    finite = np.isfinite(law.log_phi)
    log_phi = law.log_phi[finite]
    log_cross = special.logsumexp(log_phi + log_neg_log_pi[finite])
    entropy = -float(np.sum(np.exp(log_phi) * log_phi))
    with np.errstate(over="ignore"):
        return float(log_cross + np.log1p(-entropy * np.exp(-log_cross)) - np.log(m))


def rate_function(p, r, lam, x):
    r"""``I(x) = sup_t [t·x − Λ(λ+t) + Λ(λ)]``, the LDP rate of ``r(Y)/m`` under ``φ_λ^{⊗m}``.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    lam : float
        The per-token tilt ``λ >= 0``.
    x : float or array_like
        Per-token reward level(s).

    Returns
    -------
    float or ndarray
        ``I(x)``: a float for a scalar ``x``, else an array of ``x``'s shape.

    Notes
    -----
    .. math::

        I(x) = \sup_t \big[t x - \Lambda(\lambda + t) + \Lambda(\lambda)\big]
        = \mathrm{KL}(\phi_{\lambda_x} \,\|\, \phi_\lambda), \qquad \Lambda'(\lambda_x) = x.

    Finite on ``[r_min, r_max]`` (``inf`` outside), zero at ``x = Λ'(λ)``. The maximising
    ``t`` is found by Brent's method; the sup form is stationary in ``t``, so its rounding is
    second-order. At the ends, ``I = −log φ_λ(r = x)``.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__, "Large deviations".

    Examples
    --------
    >>> from bonkl import memoryless
    >>> memoryless.rate_function([0.5, 0.5], [0.0, 1.0], 0.0, [0.5, 1.0, 2.0]).round(6)
    array([0.      , 0.693147,      inf])
    """
    p, r = as_reference(p, r)
    base = np.exp(log_tilt(p, r, lam))
    support = base > 0
    low, high = float(np.min(r[support])), float(np.max(r[support]))
    xs = np.atleast_1d(np.asarray(x, dtype=float))
    out = np.empty(xs.size)
    for i, value in enumerate(xs):
        if value < low or value > high:
            out[i] = np.inf
        elif value in (low, high):
            out[i] = -np.log(np.sum(base[support & (r == value)]))
        else:
            out[i] = _rate_inside(base, r, value)
    return float(out[0]) if np.ndim(x) == 0 else out


def _tilted_mean(base: np.ndarray, r: np.ndarray, t: float) -> float:
    """Mean reward of ``base`` tilted by ``t`` of either sign."""
    log_q = log_tilt(base, r, t) if t >= 0 else log_tilt(base, -r, -t)
    return float(np.sum(np.exp(log_q) * r))


def _rate_inside(base: np.ndarray, r: np.ndarray, x: float) -> float:
    def excess(t: float) -> float:
        return _tilted_mean(base, r, t) - x

    low, high = -1.0, 1.0
    while excess(low) > 0:
        low *= 2.0
    while excess(high) < 0:
        high *= 2.0
    t = optimize.brentq(excess, low, high, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return max(0.0, t * x - cgf(base, r, t))


def sum_law(p, r, lam, m: int, method: str = "exact") -> tuple[np.ndarray, np.ndarray]:
    r"""``(rewards, log_pmf)``: the law of ``r(Y)`` for ``Y ~ φ_λ^{⊗m}`` (integer rewards).

    Parameters
    ----------
    p : array_like
        Per-token reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Per-token rewards, shape ``(k,)``: integers on the support of ``p``.
    lam : float
        The per-token tilt ``λ >= 0``.
    m : int
        Sequence length.
    method : {"exact", "fft"}
        ``exact``: every reachable value, in logs; ``fft``: the values within the FFT's
        resolution of the peak (module doc).

    Returns
    -------
    rewards : ndarray
        The summed rewards with a finite log-probability.
    log_pmf : ndarray
        Their log-probabilities under ``φ_λ^{⊗m}``.

    Notes
    -----
    .. math::

        \phi_\lambda^{\otimes m}\big(r(Y) = s\big) = p\big(r(Y) = s\big)\,
        e^{\lambda s - m \Lambda(\lambda)}.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__, "Computation".

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import memoryless
    >>> rewards, log_pmf = memoryless.sum_law([0.5, 0.5], [0, 1], 0.0, 2)
    >>> rewards, np.exp(log_pmf).round(6)
    (array([0., 1., 2.]), array([0.25, 0.5 , 0.25]))
    """
    grid = lattice(p, r)
    theta = float(lam) * grid.step
    law = _tilted_sum_law(grid, theta, int(m), 0.0, method)
    finite = np.isfinite(law.log_phi)
    return m * grid.offset + grid.step * law.s[finite], law.log_phi[finite]


def tail_rate(p, r, lam, m: int, x, tail: str = "upper") -> np.ndarray:
    r"""``−(1/m)·log P_φ(r(Y)/m >= x)`` (``tail="upper"``) or ``P_φ(r(Y)/m <= x)`` (``"lower"``)
    at finite ``m``, ``Y ~ φ_λ^{⊗m}`` (exact law, logs).

    Parameters
    ----------
    p : array_like
        Per-token reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Per-token rewards, shape ``(k,)``: integers on the support of ``p``.
    lam : float
        The per-token tilt ``λ >= 0``.
    m : int
        Sequence length.
    x : float or array_like
        Per-token reward level(s).
    tail : {"upper", "lower"}
        Which tail.

    Returns
    -------
    ndarray
        The finite-``m`` tail rate per ``x`` (``inf`` where the tail is empty).

    Raises
    ------
    ValueError
        If ``tail`` is neither ``"upper"`` nor ``"lower"``.

    Notes
    -----
    Converges to :func:`rate_function` for ``x`` above the mean (upper) or below it (lower):

    .. math::

        -\frac{1}{m} \log P_\phi\Big(\frac{r(Y)}{m} \ge x\Big) \to I(x) \quad (m \to \infty).

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__, "Large deviations".

    Examples
    --------
    >>> from bonkl import memoryless
    >>> memoryless.tail_rate([0.5, 0.5], [0, 1], 0.0, 4, [1.0]).round(6)  # log 2
    array([0.693147])
    """
    if tail not in ("upper", "lower"):
        raise ValueError(f"tail must be 'upper' or 'lower', got {tail!r}")
    rewards, log_pmf = sum_law(p, r, lam, m, method="exact")
    xs = np.atleast_1d(np.asarray(x, dtype=float))
    out = np.full(xs.size, np.inf)
    if tail == "upper":
        log_upper = np.logaddexp.accumulate(log_pmf[::-1])[::-1]
        index = np.searchsorted(rewards, m * xs - 1e-9 * m, side="left")
        inside = index < rewards.size
        out[inside] = -log_upper[index[inside]] / m
        return out
    log_lower = np.logaddexp.accumulate(log_pmf)
    index = np.searchsorted(rewards, m * xs + 1e-9 * m, side="right") - 1
    inside = index >= 0
    out[inside] = -log_lower[index[inside]] / m
    return out


def scaled_cumulants(p, r, lam, m: int, method: str = "exact") -> np.ndarray:
    r"""``κ_k(r(Y))/m``, ``k = 1..4``, from the law of ``r(Y)``, ``Y ~ φ_λ^{⊗m}``.

    Parameters
    ----------
    p : array_like
        Per-token reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Per-token rewards, shape ``(k,)``: integers on the support of ``p``.
    lam : float
        The per-token tilt ``λ >= 0``.
    m : int
        Sequence length.
    method : {"exact", "fft"}
        How the law is computed (:func:`sum_law`).

    Returns
    -------
    ndarray
        ``[κ_1/m, κ_2/m, κ_3/m, κ_4/m]``.

    Notes
    -----
    Equal to ``Λ^{(k)}(λ)`` at every ``m``; computed here from the summed reward's pmf, as a
    check of the law, with moments about its mean:

    .. math::

        \frac{\kappa_k(r(Y))}{m} = \Lambda^{(k)}(\lambda).

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__, "Large deviations".

    Examples
    --------
    >>> from bonkl import memoryless
    >>> memoryless.scaled_cumulants([0.5, 0.5], [0, 1], 0.0, 8).round(6)
    array([ 0.5  ,  0.25 ,  0.   , -0.125])
    """
    rewards, log_pmf = sum_law(p, r, lam, m, method)
    weight = np.exp(log_pmf - special.logsumexp(log_pmf))
    mean = float(np.sum(weight * rewards))
    centred = rewards - mean
    mu2, mu3, mu4 = (float(np.sum(weight * centred**k)) for k in (2, 3, 4))
    return np.array([mean, mu2, mu3, mu4 - 3.0 * mu2 * mu2]) / m


def renyi_cross_entropy(phi, log_q, alpha: float) -> float:
    r"""``H_α(φ; q) = (1/(1−α))·log Σ_y φ(y)·q(y)^{α−1}`` in nats, ``α ≠ 1`` (our convention).

    Parameters
    ----------
    phi : array_like
        A probability vector.
    log_q : array_like
        ``log q``, same shape.
    alpha : float
        The order ``α ≠ 1``.

    Returns
    -------
    float
        ``H_α(φ; q)`` in nats.

    Raises
    ------
    ValueError
        If ``alpha == 1``.

    Notes
    -----
    .. math::

        H_\alpha(\phi; q) = \frac{1}{1 - \alpha} \log \sum_y \phi(y)\, q(y)^{\alpha - 1}.

    The paper's normalisation was not recovered; this is the digest's.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__, "Rényi cross-entropy form".

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import memoryless
    >>> round(memoryless.renyi_cross_entropy([0.5, 0.5], np.log([0.5, 0.5]), 2.0), 6)  # log 2
    0.693147
    """
    alpha = float(alpha)
    if alpha == 1:
        raise ValueError("alpha must differ from 1")
    phi = np.asarray(phi, dtype=float)
    keep = phi > 0
    return float(special.logsumexp(np.log(phi[keep]) + (alpha - 1.0) * np.asarray(log_q)[keep])
                 / (1.0 - alpha))


def scaled_cgf_renyi(p, r, lam, t: float) -> float:
    r"""``t·log Σ_y e^{r(y)} − t·H_{1+t}(φ_λ; q_r)`` with ``q_r = e^r/Σ e^r`` (paper B).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    lam : float
        The per-token tilt ``λ >= 0``.
    t : float
        The CGF's argument, ``t ≠ 0``.

    Returns
    -------
    float
        The scaled CGF in its Rényi form.

    Notes
    -----
    Equals the scaled CGF ``lim (1/m) log E_{φ_Δ} e^{t r(Y)} = Λ(λ+t) − Λ(λ)`` for ``t ≠ 0``,
    since ``−t·H_{1+t}(φ; q) = log Σ φ q^t = log E_φ e^{t r} − t·log Σ e^r``:

    .. math::

        \Lambda(\lambda + t) - \Lambda(\lambda)
        = t \log \sum_y e^{r(y)} - t\, H_{1+t}(\phi_\lambda; q_r).

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "Rényi cross-entropy form" (a derived rewrite).

    Examples
    --------
    >>> from bonkl import memoryless
    >>> p, r = [0.5, 0.5], [0.0, 1.0]
    >>> renyi = memoryless.scaled_cgf_renyi(p, r, 0.3, 0.7)
    >>> round(renyi - memoryless.scaled_cgf(p, r, 0.3, 0.7), 12)
    0.0
    """
    p, r = as_reference(p, r)
    log_norm = float(special.logsumexp(r))
    phi = np.exp(log_tilt(p, r, lam))
    return t * log_norm - t * renyi_cross_entropy(phi, r - log_norm, 1.0 + t)


def scaled_cgf(p, r, lam, t: float) -> float:
    r"""``Λ(λ+t) − Λ(λ)`` (paper B): the scaled CGF of ``r(Y)``, ``Y ~ φ_λ^{⊗m}``, at every m.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    lam : float
        The per-token tilt.
    t : float
        The CGF's argument.

    Returns
    -------
    float
        ``Λ(λ+t) − Λ(λ)``.

    Notes
    -----
    .. math::

        \frac{1}{m} \log \mathbb{E}_{\phi_\lambda^{\otimes m}} e^{t\, r(Y)}
        = \Lambda(\lambda + t) - \Lambda(\lambda).

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__, "Large deviations".

    Examples
    --------
    >>> from bonkl import memoryless
    >>> round(memoryless.scaled_cgf([0.5, 0.5], [0.0, 1.0], 0.0, 1.0), 6)  # log((1 + e)/2)
    0.620115
    """
    return cgf(p, r, float(lam) + t) - cgf(p, r, lam)

