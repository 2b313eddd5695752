"""Charts: every file written as a sensible PNG, sampling above the point cap, safe file names."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from regression_analyzer.charts.input import truncate
from regression_analyzer.charts.plan import (
    MAX_BARS,
    predictor_file_names,
    render_charts,
    render_charts_detailed,
    safe_name,
    sample_points,
)
from tests.helpers.chart_data import make_data

FIXED = [
    "actual_vs_predicted.png",
    "residuals_vs_fitted.png",
    "qq_plot.png",
    "coefficients.png",
    "importance.png",
    "correlation_heatmap.png",
]


@pytest.mark.parametrize("kind", ["ols", "logit"])
def test_every_chart_is_a_sensible_png_in_stable_order(tmp_path: Path, kind: str) -> None:
    names = render_charts(make_data(kind), tmp_path)
    assert names == [*FIXED, "target_vs_ad_spend.png", "target_vs_price.png", "minmax.png"]
    for name in names:
        path = tmp_path / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width = mpimg.imread(path).shape[:2]
        assert 600 <= width <= 1400 and 400 <= height <= 900, (name, width, height)


def test_sample_points_caps_and_notes() -> None:
    small = sample_points(100, 5000)
    assert not small.sampled and small.note == "" and len(small.indices) == 100
    big = sample_points(1_000_000, 5000, seed=3)
    assert big.sampled and len(big.indices) == 5000
    assert len(np.unique(big.indices)) == 5000 and big.indices.max() < 1_000_000
    assert big.note == "showing 5,000 of 1,000,000 points, random sample"
    # Deterministic: the same seed gives the same rows.
    assert np.array_equal(big.indices, sample_points(1_000_000, 5000, seed=3).indices)


def test_million_rows_take_the_sampled_path(tmp_path: Path) -> None:
    result = render_charts_detailed(make_data("ols", n=1_000_000), tmp_path, max_points=2000)
    scatter = [*FIXED[:3], "target_vs_ad_spend.png", "target_vs_price.png"]
    for name in scatter:
        assert result.points_plotted[name] == 2000, name
        assert "showing 2,000 of 1,000,000 points, random sample" in result.notes[name]


def test_small_data_is_not_sampled(tmp_path: Path) -> None:
    result = render_charts_detailed(make_data("ols", n=300), tmp_path)
    assert result.points_plotted["actual_vs_predicted.png"] == 300
    assert "random sample" not in result.notes["actual_vs_predicted.png"]


def test_many_coefficients_show_top_and_say_so(tmp_path: Path) -> None:
    result = render_charts_detailed(make_data(n_coefs=60), tmp_path)
    assert f"top {MAX_BARS} of 60 coefficients" in result.notes["coefficients.png"]
    assert f"top {MAX_BARS} of 60 predictors" in result.notes["importance.png"]


def test_wide_correlation_is_limited(tmp_path: Path) -> None:
    names = tuple(f"x{i}" for i in range(30))
    data = make_data(names=names)
    data.top_predictors = data.top_predictors[:1]
    result = render_charts_detailed(data, tmp_path)
    assert "showing 20 of 31 columns" in result.notes["correlation_heatmap.png"]


def test_predictor_names_sanitized_and_cannot_escape(tmp_path: Path) -> None:
    assert safe_name("../x") == "x"
    assert safe_name("Price (€) / Unit") == "price_unit"
    assert safe_name("///") == "predictor"
    assert predictor_file_names(["a b", "A-B", "../x"]) == [
        "target_vs_a_b.png",
        "target_vs_a_b_2.png",
        "target_vs_x.png",
    ]
    data = make_data(names=("../x", "..\\..\\evil"))
    out = tmp_path / "out"
    names = render_charts(data, out)
    assert "target_vs_x.png" in names and "target_vs_evil.png" in names
    assert all((out / n).is_file() for n in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_truncate_adds_ellipsis() -> None:
    assert truncate("short") == "short"
    long = truncate("a" * 100, 20)
    assert len(long) == 20 and long.endswith("…")


def test_missing_inputs_still_give_every_file(tmp_path: Path) -> None:
    data = make_data()
    data.coefficients, data.importance, data.minmax = [], [], []
    data.correlation = pd.DataFrame()
    data.top_predictors = []
    assert render_charts(data, tmp_path) == [*FIXED, "minmax.png"]
    assert all((tmp_path / n).stat().st_size > 1000 for n in [*FIXED, "minmax.png"])


@pytest.mark.parametrize("kind", ["ols", "logit"])
def test_no_text_is_cut_off_by_the_figure_edge(kind: str) -> None:
    # Margins are computed from label widths (no constrained layout): long column names and a
    # long target must still fit: every title, label, tick label and note inside the image.
    import regression_analyzer.charts.drawing as chart_drawing
    from regression_analyzer.charts.plan import chart_input, chart_jobs

    names = (
        "advertising_spend_in_thousands_of_euros_per_month",
        "price",
        "a_very_long_column_name_for_the_region_code",
    )
    data = make_data(kind, n=2000, names=names)
    data.target = "quarterly_revenue_after_discounts_and_returns"
    plan = chart_input(data, max_points=500)
    for job in chart_jobs(plan):
        fig, _ = chart_drawing._CHARTS[job.chart](plan, job.index)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        # What bbox_inches="tight" would keep: every artist drawn, in inches.
        drawn = fig.get_tightbbox(renderer)
        width, height = fig.get_size_inches()
        tolerance = 1 / fig.dpi  # a pixel
        assert drawn.x0 >= -tolerance and drawn.x1 <= width + tolerance, (job.file, drawn)
        assert drawn.y0 >= -tolerance and drawn.y1 <= height + tolerance, (job.file, drawn)
