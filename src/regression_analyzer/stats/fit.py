"""OLS and logistic regression: estimates, their covariance, and the model-level tests.

Every OLS number (coefficients, SEs, t, p, CIs, R^2, F ...) comes from the accurate solve in
least_squares.py; every logit number from the Newton solver in logit.py. Robust fits use HC3,
for logit with the hat values of the weighted fit (as sandwich::vcovHC(glm, type = "HC3")).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .design import Design
from .distributions import chi2_sf, f_sf, normal_two_sided_p, t_quantile, t_two_sided_p
from .least_squares import LeastSquares, r_factor, solve_least_squares
from .logit import Z_95, LogitSolution, fit_logit_newton, null_log_likelihood, odds_ratio
from .profile import profile_intervals
from .results import Coefficient, ModelKind, ModelSummary

# Relative residual norm |e| / |y - ybar| below which an OLS fit is a perfect fit: the target
# is an exact function of the predictors (to about 10 digits) and inference is undefined.
PERFECT_FIT_TOL = 1e-10
# Ridge penalty on standardized slopes used only when a logit is perfectly separated.
SEPARATION_RIDGE = 1.0
# A slope of more than this many logits per standard deviation of its predictor means the
# fitted probabilities are running off to 0/1: quasi-complete separation.
SEPARATION_LOGITS_PER_SD = 15.0


@dataclass
class FitResult:
    """A fitted model: its reported summary plus the arrays diagnostics and charts need."""

    summary: ModelSummary
    fitted: np.ndarray  # OLS: fitted values; logit: fitted probabilities
    residuals: np.ndarray  # y - fitted (logit: response residuals)
    y: np.ndarray
    exog: np.ndarray  # design with the leading constant column
    exog_names: list[str]
    cov_params: np.ndarray  # covariance of the estimates as reported (HC3 when robust)
    cov_nonrobust: np.ndarray  # model-based covariance (GVIF and LR tests use it)
    hat: np.ndarray  # leverages (logit: of the weighted fit)
    lstsq: LeastSquares | None = None  # OLS only
    logit: LogitSolution | None = None  # logit only
    ridge: np.ndarray | None = None  # logit: the penalty of a separated fit, else None
    warnings: list[str] = field(default_factory=list)
    not_computed: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> ModelKind:
        return self.summary.kind

    @property
    def perfect_fit(self) -> bool:
        return self.summary.perfect_fit


def exog_of(design: Design) -> tuple[np.ndarray, list[str]]:
    """The design with a leading constant column, and its column names."""
    X = design.X.to_numpy(dtype=float)
    return np.column_stack([np.ones(len(X)), X]), ["Intercept", *design.X.columns]


def condition_number(r: np.ndarray) -> float:
    """Largest over smallest singular value of a design, from the R of its QR (the same
    singular values): R's kappa(exact = TRUE)."""
    sv = np.linalg.svd(r, compute_uv=False)
    return float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf


def wald_statistic(beta: np.ndarray, cov: np.ndarray) -> float | None:
    """b' V^-1 b for a block of estimates; None when V is singular (e.g. all zero)."""
    if beta.size == 0:
        return None
    try:
        value = float(beta @ np.linalg.solve(cov, beta))
    except np.linalg.LinAlgError:
        return None
    return value if math.isfinite(value) else None


def hc3_covariance(
    exog: np.ndarray, bread: np.ndarray, residuals: np.ndarray, hat: np.ndarray
) -> np.ndarray:
    """HC3 sandwich: bread X' diag(e^2 / (1 - h)^2) X bread.

    OLS: bread = (X'X)^-1, e = residuals. Logit: bread = (X'WX)^-1, e = response residuals,
    h = hat values of the weighted fit; this is what sandwich::vcovHC(type = "HC3") computes.
    """
    h = np.minimum(hat, 1 - 1e-12)
    weights = residuals**2 / (1 - h) ** 2
    meat = exog.T @ (exog * weights[:, None])
    return np.asarray(bread @ meat @ bread)


def _standardized(beta: np.ndarray, exog: np.ndarray, sd_y: float) -> list[float | None]:
    sd = exog.std(axis=0, ddof=1)
    return [None] + [float(beta[i] * sd[i] / sd_y) for i in range(1, len(beta))]


def fit_ols(design: Design, robust: bool = False) -> FitResult:
    """OLS with intercept from the accurate solve; HC3 covariance when robust."""
    exog, names = exog_of(design)
    y = design.y.to_numpy(dtype=float)
    n, k = exog.shape
    ls = solve_least_squares(exog, y)
    df_resid, df_model = n - k, k - 1
    ybar = float(np.mean(y.astype(np.longdouble)))
    sst = float(np.sum((y.astype(np.longdouble) - ybar) ** 2))
    perfect = ls.ssr <= (PERFECT_FIT_TOL**2) * sst
    s2 = ls.ssr / df_resid
    cov_nonrobust = s2 * ls.cov_unscaled
    hc3 = hc3_covariance(exog, ls.cov_unscaled, ls.residuals, ls.hat) if robust else None
    cov = cov_nonrobust if hc3 is None else hc3
    se = np.sqrt(np.diag(cov))
    crit = t_quantile(0.975, df_resid)
    standardized = _standardized(ls.beta, exog, float(np.std(y, ddof=1)))
    coefficients = []
    for i in range(k):
        statistic = None if perfect else float(ls.beta[i] / se[i])
        p_value = None if statistic is None else t_two_sided_p(statistic, df_resid)
        coefficients.append(
            Coefficient(
                name=names[i],
                estimate=float(ls.beta[i]),
                std_error=float(se[i]),
                statistic=statistic,
                p_value=p_value,
                ci_low=float(ls.beta[i] - crit * se[i]),
                ci_high=float(ls.beta[i] + crit * se[i]),
                standardized=standardized[i],
            )
        )
    wald = None if perfect else wald_statistic(ls.beta[1:], cov[1:, 1:])
    fstat = None if wald is None else wald / df_model
    llf = None if perfect else -n / 2 * (math.log(2 * math.pi * ls.ssr / n) + 1)
    r2 = 1 - ls.ssr / sst
    summary = ModelSummary(
        kind="ols",
        n_obs=n,
        df_model=float(df_model),
        df_resid=float(df_resid),
        r_squared=r2,
        adj_r_squared=1 - (1 - r2) * (n - 1) / df_resid,
        residual_std_error=math.sqrt(s2),
        rmse=math.sqrt(ls.ssr / n),
        rss=ls.ssr,
        f_statistic=fstat,
        f_p_value=None if fstat is None else f_sf(fstat, df_model, df_resid),
        log_likelihood=llf,
        aic=None if llf is None else -2 * llf + 2 * k,
        bic=None if llf is None else -2 * llf + math.log(n) * k,
        condition_number=condition_number(ls.r_factor),
        cov_type="HC3" if robust else "nonrobust",
        reference_levels=dict(design.reference_levels),
        perfect_fit=perfect,
        coefficients=coefficients,
    )
    notes = []
    if perfect:
        notes.append(
            f"Perfect fit: the predictors reproduce {design.target!r} exactly (residuals are "
            "zero), so standard errors, tests and intervals are undefined. Check whether the "
            "target is computed from the predictors."
        )
    return FitResult(
        summary=summary,
        fitted=y - ls.residuals,
        residuals=ls.residuals,
        y=y,
        exog=exog,
        exog_names=names,
        cov_params=cov,
        cov_nonrobust=cov_nonrobust,
        hat=ls.hat,
        lstsq=ls,
        warnings=notes,
    )


def _separated(solution: LogitSolution, exog: np.ndarray) -> bool:
    """Separation shows as no convergence, non-finite or singular information, or slopes
    running off (over SEPARATION_LOGITS_PER_SD logits per standard deviation)."""
    if not solution.converged or not np.all(np.isfinite(solution.beta)):
        return True
    if np.linalg.matrix_rank(solution.information) < exog.shape[1]:
        return True
    per_sd = np.abs(solution.beta[1:] * exog[:, 1:].std(axis=0))
    return bool(np.max(per_sd, initial=0.0) > SEPARATION_LOGITS_PER_SD)


def weighted_hat(exog: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Hat values of the weighted fit: diag(W^1/2 X (X'WX)^-1 X' W^1/2) (R's hatvalues(glm))."""
    weights = prob * (1 - prob)
    scaled = exog * np.sqrt(weights)[:, None]
    r = r_factor(scaled)
    q = np.linalg.solve(r.T, scaled.T).T
    return np.asarray(np.einsum("ij,ij->i", q, q))


def fit_logit(design: Design, robust: bool = False) -> FitResult:
    """Logistic regression by Newton's method. Perfect separation does not crash: the fit
    falls back to a lightly ridge-penalised logit and says so in FitResult.warnings."""
    exog, names = exog_of(design)
    y = design.y.to_numpy(dtype=float)
    n, k = exog.shape
    notes: list[str] = []
    not_computed: dict[str, str] = {}
    solution = fit_logit_newton(exog, y)
    separated = _separated(solution, exog)
    ridge = np.zeros(k)
    if separated:
        sd = exog.std(axis=0)
        ridge = SEPARATION_RIDGE * sd**2  # the penalty is on standardized slopes
        ridge[0] = 0.0  # the intercept is never shrunk
        solution = fit_logit_newton(exog, y, ridge=ridge)
        cov_nonrobust = np.linalg.inv(solution.information + np.diag(ridge))
        notes.append(
            "The predictors separate the target classes perfectly; a ridge-penalised logit "
            f"(penalty {SEPARATION_RIDGE} on standardized slopes) was fitted instead, so "
            "estimates are shrunk and p-values are approximate."
        )
    else:
        cov_nonrobust = np.linalg.inv(solution.information)
    beta, prob = solution.beta, solution.prob
    hat = weighted_hat(exog, prob)
    if robust and not separated:
        cov = hc3_covariance(exog, cov_nonrobust, y - prob, hat)
    else:
        cov = cov_nonrobust
        if robust:
            notes.append("Robust (HC3) errors are not available for a separated fit.")
    se = np.sqrt(np.diag(cov))
    if separated:
        lows: list[float | None] = [None] * k
        highs: list[float | None] = [None] * k
        not_computed["profile_intervals"] = "the classes are separated: no likelihood maximum"
    else:
        lows, highs, why = profile_intervals(exog, y, solution)
        if why:
            not_computed["profile_intervals"] = why
    sd = exog.std(axis=0, ddof=1)
    coefficients = []
    for i in range(k):
        lo, hi = beta[i] - Z_95 * se[i], beta[i] + Z_95 * se[i]
        z = float(beta[i] / se[i])
        coefficients.append(
            Coefficient(
                name=names[i],
                estimate=float(beta[i]),
                std_error=float(se[i]),
                statistic=z,
                p_value=normal_two_sided_p(z),
                ci_low=float(lo),
                ci_high=float(hi),
                standardized=None if i == 0 else float(beta[i] * sd[i]),
                odds_ratio=odds_ratio(beta[i]),
                odds_ratio_ci_low=odds_ratio(lo),
                odds_ratio_ci_high=odds_ratio(hi),
                profile_ci_low=lows[i],
                profile_ci_high=highs[i],
            )
        )
    llf = solution.loglik
    llnull = null_log_likelihood(y)
    lr = 2 * (llf - llnull)
    summary = ModelSummary(
        kind="logit",
        n_obs=n,
        df_model=float(k - 1),
        df_resid=float(n - k),
        r_squared=1 - llf / llnull if llnull != 0 else math.nan,
        log_likelihood=llf,
        deviance=-2 * llf,
        null_deviance=-2 * llnull,
        lr_statistic=lr,
        lr_df=k - 1,
        llr_p_value=chi2_sf(lr, k - 1),
        accuracy=float(np.mean((prob >= 0.5) == (y == 1))),
        aic=-2 * llf + 2 * k,
        bic=-2 * llf + math.log(n) * k,
        condition_number=condition_number(r_factor(exog)),
        cov_type="HC3" if robust and not separated else "nonrobust",
        reference_levels=dict(design.reference_levels),
        event=design.coding.event if design.coding else None,
        non_event=design.coding.non_event if design.coding else None,
        event_reason=design.coding.reason if design.coding else None,
        coefficients=coefficients,
    )
    return FitResult(
        summary=summary,
        fitted=prob,
        residuals=y - prob,
        y=y,
        exog=exog,
        exog_names=names,
        cov_params=cov,
        cov_nonrobust=cov_nonrobust,
        hat=hat,
        logit=solution,
        ridge=ridge if separated else None,
        warnings=notes,
        not_computed=not_computed,
    )


def fit_model(design: Design, robust: bool = False) -> FitResult:
    """Fit the model the design calls for: OLS for a numeric target, logit for a binary one."""
    if design.kind == "logit":
        return fit_logit(design, robust)
    return fit_ols(design, robust)
