"""The report: its JSON schema (pydantic, stable and documented) and its Markdown rendering.

Schema version 1. Fields are only ever added; a rename or removal bumps SCHEMA_VERSION.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Model(BaseModel):
    # from_attributes lets the pipeline validate the engine's dataclasses directly.
    model_config = ConfigDict(from_attributes=True)


class ColumnInfo(_Model):
    name: str
    dtype: str = Field(description="pandas dtype after loading")
    role: str = Field(
        description="numeric, binary, categorical, date, id, constant or text (heuristic or LLM)"
    )
    nulls: int
    sample: list[str | float | int | bool | None] = Field(description="up to 5 example values")


class SourceInfo(_Model):
    file: str
    kind: Literal["csv", "xlsx", "xls"]
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    transposed: bool = False
    transpose_reason: str = ""


class Coefficient(_Model):
    name: str = Field(description='"Intercept" for the constant; "col[T.level]" for dummies')
    estimate: float
    std_error: float
    statistic: float = Field(description="t (OLS) or z (logit)")
    p_value: float
    ci_low: float
    ci_high: float
    standardized: float | None = Field(
        None, description="estimate * sd(x) / sd(y) (OLS) or * sd(x) (logit); None for Intercept"
    )
    odds_ratio: float | None = None
    odds_ratio_ci_low: float | None = None
    odds_ratio_ci_high: float | None = None


class ModelSummary(_Model):
    kind: Literal["ols", "logit"]
    n_obs: int
    df_model: float
    df_resid: float
    r_squared: float = Field(description="R^2 (OLS) or McFadden pseudo-R^2 (logit)")
    adj_r_squared: float | None = None
    residual_std_error: float | None = Field(None, description="sqrt(SSR/df_resid), OLS only")
    rmse: float | None = Field(None, description="sqrt(SSR/n), OLS only")
    f_statistic: float | None = None
    f_p_value: float | None = None
    llr_p_value: float | None = Field(None, description="likelihood-ratio test p, logit only")
    accuracy: float | None = Field(None, description="share classified right at 0.5, logit")
    aic: float
    bic: float
    condition_number: float
    cov_type: str = Field(description='"nonrobust" or "HC3"')
    reference_levels: dict[str, str] = Field(
        default_factory=dict, description="categorical column -> level used as reference"
    )
    coefficients: list[Coefficient]


class TestResult(_Model):
    statistic: float
    p_value: float | None = None


class VifEntry(_Model):
    name: str
    vif: float


class InfluentialRow(_Model):
    row: int = Field(description="0-based row position in the loaded table")
    cooks_distance: float


class CrossValidation(_Model):
    folds: int
    r_squared: float = Field(description="mean out-of-sample R^2 (OLS) or pseudo-R^2/accuracy")
    per_fold: list[float]
    metric: str = "r_squared"


class Diagnostics(_Model):
    vif: list[VifEntry] = Field(default_factory=list)
    breusch_pagan: TestResult | None = None
    jarque_bera: TestResult | None = None
    durbin_watson: float | None = None
    influential_rows: list[InfluentialRow] = Field(default_factory=list)
    cross_validation: CrossValidation | None = None


class Importance(_Model):
    name: str
    importance: float
    method: str = Field(description="how it was measured, e.g. drop-column change in R^2")


class MinMax(_Model):
    column: str
    min: float
    min_row: int
    max: float
    max_row: int


class DroppedColumn(_Model):
    name: str
    reason: str


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    version: str = Field(description="regression-analyzer version that wrote it")
    source: SourceInfo
    rows: int = Field(description="rows in the loaded table (after transposing, if any)")
    columns: list[ColumnInfo]
    context: str | None = Field(None, description="business context, given or inferred")
    target: str
    target_reason: str
    features: list[str] = Field(description="predictor columns used (before dummy expansion)")
    dropped_columns: list[DroppedColumn] = Field(default_factory=list)
    rows_dropped: int = Field(description="rows removed by listwise deletion")
    model: ModelSummary
    diagnostics: Diagnostics
    importance: list[Importance]
    minmax: list[MinMax]
    charts: list[str] = Field(description="PNG file names, relative to the output directory")
    interpretation: str
    interpretation_source: Literal["llm", "template"]
    llm: str = Field(description='"anthropic", "openai" or "none": which provider ran')
    llm_notes: list[str] = Field(default_factory=list, description="why the LLM path fell back")
    warnings: list[str] = Field(default_factory=list)


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def render_markdown(report: Report) -> str:
    """The human-readable report written beside report.json and the charts."""
    m = report.model
    lines = [
        f"# Regression report: {report.source.file}",
        "",
        f"Target **{report.target}** ({report.target_reason}).",
        f"Model: {'ordinary least squares' if m.kind == 'ols' else 'logistic regression'}, "
        f"{m.n_obs} observations, {report.rows_dropped} rows dropped for missing values, "
        f"covariance {m.cov_type}. Language model: {report.llm}.",
        "",
        "## Interpretation",
        "",
        report.interpretation,
        "",
        "## Model",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    for label, value in [
        ("R²" if m.kind == "ols" else "pseudo-R² (McFadden)", m.r_squared),
        ("adjusted R²", m.adj_r_squared),
        ("residual standard error", m.residual_std_error),
        ("RMSE", m.rmse),
        ("F", m.f_statistic),
        ("p (F)", m.f_p_value),
        ("p (likelihood ratio)", m.llr_p_value),
        ("accuracy", m.accuracy),
        ("AIC", m.aic),
        ("BIC", m.bic),
        ("condition number", m.condition_number),
    ]:
        if value is not None:
            lines.append(f"| {label} | {_fmt(value)} |")
    lines += ["", "## Coefficients", ""]
    if m.kind == "ols":
        lines += [
            "| term | estimate | std. error | t | p | 95% CI | standardized |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in m.coefficients:
            lines.append(
                f"| {c.name} | {_fmt(c.estimate)} | {_fmt(c.std_error)} | {_fmt(c.statistic, 3)}"
                f" | {_fmt(c.p_value)} | [{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]"
                f" | {_fmt(c.standardized, 3)} |"
            )
    else:
        lines += [
            "| term | estimate | std. error | z | p | odds ratio | 95% CI of OR |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in m.coefficients:
            lines.append(
                f"| {c.name} | {_fmt(c.estimate)} | {_fmt(c.std_error)} | {_fmt(c.statistic, 3)}"
                f" | {_fmt(c.p_value)} | {_fmt(c.odds_ratio)}"
                f" | [{_fmt(c.odds_ratio_ci_low)}, {_fmt(c.odds_ratio_ci_high)}] |"
            )
    if m.reference_levels:
        refs = ", ".join(f"{k} = {v}" for k, v in m.reference_levels.items())
        lines += ["", f"Reference levels: {refs}."]
    d = report.diagnostics
    lines += ["", "## Diagnostics", ""]
    if d.vif:
        lines.append("VIF: " + ", ".join(f"{v.name} {_fmt(v.vif, 2)}" for v in d.vif) + ".")
    if d.breusch_pagan:
        lines.append(f"Breusch-Pagan p = {_fmt(d.breusch_pagan.p_value)}.")
    if d.jarque_bera:
        lines.append(f"Jarque-Bera p = {_fmt(d.jarque_bera.p_value)}.")
    if d.durbin_watson is not None:
        lines.append(f"Durbin-Watson = {_fmt(d.durbin_watson, 3)}.")
    if d.cross_validation:
        cv = d.cross_validation
        lines.append(f"{cv.folds}-fold cross-validated {cv.metric} = {_fmt(cv.r_squared)}.")
    if d.influential_rows:
        rows = ", ".join(f"row {r.row} (D={_fmt(r.cooks_distance, 3)})" for r in d.influential_rows)
        lines.append(f"Most influential rows by Cook's distance: {rows}.")
    if report.importance:
        lines += ["", f"## Predictor importance ({report.importance[0].method})", ""]
        lines += [f"- {i.name}: {_fmt(i.importance)}" for i in report.importance]
    if report.minmax:
        lines += ["", "## Minimum and maximum", "", "| column | min | row | max | row |"]
        lines.append("|---|---|---|---|---|")
        lines += [
            f"| {x.column} | {_fmt(x.min)} | {x.min_row} | {_fmt(x.max)} | {x.max_row} |"
            for x in report.minmax
        ]
    if report.dropped_columns:
        lines += ["", "## Dropped columns", ""]
        lines += [f"- {c.name}: {c.reason}" for c in report.dropped_columns]
    if report.warnings or report.llm_notes:
        lines += ["", "## Warnings", ""]
        lines += [f"- {w}" for w in [*report.warnings, *report.llm_notes]]
    if report.charts:
        lines += ["", "## Charts", ""]
        lines += [f"![{name}]({name})" for name in report.charts]
    return "\n".join(lines) + "\n"
