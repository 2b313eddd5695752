"""The question asked is the question answered: named columns, the event, edge cases.

Each test runs the CLI on a real file as a user would and reads report.json, so it fails if
any stage between the option and the numbers drops or changes what the user asked for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from regression_analyzer.cli import cli
from regression_analyzer.report import Coefficient, Report
from regression_analyzer.stats import design as design_module
from regression_analyzer.stats import least_squares


def analyze(path: Path, *args: str) -> tuple[int, dict | None, str]:
    """Run the CLI; return exit code, report.json (when written) and stderr+stdout."""
    out = path.parent / f"out-{path.stem}"
    result = CliRunner().invoke(
        cli, ["analyze", str(path), "--no-llm", "--output-dir", str(out), *args]
    )
    report_file = out / "report.json"
    report = json.loads(report_file.read_text()) if result.exit_code == 0 else None
    return result.exit_code, report, result.output


def coefficients(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["model"]["coefficients"]}


# ---------------------------------------------------------------- the columns the user named


def test_named_features_are_never_dropped_as_identifiers(tmp_path: Path) -> None:
    # A polynomial in x = 0..20: x alone looks like a row counter to the ID heuristic.
    x = np.arange(21, dtype=float)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": x, "x2": x**2, "x3": x**3})
    frame["y"] = 1 + 0.5 * x - 0.2 * x**2 + 0.01 * x**3 + rng.normal(size=21)
    path = tmp_path / "poly.csv"
    frame.to_csv(path, index=False)

    code, report, _ = analyze(path, "--target", "y", "--features", "x,x2,x3")
    assert code == 0 and report is not None
    assert report["features"] == ["x", "x2", "x3"]
    assert set(coefficients(report)) == {"Intercept", "x", "x2", "x3"}
    assert report["dropped_columns"] == []
    assert any("'x' looks like an identifier" in w for w in report["warnings"])
    # The fit is the polynomial the user asked for (numpy's lstsq as the reference).
    exog = np.column_stack([np.ones(21), x, x**2, x**3])
    beta = np.linalg.lstsq(exog, frame["y"].to_numpy(), rcond=None)[0]
    got = [coefficients(report)[n]["estimate"] for n in ("Intercept", "x", "x2", "x3")]
    np.testing.assert_allclose(got, beta, rtol=1e-9)


def test_tool_picked_identifiers_are_still_skipped(tmp_path: Path) -> None:
    x = np.arange(40, dtype=float)
    frame = pd.DataFrame({"row": x, "a": np.sin(x), "y": np.cos(x) + np.sin(x)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    code, report, _ = analyze(path, "--target", "y")
    assert code == 0 and report is not None
    assert report["features"] == ["a"]
    assert [d["name"] for d in report["dropped_columns"]] == ["row"]


def test_named_target_that_looks_like_an_identifier_is_used(tmp_path: Path) -> None:
    # A time trend 1..n is what the user wants explained here.
    n = 30
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"temperature": rng.normal(size=n), "day": np.arange(1, n + 1)})
    path = tmp_path / "trend.csv"
    frame.to_csv(path, index=False)
    code, report, output = analyze(path, "--target", "day", "--features", "temperature")
    assert code == 0, output
    assert report is not None and report["target"] == "day" and report["model"]["kind"] == "ols"


# ---------------------------------------------------------------- the event of a yes/no target


@pytest.mark.parametrize(
    ("levels", "event"), [((9, 10), "10"), ((5, 10), "10"), (("churned", "stayed"), "churned")]
)
def test_event_is_the_meaningful_value_and_named(tmp_path: Path, levels: tuple, event: str) -> None:
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=n)
    is_event = rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + 1.5 * x)))
    frame = pd.DataFrame({"x": x, "outcome": np.where(is_event, levels[0], levels[1])})
    if levels[0] != "churned":  # numbers: the larger value is the event
        frame["outcome"] = np.where(is_event, levels[1], levels[0])
    path = tmp_path / "binary.csv"
    frame.to_csv(path, index=False)

    code, report, _ = analyze(path, "--target", "outcome")
    assert code == 0 and report is not None
    model = report["model"]
    assert model["kind"] == "logit" and model["event"] == event
    assert coefficients(report)["x"]["estimate"] > 0  # x raises the odds of the event
    markdown = (tmp_path / "out-binary" / "report.md").read_text()
    assert f"is **{event}**" in markdown
    odds_of = event if event == "churned" else f"outcome = {event}"
    assert f"odds of {odds_of}" in report["interpretation"]


def test_user_can_choose_the_event(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    churned = rng.uniform(size=400) < 1 / (1 + np.exp(-(2 * x)))
    path = tmp_path / "churn.csv"
    pd.DataFrame({"x": x, "status": np.where(churned, "churned", "stayed")}).to_csv(
        path, index=False
    )
    _, default, _ = analyze(path, "--target", "status")
    code, flipped, _ = analyze(path, "--target", "status", "--event", "stayed")
    assert code == 0 and default is not None and flipped is not None
    assert flipped["model"]["event"] == "stayed" and flipped["model"]["non_event"] == "churned"
    assert flipped["model"]["event_reason"] == "chosen by the user"
    # Coding the other value as 1 flips every coefficient's sign, nothing else.
    for name, coef in coefficients(default).items():
        assert coefficients(flipped)[name]["estimate"] == pytest.approx(-coef["estimate"])
    assert "odds of stayed" in flipped["interpretation"]

    code, _, output = analyze(path, "--target", "status", "--event", "left")
    assert code == 2 and "'left' is not a value of 'status'" in output
    code, _, output = analyze(path, "--target", "x", "--event", "1")
    assert code == 2 and "yes/no target" in output


# ---------------------------------------------------------------- robust logit


def test_robust_logit_is_hc3_not_hc0(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 120
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.5 + x)))).astype(int)
    path = tmp_path / "robust.csv"
    pd.DataFrame({"x": x, "y": y}).to_csv(path, index=False)
    _, plain, _ = analyze(path, "--target", "y")
    _, robust, _ = analyze(path, "--target", "y", "--robust")
    assert plain is not None and robust is not None and robust["model"]["cov_type"] == "HC3"
    # HC0 and HC3 by hand from the fitted probabilities (the hat values of the weighted fit).
    exog = np.column_stack([np.ones(n), x])
    beta = np.array([c["estimate"] for c in robust["model"]["coefficients"]])
    p = 1 / (1 + np.exp(-exog @ beta))
    w = p * (1 - p)
    bread = np.linalg.inv(exog.T @ (exog * w[:, None]))
    h = np.einsum("ij,jk,ik->i", exog * np.sqrt(w)[:, None], bread, exog * np.sqrt(w)[:, None])

    def sandwich(scale: np.ndarray) -> np.ndarray:
        meat = exog.T @ (exog * ((y - p) ** 2 * scale)[:, None])
        return np.sqrt(np.diag(bread @ meat @ bread))

    hc0, hc3 = sandwich(np.ones(n)), sandwich(1 / (1 - h) ** 2)
    got = [c["std_error"] for c in robust["model"]["coefficients"]]
    np.testing.assert_allclose(got, hc3, rtol=1e-8)
    assert not np.allclose(got, hc0, rtol=1e-3)


# ---------------------------------------------------------------- infinities and perfect fits


def test_infinite_predictor_values_are_missing_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 60
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = 1 + 2 * frame["a"] - frame["b"] + rng.normal(scale=0.1, size=n)
    text = frame.to_csv(index=False).splitlines()
    text[5] = "inf," + text[5].split(",", 1)[1]  # row 4 (CSV line 6): a = inf
    text[9] = text[9].rsplit(",", 1)[0] + ",-inf"  # row 8 (CSV line 10): y = -inf
    path = tmp_path / "inf.csv"
    path.write_text("\n".join(text) + "\n")

    code, report, output = analyze(path, "--target", "y")
    assert code == 0, output
    assert report is not None
    assert report["features"] == ["a", "b"] and report["dropped_columns"] == []
    assert report["rows_dropped"] == 2 and report["model"]["n_obs"] == n - 2
    assert report["model"]["r_squared"] > 0.99
    assert any("Infinite" in w for w in report["warnings"])
    Report.model_validate(report)  # the web service reads it back through its schema


def test_perfect_fit_through_a_categorical_is_reported_not_a_crash(tmp_path: Path) -> None:
    groups = np.array(["a", "b", "c"] * 10)
    frame = pd.DataFrame({"g": groups, "y": pd.Series(groups).map({"a": 1.0, "b": 2.5, "c": 4.0})})
    frame["noise"] = np.linspace(0, 1, 30) ** 2
    path = tmp_path / "perfect.csv"
    frame.to_csv(path, index=False)
    code, report, output = analyze(path, "--target", "y", "--features", "g,noise")
    assert code == 0, output
    assert report is not None
    model = report["model"]
    assert model["perfect_fit"] is True and model["r_squared"] == pytest.approx(1.0)
    assert all(c["p_value"] is None for c in model["coefficients"])
    assert model["f_statistic"] is None
    assert "perfect fit" in report["interpretation"]
    assert "durbin_watson" in report["diagnostics"]["not_computed"]
    Report.model_validate_json((tmp_path / "out-perfect" / "report.json").read_text())


def test_infinite_values_survive_the_report_json_round_trip() -> None:
    # An odds ratio of exp(800) is infinite in float64; pydantic's default JSON writes null,
    # which the schema then refuses when the web service reads the report back.
    coef = Coefficient(
        name="x", estimate=800.0, std_error=1.0, statistic=800.0, p_value=0.0,
        ci_low=798.0, ci_high=802.0, odds_ratio=math.inf,
    )  # fmt: skip
    again = Coefficient.model_validate_json(coef.model_dump_json())
    assert again.odds_ratio == math.inf


# ---------------------------------------------------------------- bounded costs


def test_exact_solver_is_bounded_by_exponent_span(tmp_path: Path) -> None:
    # Values spanning 1e-60..1e60 in one column: exact rationals thousands of bits long.
    rng = np.random.default_rng(6)
    n = 200
    x = 10.0 ** rng.uniform(-60, 60, size=n)
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=n)})
    frame["y"] = 3 * frame["z"] + rng.normal(size=n)
    A = np.column_stack([np.ones(n), frame["x"], frame["z"]])
    assert not least_squares.exact_path_applies(A, frame["y"].to_numpy())
    assert least_squares.exact_path_applies(A[:, [0, 2]], frame["y"].to_numpy())
    path = tmp_path / "span.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    code, report, output = analyze(path, "--target", "y")
    assert code == 0, output
    assert report is not None
    assert coefficients(report)["z"]["estimate"] == pytest.approx(3, abs=0.3)


def test_values_beyond_double_precision_products_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": 10.0 ** rng.uniform(-150, 150, size=50), "y": rng.normal(size=50)})
    path = tmp_path / "huge.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    code, _, output = analyze(path, "--target", "y")
    assert code == 2
    assert "'x' has values as" in output and "1e-75 and 1e+75" in output
    errors = [line for line in output.splitlines() if not line.startswith("· ")]
    assert len(errors) == 1 and errors[0].startswith("error: ")  # one line, no traceback


def test_design_size_is_capped_before_dummies_are_built() -> None:
    rows = 100_000
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({f"c{i}": rng.integers(0, 100, rows).astype(str) for i in range(30)})
    frame["y"] = rng.normal(size=rows)
    roles = {f"c{i}": "categorical" for i in range(30)}
    with pytest.raises(design_module.LimitExceededError, match=r"2,971 columns over 100,000 rows"):
        design_module.build_design(frame, "y", None, roles)
