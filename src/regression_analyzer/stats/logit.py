"""Logistic regression by Newton's method: the one logit solver of the package.

The main fit, the separation fallback (a ridge-penalised fit), cross-validation folds, the
likelihood-ratio term tests and the profile-likelihood intervals all call `fit_logit_newton`;
probabilities and log-likelihoods come from `sigmoid` and `log_likelihood` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ITERATIONS = 100
# Newton steps this small (on the scale of the estimates) mean convergence; quadratic
# convergence makes the estimate itself accurate to far better than this.
STEP_TOLERANCE = 1e-10
# qnorm(0.975) as R and scipy give it, for Wald and profile 95% intervals (a literal: the
# API process reads odds_ratio through the report and must not load scipy.stats).
Z_95 = 1.959963984540054


def odds_ratio(log_odds: float) -> float:
    """exp(log_odds), infinite rather than an OverflowError beyond float range."""
    return math.exp(log_odds) if log_odds < 700 else math.inf


def sigmoid(eta: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large |eta|."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * eta)))


def log_likelihood(y: np.ndarray, eta: np.ndarray) -> float:
    """Bernoulli log-likelihood of 0/1 outcomes y at linear predictors eta.

    Written with log1p(exp(-|eta|)) so fitted probabilities of 1 - 1e-17 still count.
    """
    softplus = np.maximum(eta, 0) + np.log1p(np.exp(-np.abs(eta)))  # log(1 + e^eta)
    return float(np.sum(y * eta - softplus))


@dataclass
class LogitSolution:
    beta: np.ndarray
    eta: np.ndarray  # linear predictor, offset included
    prob: np.ndarray
    loglik: float
    information: np.ndarray  # X' W X at beta (ridge not included)
    converged: bool
    iterations: int


def _information(exog: np.ndarray, prob: np.ndarray) -> np.ndarray:
    weights = prob * (1.0 - prob)
    return np.asarray((exog * weights[:, None]).T @ exog)


def fit_logit_newton(
    exog: np.ndarray,
    y: np.ndarray,
    *,
    ridge: np.ndarray | float = 0.0,
    offset: np.ndarray | float = 0.0,
    start: np.ndarray | None = None,
    max_iterations: int = MAX_ITERATIONS,
) -> LogitSolution:
    """Maximise the (optionally L2-penalised) logit likelihood of y on exog.

    ridge: penalty per coefficient (0 = plain maximum likelihood); offset: a fixed part of
    the linear predictor (used to profile one coefficient). Steps are halved while the
    penalised log-likelihood falls, so a poor start cannot diverge.
    """
    k = exog.shape[1]
    pen = np.broadcast_to(np.asarray(ridge, dtype=float), (k,))
    beta = np.zeros(k) if start is None else np.array(start, dtype=float)

    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = exog @ b + offset
        return log_likelihood(y, eta) - 0.5 * float(pen @ (b * b)), eta

    value, eta = objective(beta)
    converged = False
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported below
        prob = sigmoid(eta)
        gradient = exog.T @ (y - prob) - pen * beta
        hessian = _information(exog, prob) + np.diag(pen)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        trial, trial_value, trial_eta = beta + step, *objective(beta + step)
        halvings = 0
        while trial_value < value - 1e-12 * abs(value) and halvings < 30:
            step = step / 2
            trial = beta + step
            trial_value, trial_eta = objective(trial)
            halvings += 1
        beta, value, eta = trial, trial_value, trial_eta
        scale = np.maximum(np.abs(beta), 1.0)
        if np.max(np.abs(step) / scale) < STEP_TOLERANCE:
            converged = True
            break
    prob = sigmoid(eta)
    return LogitSolution(
        beta=beta,
        eta=eta,
        prob=prob,
        loglik=log_likelihood(y, eta),
        information=_information(exog, prob),
        converged=converged,
        iterations=iterations,
    )


def null_log_likelihood(y: np.ndarray) -> float:
    """Log-likelihood of the intercept-only model (probability = mean of y)."""
    mean = float(np.mean(y))
    if mean in (0.0, 1.0):
        return 0.0
    events = float(np.sum(y))
    return float(events * np.log(mean) + (len(y) - events) * np.log1p(-mean))
