"""Model diagnostics: VIF, Breusch-Pagan, Jarque-Bera, Durbin-Watson, Cook's distance, k-fold CV.

Everything is O(n p^2): hat values come from a thin QR, never an n x n matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps
from scipy.linalg import solve_triangular

from .design import Design
from .fit import FitResult

CV_SEED = 0


@dataclass
class TestResultData:
    statistic: float
    p_value: float | None = None


@dataclass
class VifData:
    name: str
    vif: float


@dataclass
class InfluentialRowData:
    row: int
    cooks_distance: float


@dataclass
class CrossValidationData:
    folds: int
    r_squared: float
    per_fold: list[float]
    metric: str = "r_squared"


@dataclass
class DiagnosticsData:
    vif: list[VifData] = field(default_factory=list)
    breusch_pagan: TestResultData | None = None
    jarque_bera: TestResultData | None = None
    durbin_watson: float | None = None
    influential_rows: list[InfluentialRowData] = field(default_factory=list)
    cross_validation: CrossValidationData | None = None


def variance_inflation(X: np.ndarray, names: list[str]) -> list[VifData]:
    """VIF_j = diagonal of the inverse correlation matrix (1 / (1 - R_j^2))."""
    if X.shape[1] < 2:
        return [VifData(n, 1.0) for n in names]
    corr = np.corrcoef(X, rowvar=False)
    try:
        inv = np.linalg.inv(corr)
    except np.linalg.LinAlgError:
        return [VifData(n, float("inf")) for n in names]
    return [VifData(n, float(v)) for n, v in zip(names, np.diag(inv), strict=True)]


def breusch_pagan(resid: np.ndarray, Q: np.ndarray) -> TestResultData:
    """Koenker's studentized LM = n R^2 of e^2 on the design (statsmodels' default)."""
    u = resid**2
    n, k = Q.shape
    proj = Q.T @ u
    # The design spans the constant, so the explained sum of squares is |Q'u|^2 - n ubar^2.
    ess = float(proj @ proj - n * u.mean() ** 2)
    tss = float(np.sum((u - u.mean()) ** 2))
    lm = n * ess / tss if tss > 0 else 0.0
    return TestResultData(lm, float(sps.chi2.sf(lm, k - 1)))


def jarque_bera(resid: np.ndarray) -> TestResultData:
    """JB = n/6 (S^2 + (K-3)^2/4), chi-squared with 2 df."""
    e = resid - resid.mean()
    m2 = np.mean(e**2)
    skew = np.mean(e**3) / m2**1.5
    kurt = np.mean(e**4) / m2**2
    jb = len(e) / 6 * (skew**2 + (kurt - 3) ** 2 / 4)
    return TestResultData(float(jb), float(sps.chi2.sf(jb, 2)))


def durbin_watson(resid: np.ndarray) -> float:
    """Sum of squared successive differences over the sum of squares (rows in table order)."""
    return float(np.sum(np.diff(resid) ** 2) / np.sum(resid**2))


def cooks_distance(resid: np.ndarray, hat: np.ndarray, k: int, s2: float) -> np.ndarray:
    """D_i = e_i^2 / (k s^2) * h_i / (1 - h_i)^2."""
    h = np.minimum(hat, 1 - 1e-12)
    return resid**2 / (k * s2) * h / (1 - h) ** 2


def _hat_diagonal(A: np.ndarray) -> np.ndarray:
    """diag(A (A'A)^-1 A') as row sums of (A R^-1)^2, R from an R-only QR."""
    R = np.linalg.qr(A, mode="r")
    Q = solve_triangular(R, A.T, trans="T").T
    return np.einsum("ij,ij->i", Q, Q)


def _folds(n: int, folds: int) -> list[np.ndarray]:
    order = np.random.default_rng(CV_SEED).permutation(n)
    return np.array_split(order, folds)


def _cv_ols(exog: np.ndarray, y: np.ndarray, folds: int, cond: float) -> list[float]:
    """Out-of-sample R^2 per fold: 1 - SSE / sum((y_test - mean(y_train))^2).

    Well-conditioned designs (the usual case) use the full cross-product matrix minus each
    fold's own: one pass over the data. Ill-conditioned ones refit each fold with lstsq.
    """
    scores = []
    gram_ok = cond < 1e5
    if gram_ok:
        G, g = exog.T @ exog, exog.T @ y
    for test in _folds(len(y), folds):
        train = np.ones(len(y), dtype=bool)
        train[test] = False
        if gram_ok:
            Xt = exog[test]
            beta = np.linalg.solve(G - Xt.T @ Xt, g - Xt.T @ y[test])
        else:
            beta, *_ = np.linalg.lstsq(exog[train], y[train], rcond=None)
        sse = np.sum((y[test] - exog[test] @ beta) ** 2)
        sst = np.sum((y[test] - y[train].mean()) ** 2)
        scores.append(float(1 - sse / sst) if sst > 0 else float("nan"))
    return scores


def _logit_newton(exog: np.ndarray, y: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    # A whisker of ridge keeps folds that happen to separate from diverging.
    beta = np.zeros(exog.shape[1])
    for _ in range(50):
        p = 0.5 * (1 + np.tanh(0.5 * (exog @ beta)))
        hess = (exog * (p * (1 - p))[:, None]).T @ exog + ridge * np.eye(len(beta))
        step = np.linalg.solve(hess, exog.T @ (y - p) - ridge * beta)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def _cv_logit(exog: np.ndarray, y: np.ndarray, folds: int) -> list[float]:
    """Out-of-sample accuracy at 0.5 per fold."""
    scores = []
    for test in _folds(len(y), folds):
        train = np.ones(len(y), dtype=bool)
        train[test] = False
        beta = _logit_newton(exog[train], y[train])
        scores.append(float(np.mean(((exog[test] @ beta) >= 0) == (y[test] == 1))))
    return scores


def _top(values: np.ndarray, rows: np.ndarray, count: int) -> list[InfluentialRowData]:
    count = min(count, len(values))
    idx = np.argpartition(-values, count - 1)[:count]
    idx = idx[np.argsort(-values[idx])]
    return [InfluentialRowData(int(rows[i]), float(values[i])) for i in idx]


def diagnose(
    design: Design, fit: FitResult, folds: int = 5, top_influential: int = 5
) -> DiagnosticsData:
    """Diagnostics for a fitted design. OLS: all tests; logit: VIF, Cook's distance (from the
    weighted hat matrix and Pearson residuals) and CV accuracy; BP, JB, DW are None."""
    X = design.X.to_numpy(dtype=float)
    names = list(design.X.columns)
    exog, y = fit.exog, fit.y
    n, k = exog.shape
    rows = design.X.index.to_numpy()
    out = DiagnosticsData(vif=variance_inflation(X, names))
    folds = max(2, min(folds, n // 2))
    if design.kind == "ols":
        resid = fit.residuals
        Q, hat = fit.lstsq.q_factor, fit.lstsq.hat
        s2 = float(np.sum(resid**2) / (n - k))
        out.breusch_pagan = breusch_pagan(resid, Q)
        out.jarque_bera = jarque_bera(resid)
        out.durbin_watson = durbin_watson(resid)
        if s2 > 0:
            out.influential_rows = _top(cooks_distance(resid, hat, k, s2), rows, top_influential)
        scores = _cv_ols(exog, y, folds, fit.summary.condition_number)
        out.cross_validation = CrossValidationData(folds, float(np.nanmean(scores)), scores)
    else:
        p = np.clip(fit.fitted, 1e-12, 1 - 1e-12)
        w = p * (1 - p)
        hat = _hat_diagonal(exog * np.sqrt(w)[:, None])
        pearson = (y - p) / np.sqrt(w)
        out.influential_rows = _top(cooks_distance(pearson, hat, k, 1.0), rows, top_influential)
        scores = _cv_logit(exog, y, folds)
        out.cross_validation = CrossValidationData(
            folds, float(np.mean(scores)), scores, metric="accuracy"
        )
    return out
