"""The whole pipeline with and without a language model.

The LLM vendors are the one thing mocked: the official SDKs talk to local fake servers that
speak each vendor's wire format (tests/helpers/fake_vendors.py), pointed at by the SDKs' base-URL
variables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from regression_analyzer.pipeline import STAGES, AnalysisOptions, run_analysis
from tests.helpers.fake_vendors import FakeVendor

KEY_VARS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
URL_VARS = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}
SECRET = "sk-test-only-pipeline-0123456789"


def understanding(target: str = "revenue", sideways: bool = False) -> dict:
    return {
        "business_context": "Orders with advertising spend and price by region.",
        "columns": [
            {"name": "order_id", "role": "id", "description": "order number"},
            {"name": "price", "role": "numeric", "description": "unit price"},
        ],
        "target": target,
        "target_reason": "revenue is what the business wants to grow",
        "predictors": ["ad_spend", "price"],
        "sideways": sideways,
        "sideways_reason": "each row is one order",
    }


@pytest.fixture(params=["anthropic", "openai"])
def vendor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVendor]:
    for var in [*KEY_VARS.values(), *(v + "_FILE" for v in KEY_VARS.values())]:
        monkeypatch.delenv(var, raising=False)
    with FakeVendor(request.param) as fake:
        monkeypatch.setenv(KEY_VARS[request.param], SECRET)
        monkeypatch.setenv(URL_VARS[request.param], fake.base_url)
        yield fake


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [*KEY_VARS.values(), *(v + "_FILE" for v in KEY_VARS.values())]:
        monkeypatch.delenv(var, raising=False)


def _grounded_text(report_dir: Path) -> str:
    # Built from the results the heuristic run computed, so every number is in the results.
    report = json.loads((report_dir / "report.json").read_text())
    r2 = report["model"]["r_squared"]
    return f"Advertising drives revenue: the model explains R² = {r2:.3f} of its variation."


def test_llm_path_picks_target_and_writes_interpretation(
    vendor: FakeVendor, linear_csv: Path, tmp_path: Path
) -> None:
    # A first run without the LLM gives the numbers the fake's interpretation will quote.
    baseline = tmp_path / "baseline"
    run_analysis(
        linear_csv, AnalysisOptions(use_llm=False, features=["ad_spend", "price"]), baseline
    )
    text = _grounded_text(baseline)
    vendor.script(
        vendor.ok_json(understanding()),
        vendor.ok_json({"text": text, "key_points": ["ad spend matters"]}),
    )
    report = run_analysis(linear_csv, AnalysisOptions(), tmp_path / "llm")
    assert report.llm == vendor.vendor
    assert report.target == "revenue"
    assert "language model" in report.target_reason
    assert report.features == ["ad_spend", "price"]  # the LLM's predictors
    assert report.interpretation == text
    assert report.interpretation_source == "llm"
    assert report.context == understanding()["business_context"]
    assert len(vendor.requests) == 2


def test_invented_numbers_fall_back_to_template(
    vendor: FakeVendor, linear_csv: Path, tmp_path: Path
) -> None:
    vendor.script(
        vendor.ok_json(understanding()),
        vendor.ok_json(
            {"text": "Revenue rises by 987.654 per unit of ad spend.", "key_points": []}
        ),
    )
    report = run_analysis(linear_csv, AnalysisOptions(), tmp_path / "o")
    assert report.interpretation_source == "template"
    assert "987.654" not in report.interpretation
    assert any("987.654" in note for note in report.llm_notes)
    assert report.llm == vendor.vendor  # the understanding step still came from the LLM


def test_provider_down_still_completes(
    vendor: FakeVendor, linear_csv: Path, tmp_path: Path
) -> None:
    vendor.script(*[vendor.server_error(500) for _ in range(20)])
    report = run_analysis(linear_csv, AnalysisOptions(target="revenue"), tmp_path / "o")
    assert report.llm == "none"
    assert report.interpretation_source == "template"
    assert report.interpretation
    assert any("failed" in note for note in report.llm_notes)
    assert all(SECRET not in note for note in report.llm_notes)
    assert len(vendor.requests) >= 2  # retried before giving up


def test_rate_limited_then_ok_uses_llm(
    vendor: FakeVendor, linear_csv: Path, tmp_path: Path
) -> None:
    vendor.script(
        vendor.rate_limited(),
        vendor.ok_json(understanding()),
        vendor.ok_json({"text": "Revenue depends on advertising and price.", "key_points": []}),
    )
    report = run_analysis(linear_csv, AnalysisOptions(), tmp_path / "o")
    assert report.llm == vendor.vendor
    assert report.interpretation_source == "llm"


def test_unusable_llm_target_falls_back_to_heuristic(
    vendor: FakeVendor, linear_csv: Path, tmp_path: Path
) -> None:
    vendor.script(
        vendor.ok_json(understanding(target="region")),  # categorical: not usable
        vendor.ok_json({"text": "Revenue depends on advertising.", "key_points": []}),
    )
    report = run_analysis(linear_csv, AnalysisOptions(), tmp_path / "o")
    assert report.target == "revenue"
    assert "language model" not in report.target_reason
    assert any("region" in w for w in report.warnings)


def test_llm_rejects_sideways_heuristic(vendor: FakeVendor, tmp_path: Path) -> None:
    # Variables as rows with year headers: the heuristic reads it sideways.
    path = tmp_path / "wide.csv"
    path.write_text(
        "metric,2015,2016,2017,2018,2019,2020,2021,2022\n"
        "sales,10,12,15,14,18,21,25,24\n"
        "ads,1,2,3,2,4,5,6,5\n"
        "price,9,9,8,9,8,7,7,8\n"
    )
    heuristic = run_analysis(path, AnalysisOptions(use_llm=False, target="sales"), tmp_path / "h")
    assert heuristic.source.transposed
    vendor.script(
        vendor.ok_json({**understanding(target="sales"), "predictors": [], "sideways": True}),
        vendor.ok_json({"text": "Sales grow with ads.", "key_points": []}),
    )
    agreed = run_analysis(path, AnalysisOptions(target="sales"), tmp_path / "a")
    assert agreed.source.transposed and agreed.rows == 8


def test_no_key_runs_heuristics_and_says_so(
    no_keys: None, linear_csv: Path, tmp_path: Path
) -> None:
    stages: list[str] = []
    report = run_analysis(linear_csv, AnalysisOptions(), tmp_path / "o", progress=stages.append)
    assert stages == list(STAGES)
    assert report.llm == "none"
    assert any("no API key" in note or "not set" in note for note in report.llm_notes)
    written = json.loads((tmp_path / "o" / "report.json").read_text())
    assert written["target"] == "revenue"
    assert (tmp_path / "o" / "report.md").read_text().startswith("# Regression report")
    assert set(written["charts"]) <= {p.name for p in (tmp_path / "o").glob("*.png")}


def test_robust_errors_differ_from_classical(
    no_keys: None, linear_csv: Path, tmp_path: Path
) -> None:
    plain = run_analysis(
        linear_csv, AnalysisOptions(target="revenue", use_llm=False), tmp_path / "p"
    )
    robust = run_analysis(
        linear_csv, AnalysisOptions(target="revenue", use_llm=False, robust=True), tmp_path / "r"
    )
    assert robust.model.cov_type == "HC3" and plain.model.cov_type == "nonrobust"
    se = {c.name: c.std_error for c in plain.model.coefficients}
    assert any(abs(c.std_error - se[c.name]) > 1e-9 for c in robust.model.coefficients)
    # estimates do not depend on the covariance
    est = {c.name: c.estimate for c in plain.model.coefficients}
    assert all(abs(c.estimate - est[c.name]) < 1e-9 for c in robust.model.coefficients)


def test_heatmap_correlations_are_numpys_over_complete_rows() -> None:
    import numpy as np
    import pandas as pd

    from regression_analyzer.pipeline import _correlation

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(500, 3)) * [1.0, 1e4, 1e-4] + [0.0, 1e6, 5.0])
    frame.columns = ["a", "b", "c"]
    frame["constant"] = 2.0
    frame.loc[[3, 70], "b"] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.corrcoef(frame.dropna().to_numpy(), rowvar=False)
    got = _correlation(frame)
    assert list(got.columns) == ["a", "b", "c", "constant"]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=0, atol=1e-14)  # NaN where numpy's
