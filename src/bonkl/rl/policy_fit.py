"""Policies on a 1-D grid fitted by gradient descent (paper C, Fig. 1): NumPy, deterministic.

A policy is a softmax over grid points of logits ``ℓ(θ)``:

- :class:`GaussianPolicy`, restrictive: ``ℓ_k = −(y_k − μ)²/(2σ²)``, ``θ = (μ, log σ)``;
- :class:`CategoricalPolicy`, expressive: ``ℓ = θ`` (one logit per grid point).

Objectives map ``log π`` to ``(value, ∂value/∂ℓ)`` with ``log π = ℓ − logsumexp(ℓ)``
(for a softmax, ``∂/∂ℓ_k = π_k (g_k − Σ_j π_j g_j)`` with ``g = ∂value/∂π``):

- ``reverse_kl(log T)``: ``KL(π ‖ T)``, gradient ``π (log π − log T − KL)`` (mode seeking);
- ``forward_kl(log T)``: ``KL(T ‖ π)``, gradient ``π − T`` (mass covering);
- ``regularised(r, log p, β, "reverse")``: ``−(E_π r − β KL(π ‖ p))``, whose optimum is the
  Gibbs target (paper C, "The two targets");
- ``regularised(r, log p, β, "forward")``: ``−(E_π r − β KL(p ‖ π))``, gradient
  ``−π (r − E_π r) + β (π − p)``.

:func:`fit` runs ``steps`` Adam updates (:class:`bonkl.rl.adam.Adam`) from ``θ₀``:
no randomness, the same numbers on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from bonkl.divergence import kl_from_logs
from bonkl.rl.adam import Adam

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class GaussianPolicy:
    """``π(y_k) ∝ exp(−(y_k − μ)²/(2σ²))`` on ``grid``, ``θ = (μ, log σ)``."""

    grid: np.ndarray

    def logits(self, theta: np.ndarray) -> np.ndarray:
        """``ℓ_k = −(y_k − μ)²/(2σ²)``, the unnormalised log-probabilities."""
        mu, log_sigma = theta
        return -0.5 * ((self.grid - mu) * np.exp(-log_sigma)) ** 2

    def pullback(self, theta: np.ndarray, grad_logits: np.ndarray) -> np.ndarray:
        """``∂value/∂θ`` from ``∂value/∂ℓ``: ``∂ℓ/∂μ = (y − μ)/σ²``, ``∂ℓ/∂log σ = (y − μ)²/σ²``."""
        mu, log_sigma = theta
        scaled = (self.grid - mu) * np.exp(-log_sigma)
        return np.array([grad_logits @ (scaled * np.exp(-log_sigma)), grad_logits @ scaled**2])


@dataclass(frozen=True)
class CategoricalPolicy:
    """``π = softmax(θ)`` on ``grid``: one free logit per grid point."""

    grid: np.ndarray

    def logits(self, theta: np.ndarray) -> np.ndarray:
        """``ℓ = θ``: the parameters are the logits."""
        return np.asarray(theta, dtype=float)

    def pullback(self, theta: np.ndarray, grad_logits: np.ndarray) -> np.ndarray:
        """``∂value/∂θ = ∂value/∂ℓ``, since ``ℓ = θ``."""
        return grad_logits


def log_policy(logits: np.ndarray) -> np.ndarray:
    """``log softmax(ℓ) = ℓ − logsumexp(ℓ)``."""
    return logits - special.logsumexp(logits)


def _softmax_grad(pi: np.ndarray, grad_pi: np.ndarray) -> np.ndarray:
    return pi * (grad_pi - pi @ grad_pi)


def reverse_kl(log_target: np.ndarray) -> Objective:
    """``KL(π ‖ T)`` and its logit gradient."""
    log_target = np.asarray(log_target, dtype=float)

    def objective(log_pi):
        pi = np.exp(log_pi)
        value = float(kl_from_logs(log_pi, log_target))
        return value, pi * (log_pi - log_target - value)

    return objective


def forward_kl(log_target: np.ndarray) -> Objective:
    """``KL(T ‖ π)`` and its logit gradient."""
    log_target = np.asarray(log_target, dtype=float)

    def objective(log_pi):
        return float(kl_from_logs(log_target, log_pi)), np.exp(log_pi) - np.exp(log_target)

    return objective


def regularised(reward: np.ndarray, log_ref: np.ndarray, beta: float,
                regulariser: str) -> Objective:
    """``−(E_π r − β·KL)``, KL ``(π ‖ p)`` for ``"reverse"`` or ``(p ‖ π)`` for ``"forward"``."""
    reward, log_ref = np.asarray(reward, float), np.asarray(log_ref, float)
    divergence = {"reverse": reverse_kl, "forward": forward_kl}[regulariser](log_ref)

    def objective(log_pi):
        pi = np.exp(log_pi)
        expected = float(pi @ reward)
        kl, kl_grad = divergence(log_pi)
        return beta * kl - expected, beta * kl_grad - _softmax_grad(pi, reward)

    return objective


def value_and_grad(policy, theta: np.ndarray, objective: Objective) -> tuple[float, np.ndarray]:
    """The objective at ``θ`` and its gradient in ``θ`` (analytic, via the logits)."""
    value, grad_logits = objective(log_policy(policy.logits(theta)))
    return value, policy.pullback(theta, grad_logits)


def fit(policy, theta0, objective: Objective, steps: int, learning_rate: float):
    """``(θ, log π, values)`` after ``steps`` Adam updates of ``θ`` on ``objective``.

    ``values`` holds the objective before each update and after the last (``steps + 1``).
    """
    theta = np.array(theta0, dtype=float)
    adam = Adam(theta.shape, learning_rate)
    values = np.empty(steps + 1)
    for step in range(steps):
        values[step], grad = value_and_grad(policy, theta, objective)
        theta = theta - adam.update(grad)
    values[steps], _ = value_and_grad(policy, theta, objective)
    return theta, log_policy(policy.logits(theta)), values
