"""Plain-language interpretation of a report, and a check that a text only quotes real numbers.

Everything here works on the report dict (``report.Report.model_dump()``) so the pipeline can
call it before the interpretation fields are filled in.

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


def _ols_effect(coef: dict[str, Any], target: str, refs: dict[str, str]) -> str:
    column, level = _term_label(coef["name"])
    size = _num(abs(coef["estimate"]))
    more_less = "more" if coef["estimate"] > 0 else "less"
    higher_lower = "higher" if coef["estimate"] > 0 else "lower"
    ci = f"95% CI {_num(coef['ci_low'])} to {_num(coef['ci_high'])}, {_p(coef['p_value'])}"
    if level is not None:
        versus = _versus(column, refs)
        return (
            f"rows with {column} = {level} have {target} {size} {higher_lower} than rows with "
            f"{versus}, holding others fixed ({ci})"
        )
    return (
        f"each additional unit of {column} is associated with {size} {more_less} {target}, "
        f"holding others fixed ({ci})"
    )


def _logit_effect(coef: dict[str, Any], target: str, refs: dict[str, str]) -> str:
    column, level = _term_label(coef["name"])
    odds_ratio = coef.get("odds_ratio")
    if odds_ratio is None:
        odds_ratio = math.exp(coef["estimate"])
    change = abs(odds_ratio - 1)
    direction = "higher" if odds_ratio > 1 else "lower"
    ci = ""
    if coef.get("odds_ratio_ci_low") is not None and coef.get("odds_ratio_ci_high") is not None:
        ci = f"95% CI {_num(coef['odds_ratio_ci_low'])} to {_num(coef['odds_ratio_ci_high'])}, "
    detail = f"({ci}{_p(coef['p_value'])})"
    if level is not None:
        versus = _versus(column, refs)
        return (
            f"rows with {column} = {level} have odds of {target} {_num(odds_ratio)} times those of "
            f"rows with {versus} ({_pct(change)} {direction}), holding others fixed {detail}"
        )
    return (
        f"each additional unit of {column} multiplies the odds of {target} by "
        f"{_num(odds_ratio)} ({_pct(change)} {direction} odds), holding others fixed {detail}"
    )


def _fit_paragraph(report: dict[str, Any]) -> str:
    model, target = report["model"], report["target"]
    n_features = len(report.get("features") or [])
    predictors = f"{n_features} predictor{'s' if n_features != 1 else ''}"
    if model["kind"] == "ols":
        text = (
            f"A linear regression of {target} on {predictors} explains {_pct(model['r_squared'])} "
            f"of the variation in {target} (R² = {_num(model['r_squared'])}"
        )
        if model.get("adj_r_squared") is not None:
            text += f", adjusted {_num(model['adj_r_squared'])}"
        text += f") across {model['n_obs']} observations."
        if model.get("f_p_value") is not None and model["f_p_value"] >= ALPHA:
            text += (
                f" As a whole the model is not statistically significant ({_p(model['f_p_value'])}"
                "), so treat every effect below with caution."
            )
        return text
    text = (
        f"A logistic regression of {target} on {predictors} across {model['n_obs']} observations "
        f"has a McFadden pseudo-R² of {_num(model['r_squared'])}"
    )
    if model.get("accuracy") is not None:
        text += f" and classifies {_pct(model['accuracy'])} of rows correctly at a 0.5 cut-off"
    text += "."
    if model.get("llr_p_value") is not None and model["llr_p_value"] >= ALPHA:
        text += (
            f" As a whole the model is not statistically significant ({_p(model['llr_p_value'])})."
        )
    return text


def _effects_paragraph(report: dict[str, Any]) -> str:
    model, target = report["model"], report["target"]
    refs = model.get("reference_levels") or {}
    terms = [c for c in model["coefficients"] if c["name"] != "Intercept"]
    significant = sorted((c for c in terms if c["p_value"] < ALPHA), key=lambda c: c["p_value"])
    if not significant:
        return (
            f"No predictor is statistically significant at the 5% level, so the data do not show "
            f"a reliable link between any of them and {target}."
        )
    describe = _ols_effect if model["kind"] == "ols" else _logit_effect
    sentences = [describe(c, target, refs) for c in significant]
    head = (
        f"{len(significant)} of {len(terms)} terms "
        f"{'is' if len(significant) == 1 else 'are'} statistically significant at the 5% level"
        if len(terms) > 1
        else "The predictor is statistically significant at the 5% level"
    )
    text = f"{head}: " + "; ".join(sentences) + "."
    weak = [c["name"] for c in terms if c["p_value"] >= ALPHA]
    if weak:
        text += f" Not significant: {_join(weak)}."
    if model.get("cov_type") == "HC3":
        text += " Standard errors are heteroscedasticity-robust (HC3)."
    return text


def _caveats(report: dict[str, Any]) -> list[str]:
    d, model = report.get("diagnostics") or {}, report["model"]
    notes: list[str] = []
    bp = d.get("breusch_pagan")
    if bp and bp.get("p_value") is not None and bp["p_value"] < ALPHA:
        advice = (
            "robust (HC3) standard errors were used"
            if model.get("cov_type") == "HC3"
            else "ordinary standard errors may be off; robust (HC3) standard errors are safer"
        )
        notes.append(
            "The spread of the residuals changes with the fitted values (Breusch-Pagan "
            f"{_p(bp['p_value'])}, heteroscedasticity): {advice}."
        )
    jb = d.get("jarque_bera")
    if jb and jb.get("p_value") is not None and jb["p_value"] < ALPHA:
        notes.append(
            f"The residuals are not normally distributed (Jarque-Bera {_p(jb['p_value'])}); "
            "p-values and intervals are approximate, more so in small samples."
        )
    dw = d.get("durbin_watson")
    if dw is not None and not DW_BAND[0] <= dw <= DW_BAND[1]:
        kind = "positively" if dw < DW_BAND[0] else "negatively"
        notes.append(
            f"Neighbouring residuals are {kind} correlated (Durbin-Watson = {_num(dw)}; 2 means "
            "none). If the rows are in time order, the standard errors are likely too small."
        )
    high = [v for v in d.get("vif") or [] if v["vif"] > VIF_LIMIT]
    if high:
        listed = _join([f"{v['name']} ({_num(v['vif'])})" for v in high])
        notes.append(
            f"Strong multicollinearity (VIF above 10): {listed}. Their separate effects are "
            "hard to tell apart, so their coefficients are unstable."
        )
    n_obs = model.get("n_obs") or 0
    influential = [
        r for r in d.get("influential_rows") or [] if n_obs and r["cooks_distance"] > 4 / n_obs
    ][:MAX_INFLUENTIAL_NAMED]
    if influential:
        rows = _join(
            [f"row {r['row']} (Cook's distance {_num(r['cooks_distance'])})" for r in influential]
        )
        notes.append(
            f"Some rows pull the fit noticeably: {rows}; row numbers count from 0. Check them "
            "for data errors."
        )
    return notes


def _validation_sentence(report: dict[str, Any]) -> str | None:
    cv = (report.get("diagnostics") or {}).get("cross_validation")
    if not cv:
        return None
    model = report["model"]
    metric = "R²" if cv.get("metric", "r_squared") == "r_squared" else cv["metric"]
    text = (
        f"Out of sample, {cv['folds']}-fold cross-validation gives a mean {metric} of "
        f"{_num(cv['r_squared'])}"
    )
    if cv.get("metric", "r_squared") == "r_squared":
        text += f" against {_num(model['r_squared'])} in sample"
        if model["r_squared"] - cv["r_squared"] > CV_GAP:
            text += ", a drop that suggests the model partly fits noise"
    return text + "."


def _data_sentences(report: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    dropped_rows = report.get("rows_dropped") or 0
    if dropped_rows:
        notes.append(
            f"{dropped_rows} of {report['rows']} rows were left out because of missing values."
        )
    for column in report.get("dropped_columns") or []:
        notes.append(f"Column {column['name']} was not used: {column['reason']}.")
    return notes


def template_interpretation(report: dict[str, Any]) -> str:
    """A deterministic plain-language interpretation written from a report dict.

    Covers how much the model explains, the significant predictors (direction and size, odds
    ratios for logistic models), diagnostic caveats, cross-validation and what was dropped.
    Every number it quotes passes ``ungrounded_numbers``.
    """
    paragraphs = [_fit_paragraph(report), _effects_paragraph(report)]
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


def facts_for_llm(report: dict[str, Any]) -> dict[str, Any]:
    """The compact set of results an LLM may quote when interpreting a report."""
    model = report["model"]
    d = report.get("diagnostics") or {}
    coefficient_keys = ("name", "estimate", "p_value", "ci_low", "ci_high", "standardized")
    if model["kind"] == "logit":
        coefficient_keys += ("odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high")
    model_keys = (
        "kind",
        "n_obs",
        "r_squared",
        "adj_r_squared",
        "rmse",
        "f_p_value",
        "llr_p_value",
        "accuracy",
        "cov_type",
        "reference_levels",
    )
    bp, jb = d.get("breusch_pagan"), d.get("jarque_bera")
    facts: dict[str, Any] = {
        "target": report["target"],
        "context": report.get("context"),
        "rows": report["rows"],
        "rows_dropped": report.get("rows_dropped", 0),
        "predictors": report.get("features", []),
        "model": {k: _round(model.get(k)) for k in model_keys if model.get(k) is not None},
        "coefficients": [
            {k: _round(c.get(k)) for k in coefficient_keys if c.get(k) is not None}
            for c in model["coefficients"]
        ],
        "diagnostics": {
            "breusch_pagan_p": _round(bp.get("p_value")) if bp else None,
            "jarque_bera_p": _round(jb.get("p_value")) if jb else None,
            "durbin_watson": _round(d.get("durbin_watson")),
            "vif": {v["name"]: _round(v["vif"]) for v in d.get("vif") or []},
            "influential_rows": [
                {"row": r["row"], "cooks_distance": _round(r["cooks_distance"])}
                for r in (d.get("influential_rows") or [])[:MAX_INFLUENTIAL_NAMED]
            ],
            "cross_validation": (
                {k: _round(v) for k, v in d["cross_validation"].items() if k != "per_fold"}
                if d.get("cross_validation")
                else None
            ),
        },
        "importance": [
            {"name": i["name"], "importance": _round(i["importance"]), "method": i["method"]}
            for i in report.get("importance") or []
        ],
        "dropped_columns": report.get("dropped_columns") or [],
        "warnings": report.get("warnings") or [],
    }
    return facts


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


def _counts(report: dict[str, Any]) -> list[float]:
    """Counts a text may quote that are not stored as numbers: predictors, terms, and so on."""
    model = report.get("model") or {}
    terms = [c for c in model.get("coefficients") or [] if c.get("name") != "Intercept"]
    d = report.get("diagnostics") or {}
    return [
        float(len(report.get("features") or [])),
        float(len(terms)),
        float(len(model.get("coefficients") or [])),
        float(sum(1 for c in terms if c.get("p_value", 1.0) < ALPHA)),
        float(len(report.get("columns") or [])),
        float(len(report.get("dropped_columns") or [])),
        float(len(d.get("influential_rows") or [])),
        float(len(d.get("vif") or [])),
    ]


def _odds_changes(report: dict[str, Any]) -> list[float]:
    """|odds ratio - 1| as shares, so "31% higher odds" for an odds ratio of 1.31 is grounded."""
    model = report.get("model") or {}
    out: list[float] = []
    for c in model.get("coefficients") or []:
        for key in ("odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high"):
            if c.get(key) is not None:
                out.append(abs(c[key] - 1))
    return out


def _shares(report: dict[str, Any]) -> list[float]:
    """Results that are shares, the only ones a percentage may quote (R² 0.873 -> 87.3%).

    Restricted on purpose: with every number as a candidate, "30%" would be grounded by any
    standard error of 0.3.
    """
    model = report.get("model") or {}
    d = report.get("diagnostics") or {}
    values = [
        model.get(k) for k in ("r_squared", "adj_r_squared", "accuracy", "f_p_value", "llr_p_value")
    ]
    values += [c.get("p_value") for c in model.get("coefficients") or []]
    values += [(d.get(k) or {}).get("p_value") for k in ("breusch_pagan", "jarque_bera")]
    cv = d.get("cross_validation") or {}
    values += [cv.get("r_squared"), *(cv.get("per_fold") or [])]
    values += [i.get("importance") for i in report.get("importance") or []]
    rows_used, rows_dropped = model.get("n_obs") or 0, report.get("rows_dropped") or 0
    if rows_used + rows_dropped:
        values.append(rows_dropped / (rows_used + rows_dropped))
    values += _odds_changes(report) + list(CONVENTIONAL_NUMBERS)
    return [abs(v) * 100 for v in values if isinstance(v, int | float) and math.isfinite(v)]


def _result_values(report: dict[str, Any]) -> list[float]:
    # The interpretation itself (empty in the pipeline) and LLM notes are not results.
    skip = frozenset({"interpretation", "llm_notes", "interpretation_source"})
    values = list(_walk(report, skip))
    if report.get("model"):
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


def ungrounded_numbers(text: str, report: dict[str, Any]) -> list[str]:
    """Numbers quoted in ``text`` that match no result in ``report`` within their rounding.

    A quoted number is grounded when some result value (any number in the report, the counts
    of predictors/terms/columns, or a conventional figure such as 0.05, 95% or the VIF limit 10)
    rounds to it at the precision quoted. Percentages are also compared with shares * 100
    (R², accuracy, p-values, cross-validated R², importance, share of rows dropped,
    |odds ratio - 1|). Signs are ignored: direction is stated in words. Returns the offending
    numbers as written, once each, in order of appearance.
    """
    values = _result_values(report)
    shares = _shares(report) if report.get("model") else []
    flagged: list[str] = []
    for written, value, half_unit, is_pct in _quoted_numbers(text):
        candidates = shares + values if is_pct else values
        if not _matches(value, half_unit, candidates) and written not in flagged:
            flagged.append(written)
    return flagged
