"""Profile-likelihood 95% intervals for logit coefficients (what R's confint(glm) reports).

For coefficient j the interval is every b whose profile deviance, -2 max over the others of
logLik(beta_j = b), exceeds the minimum by at most the chi-squared(1) 95% point. Each end is
found by bracketing and Brent's method on the signed root of that difference, each evaluation
being a Newton fit with beta_j fixed (an offset). R (MASS) interpolates a spline through a grid
of such fits instead, so its ends differ from these exact ones in the 4th digit or so.
"""

from __future__ import annotations

import math

import numpy as np

from .logit import Z_95, LogitSolution, fit_logit_newton

# n * k^3 above which the 2k root searches (each a dozen Newton fits) cost more than ~1 s.
PROFILE_WORK_LIMIT = 20_000_000
MAX_BRACKET_DOUBLINGS = 12


def _signed_root(
    exog: np.ndarray,
    y: np.ndarray,
    full: LogitSolution,
    j: int,
    value: float,
    warm: dict[str, np.ndarray],
) -> float:
    """sign(value - beta_j) * sqrt(profile deviance(value) - deviance at the maximum)."""
    others = [i for i in range(exog.shape[1]) if i != j]
    fitted = fit_logit_newton(
        exog[:, others], y, offset=value * exog[:, j], start=warm.get("start")
    )
    warm["start"] = fitted.beta
    rise = max(2.0 * (full.loglik - fitted.loglik), 0.0)
    return math.copysign(math.sqrt(rise), value - full.beta[j])


def _end(
    exog: np.ndarray, y: np.ndarray, full: LogitSolution, j: int, se: float, side: int
) -> float | None:
    """One end of the interval for coefficient j (side -1: lower, +1: upper)."""
    estimate = full.beta[j]
    warm: dict[str, np.ndarray] = {"start": np.delete(full.beta, j)}
    target = side * Z_95

    def gap(value: float) -> float:
        return _signed_root(exog, y, full, j, value, warm) - target

    inner, step = estimate, Z_95 * se
    outer = estimate + side * step
    for _ in range(MAX_BRACKET_DOUBLINGS):
        if side * gap(outer) >= 0:
            break
        inner, step = outer, step * 2
        outer = estimate + side * step
    else:
        return None  # the profile never rises far enough: an unbounded interval
    warm["start"] = np.delete(full.beta, j)
    # Imported here: scipy.optimize costs a tenth of a second, and only logit fits use it.
    from scipy.optimize import brentq

    root = brentq(gap, min(inner, outer), max(inner, outer), xtol=1e-12, rtol=1e-12)
    return float(root)


def profile_intervals(
    exog: np.ndarray, y: np.ndarray, full: LogitSolution
) -> tuple[list[float | None], list[float | None], str | None]:
    """Lower ends, upper ends, and why they were not computed (None when they were)."""
    n, k = exog.shape
    if n * k**3 > PROFILE_WORK_LIMIT:
        why = (
            f"profile-likelihood intervals are computed up to n * k^3 = {PROFILE_WORK_LIMIT:,} "
            f"(here {n * k**3:,}); the Wald intervals are given"
        )
        return [None] * k, [None] * k, why
    se = np.sqrt(np.diag(np.linalg.inv(full.information)))
    lows = [_end(exog, y, full, j, float(se[j]), -1) for j in range(k)]
    highs = [_end(exog, y, full, j, float(se[j]), +1) for j in range(k)]
    return lows, highs, None
