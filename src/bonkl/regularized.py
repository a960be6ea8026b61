"""Paper C's examples (Figs. 1-5) and the cross-paper comparison, as tidy tables.

Each ``EXAMPLES[name](spec, check_betas)`` returns ``(table, margins)``: the exact targets
(or policy fits) of one example of ``config['regularized']['examples']``, and the per-case
margins of the claims it checks (:mod:`bonkl.regularized_claims`). Targets come from
:mod:`bonkl.tilt` (reverse: ``log_tilt(p, r, 1/β)``; forward: ``forward_kl_target``) and
:mod:`bonkl.mara`; log targets are kept so tiny masses stay exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from bonkl import bestofn, collapse, mara, policy_fit, tilt
from bonkl import regularized_claims as rc
from bonkl.divergence import kl_from_logs
from bonkl.groups import as_reference

REGULARISERS = ("reverse", "forward")


def log_target(p, r, beta, regulariser: str, tau: float = np.inf,
               algorithm: str = "vanilla") -> np.ndarray:
    """Log of the exact target of ``algorithm`` (vanilla or MARA) under ``regulariser``."""
    if regulariser == "reverse":
        return mara.log_reverse_target(p, r, beta, tau, algorithm)
    target, _ = mara.forward_target(p, r, beta, tau, algorithm)
    with np.errstate(divide="ignore"):
        return np.log(target)


def grid(spec) -> np.ndarray:
    return np.linspace(spec["low"], spec["high"], spec["points"])


def normalised(weights) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum()


def log_gaussian_mixture(y, means, weights, std) -> np.ndarray:
    """Log of a Gaussian mixture's density on the grid ``y``, normalised over the grid."""
    parts = [np.log(w) + stats.norm.logpdf(y, m, std) for m, w in
             zip(means, normalised(weights), strict=True)]
    log_density = special.logsumexp(parts, axis=0)
    return log_density - special.logsumexp(log_density)


def bump_reward(y, modes, heights, width) -> np.ndarray:
    """``r(y) = max_k h_k exp(−(y − m_k)²/(2 w²))``: one bump of height ``h_k`` per mode."""
    return np.max([h * np.exp(-0.5 * ((y - m) / width) ** 2)
                   for m, h in zip(modes, heights, strict=True)], axis=0)


# ---------------------------------------------------------------- Fig. 1: policy fits
def policy_fit_example(spec, check_betas):
    """Fig. 1: Gaussian and categorical policies fitted by reverse/forward KL, then RL.

    Task ``bimodal``: minimise ``KL(π ‖ T)`` or ``KL(T ‖ π)`` for a two-mode target ``T``.
    Task ``regularised RL``: maximise ``E_π r − β KL`` (reverse or forward) for a reward with
    two equal bumps, the one at ``reward.modes[0]`` better supported by the reference: its
    exact target (column ``target``) collapses; the fits show what each class learns. The
    bimodal task has no reward (0) and no reference (``prob_ref`` uniform, unused).
    """
    y = grid(spec["grid"])
    fit = spec["fit"]
    policies = {"gaussian": (policy_fit.GaussianPolicy(y),
                             [fit["init_mean"], np.log(fit["init_std"])]),
                "categorical": (policy_fit.CategoricalPolicy(y), np.zeros(y.size))}
    bimodal = spec["bimodal"]
    log_t = log_gaussian_mixture(y, bimodal["means"], bimodal["weights"], bimodal["std"])
    rl = spec["rl"]
    log_ref = log_gaussian_mixture(y, [rl["reference_mean"]], [1.0], rl["reference_std"])
    reward = bump_reward(y, rl["reward_modes"], [1.0] * len(rl["reward_modes"]),
                         rl["reward_width"])
    p = np.exp(log_ref)
    tasks = {
        ("bimodal", "reverse"): (log_t, policy_fit.reverse_kl(log_t)),
        ("bimodal", "forward"): (log_t, policy_fit.forward_kl(log_t)),
    }
    for regulariser in REGULARISERS:
        tasks["regularised RL", regulariser] = (
            log_target(p, reward, rl["beta"], regulariser),
            policy_fit.regularised(reward, log_ref, rl["beta"], regulariser))
    rows = []
    for (task, divergence), (log_goal, objective) in tasks.items():
        for name, (policy, theta0) in policies.items():
            theta, log_pi, values = policy_fit.fit(policy, theta0, objective, fit["steps"],
                                                   fit["learning_rate"])
            pi = np.exp(log_pi)
            mean = float(pi @ y)
            rows.append(pd.DataFrame({
                "task": task, "divergence": divergence, "policy": name, "y": y,
                "prob_ref": p if task != "bimodal" else 1.0 / y.size,
                "reward": reward if task != "bimodal" else 0.0,
                "target": np.exp(log_goal), "fitted": pi,
                "kl_fit_to_target": float(kl_from_logs(log_pi, log_goal)),
                "objective_start": values[0], "objective_end": values[-1],
                "fitted_mean": mean, "fitted_std": float(np.sqrt(pi @ (y - mean) ** 2)),
            }))
    table = pd.concat(rows, ignore_index=True)
    return table, rc.identity_margins(p, reward, check_betas, "policy_fit")


# ---------------------------------------------------------------- Fig. 2: the mode switch
def _sweep_betas(spec) -> np.ndarray:
    return np.logspace(np.log10(spec["low"]), np.log10(spec["high"]), spec["points"])


def mode_switch_problem(spec) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """``(y, p, reward, low, high)`` of Fig. 2's example; ``low, high``: the grid points
    nearest ``reward.modes``. Raises ValueError unless the first mode has the lower reward
    and the higher reference mass (else there is no switch to show)."""
    y = grid(spec["grid"])
    reward_spec, ref_spec = spec["reward"], spec["reference"]
    reward = bump_reward(y, reward_spec["modes"], reward_spec["heights"], reward_spec["width"])
    p = np.exp(log_gaussian_mixture(y, ref_spec["means"], ref_spec["weights"], ref_spec["std"]))
    low, high = (int(np.argmin(np.abs(y - m))) for m in reward_spec["modes"])
    if not (reward[low] < reward[high] and p[low] > p[high]):
        raise ValueError(
            f"at the grid points nearest reward.modes the rewards are ({reward[low]:.6g}, "
            f"{reward[high]:.6g}) and the reference masses ({p[low]:.6g}, {p[high]:.6g}); "
            "expected the first mode to have the lower reward and the higher reference mass")
    return y, p, reward, low, high


def mode_switch_crossovers(p, reward, low: int, high: int) -> dict[str, float]:
    """The predicted β of the mode switch per regulariser: Remark 4.4 (reverse) and our
    forward-KL formula (:mod:`bonkl.collapse`)."""
    return {"reverse": collapse.reverse_crossover_beta(p[low], p[high], reward[low],
                                                       reward[high]),
            "forward": collapse.forward_crossover(p, reward, low, high)[0]}


def mode_switch_example(spec, check_betas):
    """Fig. 2: a β sweep of both targets for a two-bump reward, the lower bump better supported.

    ``y1, y2``: the grid points at the lower- and higher-reward bumps. Columns
    ``crossover_predicted`` (Remark 4.4, or our forward-KL formula) and ``crossover_bisected``
    (where ``log G(y1)/G(y2)`` changes sign, by bisection on the targets).
    """
    y, p, reward, low, high = mode_switch_problem(spec)
    betas = _sweep_betas(spec["betas"])
    predicted = mode_switch_crossovers(p, reward, low, high)
    rows, margins = [], [rc.identity_margins(p, reward, check_betas, "mode_switch")]
    for regulariser in REGULARISERS:
        def log_ratio(beta, regulariser=regulariser):
            logs = log_target(p, reward, beta, regulariser)
            return logs[low] - logs[high]

        bisected = collapse.bisect_crossover(log_ratio, betas[0], betas[-1])
        margins.append(rc.crossover_margins(regulariser, predicted[regulariser], bisected,
                                            "mode_switch"))
        for beta in betas:
            logs = log_target(p, reward, beta, regulariser)
            rows.append(pd.DataFrame({
                "regulariser": regulariser, "beta": beta, "y": y, "prob_ref": p,
                "reward": reward, "target": np.exp(logs), "log_target": logs,
                "low_mode": y[low], "high_mode": y[high],
                "crossover_predicted": predicted[regulariser], "crossover_bisected": bisected,
            }))
    return pd.concat(rows, ignore_index=True), pd.concat(margins, ignore_index=True)


# ---------------------------------------------------------------- Figs. 3, 4: three actions
def three_actions_example(spec, check_betas):
    """Figs. 3-4: exact reverse and forward targets (and best-of-n) for three actions."""
    p, reward = as_reference(normalised(spec["reference"]), spec["rewards"])
    actions = np.arange(1, p.size + 1)
    rows = [pd.DataFrame({"method": "reference", "parameter": 0.0, "action": actions,
                          "prob_ref": p, "reward": reward, "target": p, "log_target": np.log(p)})]
    for regulariser in REGULARISERS:
        for beta in spec["betas"]:
            logs = log_target(p, reward, beta, regulariser)
            rows.append(pd.DataFrame({"method": regulariser, "parameter": beta,
                                      "action": actions, "prob_ref": p, "reward": reward,
                                      "target": np.exp(logs), "log_target": logs}))
    for n in spec["best_of_n"]:
        pmf = bestofn.pmf(p, reward, n)
        with np.errstate(divide="ignore"):
            rows.append(pd.DataFrame({"method": "best-of-n", "parameter": float(n),
                                      "action": actions, "prob_ref": p, "reward": reward,
                                      "target": pmf, "log_target": np.log(pmf)}))
    table = pd.concat(rows, ignore_index=True)
    table["log_target"] = table["log_target"].clip(lower=np.log(np.finfo(float).tiny))
    margins = [rc.identity_margins(p, reward, check_betas, spec["name"]),
               rc.tie_margins(p, reward, check_betas, spec["best_of_n"], spec["name"]),
               rc.stated_ratio_margins(p, reward, spec["betas"], spec["name"])]
    return table, pd.concat(margins, ignore_index=True)


# ---------------------------------------------------------------- Fig. 5: MARA on 100 bins
def bins_reference(spec) -> tuple[np.ndarray, np.ndarray]:
    """``p_k ∝ e^{−decay·k}`` on ``bins`` bins; reward ``plateau_reward`` on each
    ``[start, stop)`` plateau, ``background_reward`` elsewhere."""
    k = np.arange(spec["bins"])
    log_p = -spec["decay"] * k
    reward = np.full(k.size, float(spec["background_reward"]))
    for start, stop in spec["plateaus"]:
        reward[start:stop] = spec["plateau_reward"]
    return np.exp(log_p - special.logsumexp(log_p)), reward


def mara_bins_example(spec, check_betas):
    """Fig. 5: vanilla, MARA Algorithm 1 and Algorithm 2 targets under both regularisers."""
    p, reward = bins_reference(spec)
    tau = spec["tau"]
    rows = []
    for regulariser in REGULARISERS:
        for algorithm in mara.ALGORITHMS:
            for beta in spec["betas"]:
                logs = log_target(p, reward, beta, regulariser, tau, algorithm)
                rows.append(pd.DataFrame({
                    "regulariser": regulariser, "algorithm": algorithm, "beta": beta,
                    "bin": np.arange(p.size), "prob_ref": p, "reward": reward,
                    "good": reward >= tau, "target": np.exp(logs), "log_target": logs}))
    margins = [rc.identity_margins(p, reward, check_betas, "mara_bins"),
               rc.tie_margins(p, reward, check_betas, [], "mara_bins"),
               rc.mara_margins(p, reward, sorted(set(spec["betas"]) | set(check_betas)), tau,
                               "mara_bins")]
    return pd.concat(rows, ignore_index=True), pd.concat(margins, ignore_index=True)


EXAMPLES = {
    "policy_fit": policy_fit_example,
    "mode_switch": mode_switch_example,
    "three_actions_gap": three_actions_example,
    "three_actions_tie": three_actions_example,
    "mara_bins": mara_bins_example,
}


# ---------------------------------------------------------------- across papers
def forward_kl_matched(p, r, delta) -> tuple[np.ndarray, float]:
    """``(G_fwd, β)``: the forward-KL-regularised target with ``KL(G_fwd ‖ p) = Δ``.

    ``KL(G_fwd,β ‖ p)`` falls from ``log 1/p(C*)`` (β → 0) to 0 (β → ∞) (the tests check
    monotonicity on a grid); Brent's method on ``log β`` solves it for ``0 < Δ < log 1/p(C*)``.
    """
    p, r = as_reference(p, r)
    if not 0 < delta < tilt.kl_cap(p, r):
        raise ValueError(f"delta = {delta!r} must lie in (0, log 1/p(C*))")
    log_p = np.log(p)

    def excess(log_beta):
        target, _ = tilt.forward_kl_target(p, r, np.exp(log_beta))
        with np.errstate(divide="ignore"):
            return float(kl_from_logs(np.log(target), log_p)) - delta

    low, high = -2.0, 2.0
    while excess(low) < 0:
        low -= 4.0
    while excess(high) > 0:
        high += 4.0
    log_beta = optimize.brentq(excess, low, high, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    return tilt.forward_kl_target(p, r, np.exp(log_beta))[0], float(np.exp(log_beta))


def cross_paper(p, r, ns) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mass on each top-reward outcome (each good mode) at best-of-n's exact KL, per ``n``.

    Methods: ``best-of-n``; ``KL-constrained = reverse-KL`` (paper B's ``φ_Δ``, which is the
    reverse-KL target ``G_β`` at ``β = 1/λ``: one family); ``forward-KL`` at ``β`` with
    ``KL(G_fwd ‖ p) = Δ``. Returns the table and its claim margins.
    """
    p, r = as_reference(p, r)
    top = (p > 0) & (r == np.max(r[p > 0]))
    rows, margins = [], []
    for n in ns:
        pmf = bestofn.pmf(p, r, n)
        delta = float(bestofn.kl(p, r, n))
        phi, lam = tilt.kl_constrained(p, r, delta)
        forward, beta = forward_kl_matched(p, r, delta)
        for method, target, parameter in [("best-of-n", pmf, float(n)),
                                          ("KL-constrained = reverse-KL", phi, 1.0 / lam),
                                          ("forward-KL", forward, beta)]:
            with np.errstate(divide="ignore"):
                kl = float(kl_from_logs(np.log(target), np.log(p)))
            mass = target[top]
            rows.append(pd.DataFrame({
                "method": method, "n": n, "beta": parameter, "kl_bestofn": delta, "kl": kl,
                "top_mass": mass.sum(), "outcome": np.flatnonzero(top), "prob_ref": p[top],
                "ref_share": p[top] / p[top].sum(), "mass": mass, "share": mass / mass.sum()}))
            margins.append(rc.share_margins(method, p[top], mass, n))
    return pd.concat(rows, ignore_index=True), pd.concat(margins, ignore_index=True)


CROSS_PAPER_NOTE = """
Per reference with tied top rewards (the good modes are the outcomes of the top tie group
C*), and per n: best-of-n, paper B's KL-constrained optimum at best-of-n's exact KL (the
same family as the reverse-KL target, β = 1/λ) and the forward-KL target with the same KL
(β solved by Brent's method). `top_mass`: mass on C*; `largest_share`: the largest good
mode's share of that mass (`ref_largest_share`: the reference's); `share_ratio`: largest over
smallest share among good modes (`ref_ratio`: the reference's). All three methods keep the
reference's proportions inside C*: none lifts a low-support good mode.
"""


def cross_paper_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (reference, method, n): KL, mass on C*, the largest mode's share, and the
    max/min share ratio among good modes against the reference's (equal: proportions kept)."""
    grouped = table.groupby(["reference", "method", "n"], sort=False)
    summary = grouped.agg(kl=("kl", "first"), beta=("beta", "first"),
                          top_mass=("top_mass", "first"), modes=("share", "size"),
                          largest_share=("share", "max"), ref_largest_share=("ref_share", "max"),
                          share_ratio=("share", lambda s: s.max() / s.min()),
                          ref_ratio=("ref_share", lambda s: s.max() / s.min())).reset_index()
    summary["keeps_reference_proportions"] = np.isclose(summary["share_ratio"],
                                                        summary["ref_ratio"], rtol=1e-9)
    return summary
