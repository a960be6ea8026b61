"""MARA, Mode Anchored Reward Augmentation (paper C, Algorithms 1 and 2), and its exact targets.

Per batch ``y_1..y_N`` with rewards ``R``, reference log-probs ``log π_ref`` and a threshold
``τ`` for good answers: the anchor ``z = argmax_{i: R_i >= τ} π_ref(y_i)`` (the
best-supported good sample; the first one on ties).

- Algorithm 1: good samples get ``R̄_i = R(z) + β (log π_ref(z) − log π_ref(y_i))``, the
  others keep ``R_i``; the usual regularised update then runs on ``R̄``.
- Algorithm 2: good samples get the reward ``R(z)`` and, in the KL term, the reference
  probability ``π_ref(z)``; call that (unnormalised) reference ``p̃``.

Exact targets on the full outcome space (the batch is every outcome; outcomes need
``p > 0``, since Algorithm 1 needs ``log p``):

- Reverse KL. Algorithm 1: ``G ∝ p e^{R̄/β}``, which is ``p e^{R/β}`` below τ and the
  constant ``p(z) e^{R(z)/β}`` on every good outcome. Algorithm 2: ``max E_π R̃ − β Σ π
  log(π/p̃)`` has optimum ``∝ p̃ e^{R̃/β}``: the same target (the digest's "equivalent for
  reverse KL"), as the tilt of the normalised ``q = p̃/S``, ``S = Σ p̃``.
- Forward KL. Algorithm 1: the forward target of ``R̄``, ``β p/(Λ − R̄)``: not flat on the
  good set (derived claim, checked in the study). Algorithm 2 (our derivation): the KL term
  becomes ``Σ_y p̃ log(p̃/π)`` (in a sampled estimator ``E_π[(p̃/π) log(p̃/π)]`` with
  ``π_ref`` replaced by ``p̃``); stationarity of ``E_π R̃ − β Σ p̃ log(p̃/π)`` under
  ``Σ π = 1`` gives ``π = β p̃/(Λ − R̃)``, i.e. the forward target of ``(q, R̃)`` at ``β S``
  with the same ``Λ``. It is constant, ``β p(z)/(Λ − R(z))``, on the good set.

``algorithm_1_lambda`` (ours): Algorithm 1's step 3 (augment the reward only; the KL term
keeps ``π_ref``) with the augmentation that flattens the target of the KL in use. Reverse
KL: Algorithm 1's ``R̄``. Forward KL: ``β p(y)/(Λ − R̄(y))`` is constant on the good set iff
``R̄(y) = Λ − (p(y)/p(z))(Λ − R(z))``; with ``Λ = Λ₂``, Algorithm 2's multiplier, the root of
``Σ β p/(Λ − R̄) = 1`` is ``Λ₂`` again (same equation as Algorithm 2's), so the target is
Algorithm 2's flat one. No augmentation without ``Λ`` can do this: the flat ``R̄(y) − R(z)
= (Λ − R(z))(1 − p(y)/p(z))`` grows with ``Λ``, which the bad outcomes' rewards move while
the good outcomes' ``(R, p)`` stay put. Per batch, ``Λ₂ = E_π*[R̃] + β Σ p̃`` (sum
``π*(Λ₂ − R̃) = β p̃`` over y) is estimated on the policy's own samples by ``Λ̂ = mean_i (R̃_i
+ β p̃_i/π_θ(y_i))``, which equals ``Λ₂`` on every sample when ``π_θ = π*`` and the batch holds
the anchor ``z`` (:func:`augment_lambda`); so ``π*`` is a stationary point of the sampled
update (tested), though not proven to attract it.

References
----------
A. GX-Chen, J. Prakash, J. Guo, R. Fergus, R. Ranganath, "KL-Regularized Reinforcement
Learning is Designed to Mode Collapse", `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__
(paper C).
"""

from __future__ import annotations

import numpy as np

from bonkl import tilt
from bonkl.groups import as_reference

__all__ = [
    "ALGORITHMS", "anchor", "anchor_reference", "augment", "augment_lambda", "forward_target",
    "log_reverse_target",
]

#: The names of the MARA algorithms (and vanilla) that the targets and the trainer accept.
ALGORITHMS = ("vanilla", "algorithm_1", "algorithm_2", "algorithm_1_lambda")


def _batch(rewards, ref_logp, tau):
    rewards = np.asarray(rewards, dtype=float)
    ref_logp = np.asarray(ref_logp, dtype=float)
    if rewards.ndim != 1 or rewards.shape != ref_logp.shape:
        raise ValueError(f"rewards {rewards.shape} and ref_logp {ref_logp.shape} must be 1-D "
                         "arrays of the same length")
    if not (np.all(np.isfinite(rewards)) and np.all(np.isfinite(ref_logp))):
        raise ValueError("rewards and ref_logp must be finite (reference probabilities > 0)")
    if not np.isfinite(float(tau)):
        raise ValueError(f"tau must be finite, got {tau!r}")
    return rewards, ref_logp, rewards >= tau


def anchor(rewards, ref_logp, tau) -> int | None:
    r"""Index of the anchor ``z`` (best-supported sample with reward >= τ), or None if none.

    Parameters
    ----------
    rewards : array_like
        Rewards ``R`` of the batch, 1-D, finite.
    ref_logp : array_like
        Reference log-probabilities, same shape, finite.
    tau : float
        The threshold for good answers.

    Returns
    -------
    int or None
        ``z``; the first one on ties.

    Raises
    ------
    ValueError
        If the arrays are not 1-D of one length, or not finite.

    Notes
    -----
    .. math::

        z = \operatorname*{arg\,max}_{i:\ R_i \ge \tau} \pi_{\mathrm{ref}}(y_i).

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §5, Algorithm 1.

    Examples
    --------
    >>> from bonkl import mara
    >>> mara.anchor([1.0, 0.0, 1.0], [-3.0, -0.1, -1.0], 1.0)
    2
    """
    rewards, ref_logp, good = _batch(rewards, ref_logp, tau)
    if not good.any():
        return None
    return int(np.flatnonzero(good)[np.argmax(ref_logp[good])])


def augment(rewards, ref_logp, beta, tau) -> np.ndarray:
    r"""Algorithm 1's rewards ``R̄`` for one batch; a batch with no good sample is unchanged.

    Parameters
    ----------
    rewards : array_like
        Rewards ``R`` of the batch, 1-D, finite.
    ref_logp : array_like
        Reference log-probabilities ``log π_ref(y_i)``, same shape, finite.
    beta : float
        The regularisation coefficient ``β > 0``.
    tau : float
        The threshold for good answers, finite.

    Returns
    -------
    ndarray
        ``R̄``, shaped like ``rewards``.

    Raises
    ------
    ValueError
        If ``beta`` is not finite and positive, or the batch is malformed.

    Notes
    -----
    Good samples (``R_i >= τ``) get

    .. math::

        \bar R_i = R(z)
        + \beta\,\big(\log \pi_{\mathrm{ref}}(z) - \log \pi_{\mathrm{ref}}(y_i)\big),

    the others keep ``R_i``; the usual regularised update then runs on ``R̄``.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §5, Algorithm 1, Eq. 11.

    Examples
    --------
    >>> from bonkl import mara
    >>> mara.augment([1.0, 0.0, 1.0], [-3.0, -0.1, -1.0], 0.5, 1.0)
    array([2., 0., 1.])
    """
    offsets, anchor_reward, good = _augmented_offsets(rewards, ref_logp, beta, tau)
    out = np.array(rewards, dtype=float)
    out[good] = anchor_reward + offsets[good]
    return out


def _augmented_offsets(rewards, ref_logp, beta, tau):
    """``(R̄ − c, c, good)`` of Algorithm 1, ``c = R(z)`` (0 and no good sample without one).

    The offsets ``β log(π_ref(z)/π_ref(y))`` of the good samples keep their relative
    precision, which ``R̄`` itself (``R(z)`` plus a small bonus, at small β) does not.
    """
    beta = _beta(beta)
    rewards, ref_logp, good = _batch(rewards, ref_logp, tau)
    z = anchor(rewards, ref_logp, tau)
    if z is None:
        return rewards.copy(), 0.0, good
    offsets = rewards - rewards[z]
    offsets[good] = beta * (ref_logp[z] - ref_logp[good])
    return offsets, float(rewards[z]), good


def augment_lambda(rewards, ref_logp, policy_logp, beta, tau) -> np.ndarray:
    r"""``algorithm_1_lambda``'s forward-KL rewards for one batch drawn from ``π_θ`` (ours).

    Parameters
    ----------
    rewards : array_like
        Rewards ``R`` of the batch, 1-D, finite.
    ref_logp : array_like
        Reference log-probabilities ``log π_ref(y_i)``, same shape, finite.
    beta : float
        The regularisation coefficient ``β > 0``.
    tau : float
        The threshold for good answers, finite.
    policy_logp : array_like
        ``log π_θ(y_i)`` of the policy that drew the batch, same shape, finite.

    Returns
    -------
    ndarray
        ``R̄``, shaped like ``rewards``; unchanged without a good sample.

    Raises
    ------
    ValueError
        If ``policy_logp`` is not finite or not shaped like ``rewards``.

    Notes
    -----
    Good samples get

    .. math::

        \bar R_i = \hat\Lambda - \frac{\pi_{\mathrm{ref}}(y_i)}{\pi_{\mathrm{ref}}(z)}
        \big(\hat\Lambda - R(z)\big), \qquad
        \hat\Lambda = \frac{1}{N}
        \sum_i \Big(\tilde R_i + \beta\, \frac{\tilde p_i}{\pi_\theta(y_i)}\Big),

    (module doc) raised to the bound ``Λ₂ >= R(z) + β π_ref(z)`` (the flat target's mass on
    ``z`` is at most 1); others keep ``R_i``.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §5 (this forward-KL variant is ours).

    Examples
    --------
    >>> from bonkl import mara
    >>> mara.augment_lambda([1.0, 0.0], [-0.5, -1.0], [-0.5, -1.0], 0.5, 1.0)
    array([1., 0.])
    """
    beta = _beta(beta)
    rewards, ref_logp, good = _batch(rewards, ref_logp, tau)
    policy_logp = np.asarray(policy_logp, dtype=float)
    if policy_logp.shape != rewards.shape or not np.all(np.isfinite(policy_logp)):
        raise ValueError("policy_logp must be finite and shaped like rewards")
    z = anchor(rewards, ref_logp, tau)
    out = rewards.copy()
    if z is None:
        return out
    tilde_r, tilde_logp = anchor_reference(rewards, ref_logp, tau)
    lam = float(np.mean(tilde_r + beta * np.exp(tilde_logp - policy_logp)))
    gap = max(lam - rewards[z], beta * np.exp(ref_logp[z]))
    out[good] = rewards[z] + gap + _lambda_offsets(ref_logp[good] - ref_logp[z], gap)
    return out


def _lambda_offsets(log_ratio, gap):
    """``R̄ − Λ = −(p/p(z))(Λ − R(z))`` for good outcomes, in full relative precision."""
    return -np.exp(log_ratio) * gap


def anchor_reference(rewards, ref_logp, tau) -> tuple[np.ndarray, np.ndarray]:
    r"""Algorithm 2 for one batch: ``(R̃, log p̃)``, good samples set to ``R(z)``, ``log π_ref(z)``.

    Parameters
    ----------
    rewards : array_like
        Rewards ``R`` of the batch, 1-D, finite.
    ref_logp : array_like
        Reference log-probabilities, same shape, finite.
    tau : float
        The threshold for good answers.

    Returns
    -------
    rewards : ndarray
        ``R̃``.
    ref_logp : ndarray
        ``log p̃``, the reference log-probabilities used in the KL term.

    Notes
    -----
    .. math::

        (\tilde R_i, \tilde p_i) = \begin{cases} (R(z), \pi_{\mathrm{ref}}(z)) & R_i \ge \tau, \\
        (R_i, \pi_{\mathrm{ref}}(y_i)) & \text{otherwise.} \end{cases}

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, Appendix B.8, Algorithm 2.

    Examples
    --------
    >>> from bonkl import mara
    >>> mara.anchor_reference([1.0, 0.0, 1.0], [-3.0, -0.1, -1.0], 1.0)
    (array([1., 0., 1.]), array([-1. , -0.1, -1. ]))
    """
    rewards, ref_logp, good = _batch(rewards, ref_logp, tau)
    z = anchor(rewards, ref_logp, tau)
    rewards, ref_logp = rewards.copy(), ref_logp.copy()
    if z is not None:
        rewards[good], ref_logp[good] = rewards[z], ref_logp[z]
    return rewards, ref_logp


def _beta(beta) -> float:
    beta = float(beta)
    if not beta > 0 or np.isinf(beta):
        raise ValueError(f"beta must be finite and > 0, got {beta!r}")
    return beta


def _problem(p, r, beta, tau, algorithm, kl="reverse"):
    """``(q, R − c, β_eff, c)``: the (normalised reference, reward less a constant, coefficient)
    an algorithm induces; the constant ``c`` (``R(z)`` for Algorithm 1, ``Λ₂`` for
    ``algorithm_1_lambda`` under forward KL, else 0) changes neither target, only the forward
    target's ``Λ`` by ``c``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} not in {ALGORITHMS}")
    p, r = as_reference(p, r)
    beta = _beta(beta)
    if algorithm == "vanilla":
        return p, r, beta, 0.0
    if np.any(p == 0):
        raise ValueError("MARA's exact targets need p > 0 on every outcome")
    log_p = np.log(p)
    if algorithm == "algorithm_1" or (algorithm == "algorithm_1_lambda" and kl == "reverse"):
        offsets, anchor_reward, _ = _augmented_offsets(r, log_p, beta, tau)
        return p, offsets, beta, anchor_reward
    rewards, log_tilde = anchor_reference(r, log_p, tau)
    total = float(np.sum(np.exp(log_tilde)))
    q = np.exp(log_tilde - np.log(total))
    if algorithm == "algorithm_2":
        return q, rewards, beta * total, 0.0
    z = anchor(r, log_p, tau)
    if z is None:
        return p, r, beta, 0.0
    target, lam = tilt.forward_kl_target(q, rewards, beta * total)
    gap = beta * total * q[z] / target[z]  # Λ₂ − R(z), in full relative precision at small β
    good = r >= tau
    shifted = r - lam
    shifted[good] = _lambda_offsets(log_p[good] - log_p[z], gap)
    return p, shifted, beta, lam


def log_reverse_target(p, r, beta, tau, algorithm: str = "algorithm_1") -> np.ndarray:
    r"""Log of the reverse-KL target that ``algorithm`` induces (``vanilla``: the Gibbs target).

    Parameters
    ----------
    p : array_like
        Reference probabilities on the full outcome space, all ``> 0`` for MARA.
    r : array_like
        Rewards, same shape.
    beta : float
        The regularisation coefficient ``β > 0``.
    tau : float
        The threshold for good answers (ignored by ``vanilla``).
    algorithm : str
        One of :data:`ALGORITHMS`.

    Returns
    -------
    ndarray
        The log-target, shape ``(k,)``, finite in logs for any ``beta > 0``.

    Raises
    ------
    ValueError
        If ``algorithm`` is unknown, ``beta`` not positive, or MARA meets a ``p = 0``.

    Notes
    -----
    Algorithm 1 (and 2) under reverse KL:

    .. math::

        G(y) \propto p(y)\, e^{\bar R(y)/\beta} =
        \begin{cases} p(z)\, e^{R(z)/\beta} & R(y) \ge \tau \\
        p(y)\, e^{R(y)/\beta} & \text{otherwise,} \end{cases}

    uniform over the good outcomes, reference-like elsewhere.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §5.

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import mara
    >>> p, r = [0.68, 0.30, 0.02], [0.0, 1.0, 1.0]
    >>> np.exp(mara.log_reverse_target(p, r, 0.1, 1.0)).round(6)
    array([5.10000e-05, 4.99974e-01, 4.99974e-01])
    """
    q, rewards, _, _ = _problem(p, r, beta, tau, algorithm, "reverse")
    return tilt.log_tilt(q, rewards, 1.0 / _beta(beta))


def forward_target(p, r, beta, tau, algorithm: str = "algorithm_1") -> tuple[np.ndarray, float]:
    r"""``(target, Λ)``: the forward-KL target that ``algorithm`` induces (see module doc).

    Parameters
    ----------
    p : array_like
        Reference probabilities on the full outcome space, all ``> 0`` for MARA.
    r : array_like
        Rewards, same shape.
    beta : float
        The regularisation coefficient ``β > 0``.
    tau : float
        The threshold for good answers (ignored by ``vanilla``).
    algorithm : str
        One of :data:`ALGORITHMS`.

    Returns
    -------
    target : ndarray
        The target, shape ``(k,)``.
    lam : float
        Its multiplier ``Λ``.

    Raises
    ------
    ValueError
        If ``algorithm`` is unknown, ``beta`` not positive, or MARA meets a ``p = 0``.

    Notes
    -----
    The forward-KL target of the induced problem, e.g. for Algorithm 1

    .. math::

        G(y) = \frac{\beta\, p(y)}{\Lambda - \bar R(y)}, \qquad
        \sum_y \frac{\beta\, p(y)}{\Lambda - \bar R(y)} = 1,

    not flat on the good set (derived); Algorithm 2's and ``algorithm_1_lambda``'s are.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__,
    §5 and Appendix B.8 (the forward-KL forms are derived).

    Examples
    --------
    >>> from bonkl import mara
    >>> p, r = [0.68, 0.30, 0.02], [0.0, 1.0, 1.0]
    >>> target, lam = mara.forward_target(p, r, 0.1, 1.0, "algorithm_2")
    >>> target.round(6)
    array([0.063904, 0.468048, 0.468048])
    """
    q, rewards, beta_eff, shift = _problem(p, r, beta, tau, algorithm, "forward")
    target, lam = tilt.forward_kl_target(q, rewards, beta_eff)
    return target, lam + shift
