"""Plain-language interpretation of a report, and a check that a text only quotes real numbers.

Everything here reads a ``report.Report``; the pipeline calls it before the interpretation
fields are filled in.

``template_interpretation`` writes a deterministic interpretation. ``ungrounded_numbers`` finds
numbers in a text (an LLM's interpretation) that match nothing in the results within the
rounding they were quoted with; the pipeline falls back to the template when there are any.
``facts_for_llm`` is the compact set of numbers an LLM is shown and may quote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from .report import Report
from .stats.results import Coefficient, ModelSummary

ALPHA = 0.05
VIF_LIMIT = 10.0
# Durbin-Watson outside this band suggests autocorrelated residuals (2 means none).
DW_BAND = (1.5, 2.5)
# Out-of-sample fit this much below in-sample fit suggests overfitting.
CV_GAP = 0.1
MAX_INFLUENTIAL_NAMED = 3

# Conventional figures any interpretation may quote without them being "results": significance
# levels, the 95% of a confidence interval, the VIF limit, Durbin-Watson's "2 means none",
# an odds ratio of 1 meaning "no effect", the 0.5 classification cut-off, zero.
CONVENTIONAL_NUMBERS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 10.0, 0.05, 0.01, 0.001, 0.95)

_DUMMY = re.compile(r"^(?P<column>.+)\[T\.(?P<level>.*)\]$")
# A number not glued to an identifier (x1, q3_sales, R^2): optional sign, digits with optional
# thousands separators, optional decimals, optional exponent, optional percent.
_NUMBER = re.compile(
    r"(?<![\w.^])"
    r"(?P<sign>[-−+])?"
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?"
    r"(?P<frac>\.\d+)?"
    r"(?:[eE](?P<exp>[-−+]?\d+))?"
    r"(?P<pct>\s?%|\s?percent\b)?"
    r"(?![\w]|\.\d)"
)


# ---------------------------------------------------------------------------------------------
# formatting


def _num(value: float) -> str:
    """A number the way the template quotes it: about three significant digits."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 0.001:
        return f"{value:.3g}"
    return f"{value:.2e}"


def _pct(share: float) -> str:
    """A share (0.873) as a percentage ("87.3%")."""
    return f"{share * 100:.1f}%"


def _p(p_value: float | None) -> str:
    if p_value is None:
        return "p unavailable"
    return "p < 0.001" if p_value < 0.001 else f"p = {_num(p_value)}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------------------------------------
# template interpretation


def _term_label(name: str) -> tuple[str, str | None]:
    """(column, level) for a dummy term "col[T.level]", else (name, None)."""
    match = _DUMMY.match(name)
    if match:
        return match.group("column"), match.group("level")
    return name, None


def _versus(column: str, refs: dict[str, str]) -> str:
    """What a dummy term is compared with: `column = <reference level>`."""
    reference = refs.get(column)
    return f"{column} = {reference}" if reference is not None else "the reference level"


# Event values that say nothing on their own ("the odds of yes"): named with their column.
_BARE_EVENTS = frozenset({"1", "yes", "y", "true", "t", "on", "positive", "pos"})


def outcome_phrase(report: Report) -> str:
    """What a logit models the odds of: "churned", or "churn = yes" when the value alone
    would not say it; the target itself for OLS."""
    event = report.model.event
    if event is None:
        return report.target
    bare = event.strip().lower() in _BARE_EVENTS or _NUMBER.fullmatch(event.strip()) is not None
    return f"{report.target} = {event}" if bare else event


def _ci(coef: Coefficient) -> str:
    return f"95% CI {_num(coef.ci_low)} to {_num(coef.ci_high)}, {_p(coef.p_value)}"


def _ols_effect(coef: Coefficient, target: str, refs: dict[str, str]) -> str:
    column, level = _term_label(coef.name)
    size = _num(abs(coef.estimate))
    more_less = "more" if coef.estimate > 0 else "less"
    higher_lower = "higher" if coef.estimate > 0 else "lower"
    if level is not None:
        return (
            f"rows with {column} = {level} have {target} {size} {higher_lower} than rows with "
            f"{_versus(column, refs)}, holding others fixed ({_ci(coef)})"
        )
    return (
        f"each additional unit of {column} is associated with {size} {more_less} {target}, "
        f"holding others fixed ({_ci(coef)})"
    )


def _logit_effect(coef: Coefficient, outcome: str, refs: dict[str, str]) -> str:
    column, level = _term_label(coef.name)
    odds_ratio = coef.odds_ratio if coef.odds_ratio is not None else math.exp(coef.estimate)
    change = abs(odds_ratio - 1)
    direction = "higher" if odds_ratio > 1 else "lower"
    ci = ""
    if coef.odds_ratio_ci_low is not None and coef.odds_ratio_ci_high is not None:
        ci = f"95% CI {_num(coef.odds_ratio_ci_low)} to {_num(coef.odds_ratio_ci_high)}, "
    detail = f"({ci}{_p(coef.p_value)})"
    if level is not None:
        return (
            f"rows with {column} = {level} have odds of {outcome} {_num(odds_ratio)} times those "
            f"of rows with {_versus(column, refs)} ({_pct(change)} {direction}), holding others "
            f"fixed {detail}"
        )
    return (
        f"each additional unit of {column} multiplies the odds of {outcome} by "
        f"{_num(odds_ratio)} ({_pct(change)} {direction} odds), holding others fixed {detail}"
    )


def _fit_paragraph(report: Report) -> str:
    model, target = report.model, report.target
    n_features = len(report.features)
    predictors = f"{n_features} predictor{'s' if n_features != 1 else ''}"
    if model.kind == "ols":
        text = (
            f"A linear regression of {target} on {predictors} explains {_pct(model.r_squared)} "
            f"of the variation in {target} (R² = {_num(model.r_squared)}"
        )
        if model.adj_r_squared is not None:
            text += f", adjusted {_num(model.adj_r_squared)}"
        text += f") across {model.n_obs} observations."
        if model.perfect_fit:
            text += (
                f" That is a perfect fit: the predictors reproduce {target} exactly, so there "
                "is no uncertainty left to measure and no test applies. Check whether "
                f"{target} is computed from the predictors."
            )
        elif model.f_p_value is not None and model.f_p_value >= ALPHA:
            text += (
                f" As a whole the model is not statistically significant ({_p(model.f_p_value)}"
                "), so treat every effect below with caution."
            )
        return text
    text = (
        f"A logistic regression of the odds of {outcome_phrase(report)} (against "
        f"{model.non_event}) on {predictors} across {model.n_obs} observations has a McFadden "
        f"pseudo-R² of {_num(model.r_squared)}"
    )
    if model.accuracy is not None:
        text += f" and classifies {_pct(model.accuracy)} of rows correctly at a 0.5 cut-off"
    text += "."
    if model.llr_p_value is not None and model.llr_p_value >= ALPHA:
        text += f" As a whole the model is not statistically significant ({_p(model.llr_p_value)})."
    return text


def _significant(coef: Coefficient) -> bool:
    return coef.p_value is not None and coef.p_value < ALPHA


def _effects_paragraph(report: Report) -> str | None:
    model = report.model
    if model.perfect_fit:
        return None
    refs = model.reference_levels
    terms = [c for c in model.coefficients if c.name != "Intercept"]
    significant = sorted((c for c in terms if _significant(c)), key=lambda c: c.p_value or 0.0)
    if not significant:
        return (
            f"No predictor is statistically significant at the 5% level, so the data do not show "
            f"a reliable link between any of them and {report.target}."
        )
    if model.kind == "ols":
        sentences = [_ols_effect(c, report.target, refs) for c in significant]
    else:
        sentences = [_logit_effect(c, outcome_phrase(report), refs) for c in significant]
    head = (
        f"{len(significant)} of {len(terms)} terms "
        f"{'is' if len(significant) == 1 else 'are'} statistically significant at the 5% level"
        if len(terms) > 1
        else "The predictor is statistically significant at the 5% level"
    )
    text = f"{head}: " + "; ".join(sentences) + "."
    weak = [c.name for c in terms if not _significant(c)]
    if weak:
        text += f" Not significant: {_join(weak)}."
    if model.cov_type == "HC3":
        text += " Standard errors are heteroscedasticity-robust (HC3)."
    return text


def _caveats(report: Report) -> list[str]:
    d, model = report.diagnostics, report.model
    notes: list[str] = []
    bp = d.breusch_pagan
    if bp and bp.p_value is not None and bp.p_value < ALPHA:
        advice = (
            "robust (HC3) standard errors were used"
            if model.cov_type == "HC3"
            else "ordinary standard errors may be off; robust (HC3) standard errors are safer"
        )
        notes.append(
            "The spread of the residuals changes with the fitted values (Breusch-Pagan "
            f"{_p(bp.p_value)}, heteroscedasticity): {advice}."
        )
    jb = d.jarque_bera
    if jb and jb.p_value is not None and jb.p_value < ALPHA:
        notes.append(
            f"The residuals are not normally distributed (Jarque-Bera {_p(jb.p_value)}); "
            "p-values and intervals are approximate, more so in small samples."
        )
    dw = d.durbin_watson
    if dw is not None and not DW_BAND[0] <= dw.statistic <= DW_BAND[1]:
        kind = "positively" if dw.statistic < DW_BAND[0] else "negatively"
        test = f", {_p(dw.p_value)}" if dw.p_value is not None and kind == "positively" else ""
        notes.append(
            f"Neighbouring residuals are {kind} correlated (Durbin-Watson = {_num(dw.statistic)}"
            f"{test}; 2 means none). If the rows are in time order, the standard errors are "
            "likely too small."
        )
    high = [v for v in d.vif if v.vif > VIF_LIMIT]
    if high:
        listed = _join([f"{v.name} ({_num(v.vif)})" for v in high])
        notes.append(
            f"Strong multicollinearity (VIF above 10): {listed}. Their separate effects are "
            "hard to tell apart, so their coefficients are unstable."
        )
    n_obs = model.n_obs
    influential = [r for r in d.influential_rows if n_obs and r.cooks_distance > 4 / n_obs][
        :MAX_INFLUENTIAL_NAMED
    ]
    if influential:
        rows = _join(
            [f"row {r.row} (Cook's distance {_num(r.cooks_distance)})" for r in influential]
        )
        notes.append(
            f"Some rows pull the fit noticeably: {rows}, numbered as {report.row_numbering}. "
            "Check them for data errors."
        )
    return notes


def _validation_sentence(report: Report) -> str | None:
    cv = report.diagnostics.cross_validation
    if cv is None:
        return None
    model = report.model
    metric = "R²" if cv.metric == "r_squared" else cv.metric
    text = (
        f"Out of sample, {cv.folds}-fold cross-validation gives a mean {metric} of "
        f"{_num(cv.r_squared)}"
    )
    if cv.metric == "r_squared":
        text += f" against {_num(model.r_squared)} in sample"
        if model.r_squared - cv.r_squared > CV_GAP:
            text += ", a drop that suggests the model partly fits noise"
    return text + "."


def _data_sentences(report: Report) -> list[str]:
    notes: list[str] = []
    if report.rows_dropped:
        notes.append(
            f"{report.rows_dropped} of {report.rows} rows were left out because of missing values."
        )
    for column in report.dropped_columns:
        notes.append(f"Column {column.name} was not used: {column.reason}.")
    return notes


def template_interpretation(report: Report) -> str:
    """A deterministic plain-language interpretation of a report.

    Covers how much the model explains, the significant predictors (direction and size, odds
    ratios of the named event for logistic models), diagnostic caveats, cross-validation and
    what was dropped. Every number it quotes passes ``ungrounded_numbers``.
    """
    paragraphs = [p for p in (_fit_paragraph(report), _effects_paragraph(report)) if p]
    caveats = _caveats(report)
    if caveats:
        paragraphs.append("Caveats: " + " ".join(caveats))
    tail = [s for s in [_validation_sentence(report), *_data_sentences(report)] if s]
    if tail:
        paragraphs.append(" ".join(tail))
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------------------------------------
# facts for the LLM


def _round(value: Any, digits: int = 6) -> Any:
    """Round floats to significant digits so the prompt stays compact."""
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        return float(f"{value:.{digits}g}")
    return value


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _round(v) for k, v in values.items() if v is not None}


def facts_for_llm(report: Report) -> dict[str, Any]:
    """The compact set of results an LLM may quote when interpreting a report."""
    model, d = report.model, report.diagnostics
    coefficient_keys = {"name", "estimate", "p_value", "ci_low", "ci_high", "standardized"}
    if model.kind == "logit":
        coefficient_keys |= {"odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high"}
    model_keys = {
        "kind", "n_obs", "r_squared", "adj_r_squared", "rmse", "f_p_value", "llr_p_value",
        "accuracy", "cov_type", "reference_levels", "event", "non_event", "perfect_fit",
    }  # fmt: skip
    dw = d.durbin_watson
    return {
        "target": report.target,
        "odds_of": outcome_phrase(report) if model.kind == "logit" else None,
        "context": report.context,
        "rows": report.rows,
        "rows_dropped": report.rows_dropped,
        "row_numbers": report.row_numbering,
        "predictors": report.features,
        "model": _rounded(model.model_dump(include=model_keys)),
        "coefficients": [
            _rounded(c.model_dump(include=coefficient_keys)) for c in model.coefficients
        ],
        "tests_per_predictor": [
            _rounded(t.model_dump(include={"name", "df", "test", "p_value"}))
            for t in model.term_tests
        ],
        "diagnostics": {
            "breusch_pagan_p": _round(d.breusch_pagan.p_value) if d.breusch_pagan else None,
            "jarque_bera_p": _round(d.jarque_bera.p_value) if d.jarque_bera else None,
            "durbin_watson": _rounded(dw.model_dump(include={"statistic", "p_value"}))
            if dw
            else None,
            "vif": {v.name: _round(v.vif) for v in d.vif},
            "influential_rows": [
                {"row": r.row, "cooks_distance": _round(r.cooks_distance)}
                for r in d.influential_rows[:MAX_INFLUENTIAL_NAMED]
            ],
            "cross_validation": (
                _rounded(d.cross_validation.model_dump(exclude={"per_fold"}))
                if d.cross_validation
                else None
            ),
        },
        "importance": [
            {"name": i.name, "importance": _round(i.importance), "method": i.method}
            for i in report.importance
        ],
        "dropped_columns": [c.model_dump() for c in report.dropped_columns],
        "warnings": report.warnings,
    }


# ---------------------------------------------------------------------------------------------
# grounding check


def _walk(value: Any, skip: frozenset[str]) -> Iterator[float]:
    """Every number in a nested structure, including numbers written inside strings."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            yield float(value)
    elif isinstance(value, str):
        for quoted in _quoted_numbers(value):
            yield quoted[1]
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _walk(item, skip)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item, skip)


def _counts(report: Report) -> list[float]:
    """Counts a text may quote that are not stored as numbers: predictors, terms, and so on."""
    model, d = report.model, report.diagnostics
    terms = [c for c in model.coefficients if c.name != "Intercept"]
    return [
        float(len(report.features)),
        float(len(terms)),
        float(len(model.coefficients)),
        float(sum(1 for c in terms if _significant(c))),
        float(len(report.columns)),
        float(len(report.dropped_columns)),
        float(len(d.influential_rows)),
        float(len(d.vif)),
    ]


def _odds_changes(model: ModelSummary) -> list[float]:
    """|odds ratio - 1| as shares, so "31% higher odds" for an odds ratio of 1.31 is grounded."""
    out: list[float] = []
    for c in model.coefficients:
        for value in (c.odds_ratio, c.odds_ratio_ci_low, c.odds_ratio_ci_high):
            if value is not None:
                out.append(abs(value - 1))
    return out


def _shares(report: Report) -> list[float]:
    """Results that are shares, the only ones a percentage may quote (R² 0.873 -> 87.3%).

    Restricted on purpose: with every number as a candidate, "30%" would be grounded by any
    standard error of 0.3.
    """
    model, d = report.model, report.diagnostics
    values: list[float | None] = [
        model.r_squared,
        model.adj_r_squared,
        model.accuracy,
        model.f_p_value,
        model.llr_p_value,
    ]
    values += [c.p_value for c in model.coefficients]
    values += [t.p_value for t in (d.breusch_pagan, d.jarque_bera) if t is not None]
    if d.cross_validation is not None:
        values += [d.cross_validation.r_squared, *d.cross_validation.per_fold]
    values += [i.importance for i in report.importance]
    rows_used, rows_dropped = model.n_obs, report.rows_dropped
    if rows_used + rows_dropped:
        values.append(rows_dropped / (rows_used + rows_dropped))
    values += _odds_changes(model) + list(CONVENTIONAL_NUMBERS)
    return [abs(v) * 100 for v in values if v is not None and math.isfinite(v)]


def _result_values(report: Report) -> list[float]:
    # The interpretation itself (empty in the pipeline) and LLM notes are not results.
    skip = frozenset({"interpretation", "llm_notes", "interpretation_source"})
    values = list(_walk(report.model_dump(), skip))
    values += list(_walk(facts_for_llm(report), skip))
    values += _counts(report) + list(CONVENTIONAL_NUMBERS)
    return sorted({abs(v) for v in values})


def _quoted_numbers(text: str) -> Iterator[tuple[str, float, float, bool]]:
    """(as written, |value|, half a unit in the last quoted place, is a percentage)."""
    for match in _NUMBER.finditer(text):
        integer, frac, exp = match.group("int"), match.group("frac"), match.group("exp")
        if not integer and not frac:
            continue
        digits_int = (integer or "0").replace(",", "")
        decimals = len(frac) - 1 if frac else 0
        mantissa = float(digits_int + (frac or ""))
        exponent = int(exp.replace("−", "-")) if exp else 0
        value = mantissa * 10.0**exponent
        if decimals:
            half_unit = 0.5 * 10.0 ** (exponent - decimals)
        else:
            # "1,200" may be 1,234 rounded to two significant digits; "100" is taken as exact.
            stripped = digits_int.rstrip("0")
            zeros = len(digits_int) - len(stripped)
            zeros = zeros if len(stripped) >= 2 else 0
            half_unit = 0.5 * 10.0 ** (exponent + zeros)
        yield match.group(0).strip(), abs(value), half_unit, bool(match.group("pct"))


def _matches(value: float, half_unit: float, candidates: list[float]) -> bool:
    tolerance = half_unit * (1 + 1e-9) + 1e-12
    return any(abs(candidate - value) <= tolerance for candidate in candidates)


def ungrounded_numbers(text: str, report: Report) -> list[str]:
    """Numbers quoted in ``text`` that match no result in ``report`` within their rounding.

    A quoted number is grounded when some result value (any number in the report, the counts
    of predictors/terms/columns, or a conventional figure such as 0.05, 95% or the VIF limit 10)
    rounds to it at the precision quoted. Percentages are also compared with shares * 100
    (R², accuracy, p-values, cross-validated R², importance, share of rows dropped,
    |odds ratio - 1|). Signs are ignored: direction is stated in words. Returns the offending
    numbers as written, once each, in order of appearance.
    """
    values = _result_values(report)
    shares = _shares(report)
    flagged: list[str] = []
    for written, value, half_unit, is_pct in _quoted_numbers(text):
        candidates = shares + values if is_pct else values
        if not _matches(value, half_unit, candidates) and written not in flagged:
            flagged.append(written)
    return flagged
