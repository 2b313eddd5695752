"""Model diagnostics: VIF and GVIF, Breusch-Pagan, Jarque-Bera, Durbin-Watson with its
p-value, the most influential rows, and k-fold cross-validation.

Everything is O(n p^2): hat values come from a thin QR, never an n x n matrix. What does not
apply to a model, or cannot be computed, is listed in `Diagnostics.not_computed` with the
reason, never silently left out.
"""

from __future__ import annotations

import numpy as np

from .design import Design
from .distributions import chi2_sf
from .durbin_watson import durbin_watson_test
from .fit import FitResult
from .influence import RowDiagnostics
from .logit import fit_logit_newton
from .results import (
    CrossValidation,
    Diagnostics,
    InfluentialRow,
    TestResult,
    VifEntry,
)
from .terms import generalized_vif

CV_SEED = 0
# A whisker of ridge keeps cross-validation folds that happen to separate from diverging.
CV_LOGIT_RIDGE = 1e-6
PERFECT_FIT_REASON = "the fit is perfect (all residuals are zero)"
NOT_FOR_LOGIT = {
    "breusch_pagan": "tests constant error variance in a linear regression; a logit's "
    "variance is fixed by its probabilities",
    "jarque_bera": "normal errors are not an assumption of logistic regression",
    "durbin_watson": "applies to the residuals of a linear regression in table order",
}


def variance_inflation(X: np.ndarray, names: list[str]) -> list[VifEntry]:
    """VIF_j = diagonal of the inverse correlation matrix (1 / (1 - R_j^2)), per column."""
    if X.shape[1] < 2:
        return [VifEntry(name=n, vif=1.0) for n in names]
    corr = np.corrcoef(X, rowvar=False)
    try:
        inv = np.linalg.inv(corr)
    except np.linalg.LinAlgError:
        return [VifEntry(name=n, vif=float("inf")) for n in names]
    return [VifEntry(name=n, vif=float(v)) for n, v in zip(names, np.diag(inv), strict=True)]


def breusch_pagan(resid: np.ndarray, Q: np.ndarray) -> TestResult:
    """Koenker's studentized LM = n R^2 of e^2 on the design (lmtest::bptest's default)."""
    u = resid**2
    u = u / u.mean()  # the statistic is scale free; this keeps huge residuals finite
    n, k = Q.shape
    proj = Q.T @ u
    # The design spans the constant, so the explained sum of squares is |Q'u|^2 - n ubar^2.
    ess = float(proj @ proj - n * u.mean() ** 2)
    tss = float(np.sum((u - u.mean()) ** 2))
    lm = n * ess / tss if tss > 0 else 0.0
    return TestResult(statistic=lm, df=k - 1, p_value=chi2_sf(lm, k - 1))


def jarque_bera(resid: np.ndarray) -> TestResult:
    """JB = n/6 (S^2 + (K-3)^2/4), chi-squared with 2 df (moments about the mean)."""
    e = resid - resid.mean()
    z = e / np.sqrt(np.mean(e * e))  # standardized first, so fourth powers cannot overflow
    z2 = z * z  # products, not **: several times faster on a million residuals
    skew = np.mean(z2 * z)
    kurt = np.mean(z2 * z2)
    jb = len(e) / 6 * (skew**2 + (kurt - 3) ** 2 / 4)
    return TestResult(statistic=float(jb), df=2, p_value=chi2_sf(float(jb), 2))


def _folds(n: int, folds: int) -> list[np.ndarray]:
    # Balanced random folds whose rows come out in file order: gathering rows in order is
    # several times faster than in a shuffled one.
    fold_of_row = np.random.default_rng(CV_SEED).permutation(n) % folds
    return [np.flatnonzero(fold_of_row == k) for k in range(folds)]


def _cv_ols(exog: np.ndarray, y: np.ndarray, folds: int, cond: float) -> list[float]:
    """Out-of-sample R^2 per fold: 1 - SSE / sum((y_test - mean(y_train))^2).

    Well-conditioned designs (the usual case) use the full cross-product matrix minus each
    fold's own: one pass over the data. Ill-conditioned ones refit each fold with lstsq.
    """
    scores = []
    gram_ok = cond < 1e5
    if gram_ok:
        G, g = exog.T @ exog, exog.T @ y
    y_sum = float(np.sum(y))
    for test in _folds(len(y), folds):
        Xt, yt = exog[test], y[test]
        if gram_ok:
            beta = np.linalg.solve(G - Xt.T @ Xt, g - Xt.T @ yt)
        else:
            train = np.ones(len(y), dtype=bool)
            train[test] = False
            beta, *_ = np.linalg.lstsq(exog[train], y[train], rcond=None)
        # The training mean from sums: no copy of the training rows.
        train_mean = (y_sum - float(np.sum(yt))) / (len(y) - len(test))
        sse = np.sum((yt - Xt @ beta) ** 2)
        sst = np.sum((yt - train_mean) ** 2)
        scores.append(float(1 - sse / sst) if sst > 0 else float("nan"))
    return scores


def _cv_logit(exog: np.ndarray, y: np.ndarray, folds: int) -> list[float]:
    """Out-of-sample accuracy at 0.5 per fold."""
    scores = []
    for test in _folds(len(y), folds):
        train = np.ones(len(y), dtype=bool)
        train[test] = False
        beta = fit_logit_newton(exog[train], y[train], ridge=CV_LOGIT_RIDGE).beta
        scores.append(float(np.mean(((exog[test] @ beta) >= 0) == (y[test] == 1))))
    return scores


def _top(values: np.ndarray, rows: np.ndarray, count: int) -> list[InfluentialRow]:
    """The `count` largest finite values, largest first; equal values by row number."""
    finite = np.flatnonzero(np.isfinite(values))
    count = min(count, len(finite))
    if count == 0:
        return []
    # A partial selection finds the cut (no full sort of a million values); every value tied
    # with it stays a candidate so that ties are broken by row number, not by chance.
    cut = np.partition(values[finite], len(finite) - count)[len(finite) - count]
    candidates = finite[values[finite] >= cut]
    order = candidates[np.lexsort((rows[candidates], -values[candidates]))[:count]]
    return [InfluentialRow(row=int(rows[i]), cooks_distance=float(values[i])) for i in order]


def diagnose(
    design: Design,
    fit: FitResult,
    per_row: RowDiagnostics,
    folds: int = 5,
    top_influential: int = 5,
) -> Diagnostics:
    """Diagnostics for a fitted design. OLS: all of them; logit: VIF, GVIF, Cook's distance
    (from the weighted fit) and CV accuracy, with the reasons the others do not apply."""
    exog, y = fit.exog, fit.y
    n = len(y)
    out = Diagnostics(
        # The fit's design without its constant column: a view, not another n x p copy.
        vif=variance_inflation(exog[:, 1:], fit.exog_names[1:]),
        gvif=generalized_vif(design, fit),
        not_computed=dict(fit.not_computed),
    )
    if not out.gvif:
        out.not_computed["gvif"] = "needs at least two predictors"
    folds = max(2, min(folds, n // 2))
    if fit.kind == "ols":
        assert fit.lstsq is not None
        if fit.perfect_fit:
            for name in ("breusch_pagan", "jarque_bera", "durbin_watson", "influential_rows"):
                out.not_computed[name] = PERFECT_FIT_REASON
        else:
            out.breusch_pagan = breusch_pagan(fit.residuals, fit.lstsq.q_factor)
            out.jarque_bera = jarque_bera(fit.residuals)
            out.durbin_watson = durbin_watson_test(fit.residuals, exog, fit.lstsq.q_factor)
            out.influential_rows = _top(per_row.cooks_distance, per_row.rows, top_influential)
        scores = _cv_ols(exog, y, folds, fit.summary.condition_number)
        out.cross_validation = CrossValidation(
            folds=folds, r_squared=float(np.nanmean(scores)), per_fold=scores
        )
    else:
        out.not_computed.update(NOT_FOR_LOGIT)
        out.influential_rows = _top(per_row.cooks_distance, per_row.rows, top_influential)
        scores = _cv_logit(exog, y, folds)
        out.cross_validation = CrossValidation(
            folds=folds, r_squared=float(np.mean(scores)), per_fold=scores, metric="accuracy"
        )
    return out
