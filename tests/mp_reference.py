"""Independent high-precision references (mpmath) for the exact quantities.

Written straight from the definitions, with no log-space tricks: the point is that they
share nothing with the library's numerics but the mathematics. Each call works with 50
significant digits beyond what the smallest mass needs, so ``1 - p`` is exact for
``p`` down to 1e-300 (decorator :func:`_precise`).
"""

from __future__ import annotations

import functools
import math

import mpmath as mp

DIGITS = 50


def _precise(function):
    """Run ``function(p, r, n)`` or ``function(eps, n)`` with enough digits for its masses."""

    @functools.wraps(function)
    def run(*args):
        masses = [float(x) for x in _flat(args[0]) if float(x) > 0]
        need = DIGITS + max(0, math.ceil(-math.log10(min(masses)))) if masses else DIGITS
        with mp.workdps(max(need, mp.mp.dps)):
            return function(*args)

    return run


def _flat(x):
    try:
        return list(x)
    except TypeError:
        return [x]


def _groups(p, r):
    """Tie groups as ``(reward, mass, [(index, p_y), ...])`` in increasing reward, masses as mpf."""
    by_reward: dict[float, list[tuple[int, mp.mpf]]] = {}
    for i, (pi, ri) in enumerate(zip(p, r, strict=True)):
        if pi > 0:
            by_reward.setdefault(float(ri), []).append((i, mp.mpf(pi)))
    total = mp.fsum(m for members in by_reward.values() for _, m in members)
    out = []
    for reward in sorted(by_reward):
        members = [(i, m / total) for i, m in by_reward[reward]]
        out.append((reward, mp.fsum(m for _, m in members), members))
    return out


@_precise
def group_pmf(p, r, n):
    """``[(mass, π_n(C), members)]`` with ``π_n(C) = F^n - F⁻^n``."""
    n = mp.mpf(n)
    below = mp.mpf(0)
    out = []
    for _, mass, members in _groups(p, r):
        upper = below + mass
        out.append((mass, upper**n - below**n, members))
        below = upper
    return out


@_precise
def kl(p, r, n):
    return mp.fsum(pc * mp.log(pc / mass) for mass, pc, _ in group_pmf(p, r, n) if pc > 0)


def formula(n):
    n = mp.mpf(n)
    return mp.log(n) - (n - 1) / n


@_precise
def estimator(eps, n):
    eps, n = mp.mpf(eps), mp.mpf(n)
    keep = (1 - eps) ** n
    gone = 1 - keep
    first = keep * (mp.log(n) + (n - 1) * mp.log(1 - eps) - (n - 1) / n) if keep > 0 else 0
    return first + gone * mp.log(gone / eps)


@_precise
def expected_estimator(p, r, n):
    terms = []
    for mass, pc, members in group_pmf(p, r, n):
        for _, py in members:
            terms.append(py / mass * pc * estimator(py, n))
    return mp.fsum(terms)


@_precise
def pmf(p, r, n):
    out = [mp.mpf(0)] * len(p)
    for mass, pc, members in group_pmf(p, r, n):
        for i, py in members:
            out[i] = py / mass * pc
    return out


def tilt(p, r, lam):
    """``p e^{λ r} / Σ p e^{λ r}`` as mpf, straight from the definition (paper B)."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        lam = mp.mpf(lam)
        weights = [mp.mpf(pi) * mp.exp(lam * mp.mpf(ri)) for pi, ri in zip(p, r, strict=True)]
        total = mp.fsum(weights)
        return [w / total for w in weights]


def kl_between(q, p):
    """``Σ q log(q/p)`` as mpf, zero terms skipped."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        return mp.fsum(mp.mpf(qi) * mp.log(mp.mpf(qi) / mp.mpf(pi))
                       for qi, pi in zip(q, p, strict=True) if qi > 0)


def forward_target(p, r, beta):
    """``(β p/(Λ − r), Λ)`` with ``Σ β p/(Λ − r) = 1`` solved by mpmath's bisection."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        beta = mp.mpf(beta)
        top = max(mp.mpf(ri) for pi, ri in zip(p, r, strict=True) if pi > 0)

        def excess(lam):
            return mp.fsum(beta * mp.mpf(pi) / (lam - mp.mpf(ri))
                           for pi, ri in zip(p, r, strict=True) if pi > 0) - 1

        top_mass = mp.fsum(mp.mpf(pi) for pi, ri in zip(p, r, strict=True) if pi > 0 and ri == top)
        lam = mp.findroot(excess, (top + beta * top_mass, top + beta), solver="anderson")
        return [beta * mp.mpf(pi) / (lam - mp.mpf(ri)) for pi, ri in zip(p, r, strict=True)], lam


@_precise
def win_rate(p, r, n):
    """``Σ_C π_n(C)·(F_C + F⁻_C)/2``, with ``F⁻_C`` summed from the bottom (paper A)."""
    out = []
    below = mp.mpf(0)
    for mass, pc, _ in group_pmf(p, r, n):
        out.append(pc * (2 * below + mass) / 2)
        below += mass
    return mp.fsum(out)


def continuous_optimum(lam):
    """``(KL, W)`` of ``g_λ(u) = λ e^{λu}/(e^λ − 1)`` by numerical integration over [0, 1]."""
    with mp.workdps(DIGITS):
        lam = mp.mpf(lam)
        norm = mp.expm1(lam)

        def density(u):
            return lam * mp.exp(lam * u) / norm

        win = mp.quad(lambda u: u * density(u), [0, 1])
        kl = mp.quad(lambda u: density(u) * mp.log(density(u)), [0, 1])
        return kl, win
