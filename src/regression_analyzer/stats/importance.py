"""Predictor importance per original feature, and the min/max of each numeric column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .design import Design
from .diagnostics import _logit_newton
from .fit import FitResult, _logit_loglik, _sigmoid

OLS_METHOD = "drop-column decrease in R^2"
LOGIT_METHOD = "drop-column increase in deviance"


@dataclass
class ImportanceData:
    name: str
    importance: float
    method: str


@dataclass
class MinMaxData:
    column: str
    min: float
    min_row: int
    max: float
    max_row: int


def _ols_importance(design: Design, fit: FitResult) -> dict[str, float]:
    # Dropping group g raises SSR by b_g' (V_gg)^-1 b_g with V = (X'X)^-1: no refits needed,
    # and it reuses the accurate solve.
    ls = fit.lstsq
    names = fit.exog_names
    y = fit.y
    sst = float(np.sum((y - y.mean()) ** 2))
    out = {}
    for feature, cols in design.groups.items():
        idx = [names.index(c) for c in cols]
        b = ls.beta[idx]
        V = ls.cov_unscaled[np.ix_(idx, idx)]
        out[feature] = float(b @ np.linalg.solve(V, b) / sst)
    return out


def _logit_importance(design: Design, fit: FitResult) -> dict[str, float]:
    exog, y, names = fit.exog, fit.y, fit.exog_names
    full = -2 * _logit_loglik(y, fit.fitted)
    out = {}
    for feature, cols in design.groups.items():
        keep = [i for i, n in enumerate(names) if n not in cols]
        beta = _logit_newton(exog[:, keep], y)
        prob = _sigmoid(exog[:, keep] @ beta)
        out[feature] = float(-2 * _logit_loglik(y, prob) - full)
    return out


def predictor_importance(design: Design, fit: FitResult) -> list[ImportanceData]:
    """Importance of each original feature (a categorical's dummies together), descending.

    OLS: decrease in R^2 when the feature is dropped. Logit: increase in deviance.
    """
    if design.kind == "ols" and fit.lstsq is not None:
        values, method = _ols_importance(design, fit), OLS_METHOD
    else:
        values, method = _logit_importance(design, fit), LOGIT_METHOD
    items = [ImportanceData(name, value, method) for name, value in values.items()]
    return sorted(items, key=lambda item: item.importance, reverse=True)


def column_minmax(frame: pd.DataFrame) -> list[MinMaxData]:
    """Min and max of each numeric (non-boolean) column with their 0-based row positions."""
    out = []
    for name in frame.columns:
        series = frame[name]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = series.to_numpy(dtype=float)
        if np.all(np.isnan(values)):
            continue
        lo, hi = int(np.nanargmin(values)), int(np.nanargmax(values))
        out.append(MinMaxData(str(name), float(values[lo]), lo, float(values[hi]), hi))
    return out
