"""OLS (accurate on ill-conditioned designs) and logistic regression.

Accuracy: `solve_least_squares` answers exactly (rational arithmetic, rounded once at the end)
for small problems, which carries the NIST StRD suite, Filip included, to full double
precision. Large problems use Householder QR of the power-of-two column-scaled design with
iterative refinement whose residuals are computed in extended precision (np.longdouble).
Every reported number (coefficients, SEs, t, p, CIs, R^2, F ...) comes from that solve;
the statsmodels results object is built around those numbers, not re-estimated.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps
from scipy.linalg import solve_triangular
from statsmodels.regression.linear_model import RegressionResults

from ..errors import InputError
from .design import Design

# Above this many multiply-adds (n * p^2) the exact rational solve passes ~0.3 s;
# larger problems take the extended-precision refinement path.
EXACT_WORK_LIMIT = 15_000
REFINEMENT_STEPS = 2
# Ridge penalty on standardized slopes used only when a logit is perfectly separated.
SEPARATION_RIDGE = 1.0


@dataclass
class CoefficientData:
    name: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    standardized: float | None = None
    odds_ratio: float | None = None
    odds_ratio_ci_low: float | None = None
    odds_ratio_ci_high: float | None = None


@dataclass
class ModelSummaryData:
    kind: str
    n_obs: int
    df_model: float
    df_resid: float
    r_squared: float
    adj_r_squared: float | None
    residual_std_error: float | None
    rmse: float | None
    f_statistic: float | None
    f_p_value: float | None
    llr_p_value: float | None
    accuracy: float | None
    aic: float
    bic: float
    condition_number: float
    cov_type: str
    reference_levels: dict[str, str]
    coefficients: list[CoefficientData]


@dataclass
class LeastSquares:
    """An accurate least-squares solution of A b = y (A as given, no constant added)."""

    beta: np.ndarray
    cov_unscaled: np.ndarray  # (A'A)^-1
    residuals: np.ndarray
    ssr: float
    hat: np.ndarray  # diagonal of the hat matrix
    r_factor: np.ndarray  # R of A = QR (unscaled A)
    q_factor: np.ndarray  # n x p orthonormal basis of A's column space
    method: str


@dataclass
class FitResult:
    summary: ModelSummaryData
    fitted: np.ndarray
    residuals: np.ndarray
    y: np.ndarray
    results: object | None  # statsmodels results wrapper (None for a separated logit)
    exog: np.ndarray  # design with the leading constant column
    exog_names: list[str]
    cov_params: np.ndarray  # covariance matrix of the estimates as reported
    lstsq: LeastSquares | None = None  # OLS only
    warnings: list[str] = field(default_factory=list)


def _pow2_scale(A: np.ndarray) -> np.ndarray:
    """Power-of-two column scales: dividing by them is exact, so no information is lost."""
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    return np.exp2(np.round(np.log2(norms)))


def _fractions(values: np.ndarray) -> list[Fraction]:
    """Exact rationals of float64 or longdouble values."""
    if values.dtype == np.longdouble:
        return [Fraction(*v.as_integer_ratio()) for v in values]
    return [Fraction(v) for v in values.tolist()]


def _scaled_integers(values: np.ndarray) -> tuple[np.ndarray, int]:
    """values = ints / den exactly, ints as a Python-int object array, den a power of two.

    Integer dot products are exact and far cheaper than Fraction arithmetic row by row.
    """
    fracs = _fractions(values)
    den = max(f.denominator for f in fracs)
    ints = np.empty(len(fracs), dtype=object)
    ints[:] = [f.numerator * (den // f.denominator) for f in fracs]
    return ints, den


def _exact_solve(A: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Normal equations in exact rational arithmetic: beta, (A'A)^-1 and SSR, rounded once."""
    p = A.shape[1]
    cols = [_scaled_integers(A[:, j]) for j in range(p)]
    yi, yden = _scaled_integers(y)
    G = [[Fraction(0)] * p for _ in range(p)]
    for i in range(p):
        for j in range(i, p):
            dot = int(np.dot(cols[i][0], cols[j][0]))
            G[i][j] = G[j][i] = Fraction(dot, cols[i][1] * cols[j][1])
    rhs = [Fraction(int(np.dot(cols[i][0], yi)), cols[i][1] * yden) for i in range(p)]
    # Gauss-Jordan on [G | I | A'y]; pivots are exact, so any non-zero pivot will do.
    M = [G[i] + [Fraction(int(i == j)) for j in range(p)] + [rhs[i]] for i in range(p)]
    for c in range(p):
        pivot = next((r for r in range(c, p) if M[r][c] != 0), None)
        if pivot is None:
            raise InputError("The predictors are perfectly collinear; drop a redundant column.")
        M[c], M[pivot] = M[pivot], M[c]
        inv = 1 / M[c][c]
        M[c] = [v * inv for v in M[c]]
        for r in range(p):
            if r != c and M[r][c] != 0:
                f = M[r][c]
                M[r] = [a - f * b for a, b in zip(M[r], M[c], strict=True)]
    beta = [M[i][-1] for i in range(p)]
    yty = Fraction(int(np.dot(yi, yi)), yden * yden)
    ssr = yty - sum(b * r for b, r in zip(beta, rhs, strict=True))
    ginv = np.array([[float(M[i][p + j]) for j in range(p)] for i in range(p)])
    return np.array([float(b) for b in beta]), ginv, float(ssr)


def _residuals_ld(A: np.ndarray, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """y - A beta in extended precision, column by column (vectorised, no n x p copy)."""
    r = y.astype(np.longdouble)
    b = beta.astype(np.longdouble)
    for j in range(A.shape[1]):
        r -= A[:, j].astype(np.longdouble) * b[j]
    return r


def solve_least_squares(A: np.ndarray, y: np.ndarray) -> LeastSquares:
    """Accurate least squares for a full-column-rank A (include the constant yourself).

    Exact rational normal equations when n*p^2 <= EXACT_WORK_LIMIT; otherwise Householder QR
    of the power-of-two scaled A plus extended-precision iterative refinement. A and y may be
    np.longdouble: the exact path then uses every extended-precision bit of the design.
    """
    A_given, y_given = np.asarray(A), np.asarray(y)
    A = A_given.astype(float)
    y = y_given.astype(float)
    n, p = A.shape
    scale = _pow2_scale(A)
    As = A / scale
    # R only (3x faster than forming Q); Q = As R^-1 is then one BLAS product. Its small loss
    # of orthogonality is harmless: the solve below is refined against true residuals.
    R = np.linalg.qr(As, mode="r")
    diag = np.abs(np.diag(R))
    if diag.min() <= 1e-15 * diag.max():
        raise InputError("The predictors are perfectly collinear; drop a redundant column.")
    Rinv = solve_triangular(R, np.eye(p))
    Q = As @ Rinv
    hat = np.einsum("ij,ij->i", Q, Q)
    if n * p * p <= EXACT_WORK_LIMIT:
        beta, cov_unscaled, ssr = _exact_solve(A_given, y_given)
        resid = _residuals_ld(A, y, beta)
        method = "exact rational normal equations"
    else:
        bs = Rinv @ (Q.T @ y)
        resid = _residuals_ld(As, y, bs)
        for _ in range(REFINEMENT_STEPS):
            bs = bs + Rinv @ (Q.T @ resid.astype(float))
            resid = _residuals_ld(As, y, bs)
        beta = bs / scale
        cov_unscaled = (Rinv @ Rinv.T) / np.outer(scale, scale)
        ssr = float(np.sum(resid**2))
        method = "Householder QR with extended-precision refinement"
    resid = resid.astype(float)
    return LeastSquares(beta, cov_unscaled, resid, ssr, hat, R * scale[None, :], Q, method)


def _condition_number(r_factor: np.ndarray) -> float:
    """sqrt of the eigenvalue ratio of X'X (as statsmodels reports it), from R alone."""
    sv = np.linalg.svd(r_factor, compute_uv=False)
    return float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf


def _exog(design: Design) -> tuple[np.ndarray, list[str]]:
    X = design.X.to_numpy(dtype=float)
    return np.column_stack([np.ones(len(X)), X]), ["Intercept", *design.X.columns]


def _wald_f(beta: np.ndarray, cov: np.ndarray) -> float:
    """Joint Wald F of all slopes; equals the classic ANOVA F under the nonrobust covariance."""
    b = beta[1:]
    if b.size == 0:
        return math.nan
    return float(b @ np.linalg.solve(cov[1:, 1:], b) / b.size)


def _ols_results(y: np.ndarray, exog: np.ndarray, names: list[str], ls: LeastSquares, s2: float):
    model = sm.OLS(y, pd.DataFrame(exog, columns=names))
    # Set the rank so statsmodels does not run an SVD on the full design to find it.
    model.rank = exog.shape[1]
    model.df_model = exog.shape[1] - 1.0
    model.df_resid = exog.shape[0] - exog.shape[1] * 1.0
    return RegressionResults(model, ls.beta, normalized_cov_params=ls.cov_unscaled, scale=s2)


def fit_ols(design: Design, robust: bool = False) -> FitResult:
    """OLS with intercept from the accurate solve; HC3 covariance when robust."""
    exog, names = _exog(design)
    y = design.y.to_numpy(dtype=float)
    n, k = exog.shape
    ls = solve_least_squares(exog, y)
    df_resid, df_model = n - k, k - 1
    s2 = ls.ssr / df_resid
    if robust:
        # HC3: residuals inflated by 1/(1-h)^2 inside the sandwich.
        h = np.minimum(ls.hat, 1 - 1e-12)
        w = ls.residuals**2 / (1 - h) ** 2
        meat = exog.T @ (exog * w[:, None])
        cov = ls.cov_unscaled @ meat @ ls.cov_unscaled
    else:
        cov = s2 * ls.cov_unscaled
    se = np.sqrt(np.diag(cov))
    tval = ls.beta / se
    pval = 2 * sps.t.sf(np.abs(tval), df_resid)
    crit = sps.t.ppf(0.975, df_resid)
    ybar = float(np.mean(y.astype(np.longdouble)))
    sst = float(np.sum((y.astype(np.longdouble) - ybar) ** 2))
    r2 = 1 - ls.ssr / sst
    fstat = _wald_f(ls.beta, cov)
    llf = -n / 2 * (math.log(2 * math.pi * ls.ssr / n) + 1) if ls.ssr > 0 else math.inf
    sd = exog.std(axis=0, ddof=1)
    sdy = float(np.std(y, ddof=1))
    coefs = [
        CoefficientData(
            name=names[i],
            estimate=float(ls.beta[i]),
            std_error=float(se[i]),
            statistic=float(tval[i]),
            p_value=float(pval[i]),
            ci_low=float(ls.beta[i] - crit * se[i]),
            ci_high=float(ls.beta[i] + crit * se[i]),
            standardized=None if i == 0 else float(ls.beta[i] * sd[i] / sdy),
        )
        for i in range(k)
    ]
    summary = ModelSummaryData(
        kind="ols",
        n_obs=n,
        df_model=float(df_model),
        df_resid=float(df_resid),
        r_squared=r2,
        adj_r_squared=1 - (1 - r2) * (n - 1) / df_resid,
        residual_std_error=math.sqrt(s2),
        rmse=math.sqrt(ls.ssr / n),
        f_statistic=fstat,
        f_p_value=float(sps.f.sf(fstat, df_model, df_resid)) if df_model else None,
        llr_p_value=None,
        accuracy=None,
        aic=-2 * llf + 2 * k,
        bic=-2 * llf + math.log(n) * k,
        condition_number=_condition_number(ls.r_factor),
        cov_type="HC3" if robust else "nonrobust",
        reference_levels=dict(design.reference_levels),
        coefficients=coefs,
    )
    return FitResult(
        summary=summary,
        fitted=y - ls.residuals,
        residuals=ls.residuals,
        y=y,
        results=_ols_results(y, exog, names, ls, s2),
        exog=exog,
        exog_names=names,
        cov_params=cov,
        lstsq=ls,
    )


def _ridge_logit(exog: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method for an L2-penalised logit (slopes on the standardized scale)."""
    sd = exog.std(axis=0)
    sd[0] = 1.0
    sd[sd == 0] = 1.0
    Z = exog / sd
    pen = np.full(Z.shape[1], penalty)
    pen[0] = 0.0  # the intercept is never shrunk
    beta = np.zeros(Z.shape[1])
    for _ in range(100):
        prob = 1 / (1 + np.exp(-(Z @ beta)))
        grad = Z.T @ (y - prob) - pen * beta
        hess = (Z * (prob * (1 - prob))[:, None]).T @ Z + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    prob = 1 / (1 + np.exp(-(Z @ beta)))
    hess = (Z * (prob * (1 - prob))[:, None]).T @ Z + np.diag(pen)
    cov = np.linalg.inv(hess) / np.outer(sd, sd)
    return beta / sd, cov


def _exp(value: float) -> float:
    return math.exp(value) if value < 700 else math.inf


def _sigmoid(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * eta))  # no overflow for large |eta|


def _logit_loglik(y: np.ndarray, prob: np.ndarray) -> float:
    prob = np.clip(prob, 1e-15, 1 - 1e-15)
    return float(np.sum(y * np.log(prob) + (1 - y) * np.log(1 - prob)))


def _looks_separated(results, exog: np.ndarray, caught: list) -> bool:
    """Separation shows as a warning, non-finite SEs, or fitted probabilities at 0/1 with
    slopes running off (over 15 logits per standard deviation of a predictor)."""
    if any("separation" in str(w.message).lower() for w in caught):
        return True
    params = np.asarray(results.params, dtype=float)
    if not np.all(np.isfinite(np.asarray(results.bse))):
        return True
    return bool(np.max(np.abs(params[1:] * exog[:, 1:].std(axis=0)), initial=0.0) > 15)


def fit_logit(design: Design, robust: bool = False) -> FitResult:
    """Logistic regression (statsmodels Newton). Perfect separation does not crash: the fit
    falls back to a lightly ridge-penalised logit and says so in FitResult.warnings."""
    exog, names = _exog(design)
    y = design.y.to_numpy(dtype=float)
    n, k = exog.shape
    notes: list[str] = []
    model = sm.Logit(y, pd.DataFrame(exog, columns=names))
    separated = False
    results = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results = model.fit(
                method="newton", disp=0, maxiter=100, cov_type="HC3" if robust else "nonrobust"
            )
        except (np.linalg.LinAlgError, ValueError, Exception) as exc:  # PerfectSeparationError
            separated = "separation" in str(exc).lower() or isinstance(exc, np.linalg.LinAlgError)
            if not separated:
                raise
    if results is not None:
        separated = _looks_separated(results, exog, caught)
    if separated:
        beta, cov = _ridge_logit(exog, y, SEPARATION_RIDGE)
        results = None
        cov_type = "nonrobust"
        notes.append(
            "The predictors separate the target classes perfectly; a ridge-penalised logit "
            f"(penalty {SEPARATION_RIDGE} on standardized slopes) was fitted instead, so "
            "estimates are shrunk and p-values are approximate."
        )
    else:
        beta = np.asarray(results.params, dtype=float)
        cov = np.asarray(results.cov_params(), dtype=float)
        cov_type = "HC3" if robust else "nonrobust"
    se = np.sqrt(np.diag(cov))
    z = beta / se
    pval = 2 * sps.norm.sf(np.abs(z))
    crit = sps.norm.ppf(0.975)
    prob = _sigmoid(exog @ beta)
    llf = _logit_loglik(y, prob)
    ybar = float(np.mean(y))
    llnull = _logit_loglik(y, np.full(n, ybar))
    llr = 2 * (llf - llnull)
    sd = exog.std(axis=0, ddof=1)
    coefs = []
    for i in range(k):
        lo, hi = beta[i] - crit * se[i], beta[i] + crit * se[i]
        coefs.append(
            CoefficientData(
                name=names[i],
                estimate=float(beta[i]),
                std_error=float(se[i]),
                statistic=float(z[i]),
                p_value=float(pval[i]),
                ci_low=float(lo),
                ci_high=float(hi),
                standardized=None if i == 0 else float(beta[i] * sd[i]),
                odds_ratio=_exp(beta[i]),
                odds_ratio_ci_low=_exp(lo),
                odds_ratio_ci_high=_exp(hi),
            )
        )
    R = np.linalg.qr(exog, mode="r")
    summary = ModelSummaryData(
        kind="logit",
        n_obs=n,
        df_model=float(k - 1),
        df_resid=float(n - k),
        r_squared=1 - llf / llnull if llnull != 0 else math.nan,
        adj_r_squared=None,
        residual_std_error=None,
        rmse=None,
        f_statistic=None,
        f_p_value=None,
        llr_p_value=float(sps.chi2.sf(llr, k - 1)),
        accuracy=float(np.mean((prob >= 0.5) == (y == 1))),
        aic=-2 * llf + 2 * k,
        bic=-2 * llf + math.log(n) * k,
        condition_number=_condition_number(R),
        cov_type=cov_type,
        reference_levels=dict(design.reference_levels),
        coefficients=coefs,
    )
    return FitResult(
        summary=summary,
        fitted=prob,
        residuals=y - prob,
        y=y,
        results=results,
        exog=exog,
        exog_names=names,
        cov_params=cov,
        warnings=notes,
    )


def fit_model(design: Design, robust: bool = False) -> FitResult:
    """Fit the model the design calls for: OLS for a numeric target, logit for a binary one."""
    if design.kind == "logit":
        return fit_logit(design, robust)
    return fit_ols(design, robust)
