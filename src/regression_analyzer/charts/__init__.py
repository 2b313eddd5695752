"""The charts of a fitted regression: which PNGs, what each shows, and drawing them.

plan     which charts and their file names: ChartData (the fit as plain arrays) in, a small
         sampled ChartInput and one ChartJob per PNG out; start_charts hands the jobs out.
input    ChartInput, all that a drawing receives (numpy only, no pandas).
drawing  the PNGs themselves (matplotlib, Agg); imported only where charts are drawn.
workers  ChartWorkers: draw here, or on drawing processes that load matplotlib early.

The names below load their module when first used, so that `from regression_analyzer.charts
import ChartWorkers`, a command's first step, starts the drawing processes without waiting for
pandas and scipy, which the planning needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .input import truncate
    from .plan import (
        MAX_BARS,
        ChartData,
        ChartJob,
        ChartRender,
        PendingCharts,
        PointSample,
        PredictorLine,
        chart_input,
        chart_jobs,
        predictor_file_names,
        render_charts,
        render_charts_detailed,
        safe_name,
        sample_points,
        start_charts,
    )
    from .workers import ChartWorkers

# Each public name, and the module of this package that defines it.
_HOMES = {
    "MAX_BARS": "plan",
    "ChartData": "plan",
    "ChartJob": "plan",
    "ChartRender": "plan",
    "ChartWorkers": "workers",
    "PendingCharts": "plan",
    "PointSample": "plan",
    "PredictorLine": "plan",
    "chart_input": "plan",
    "chart_jobs": "plan",
    "predictor_file_names": "plan",
    "render_charts": "plan",
    "render_charts_detailed": "plan",
    "safe_name": "plan",
    "sample_points": "plan",
    "start_charts": "plan",
    "truncate": "input",
}

__all__ = [
    "MAX_BARS",
    "ChartData",
    "ChartJob",
    "ChartRender",
    "ChartWorkers",
    "PendingCharts",
    "PointSample",
    "PredictorLine",
    "chart_input",
    "chart_jobs",
    "predictor_file_names",
    "render_charts",
    "render_charts_detailed",
    "safe_name",
    "sample_points",
    "start_charts",
    "truncate",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found directly from now on
    return value
