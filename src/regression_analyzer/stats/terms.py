"""Per predictor (a categorical's dummies together): its joint test, importance and GVIF.

The models here have no interactions, so Type II tests are drop-one-term tests:
- OLS: the rise in residual sum of squares when the term is dropped, b_g' (V_gg)^-1 b_g with
  V = (X'X)^-1 (no refit needed), gives F = rise / df / s^2 and the importance rise / SST
  (the drop in R^2);
- logit: refitting without the term gives the rise in deviance, the likelihood-ratio chi^2
  and the importance;
- robust fits test with a Wald statistic on the HC3 covariance instead (car::Anova(vcov. =)).
GVIF follows car::vif: det(R_gg) det(R_oo) / det(R) on the correlation matrix R of the
estimates (model-based covariance, intercept removed).
"""

from __future__ import annotations

import math

import numpy as np

from .design import Design
from .distributions import chi2_sf, f_sf
from .fit import FitResult, wald_statistic
from .logit import fit_logit_newton
from .results import GvifEntry, Importance, TermTest, TermTestName

OLS_METHOD = "drop-column decrease in R^2"
LOGIT_METHOD = "drop-column increase in deviance"


def _columns(design: Design, fit: FitResult) -> dict[str, list[int]]:
    """Positions in the design (constant = 0) of each predictor's columns."""
    return {
        feature: [fit.exog_names.index(c) for c in cols] for feature, cols in design.groups.items()
    }


def _ols_rise(fit: FitResult, idx: list[int]) -> float:
    assert fit.lstsq is not None
    b = fit.lstsq.beta[idx]
    block = fit.lstsq.cov_unscaled[np.ix_(idx, idx)]
    return float(b @ np.linalg.solve(block, b))


def _logit_rise(fit: FitResult, idx: list[int]) -> float:
    """Increase in deviance when the columns idx are dropped and the model refitted (with
    the same penalty as the full model when that one had to be penalised)."""
    assert fit.logit is not None
    keep = [i for i in range(fit.exog.shape[1]) if i not in idx]
    ridge = 0.0 if fit.ridge is None else fit.ridge[keep]
    reduced = fit_logit_newton(fit.exog[:, keep], fit.y, ridge=ridge, start=fit.logit.beta[keep])
    return float(2 * (fit.logit.loglik - reduced.loglik))


def _ols_term(
    fit: FitResult, feature: str, idx: list[int], sst: float
) -> tuple[TermTest, Importance]:
    assert fit.lstsq is not None
    df, df_resid = len(idx), fit.summary.df_resid
    rise = _ols_rise(fit, idx)
    test: TermTestName = "Wald F" if fit.summary.cov_type == "HC3" else "F"
    stat: float | None = None  # stays undefined for a perfect fit: no residual variance
    if not fit.perfect_fit and test == "Wald F":
        wald = wald_statistic(fit.lstsq.beta[idx], fit.cov_params[np.ix_(idx, idx)])
        stat = None if wald is None else wald / df
    elif not fit.perfect_fit:
        stat = rise / df / (fit.lstsq.ssr / df_resid)
    p = None if stat is None else f_sf(stat, df, df_resid)
    return (
        TermTest(name=feature, df=df, statistic=stat, p_value=p, test=test, sum_of_squares=rise),
        Importance(name=feature, importance=rise / sst, method=OLS_METHOD),
    )


def _logit_term(fit: FitResult, feature: str, idx: list[int]) -> tuple[TermTest, Importance]:
    assert fit.logit is not None
    rise = _logit_rise(fit, idx)
    test: TermTestName
    if fit.summary.cov_type == "HC3":
        stat = wald_statistic(fit.logit.beta[idx], fit.cov_params[np.ix_(idx, idx)])
        test = "Wald chi2"
    else:
        stat, test = rise, "LR chi2"
    p = None if stat is None else chi2_sf(stat, len(idx))
    return (
        TermTest(name=feature, df=len(idx), statistic=stat, p_value=p, test=test),
        Importance(name=feature, importance=rise, method=LOGIT_METHOD),
    )


def term_tests(design: Design, fit: FitResult) -> tuple[list[TermTest], list[Importance]]:
    """One joint test per predictor, and the predictors' importance, most important first."""
    columns = _columns(design, fit).items()
    if fit.kind == "ols":
        sst = float(np.sum((fit.y - fit.y.mean()) ** 2))  # the same for every term
        results = [_ols_term(fit, feature, idx, sst) for feature, idx in columns]
    else:
        results = [_logit_term(fit, feature, idx) for feature, idx in columns]
    tests = [test for test, _ in results]
    importance = sorted((imp for _, imp in results), key=lambda i: i.importance, reverse=True)
    return tests, importance


def generalized_vif(design: Design, fit: FitResult) -> list[GvifEntry]:
    """car::vif's GVIF per predictor and GVIF^(1/(2 df)); empty with fewer than two terms."""
    groups = _columns(design, fit)
    if len(groups) < 2:
        return []
    cov = fit.cov_nonrobust[1:, 1:]
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    _, logdet_all = np.linalg.slogdet(corr)
    out = []
    for feature, idx in groups.items():
        inside = [i - 1 for i in idx]
        outside = [i for i in range(corr.shape[0]) if i not in inside]
        _, logdet_in = np.linalg.slogdet(corr[np.ix_(inside, inside)])
        _, logdet_out = np.linalg.slogdet(corr[np.ix_(outside, outside)])
        gvif = math.exp(logdet_in + logdet_out - logdet_all)
        df = len(idx)
        out.append(GvifEntry(name=feature, df=df, gvif=gvif, gvif_adjusted=gvif ** (1 / (2 * df))))
    return out
