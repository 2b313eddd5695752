"""The typed results of the stats layer: what a fit, its tests and its diagnostics found.

These pydantic models are the one description of the results: the stats functions return
them, the report embeds them as they are (report.json's `model`, `diagnostics`, `importance`,
`minmax`), and the charts, the Markdown and the interpretation read them. Field descriptions
name every convention that differs between statistics packages (docs/statistics.md says more).

Floats that can be undefined are `None` (with the reason in `Diagnostics.not_computed` or a
warning); infinities are written to JSON as the strings "Infinity"/"-Infinity" and read back.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ModelKind = Literal["ols", "logit"]
TermTestName = Literal["F", "LR chi2", "Wald F", "Wald chi2"]


class ResultModel(BaseModel):
    """Base of every result and report model."""

    # Infinite odds ratios or condition numbers survive a JSON round trip as strings.
    model_config = ConfigDict(ser_json_inf_nan="strings")


class Coefficient(ResultModel):
    name: str = Field(description='"Intercept" for the constant; "col[T.level]" for dummies')
    estimate: float
    std_error: float = Field(description="under cov_type (HC3 when robust)")
    statistic: float | None = Field(
        description="t (OLS) or z (logit); None when undefined (a perfect fit)"
    )
    p_value: float | None = Field(description="two-sided; None when undefined (a perfect fit)")
    ci_low: float = Field(
        description="95% interval: t-based for OLS (R's confint); Wald z-based for logit "
        "(R's confint.default; R's confint(glm) is profile likelihood, see profile_ci_*)"
    )
    ci_high: float
    standardized: float | None = Field(
        None, description="estimate * sd(x) / sd(y) (OLS) or * sd(x) (logit); None for Intercept"
    )
    odds_ratio: float | None = Field(None, description="exp(estimate), logit only")
    odds_ratio_ci_low: float | None = Field(None, description="exp(ci_low), logit only")
    odds_ratio_ci_high: float | None = Field(None, description="exp(ci_high), logit only")
    profile_ci_low: float | None = Field(
        None,
        description="95% profile-likelihood interval (logit only; R's confint(glm)); None when "
        "it was not computed (see Diagnostics.not_computed) or does not exist (separation)",
    )
    profile_ci_high: float | None = None


class TermTest(ResultModel):
    """Joint test that every design column of one predictor (a categorical's dummies
    together) is zero, as car::Anova(type = 2) reports it for a model without interactions."""

    name: str = Field(description="the predictor column (before dummy expansion)")
    df: int = Field(description="number of design columns (levels - 1 for a categorical)")
    statistic: float | None = Field(description="F, or chi-squared; None for a perfect fit")
    p_value: float | None
    test: TermTestName = Field(
        description='"F": Type II F from the drop in residual sum of squares (OLS); "LR chi2": '
        'likelihood-ratio chi-squared from the drop in deviance (logit); "Wald F" / '
        '"Wald chi2": Wald tests with the HC3 covariance (robust fits)'
    )
    sum_of_squares: float | None = Field(
        None, description="OLS: increase in residual sum of squares when the term is dropped"
    )


class ModelSummary(ResultModel):
    kind: ModelKind
    n_obs: int
    df_model: float
    df_resid: float
    r_squared: float = Field(description="R^2 (OLS) or McFadden pseudo-R^2 = 1 - logLik/logLik0")
    adj_r_squared: float | None = None
    residual_std_error: float | None = Field(
        None, description="sqrt(RSS/df_resid), OLS only (R's sigma)"
    )
    rmse: float | None = Field(None, description="sqrt(RSS/n), OLS only")
    rss: float | None = Field(None, description="residual sum of squares, OLS only")
    f_statistic: float | None = Field(
        None,
        description="OLS: F of all slopes (a Wald F with the HC3 covariance when robust, as "
        "lmtest::waldtest); None for a perfect fit",
    )
    f_p_value: float | None = None
    log_likelihood: float | None = Field(
        None, description="maximised log-likelihood (R's logLik); None for a perfect OLS fit"
    )
    deviance: float | None = Field(None, description="logit: -2 logLik (R's deviance(glm))")
    null_deviance: float | None = Field(None, description="logit: deviance of intercept only")
    lr_statistic: float | None = Field(
        None, description="logit: null deviance - deviance, chi-squared with lr_df df"
    )
    lr_df: int | None = None
    llr_p_value: float | None = Field(None, description="likelihood-ratio test p, logit only")
    accuracy: float | None = Field(None, description="share classified right at 0.5, logit")
    aic: float | None = Field(
        description="-2 logLik + 2k with k = number of coefficients (statsmodels' convention). "
        "R's AIC(lm) also counts the residual variance: R's value = aic + 2 for OLS; the two "
        "agree for logit. None for a perfect OLS fit"
    )
    bic: float | None = Field(
        description="-2 logLik + log(n) k, k as for aic; R's BIC(lm) = bic + log(n) for OLS"
    )
    condition_number: float = Field(
        description="ratio of the largest to the smallest singular value of the design with "
        "its constant (R's kappa(X, exact = TRUE); statsmodels' condition_number)"
    )
    cov_type: Literal["nonrobust", "HC3"] = Field(
        description='"nonrobust" or "HC3" (sandwich::vcovHC type HC3; for logit from the hat '
        "values of the weighted fit)"
    )
    reference_levels: dict[str, str] = Field(
        default_factory=dict,
        description="categorical column -> level its dummies are compared with (the most "
        "frequent level; ties to the first in sort order)",
    )
    event: str | None = Field(
        None, description="logit: the value of the target coded 1; odds are odds of this"
    )
    non_event: str | None = Field(None, description="logit: the value coded 0")
    event_reason: str | None = Field(None, description="logit: why that value is the event")
    perfect_fit: bool = Field(
        False, description="OLS residuals all zero: errors, tests and intervals are undefined"
    )
    coefficients: list[Coefficient]
    term_tests: list[TermTest] = Field(
        default_factory=list, description="one joint test per predictor column (Type II)"
    )


class TestResult(ResultModel):
    statistic: float
    df: float | None = Field(None, description="degrees of freedom of the chi-squared reference")
    p_value: float | None = None


class DurbinWatsonTest(ResultModel):
    statistic: float = Field(description="sum of squared successive residual differences / RSS")
    p_value: float | None = Field(
        description="P(DW < statistic) under no autocorrelation (alternative: positive "
        "autocorrelation, lmtest::dwtest's default); None when it cannot be computed"
    )
    method: str = Field(
        description='"exact" (n < 100, as lmtest) or "normal approximation" (n >= 100)'
    )
    note: str | None = None


class VifEntry(ResultModel):
    name: str = Field(description="a design column (each dummy separately)")
    vif: float = Field(
        description="1 / (1 - R^2) of this column on the others, from the predictors' "
        "correlation matrix (statsmodels' convention, per column; see gvif per term)"
    )


class GvifEntry(ResultModel):
    name: str = Field(description="a predictor column (a categorical's dummies together)")
    df: int
    gvif: float = Field(
        description="generalized VIF of the term (car::vif), from the correlation of the "
        "estimates; equals the VIF for a one-column term"
    )
    gvif_adjusted: float = Field(
        description="GVIF^(1/(2 df)), comparable across terms with different df (car::vif)"
    )


class InfluentialRow(ResultModel):
    row: int = Field(description="row number in the file (see Report.row_numbering)")
    cooks_distance: float


class CrossValidation(ResultModel):
    folds: int
    r_squared: float = Field(description="mean out-of-sample R^2 (OLS) or accuracy (logit)")
    per_fold: list[float]
    metric: str = "r_squared"


class Diagnostics(ResultModel):
    vif: list[VifEntry] = Field(default_factory=list)
    gvif: list[GvifEntry] = Field(default_factory=list)
    breusch_pagan: TestResult | None = Field(
        None,
        description="studentized (Koenker) Breusch-Pagan LM = n R^2 of e^2 on the design "
        "(lmtest::bptest's default, statsmodels' het_breuschpagan)",
    )
    jarque_bera: TestResult | None = Field(
        None, description="JB = n/6 (S^2 + (K-3)^2/4), chi-squared with 2 df (tseries)"
    )
    durbin_watson: DurbinWatsonTest | None = None
    influential_rows: list[InfluentialRow] = Field(
        default_factory=list, description="largest Cook's distances (R's cooks.distance)"
    )
    cross_validation: CrossValidation | None = None
    not_computed: dict[str, str] = Field(
        default_factory=dict, description="diagnostic -> why it is absent for this model"
    )


class Importance(ResultModel):
    name: str
    importance: float
    method: str = Field(description="how it was measured, e.g. drop-column change in R^2")


class MinMax(ResultModel):
    column: str
    min: float
    min_row: int = Field(description="row number in the file of the first minimum")
    max: float
    max_row: int = Field(description="row number in the file of the first maximum")
