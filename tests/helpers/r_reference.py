"""Compare what the CLI writes (report.json, rows.csv) with R's values for the same table.

R's values come from tests/reference/make_reference.R (R 4.2 with car, lmtest, sandwich,
tseries, MASS), committed as tests/reference/expected/<case>.json beside the CSV tables they
were computed from (tests/reference/data/), so neither the tests nor this module need R.
`pairs` lines up every quantity R gave with ours; tests/stats/test_reference_r.py asserts them
and benchmarks/r_reference_errors.py prints the largest relative error per quantity.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from regression_analyzer.cli import cli

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
DATA = REFERENCE / "data"
EXPECTED = REFERENCE / "expected"
CASES = sorted(path.stem for path in EXPECTED.glob("*.json"))

# Relative tolerance per quantity (default DEFAULT_RTOL). MASS's profile intervals interpolate
# a spline through a grid of fits, so they are only good to a few parts in 1e4 (the script's
# own exact root search, profile_ci_*_exact, is compared at the default).
DEFAULT_RTOL = 1e-6
# tseries' Jarque-Bera p-value is compared absolutely (scale 1): it is 1 - pchisq().
RTOL = {"profile interval (MASS spline)": 3e-3, "jarque_bera p_value (tseries)": 1e-14}


@dataclass(frozen=True)
class Pair:
    quantity: str  # what is compared, e.g. "coefficient std_error"
    where: str  # which one, e.g. "wt"
    ours: float | None
    theirs: float | None
    scale: float  # magnitude the error is relative to (|theirs|, or a column's largest value)

    @property
    def error(self) -> float:
        """Relative error (inf when exactly one side is missing)."""
        if self.ours is None or self.theirs is None:
            return 0.0 if self.ours is self.theirs else math.inf
        if self.ours == self.theirs:
            return 0.0
        return abs(self.ours - self.theirs) / max(self.scale, 1e-300)

    @property
    def tolerance(self) -> float:
        return RTOL.get(self.quantity, DEFAULT_RTOL)


def load_expected(case: str) -> dict:
    return json.loads((EXPECTED / f"{case}.json").read_text(encoding="utf-8"))


def run_case(case: str, out_dir: Path) -> tuple[dict, dict[str, list[float]]]:
    """Run `regression-analyzer analyze` as a user would; return report.json and rows.csv."""
    expected = load_expected(case)
    args = [
        "analyze",
        str(DATA / expected["file"]),
        "--target",
        expected["target"],
        "--features",
        ",".join(expected["features"]),
        "--output-dir",
        str(out_dir),
        "--no-llm",
        "--json",
    ]
    if expected["robust"]:
        args.append("--robust")
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    if result.exit_code != 0:
        raise AssertionError(f"{case}: exit {result.exit_code}: {result.output}")
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    with (out_dir / report["rows_file"]).open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    rows = {name: [_number(line[name]) for line in table] for name in table[0]}
    return report, rows


def _number(text: str) -> float:
    return float(text) if text else math.nan


def _pair(quantity: str, where: str, ours: float | None, theirs: float | None) -> Pair:
    scale = abs(theirs) if theirs is not None else 1.0
    return Pair(quantity, where, ours, theirs, scale)


def _coefficients(expected: dict, report: dict) -> Iterator[Pair]:
    ours = {c["name"]: c for c in report["model"]["coefficients"]}
    fields = ["estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    if expected["kind"] == "logit":
        fields += ["odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high"]
    for theirs in expected["coefficients"]:
        mine = ours.get(theirs["name"], {})
        for field in fields:
            yield _pair(f"coefficient {field}", theirs["name"], mine.get(field), theirs[field])
        if expected["kind"] == "logit":
            for end in ("low", "high"):
                exact, spline = theirs[f"profile_ci_{end}_exact"], theirs[f"profile_ci_{end}"]
                mine_end = mine.get(f"profile_ci_{end}")
                yield _pair("profile interval (exact)", f"{theirs['name']} {end}", mine_end, exact)
                yield _pair("profile interval (MASS spline)", theirs["name"], mine_end, spline)


def _model(expected: dict, report: dict) -> Iterator[Pair]:
    m = report["model"]
    n = expected["n_obs"]
    yield _pair("n_obs", "", m["n_obs"], n)
    yield _pair("log_likelihood", "", m["log_likelihood"], expected["log_likelihood"])
    yield _pair("condition_number", "", m["condition_number"], expected["condition_number"])
    if expected["kind"] == "ols":
        # R's AIC/BIC count the residual variance as a parameter; ours do not (statsmodels).
        yield _pair("aic (R's minus 2)", "", m["aic"], expected["aic_r"] - 2)
        yield _pair("bic (R's minus log n)", "", m["bic"], expected["bic_r"] - math.log(n))
        pairs = [
            ("r_squared", "r_squared"), ("adj_r_squared", "adj_r_squared"),
            ("residual_std_error", "sigma"), ("f_statistic", "f_statistic"),
            ("f_p_value", "f_p_value"), ("rss", "rss"),
        ]  # fmt: skip
    else:
        yield _pair("aic", "", m["aic"], expected["aic_r"])
        yield _pair("bic", "", m["bic"], expected["bic_r"])
        pairs = [
            ("r_squared", "mcfadden_r2"), ("deviance", "deviance"),
            ("null_deviance", "null_deviance"), ("lr_statistic", "lr_statistic"),
            ("lr_df", "lr_df"), ("llr_p_value", "lr_p_value"), ("accuracy", "accuracy"),
        ]  # fmt: skip
    for ours, theirs in pairs:
        yield _pair(ours, "", m[ours], expected[theirs])


def _tests(expected: dict, report: dict) -> Iterator[Pair]:
    d = report["diagnostics"]
    if expected["kind"] == "ols":
        # tseries' Jarque-Bera p is 1 - pchisq(), exact only above ~1e-16: the upper tail
        # from the same statistic is the reference.
        jb = expected["jarque_bera"]
        jb_p = d["jarque_bera"]["p_value"]
        yield _pair("jarque_bera p_value", "", jb_p, jb["p_value_upper_tail"])
        yield Pair("jarque_bera p_value (tseries)", "", jb_p, jb["p_value"], 1.0)
        for name, field in (
            ("breusch_pagan", "statistic"), ("breusch_pagan", "p_value"),
            ("jarque_bera", "statistic"),
        ):  # fmt: skip
            yield _pair(f"{name} {field}", "", (d[name] or {}).get(field), expected[name][field])
        yield _pair(
            "breusch_pagan df", "", d["breusch_pagan"]["df"], expected["breusch_pagan"]["df"]
        )
        dw = d["durbin_watson"] or {}
        for field in ("statistic", "p_value"):
            yield _pair(
                f"durbin_watson {field}", "", dw.get(field), expected["durbin_watson"][field]
            )
    vif = {v["name"]: v["vif"] for v in d["vif"]}
    for name, value in expected["vif_columns"].items():
        yield _pair("vif per column", name, vif.get(name), value)
    gvif = {g["name"]: g for g in d["gvif"]}
    for theirs in expected["gvif"]:
        mine = gvif.get(theirs["term"], {})
        yield _pair("gvif", theirs["term"], mine.get("gvif"), theirs["gvif"])
        yield _pair(
            "gvif^(1/(2df))", theirs["term"], mine.get("gvif_adjusted"), theirs["gvif_adjusted"]
        )
        yield _pair("gvif df", theirs["term"], mine.get("df"), theirs["df"])
    tests = {t["name"]: t for t in report["model"]["term_tests"]}
    for theirs in expected["anova_type2"]:
        mine = tests.get(theirs["term"], {})
        kind = theirs["test"]
        yield _pair(
            f"Type II {kind} statistic", theirs["term"], mine.get("statistic"), theirs["statistic"]
        )
        yield _pair(f"Type II {kind} p", theirs["term"], mine.get("p_value"), theirs["p_value"])
        yield _pair("Type II df", theirs["term"], mine.get("df"), theirs["df"])
        if "sum_of_squares" in theirs:
            yield _pair("Type II sum of squares", theirs["term"], mine.get("sum_of_squares"),
                        theirs["sum_of_squares"])  # fmt: skip
    importance = {i["name"]: i["importance"] for i in report["importance"]}
    for name, value in expected["importance"].items():
        yield _pair("importance", name, importance.get(name), value)


ROW_FIELDS = {
    "fitted": "fitted", "residual": "residual", "leverage": "leverage",
    "standardized_residual": "standardized_residual",
    "studentized_residual": "studentized_residual", "cooks_distance": "cooks_distance",
    "pearson_residual": "pearson_residual", "deviance_residual": "deviance_residual",
}  # fmt: skip


def _rows(expected: dict, report: dict, rows: dict[str, list[float]]) -> Iterator[Pair]:
    theirs = expected["rows"]
    yield _pair("rows.csv row count", "", len(rows["row"]), len(theirs["line"]))
    if rows["row"] != [float(v) for v in theirs["line"]]:
        yield Pair("rows.csv row numbers", "differ", 0.0, 1.0, 1.0)
        return
    for ours_name, theirs_name in ROW_FIELDS.items():
        if theirs_name not in theirs:
            continue
        values = theirs[theirs_name]
        # Residuals near zero have no meaningful relative error: relative to the column's scale.
        scale = max(abs(v) for v in values)
        mine = rows.get(ours_name, [math.nan] * len(values))
        worst = max(range(len(values)), key=lambda i: abs(mine[i] - values[i]))
        yield Pair(f"rows.csv {ours_name}", f"line {theirs['line'][worst]}", mine[worst],
                   values[worst], scale)  # fmt: skip
    # Largest first; rows with equal distances (same covariates and outcome) by row number.
    cooks = sorted(
        zip(theirs["cooks_distance"], theirs["line"], strict=True), key=lambda c: (-c[0], c[1])
    )
    for rank, influential in enumerate(report["diagnostics"]["influential_rows"]):
        yield _pair("influential row number", f"#{rank + 1}", influential["row"], cooks[rank][1])
        yield _pair("influential Cook's distance", f"#{rank + 1}", influential["cooks_distance"],
                    cooks[rank][0])  # fmt: skip


def _minmax(expected: dict, report: dict) -> Iterator[Pair]:
    ours = {m["column"]: m for m in report["minmax"]}
    for theirs in expected["minmax"]:
        mine = ours.get(theirs["column"], {})
        for field, their_field in (("min", "min"), ("min_row", "min_line"), ("max", "max"),
                                   ("max_row", "max_line")):  # fmt: skip
            yield _pair(f"minmax {field}", theirs["column"], mine.get(field), theirs[their_field])


def _labels(expected: dict, report: dict) -> Iterator[Pair]:
    """Non-numeric facts, compared as equal (0) or not (inf)."""
    m = report["model"]
    same = [
        ("kind", m["kind"] == expected["kind"]),
        ("event", expected["kind"] == "ols" or m["event"] == str(expected["event"])),
        ("reference levels", m["reference_levels"] == expected["reference_levels"]),
        ("cov_type", m["cov_type"] == ("HC3" if expected["robust"] else "nonrobust")),
        ("rows_dropped", report["rows_dropped"] == expected["rows_dropped"]),
        ("coefficient names", [c["name"] for c in m["coefficients"]]
         == [c["name"] for c in expected["coefficients"]]),
    ]  # fmt: skip
    for what, ok in same:
        yield Pair(what, "", 0.0 if ok else None, 0.0, 1.0)


def pairs(case: str, report: dict, rows: dict[str, list[float]]) -> list[Pair]:
    """Every quantity R gave for `case`, next to ours."""
    expected = load_expected(case)
    return [
        *_labels(expected, report),
        *_coefficients(expected, report),
        *_model(expected, report),
        *_tests(expected, report),
        *_rows(expected, report, rows),
        *_minmax(expected, report),
    ]
