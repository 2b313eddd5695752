"""What one drawing process receives: small, plain, already sampled (numpy only, no pandas).

plan.chart_input makes it from ChartData in the analysis process, so its size does not grow
with the table: scatter charts get at most `max_points` rows, the Q-Q plot its quantiles, the
logit chart its histograms. charts.drawing turns it into PNGs, here or in a ChartWorkers process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

# (label, value) rows for bar charts; (column, min, max, mean or None) for the range chart.
CoefficientBar = tuple[str, float, float, float]
RangeBar = tuple[str, float, float, float | None]

LABEL_WIDTH = 32


def truncate(label: str, width: int = LABEL_WIDTH) -> str:
    """Shorten a long label to width characters with an ellipsis (as charts print it)."""
    label = str(label)
    return label if len(label) <= width else label[: width - 1] + "…"


@dataclass(frozen=True)
class Points:
    """x/y of a scatter (already sampled), and the note saying so when they are a sample."""

    x: np.ndarray
    y: np.ndarray
    note: str = ""


@dataclass(frozen=True)
class PredictorPoints:
    """One target-vs-predictor chart: sampled points and the model's line through them."""

    name: str
    points: Points
    line_x: np.ndarray
    line_y: np.ndarray


@dataclass(frozen=True)
class ClassHistogram:
    """Share of one class's rows per predicted-probability bin (logit), over every row."""

    label: str
    rows: int
    share: np.ndarray


@dataclass(frozen=True)
class Heatmap:
    """The correlation matrix to draw and a note when columns were left out."""

    columns: list[str]
    matrix: np.ndarray
    note: str = ""


@dataclass
class ChartInput:
    """Everything the drawing code reads. Built by plan.chart_input."""

    target: str
    kind: Literal["ols", "logit"]
    rows: int
    seed: int
    fitted_vs_actual: Points
    residuals_vs_fitted: Points
    qq: Points | None  # None: too few distinct residuals
    class_histograms: list[ClassHistogram] = field(default_factory=list)
    histogram_bins: np.ndarray = field(default_factory=lambda: np.linspace(0, 1, 26))
    coefficients: list[CoefficientBar] = field(default_factory=list)
    coefficients_note: str = ""
    importance: list[tuple[str, float]] = field(default_factory=list)
    importance_note: str = ""
    importance_method: str = ""
    heatmap: Heatmap | None = None
    predictors: list[PredictorPoints] = field(default_factory=list)
    ranges: list[RangeBar] = field(default_factory=list)
    ranges_note: str = ""
