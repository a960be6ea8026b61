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
    """``log n − (n−1)/n``, with digits for its cancellation (``~(n−1)²/2``) as ``n → 1``."""
    with mp.workdps(max(mp.mp.dps, 2 * _digits(float(n) - 1))):
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


def forward_gap(weights, r, beta):
    """``u = Λ − max r`` with ``Σ_y β w(y)/(u + max r − r(y)) = 1`` (weights ``w >= 0`` need
    not sum to 1), by a bracketing root search on ``[β w(C*), β Σ w]`` (paper C)."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        beta = mp.mpf(beta)
        pairs = [(mp.mpf(w), mp.mpf(ri)) for w, ri in zip(weights, r, strict=True) if w > 0]
        top = max(ri for _, ri in pairs)
        gaps = [(w, top - ri) for w, ri in pairs]

        def excess(log_u):
            return 1 - mp.fsum(beta * w / (mp.exp(log_u) + g) for w, g in gaps)

        low = beta * mp.fsum(w for w, g in gaps if g == 0)
        high = beta * mp.fsum(w for w, _ in gaps)
        if low == high:  # only C* on the support: u = β w(C*) = β Σ w
            return low
        return mp.exp(increasing_root(excess, mp.log(low), mp.log(high)))


def forward_target(p, r, beta):
    """``(β p/(Λ − r), Λ)`` with ``Σ β p/(Λ − r) = 1`` (:func:`forward_gap`; ``p`` as given)."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        u = forward_gap(p, r, beta)
        top = max(mp.mpf(ri) for pi, ri in zip(p, r, strict=True) if pi > 0)
        target = [mp.mpf(beta) * mp.mpf(pi) / (u + (top - mp.mpf(ri))) if pi > 0 else 0
                  for pi, ri in zip(p, r, strict=True)]
        return target, top + u


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


# ----------------------------------------------------------------- roots and tilts (B, C)


def increasing_root(f, low, high):
    """The root of an increasing ``f`` on ``[low, high]`` (``f(low) <= 0 <= f(high)``):
    the Illinois method (regula falsi that halves a stale end's value), until the bracket is
    ``1e-(dps−5)`` wide relative to its ends, whatever the scale of ``f``."""
    f_low, f_high = f(low), f(high)
    if f_low > 0 or f_high < 0:
        raise ArithmeticError(f"[{low}, {high}] does not bracket a root")
    tol = mp.mpf(10) ** (5 - mp.mp.dps)
    side = 0
    for _ in range(100 * mp.mp.dps):
        if f_low == 0 or f_high == 0 or high - low <= tol * max(abs(low), abs(high)):
            break
        x = (low * f_high - high * f_low) / (f_high - f_low)
        if not low < x < high:
            x = (low + high) / 2
        fx = f(x)
        if fx <= 0:
            low, f_low = x, fx
            f_high = f_high / 2 if side == -1 else f_high
            side = -1
        else:
            high, f_high = x, fx
            f_low = f_low / 2 if side == 1 else f_low
            side = 1
    else:
        raise ArithmeticError(f"no convergence in [{low}, {high}]")
    return low if f_low == 0 else high if f_high == 0 else (low + high) / 2


def _digits(*small):
    """Working digits: DIGITS plus the decades below 1 of the smallest positive value given."""
    values = [abs(float(x)) for x in small if x and abs(float(x)) < 1]
    return DIGITS + (math.ceil(-math.log10(min(values))) if values else 0)


def normalized(p):
    """``p / Σ p`` as mpf, with the sum taken exactly (the library rescales ``p`` the same way)."""
    values = [mp.mpf(x) for x in p]
    total = mp.fsum(values)
    return [v / total for v in values]


def log_tilt(p, r, lam):
    """``log φ_λ = log p + λ r − log Σ p e^{λ r}`` as mpf (``-inf`` where ``p = 0``; ``λ = inf``:
    ``log p(·|C*)``) (paper B)."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        masses = normalized(p)
        rewards = [mp.mpf(x) for x in r]
        if lam == math.inf:
            top = max(ri for pi, ri in zip(masses, rewards, strict=True) if pi > 0)
            inside = [pi if pi > 0 and ri == top else 0 for pi, ri in zip(masses, rewards,
                                                                         strict=True)]
            total = mp.fsum(inside)
            return [mp.log(pi / total) if pi > 0 else mp.ninf for pi in inside]
        lam = mp.mpf(lam)
        exponents = [mp.log(pi) + lam * ri if pi > 0 else mp.ninf
                     for pi, ri in zip(masses, rewards, strict=True)]
        top = max(exponents)
        log_total = top + mp.log(mp.fsum(mp.exp(e - top) for e in exponents if e > mp.ninf))
        return [e - log_total for e in exponents]


def cgf(p, r, lam):
    """``Λ(λ) = log Σ p e^{λ r}`` (paper B)."""
    with mp.workdps(max(mp.mp.dps, _digits(lam) + 30)):
        return mp.log(mp.fsum(pi * mp.exp(mp.mpf(lam) * mp.mpf(ri))
                              for pi, ri in zip(normalized(p), r, strict=True)))


def tilt_kl(p, r, lam):
    """``KL(φ_λ ‖ p) = Σ φ log(φ/p)``, with twice the digits that λ lacks (``KL ~ λ²``);
    ``λ = inf``: ``log 1/p(C*)``."""
    if lam == math.inf:
        return kl_cap(p, r)
    with mp.workdps(max(mp.mp.dps, 2 * _digits(lam) + 30)):
        masses = normalized(p)
        return kl_between(tilt(masses, r, lam), masses)


def kl_cap(p, r):
    """``log 1/p(C*)`` (paper B)."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        masses = normalized(p)
        top = max(mp.mpf(ri) for pi, ri in zip(masses, r, strict=True) if pi > 0)
        return -mp.log(mp.fsum(pi for pi, ri in zip(masses, r, strict=True) if ri == top))


def kl_constrained(p, r, delta):
    """``(λ, φ_λ)`` with ``KL(φ_λ ‖ p) = Δ``, ``Δ`` below the cap: a root in ``log λ`` of the
    definition, with digits for a tiny Δ and for a Δ close to the cap (paper B)."""
    delta = mp.mpf(delta)
    with mp.workdps(max(mp.mp.dps, DIGITS)):
        cap = kl_cap(p, r)
    with mp.workdps(max(mp.mp.dps, _digits(delta, (cap - delta) / cap) + 30)):
        masses = normalized(p)

        def excess(log_lam):
            return kl_between(tilt(masses, r, mp.exp(log_lam)), masses) - delta

        low = high = mp.mpf(0)
        while excess(low) > 0:
            low -= 4
        while excess(high) < 0:
            high += 4
        lam = mp.exp(increasing_root(excess, low, high))
        return lam, tilt(masses, r, lam)


def cgf_derivatives(p, r, lam):
    """``Λ^(k)(λ)``, ``k = 1..4``: the cumulants of ``r`` under ``φ_λ`` from its central
    moments, ``μ, μ₂, μ₃, μ₄ − 3μ₂²``, at high precision."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        phi = tilt(normalized(p), r, lam)
        mean = mp.fsum(f * mp.mpf(ri) for f, ri in zip(phi, r, strict=True))
        mu2, mu3, mu4 = (mp.fsum(f * (mp.mpf(ri) - mean) ** k for f, ri in zip(phi, r,
                                                                             strict=True))
                         for k in (2, 3, 4))
        return [mean, mu2, mu3, mu4 - 3 * mu2**2]


def log1mexp(a):
    """``log(1 − e^a)``, ``a <= 0``, from the definition with digits for both ends."""
    with mp.workdps(max(mp.mp.dps, _digits(a) + 30 + math.ceil(-a / math.log(10)))):
        return mp.log(1 - mp.exp(mp.mpf(a)))


def kl_from_logs(log_q, log_p):
    """``KL(q ‖ p)`` for ``q ∝ e^{log_q}``, ``p ∝ e^{log_p}`` (the doubles taken exactly, each
    vector normalised exactly): ``Σ q (log q − log p)``."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        log_q = [mp.mpf(x) for x in log_q]
        log_p = [mp.mpf(x) for x in log_p]
        norm_q = mp.log(mp.fsum(mp.exp(x) for x in log_q))
        norm_p = mp.log(mp.fsum(mp.exp(x) for x in log_p))
        return mp.fsum(mp.exp(lq - norm_q) * (lq - norm_q - lp + norm_p)
                       for lq, lp in zip(log_q, log_p, strict=True) if lq > mp.ninf)


# ------------------------------------------------------------------- MARA and crossovers (C)


def mara_problem(p, r, beta, tau, algorithm):
    """``(weights, rewards)`` of the regularised problem an algorithm induces (paper C):
    ``vanilla`` (p, r); ``algorithm_1`` (p, R̄) with ``R̄ = R(z) + β log(p(z)/p(y))`` on the
    good outcomes (``r >= τ``); ``algorithm_2`` (p̃, R̃), the good ones set to ``p(z)``, ``R(z)``,
    ``z`` the likeliest good outcome (the first on ties)."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        masses = normalized(p)
        rewards = [mp.mpf(x) for x in r]
        good = [ri >= tau for ri in r]
        if algorithm == "vanilla" or not any(good):
            return masses, rewards
        z = max((i for i in range(len(p)) if good[i]), key=lambda i: (masses[i], -i))
        if algorithm == "algorithm_1":
            beta = mp.mpf(beta)
            return masses, [rewards[z] + beta * (mp.log(masses[z]) - mp.log(pi)) if g else ri
                            for pi, ri, g in zip(masses, rewards, good, strict=True)]
        return ([masses[z] if g else pi for pi, g in zip(masses, good, strict=True)],
                [rewards[z] if g else ri for ri, g in zip(rewards, good, strict=True)])


def log_gibbs(weights, rewards, beta):
    """``log(w e^{R/β} / Σ w e^{R/β})``: the reverse-KL target of ``(w, R)`` (paper C)."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        exponents = [mp.log(w) + ri / mp.mpf(beta) for w, ri in zip(weights, rewards,
                                                                   strict=True)]
        top = max(exponents)
        log_total = top + mp.log(mp.fsum(mp.exp(e - top) for e in exponents))
        return [e - log_total for e in exponents]


def reverse_crossover_beta(p1, p2, r1, r2):
    """Remark 4.4: ``β* = (r2 − r1)/log(p1/p2)``."""
    with mp.workdps(max(mp.mp.dps, DIGITS + 30)):
        return (mp.mpf(r2) - mp.mpf(r1)) / mp.log(mp.mpf(p1) / mp.mpf(p2))


def forward_crossover(p, r, i, j):
    """``(β*_fwd, Λ*)``: ``Λ* = (p_i r_j − p_j r_i)/(p_i − p_j)``, ``β = 1/Σ p/(Λ* − r)``."""
    with mp.workdps(max(mp.mp.dps, _digits(*p) + 30)):
        masses = normalized(p)
        rewards = [mp.mpf(x) for x in r]
        lam = ((masses[i] * rewards[j] - masses[j] * rewards[i]) / (masses[i] - masses[j]))
        return 1 / mp.fsum(pi / (lam - ri) for pi, ri in zip(masses, rewards, strict=True)
                           if pi > 0), lam


# --------------------------------------------------------- rewind and the trade-off (paper A)


@_precise
def rewind(p, r, tau):
    """``(KL, W, draws)`` of ``p(·|r >= τ)``: ``log 1/A``, the mid-rank win rate, ``1/A``."""
    groups = _groups(p, r)
    accepted = mp.fsum(mass for reward, mass, _ in groups if reward >= tau)
    below = mp.mpf(0)
    win = []
    for reward, mass, _ in groups:
        if reward >= tau:
            win.append(mass / accepted * (2 * below + mass) / 2)
        below += mass
    return -mp.log(accepted), mp.fsum(win), 1 / accepted


@_precise
def mid_rank(p, r):
    """``m(y) = F⁻(y) + p(C_y)/2`` for every outcome of the support (0 elsewhere)."""
    out = [mp.mpf(0)] * len(p)
    below = mp.mpf(0)
    for _, mass, members in _groups(p, r):
        for i, _ in members:
            out[i] = below + mass / 2
        below += mass
    return out


def optimum_win_rate(p, r, delta):
    """The largest win rate at ``KL = Δ``: the tilt of ``p`` by the mid-rank reward (paper A)."""
    with mp.workdps(max(mp.mp.dps, _digits(*p) + 30)):
        m = mid_rank(p, r)
        _, phi = kl_constrained(p, m, delta)
        return mp.fsum(f * mi for f, mi in zip(phi, m, strict=True))


def best_of_n_at_kl(p, r, delta):
    """``(n − 1 + t, (1 − t) W_{n−1} + t W_n)`` with ``KL(π_{n−1}) < Δ <= KL(π_n)`` (paper A)."""
    high = 2
    while kl(p, r, high) < delta:
        high *= 2
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        if kl(p, r, mid) >= delta:
            high = mid
        else:
            low = mid
    kl_low, kl_high = kl(p, r, high - 1), kl(p, r, high)
    with mp.workdps(max(mp.mp.dps, _digits(*p) + 30)):
        t = (mp.mpf(delta) - kl_low) / (kl_high - kl_low)
        w_low, w_high = win_rate(p, r, high - 1), win_rate(p, r, high)
        return high - 1 + t, w_low + t * (w_high - w_low)


def continuous_closed_form(lam):
    """``(KL, W)`` of ``g_λ`` from the paper's closed forms ``W = 1/(1 − e^{−λ}) − 1/λ``,
    ``KL = log(λ/(e^λ − 1)) + λ W``, with digits for the cancellation at small λ."""
    with mp.workdps(max(mp.mp.dps, 3 * _digits(lam) + 30)):
        lam = mp.mpf(lam)
        win = 1 / (1 - mp.exp(-lam)) - 1 / lam
        return mp.log(lam / mp.expm1(lam)) + lam * win, win


def continuous_win_rate_at(delta):
    """The continuous optimum's win rate at ``KL = Δ`` (root in ``log λ`` of the closed form)."""
    with mp.workdps(max(mp.mp.dps, 3 * _digits(delta) + 30)):
        delta = mp.mpf(delta)

        def excess(log_lam):
            return continuous_closed_form(mp.exp(log_lam))[0] - delta

        low, high = mp.mpf(-2), mp.mpf(2)
        while excess(low) > 0:
            low -= 4
        while excess(high) < 0:
            high += 4
        return continuous_closed_form(mp.exp(increasing_root(excess, low, high)))[1]


# ------------------------------------------------------------ memoryless LM (paper B)


def sum_coefficients(weights, points, m):
    """Integers ``c_s`` with ``P(Σ a_i = s) = c_s / (Σw)^m``: ``(Σ w_a x^a)^m`` by Kronecker."""
    bits = m * sum(weights).bit_length() + 8
    packed = sum(w << (bits * a) for w, a in zip(weights, points, strict=True))
    power = packed**m
    mask = (1 << bits) - 1
    return [(power >> (bits * s)) & mask for s in range(m * max(points) + 1)]


def integer_lattice(weights, rewards):
    """``(offset, step, {lattice point: summed weight})`` of integer per-token rewards."""
    support = [(w, int(ri)) for w, ri in zip(weights, rewards, strict=True) if w > 0]
    offset = min(ri for _, ri in support)
    step = math.gcd(*(ri - offset for _, ri in support))
    lattice = {}
    for w, ri in support:
        lattice[(ri - offset) // step] = lattice.get((ri - offset) // step, 0) + w
    return offset, step, lattice


def _log_fraction(num, den):
    """``log(num/den)`` for integers ``0 <= num <= den``, accurate near 0 and near 1."""
    if 2 * num > den:
        return mp.log1p(-mp.mpf(den - num) / den)
    return mp.log(mp.mpf(num) / den) if num else mp.ninf


def memoryless(weights, rewards, m, delta):
    """Best-of-N (``N = e^{mδ}``) over length-``m`` sequences against ``φ_Δ`` from exact integer
    laws (``p = w/Σw``, integer weights and rewards), in mpmath (paper B): the per-token
    ``reward_bon``, ``reward_tilt``, ``kl_bon``, ``kl_bon_to_tilt``, ``kl_formula``, ``lam``,
    and ``log_reverse_kl = log(KL(φ_Δ ‖ π_N)/m)``.

    ``π_N(s) = F(s)^N·(1 − (F(s−1)/F(s))^N)`` with ``F(s)`` and ``F(s−1)/F(s)`` ratios of
    integers, so no difference of two numbers near 1 is ever taken.
    """
    offset, step, lattice = integer_lattice(weights, rewards)
    points = sorted(lattice)
    with mp.workdps(80):
        total = mp.mpf(sum(weights))

        def tilted(theta):  # (log E e^{θa}, E_θ a) per token, on the lattice
            terms = [lattice[a] * mp.exp(theta * a) for a in points]
            return (mp.log(mp.fsum(terms) / total),
                    mp.fsum(t * a for t, a in zip(terms, points, strict=True)) / mp.fsum(terms))

        def excess(log_theta):  # KL(φ_θ ‖ p) − δ per token
            theta = mp.exp(log_theta)
            log_mgf, mean = tilted(theta)
            return theta * mean - log_mgf - delta

        low, high = mp.mpf(-2), mp.mpf(2)
        while excess(low) > 0:
            low -= 4
        while excess(high) < 0:
            high += 4
        theta = mp.exp(increasing_root(excess, low, high))
        log_z, tilt_mean = tilted(theta)
        coeffs = sum_coefficients([lattice[a] for a in points], points, m)
        denominator = sum(weights) ** m
        n_draws = mp.exp(m * mp.mpf(delta))
        above = denominator  # Σ_{t > s} c_t, before subtracting c_s
        reward = kl_p = kl_phi = mass = cross = entropy = mp.mpf(0)
        for s, c in enumerate(coeffs):
            above -= c
            if c == 0:
                continue
            log_f = n_draws * _log_fraction(denominator - above, denominator)
            log_ratio = _log_fraction(denominator - above - c, denominator - above)
            log_pi = log_f + mp.log(-mp.expm1(n_draws * log_ratio))
            pi = mp.exp(log_pi)
            log_p = mp.log(c) - m * mp.log(total)
            log_phi = log_p + theta * s - m * log_z
            phi = mp.exp(log_phi)
            cross -= phi * log_pi
            entropy -= phi * log_phi
            mass += pi
            reward += pi * (m * offset + step * s)
            kl_p += pi * (log_pi - log_p)
            kl_phi += pi * (log_pi - log_phi)
        assert abs(mass - 1) < mp.mpf(10) ** -40
        return {"reward_bon": reward / m, "reward_tilt": offset + step * tilt_mean,
                "kl_bon": kl_p / m, "kl_bon_to_tilt": kl_phi / m,
                "kl_formula": (mp.log(n_draws) - (n_draws - 1) / n_draws) / m,
                "lam": theta / step, "log_reverse_kl": mp.log((cross - entropy) / m)}


def tail_rates(weights, rewards, lam, m, xs):
    """``−(1/m) log P(r(Y) >= m x)`` for each ``x``, ``Y ~ φ_λ^{⊗m}``, from the exact integer
    law (paper B)."""
    offset, step, lattice = integer_lattice(weights, rewards)
    points = sorted(lattice)
    coeffs = sum_coefficients([lattice[a] for a in points], points, m)
    with mp.workdps(80):
        theta = mp.mpf(lam) * step
        terms = [c * mp.exp(theta * s) for s, c in enumerate(coeffs)]
        total = mp.fsum(terms)
        out = []
        for x in xs:
            first = int(mp.ceil((m * mp.mpf(x) - m * offset) / step - mp.mpf(10) ** -9))
            out.append(-mp.log(mp.fsum(terms[first:]) / total) / m)
        return out


def rate_function(p, r, lam, x):
    """``I(x) = sup_t [t x − log E_{φ_λ} e^{t r}]``: the root of ``E_{φ_λ, t} r = x`` in ``t``,
    or ``−log φ_λ(r = x)`` at an end of the support (paper B)."""
    with mp.workdps(max(mp.mp.dps, 2 * _digits(*p) + 30)):
        base = tilt(normalized(p), r, lam)
        rewards = [mp.mpf(ri) for ri in r]
        x = mp.mpf(x)
        support = [ri for b, ri in zip(base, rewards, strict=True) if b > 0]
        if x in (min(support), max(support)):
            return -mp.log(mp.fsum(b for b, ri in zip(base, rewards, strict=True) if ri == x))

        def log_mgf(t):
            return mp.log(mp.fsum(b * mp.exp(t * ri) for b, ri in zip(base, rewards,
                                                                      strict=True)))

        def excess(t):
            weights = [b * mp.exp(t * ri) for b, ri in zip(base, rewards, strict=True)]
            return mp.fsum(w * ri for w, ri in zip(weights, rewards, strict=True)) / \
                mp.fsum(weights) - x

        low, high = mp.mpf(-1), mp.mpf(1)
        while excess(low) > 0:
            low *= 2
        while excess(high) < 0:
            high *= 2
        t = increasing_root(excess, low, high)
        return t * x - log_mgf(t)
