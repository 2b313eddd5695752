"""The report: its JSON schema (pydantic, stable and documented) and its Markdown rendering.

Schema version 2. The statistical parts (`model`, `diagnostics`, `importance`, `minmax`) are
the stats layer's own result models (stats/results.py); this module adds what the report says
about the input and the run. A rename or removal bumps SCHEMA_VERSION; additions do not.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from .stats.logit import odds_ratio
from .stats.results import (
    Coefficient,
    CrossValidation,
    Diagnostics,
    DurbinWatsonTest,
    GvifEntry,
    Importance,
    InfluentialRow,
    MinMax,
    ModelSummary,
    ResultModel,
    TermTest,
    TestResult,
    VifEntry,
)

SCHEMA_VERSION = 2

__all__ = [
    "Coefficient", "ColumnInfo", "CrossValidation", "Diagnostics", "DroppedColumn",
    "DurbinWatsonTest", "GvifEntry", "Importance", "InfluentialRow", "MinMax", "ModelSummary",
    "Report", "SourceInfo", "TermTest", "TestResult", "VifEntry", "markdown_text",
    "render_markdown",
]  # fmt: skip


class ColumnInfo(ResultModel):
    name: str
    dtype: str = Field(description="pandas dtype after loading")
    role: str = Field(
        description="numeric, binary, categorical, date, id, constant or text (heuristic or LLM)"
    )
    nulls: int
    sample: list[str | float | int | bool | None] = Field(description="up to 5 example values")


class SourceInfo(ResultModel):
    file: str
    kind: Literal["csv", "xlsx", "xls"]
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    transposed: bool = False
    transpose_reason: str = ""


class DroppedColumn(ResultModel):
    name: str
    reason: str


class Report(ResultModel):
    schema_version: int = SCHEMA_VERSION
    version: str = Field(description="regression-analyzer version that wrote it")
    source: SourceInfo
    rows: int = Field(description="rows in the loaded table (after transposing, if any)")
    row_numbering: str = Field(
        description="what every row number in this report means: the row as found in the "
        "file (CSV line or spreadsheet row, header included)"
    )
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
    rows_file: str | None = Field(
        None,
        description="CSV beside the report with one line per row used in the fit: row, "
        "fitted, residual, leverage, standardized_residual, studentized_residual, "
        "cooks_distance (logit also pearson_residual, deviance_residual); numbers with 12 "
        "significant digits",
    )
    interpretation: str
    interpretation_source: Literal["llm", "template"]
    llm: str = Field(description='"anthropic", "openai" or "none": which provider ran')
    llm_notes: list[str] = Field(default_factory=list, description="why the LLM path fell back")
    warnings: list[str] = Field(default_factory=list)


# Line and paragraph breaks of every kind (a name with a newline would end a table row or
# start a block), the other C0/C1 controls, and the bidi overrides and isolates that make text
# read in a different order than it is written.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Escaped wherever they stand: emphasis, code spans, links and images, raw HTML and
# autolinks, entities, headings, block quotes, GFM table cells and strikethrough, GitHub's
# math, linkify's email links, and the backslash itself. (GitHub's cmark-gfm still links a
# bare "a@b.com": it finds emails after escapes are resolved; such a link shows its target.)
_ALWAYS_ESCAPED = frozenset("\\`*[]<>&|~#!$@")
# What starts a list item (or, as "---", a rule) at the start of a line: "-", "+", or "12." /
# "12)" before a space; a number such as "1.5" does not.
_LIST_MARKER = re.compile(r"[-+]|[0-9]{1,9}[.)](?=\s|$)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _escaped_in_context(text: str, at: int) -> bool:
    """Whether text[at] needs a backslash given its neighbours (characters that are markup
    only in some places are left bare elsewhere, so ordinary names stay readable)."""
    char = text[at]
    before = text[at - 1] if at > 0 else " "
    after = text[at + 1] if at + 1 < len(text) else " "
    if char == "_":
        # Between two letters or digits (snake_case) "_" can neither open nor close emphasis.
        return not (before.isalnum() and after.isalnum())
    if char == ".":
        # A dot before a letter makes "www.x.com" or "evil.com" a GFM autolink; a decimal
        # point between digits cannot.
        return after.isalnum() and not (before in "0123456789" and after in "0123456789")
    # "//" makes "http://x" and "//host" autolinks.
    return char == "/" and before == "/"


def markdown_text(value: str) -> str:
    """A string from the user's table (a column name, a level, a file or sheet name, text that
    quotes them) made inert in CommonMark/GFM: it renders as its own characters, as text.

    Control characters and line breaks become spaces and the ends are trimmed, so it stays on
    its line and in its table cell and cannot start a code block; every character that could
    start markup (emphasis, code, links, autolinks, raw HTML, entities, table cells, headings,
    lists, block quotes) is backslash-escaped.
    """
    text = _CONTROL.sub(" ", value).strip()
    marker = _LIST_MARKER.match(text)
    marker_at = marker.end() - 1 if marker else -1
    out: list[str] = []
    for at, char in enumerate(text):
        if char in _ALWAYS_ESCAPED or at == marker_at or _escaped_in_context(text, at):
            out.append("\\")
        out.append(char)
    return "".join(out)


def _markdown_paragraphs(text: str) -> str:
    """Free text (the interpretation) made inert paragraph by paragraph: its blank lines
    still separate paragraphs, nothing else in it is markup."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (markdown_text(p) for p in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def _md(value: str | None) -> str:
    """markdown_text for an optional field: "" when unset (an f-string would print None)."""
    return "" if value is None else markdown_text(value)


def _model_line(report: Report) -> str:
    m = report.model
    if m.kind == "ols":
        what = "ordinary least squares"
    else:
        what = (
            f"logistic regression of the odds that {_md(report.target)} is **{_md(m.event)}** "
            f"(coded 1; {_md(m.non_event)} coded 0: {_md(m.event_reason)})"
        )
    return (
        f"Model: {what}, {m.n_obs} observations, {report.rows_dropped} rows dropped for "
        f"missing values, covariance {m.cov_type}. Language model: {report.llm}."
    )


def _measures(m: ModelSummary) -> list[str]:
    lines = ["| measure | value |", "|---|---|"]
    for label, value in [
        ("R²" if m.kind == "ols" else "pseudo-R² (McFadden)", m.r_squared),
        ("adjusted R²", m.adj_r_squared),
        ("residual standard error", m.residual_std_error),
        ("RMSE", m.rmse),
        ("F", m.f_statistic),
        ("p (F)", m.f_p_value),
        ("log-likelihood", m.log_likelihood),
        ("deviance", m.deviance),
        ("null deviance", m.null_deviance),
        (f"likelihood-ratio χ² ({m.lr_df} df)", m.lr_statistic),
        ("p (likelihood ratio)", m.llr_p_value),
        ("accuracy", m.accuracy),
        ("AIC (k = coefficients)", m.aic),
        ("BIC (k = coefficients)", m.bic),
        ("condition number", m.condition_number),
    ]:
        if value is not None:
            lines.append(f"| {label} | {_fmt(value)} |")
    if m.perfect_fit:
        lines.append("| perfect fit | residuals are all zero: no errors, tests or intervals |")
    return lines


def _coefficients(m: ModelSummary) -> list[str]:
    if m.kind == "ols":
        lines = [
            "| term | estimate | std. error | t | p | 95% CI | standardized |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in m.coefficients:
            lines.append(
                f"| {_md(c.name)} | {_fmt(c.estimate)} | {_fmt(c.std_error)}"
                f" | {_fmt(c.statistic, 3)} | {_fmt(c.p_value)}"
                f" | [{_fmt(c.ci_low)}, {_fmt(c.ci_high)}] | {_fmt(c.standardized, 3)} |"
            )
        return lines
    lines = [
        "| term | estimate | std. error | z | p | odds ratio | 95% CI of OR (Wald) "
        "| 95% CI of OR (profile) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in m.coefficients:
        profile = (
            f"[{_fmt(_odds(c.profile_ci_low))}, {_fmt(_odds(c.profile_ci_high))}]"
            if c.profile_ci_low is not None or c.profile_ci_high is not None
            else "–"
        )
        lines.append(
            f"| {_md(c.name)} | {_fmt(c.estimate)} | {_fmt(c.std_error)}"
            f" | {_fmt(c.statistic, 3)} | {_fmt(c.p_value)} | {_fmt(c.odds_ratio)}"
            f" | [{_fmt(c.odds_ratio_ci_low)}, {_fmt(c.odds_ratio_ci_high)}] | {profile} |"
        )
    return lines


def _odds(log_odds: float | None) -> float | None:
    return None if log_odds is None else odds_ratio(log_odds)


def _term_tests(m: ModelSummary) -> list[str]:
    if not m.term_tests:
        return []
    lines = [
        "",
        "## Tests per predictor (Type II)",
        "",
        "| predictor | df | test | statistic | p |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {_md(t.name)} | {t.df} | {t.test} | {_fmt(t.statistic)} | {_fmt(t.p_value)} |"
        for t in m.term_tests
    ]
    return lines


def _diagnostics(report: Report) -> list[str]:
    d = report.diagnostics
    lines = ["", "## Diagnostics", ""]
    if d.vif:
        lines.append(
            "VIF per design column: "
            + ", ".join(f"{_md(v.name)} {_fmt(v.vif, 2)}" for v in d.vif)
            + "."
        )
    if d.gvif:
        lines.append(
            "GVIF per predictor (GVIF^(1/(2 df))): "
            + ", ".join(
                f"{_md(g.name)} {_fmt(g.gvif, 3)} ({_fmt(g.gvif_adjusted, 3)})" for g in d.gvif
            )
            + "."
        )
    if d.breusch_pagan:
        lines.append(
            f"Breusch-Pagan (studentized) = {_fmt(d.breusch_pagan.statistic, 3)}, "
            f"p = {_fmt(d.breusch_pagan.p_value)}."
        )
    if d.jarque_bera:
        lines.append(
            f"Jarque-Bera = {_fmt(d.jarque_bera.statistic, 3)}, p = {_fmt(d.jarque_bera.p_value)}."
        )
    if d.durbin_watson is not None:
        dw = d.durbin_watson
        p = f"p = {_fmt(dw.p_value)} ({dw.method})" if dw.p_value is not None else _md(dw.note)
        lines.append(f"Durbin-Watson = {_fmt(dw.statistic, 3)}, {p}.")
    if d.cross_validation:
        cv = d.cross_validation
        lines.append(f"{cv.folds}-fold cross-validated {cv.metric} = {_fmt(cv.r_squared)}.")
    if d.influential_rows:
        rows = ", ".join(f"row {r.row} (D={_fmt(r.cooks_distance, 3)})" for r in d.influential_rows)
        lines.append(f"Most influential rows by Cook's distance: {rows}.")
    for name, why in d.not_computed.items():
        lines.append(f"Not computed: {name.replace('_', ' ')} ({_md(why)}).")
    return lines


def render_markdown(report: Report) -> str:
    """The human-readable report written beside report.json and the charts."""
    m = report.model
    lines = [
        f"# Regression report: {_md(report.source.file)}",
        "",
        f"Target **{_md(report.target)}** ({_md(report.target_reason)}).",
        _model_line(report),
        f"Row numbers are {_md(report.row_numbering)}.",
        "",
        "## Interpretation",
        "",
        _markdown_paragraphs(report.interpretation),
        "",
        "## Model",
        "",
        *_measures(m),
        "",
        "## Coefficients",
        "",
        *_coefficients(m),
    ]
    if m.reference_levels:
        refs = ", ".join(f"{_md(k)} = {_md(v)}" for k, v in m.reference_levels.items())
        lines += ["", f"Reference levels: {refs}."]
    lines += _term_tests(m)
    lines += _diagnostics(report)
    if report.importance:
        lines += ["", f"## Predictor importance ({report.importance[0].method})", ""]
        lines += [f"- {_md(i.name)}: {_fmt(i.importance)}" for i in report.importance]
    if report.minmax:
        lines += ["", "## Minimum and maximum", "", "| column | min | row | max | row |"]
        lines.append("|---|---|---|---|---|")
        lines += [
            f"| {_md(x.column)} | {_fmt(x.min)} | {x.min_row} | {_fmt(x.max)} | {x.max_row} |"
            for x in report.minmax
        ]
    if report.rows_file:
        lines += [
            "",
            f"Per-row fitted values, residuals, leverage and Cook's distance: [{report.rows_file}]"
            f"({report.rows_file}).",
        ]
    if report.dropped_columns:
        lines += ["", "## Dropped columns", ""]
        lines += [f"- {_md(c.name)}: {_md(c.reason)}" for c in report.dropped_columns]
    if report.warnings or report.llm_notes:
        lines += ["", "## Warnings", ""]
        lines += [f"- {_md(w)}" for w in [*report.warnings, *report.llm_notes]]
    if report.charts:
        # File names the tool made from [a-z0-9_] (charts.safe_name): nothing to escape.
        lines += ["", "## Charts", ""]
        lines += [f"![{name}]({name})" for name in report.charts]
    return "\n".join(lines) + "\n"
