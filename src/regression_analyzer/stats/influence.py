"""Per-row diagnostics of a fit: leverage, scaled residuals and Cook's distance (as R names them).

OLS: leverage = hatvalues, standardized = rstandard (internally studentized), studentized =
rstudent (externally: each row left out of its own variance estimate), Cook's distance =
cooks.distance. Logit: the same on the weighted fit, as R's methods for glm compute them —
standardized from deviance residuals, studentized by Williams' approximation, Cook's
distance from Pearson residuals.

Everything is O(n) arrays from the fit's own leverages: no n x n matrix, no refit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fit import FitResult


@dataclass
class RowDiagnostics:
    """One entry per row used in the fit, in table order."""

    rows: np.ndarray  # row numbers in the file
    fitted: np.ndarray  # logit: probability of the event
    residual: np.ndarray  # observed - fitted
    leverage: np.ndarray
    standardized_residual: np.ndarray
    studentized_residual: np.ndarray
    cooks_distance: np.ndarray
    pearson_residual: np.ndarray | None = None  # logit only
    deviance_residual: np.ndarray | None = None  # logit only

    def columns(self) -> dict[str, np.ndarray]:
        """Column name -> values, in the order rows.csv lists them."""
        names = [
            "row", "fitted", "residual", "leverage", "standardized_residual",
            "studentized_residual", "cooks_distance", "pearson_residual", "deviance_residual",
        ]  # fmt: skip
        values = [
            self.rows, self.fitted, self.residual, self.leverage,
            self.standardized_residual, self.studentized_residual, self.cooks_distance,
            self.pearson_residual, self.deviance_residual,
        ]  # fmt: skip
        return {n: v for n, v in zip(names, values, strict=True) if v is not None}


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator with NaN where the denominator is 0 (R gives NaN or Inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    out[~np.isfinite(out)] = np.nan
    return np.asarray(out)


def _ols(fit: FitResult, rows: np.ndarray) -> RowDiagnostics:
    n, k = fit.exog.shape
    e, h = fit.residuals, np.minimum(fit.hat, 1.0)
    df = n - k
    s2 = float(np.sum(e**2)) / df
    room = 1.0 - h
    standardized = _safe_ratio(e, np.sqrt(s2 * room))
    # Leave-one-out variance: ((n-k) s^2 - e_i^2 / (1 - h_i)) / (n - k - 1).
    loo = _safe_ratio(df * s2 - _safe_ratio(e**2, room), np.full(n, df - 1.0))
    studentized = _safe_ratio(e, np.sqrt(np.maximum(loo, 0.0) * room))
    cooks = _safe_ratio(e**2 * h, k * s2 * room**2)
    return RowDiagnostics(rows, fit.fitted, e, h, standardized, studentized, cooks)


def _logit(fit: FitResult, rows: np.ndarray) -> RowDiagnostics:
    k = fit.exog.shape[1]
    y, p, h = fit.y, fit.fitted, np.minimum(fit.hat, 1.0)
    room = 1.0 - h
    pearson = _safe_ratio(y - p, np.sqrt(p * (1 - p)))
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(y == 1, -np.log(p), -np.log1p(-p))
    deviance = np.sign(y - p) * np.sqrt(2 * np.maximum(unit, 0.0))
    standardized = _safe_ratio(deviance, np.sqrt(room))
    studentized = np.sign(deviance) * np.sqrt(deviance**2 + _safe_ratio(h * pearson**2, room))
    cooks = _safe_ratio(pearson**2 * h, k * room**2)
    return RowDiagnostics(rows, p, y - p, h, standardized, studentized, cooks, pearson, deviance)


def row_diagnostics(fit: FitResult, rows: np.ndarray) -> RowDiagnostics:
    """Per-row diagnostics; `rows` are the file row numbers of the fit's rows."""
    return _ols(fit, rows) if fit.kind == "ols" else _logit(fit, rows)
