"""The charts of a fitted regression: which PNGs, what each shows, and where they are drawn.

This module plans (numpy only): it samples rows, computes Q-Q quantiles, logit histograms, the
heatmap's columns and the bar charts' rows, so what reaches the drawing code is small however
many rows the table has. charts.drawing draws (matplotlib), in this process or spread over the
processes of a ChartWorkers, which load matplotlib while the table is still being read.

Scatter-type charts plot at most `max_points` randomly sampled rows (deterministic seed) and
say so on the chart, so drawing cost stays flat however many rows the table has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .input import (
    ChartInput,
    ClassHistogram,
    CoefficientBar,
    Heatmap,
    Points,
    PredictorPoints,
    RangeBar,
    truncate,
)

if TYPE_CHECKING:
    from .workers import ChartWorkers, Drawing

MAX_BARS = 25
MAX_HEATMAP_COLUMNS = 20

# (name, x, y, line_x, line_y) of one predictor, and (column, min, max[, mean]) of one column.
PredictorLine = tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
MinMaxBar = tuple[str, float, float] | tuple[str, float, float, float]


@dataclass
class ChartData:
    """Everything the charts need, as plain arrays and lists (no statsmodels objects).

    coefficients: (name, estimate, ci_low, ci_high); an "Intercept" entry is ignored.
    importance: (name, value), any order.
    top_predictors: (name, x, y, line_x, line_y); line_* is the model's fitted line for that
    predictor with the others at their means (a probability curve for logit).
    minmax: (column, min, max) or (column, min, max, mean).
    """

    target: str
    kind: Literal["ols", "logit"]
    y: np.ndarray
    fitted: np.ndarray
    residuals: np.ndarray  # OLS: y - fitted; logit: deviance residuals
    coefficients: list[CoefficientBar] = field(default_factory=list)
    importance: list[tuple[str, float]] = field(default_factory=list)
    importance_method: str = ""
    correlation: pd.DataFrame = field(default_factory=pd.DataFrame)
    top_predictors: list[PredictorLine] = field(default_factory=list)
    minmax: list[MinMaxBar] = field(default_factory=list)


@dataclass(frozen=True)
class PointSample:
    """Row positions to plot and the note to print when they are a sample."""

    indices: np.ndarray
    total: int
    note: str

    @property
    def sampled(self) -> bool:
        """True when fewer rows are plotted than exist."""
        return len(self.indices) < self.total


@dataclass
class ChartRender:
    """What `render_charts_detailed` wrote: file names in order and points plotted per file."""

    files: list[str]
    points_plotted: dict[str, int]
    notes: dict[str, str]


def sample_points(n: int, max_points: int, seed: int = 0) -> PointSample:
    """Choose at most max_points of n row positions, deterministically, with a note if sampled."""
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    if n <= max_points:
        return PointSample(np.arange(n), n, "")
    rng = np.random.default_rng(seed)
    # Sorted so plots keep row order (irrelevant visually, but makes output reproducible).
    idx = np.sort(rng.choice(n, size=max_points, replace=False))
    return PointSample(idx, n, f"showing {max_points:,} of {n:,} points, random sample")


def safe_name(name: str, fallback: str = "predictor") -> str:
    """A file-name-safe version of a column name: lower case, [a-z0-9_] only, never empty."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")[:60].strip("_")
    return cleaned or fallback


def predictor_file_names(names: Sequence[str]) -> list[str]:
    """target_vs_<safe name>.png per predictor, made unique when two names sanitize alike."""
    used: set[str] = set()
    out = []
    for name in names:
        base = f"target_vs_{safe_name(name)}"
        candidate, k = base, 2
        while candidate in used:
            candidate, k = f"{base}_{k}", k + 1
        used.add(candidate)
        out.append(f"{candidate}.png")
    return out


# --- planning: ChartData -> ChartInput (small, sampled) ----------------------------------------


def _points(x: np.ndarray, y: np.ndarray, s: PointSample) -> Points:
    return Points(np.asarray(x, float)[s.indices], np.asarray(y, float)[s.indices], s.note)


def _qq_points(residuals: np.ndarray, s: PointSample) -> Points | None:
    r = np.asarray(residuals, float)[s.indices]
    r = np.sort(r[np.isfinite(r)])
    if len(r) < 3 or np.std(r) == 0:
        return None
    z = (r - r.mean()) / r.std(ddof=1)
    # Blom plotting positions; the sorted sample's values are its empirical quantiles.
    theo = ndtri((np.arange(1, len(z) + 1) - 0.375) / (len(z) + 0.25))
    return Points(theo, z, s.note + (" (quantiles of the sample)" if s.note else ""))


def _class_histograms(data: ChartData, bins: np.ndarray) -> list[ClassHistogram]:
    # Every row, not a sample: np.histogram is O(n) and cheap, nothing is drawn per row.
    y, f = np.asarray(data.y, float), np.asarray(data.fitted, float)
    cls = y > 0.5
    out = []
    for mask, value in ((~cls, 0), (cls, 1)):
        vals = f[mask & np.isfinite(f)]
        counts, _ = np.histogram(vals, bins=bins)
        share = counts / max(len(vals), 1)
        out.append(ClassHistogram(f"actual {data.target} = {value}", len(vals), share))
    return out


def _coefficient_rows(data: ChartData) -> tuple[list[CoefficientBar], str]:
    rows = [c for c in data.coefficients if c[0] != "Intercept" and np.isfinite(c[1])]
    if len(rows) <= MAX_BARS:
        return rows, ""

    # |estimate| / half-width of the CI is |t| up to a constant, so this ranks by |t|
    # without needing standard errors in ChartData.
    def score(c: CoefficientBar) -> float:
        half = (c[3] - c[2]) / 2
        return float(abs(c[1]) / half if half > 0 and np.isfinite(half) else abs(c[1]))

    note = f"showing the top {MAX_BARS} of {len(rows)} coefficients by |t|"
    return sorted(rows, key=score, reverse=True)[:MAX_BARS], note


def _importance_rows(data: ChartData) -> tuple[list[tuple[str, float]], str]:
    rows = sorted(
        [(n, float(v)) for n, v in data.importance if np.isfinite(v)],
        key=lambda t: abs(t[1]), reverse=True,
    )  # fmt: skip
    if len(rows) <= MAX_BARS:
        return rows, ""
    return rows[:MAX_BARS], f"showing the top {MAX_BARS} of {len(rows)} predictors"


def _heatmap(corr: pd.DataFrame | None, target: str) -> Heatmap | None:
    if corr is None or corr.shape[0] < 2 or corr.shape[1] < 2:
        return None
    cols = list(corr.columns)
    note = ""
    if len(cols) > MAX_HEATMAP_COLUMNS:
        if target in cols:
            # Keep the target and the columns most correlated with it: the informative part.
            others = corr[target].drop(target).abs().sort_values(ascending=False)
            cols = [target, *list(others.index[: MAX_HEATMAP_COLUMNS - 1])]
        else:
            cols = cols[:MAX_HEATMAP_COLUMNS]
        note = f"showing {len(cols)} of {corr.shape[1]} columns (the target and its strongest)"
    matrix = corr.loc[cols, cols].to_numpy(dtype=float)
    return Heatmap([str(c) for c in cols], matrix, note)


def _range_rows(data: ChartData) -> tuple[list[RangeBar], str]:
    rows: list[RangeBar] = []
    for r in data.minmax:
        if len(r) < 3 or not (np.isfinite(r[1]) and np.isfinite(r[2])):
            continue
        mean = float(r[3]) if len(r) >= 4 and r[3] is not None else None
        rows.append((str(r[0]), float(r[1]), float(r[2]), mean))
    if len(rows) <= MAX_BARS:
        return rows, ""
    return rows[:MAX_BARS], f"showing {MAX_BARS} of {len(rows)} columns"


def _predictor_points(item: PredictorLine, s: PointSample, seed: int) -> PredictorPoints:
    name, x, y, line_x, line_y = item
    # Each predictor has its own row count only in theory; sample against its own length.
    ps = s if len(x) == s.total else sample_points(len(x), max(len(s.indices), 1), seed)
    return PredictorPoints(
        str(name), _points(x, y, ps), np.asarray(line_x, float), np.asarray(line_y, float)
    )


def chart_input(data: ChartData, *, max_points: int = 5000, seed: int = 0) -> ChartInput:
    """What the drawing code needs from data, with every per-row array cut to the sample."""
    s = sample_points(len(np.asarray(data.fitted)), max_points, seed)
    coefficients, coefficients_note = _coefficient_rows(data)
    importance, importance_note = _importance_rows(data)
    ranges, ranges_note = _range_rows(data)
    result = ChartInput(
        target=str(data.target),
        kind=data.kind,
        rows=len(np.asarray(data.y)),
        seed=seed,
        fitted_vs_actual=_points(data.fitted, data.y, s),
        residuals_vs_fitted=_points(data.fitted, data.residuals, s),
        qq=_qq_points(data.residuals, s),
        coefficients=coefficients,
        coefficients_note=coefficients_note,
        importance=importance,
        importance_note=importance_note,
        importance_method=data.importance_method,
        heatmap=_heatmap(data.correlation, data.target),
        predictors=[_predictor_points(item, s, seed) for item in data.top_predictors],
        ranges=ranges,
        ranges_note=ranges_note,
    )
    if data.kind == "logit":
        result.class_histograms = _class_histograms(data, result.histogram_bins)
    return result


# --- drawing -----------------------------------------------------------------------------------

_FIXED_FIRST = (
    "actual_vs_predicted",
    "residuals_vs_fitted",
    "qq_plot",
    "coefficients",
    "importance",
    "correlation_heatmap",
)


# Drawn first by ChartWorkers: about three times the work of any other chart.
_SLOWEST = ("correlation_heatmap",)


@dataclass(frozen=True)
class ChartJob:
    """One PNG to draw: the chart (a drawing name), which predictor, the file name."""

    chart: str
    index: int | None
    file: str


def chart_jobs(data: ChartInput) -> list[ChartJob]:
    """The PNGs in their stable order (see render_charts)."""
    jobs = [ChartJob(name, None, f"{name}.png") for name in _FIXED_FIRST]
    names = predictor_file_names([p.name for p in data.predictors])
    jobs += [ChartJob("target_vs", i, fname) for i, fname in enumerate(names)]
    jobs.append(ChartJob("minmax", None, "minmax.png"))
    return jobs


class PendingCharts:
    """Charts being drawn: the file names now, the outcome when `wait` returns."""

    def __init__(self, files: list[str], drawings: list[Drawing]) -> None:
        self.files = files
        self._drawings = drawings

    def wait(self) -> ChartRender:
        """Block until every PNG is written; re-raise the first drawing error."""
        result = ChartRender(list(self.files), {}, {})
        for fname, drawing in zip(self.files, self._drawings, strict=True):
            plotted, note = drawing.result()
            result.points_plotted[fname] = plotted
            result.notes[fname] = note
        return result


def start_charts(
    data: ChartData,
    out_dir: Path,
    *,
    workers: ChartWorkers | None = None,
    max_points: int = 5000,
    seed: int = 0,
) -> PendingCharts:
    """Start drawing every chart into out_dir (on `workers`' processes, or here, now)."""
    from .workers import ChartWorkers

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = chart_input(data, max_points=max_points, seed=seed)
    jobs = chart_jobs(plan)
    root = out_dir.resolve()
    paths = []
    for job in jobs:
        path = (out_dir / job.file).resolve()
        # Belt and braces: sanitized names cannot escape, but never write outside out_dir.
        if path.parent != root:
            raise ValueError(f"chart path escapes the output directory: {job.file}")
        paths.append(path)
    drawer = workers or ChartWorkers.in_this_process()
    drawings: dict[int, Drawing] = {}
    # The slowest chart first, so that it does not start last while the other process idles.
    for i in sorted(range(len(jobs)), key=lambda i: jobs[i].chart not in _SLOWEST):
        drawings[i] = drawer.draw(jobs[i].chart, plan, jobs[i].index, paths[i])
    return PendingCharts([job.file for job in jobs], [drawings[i] for i in range(len(jobs))])


def render_charts_detailed(
    data: ChartData,
    out_dir: Path,
    *,
    workers: ChartWorkers | None = None,
    max_points: int = 5000,
    seed: int = 0,
) -> ChartRender:
    """Write every chart into out_dir; return names, points plotted and notes per chart."""
    return start_charts(data, out_dir, workers=workers, max_points=max_points, seed=seed).wait()


def render_charts(
    data: ChartData,
    out_dir: Path,
    *,
    workers: ChartWorkers | None = None,
    max_points: int = 5000,
    seed: int = 0,
) -> list[str]:
    """Write the charts as PNGs into out_dir and return their file names in a stable order.

    Order: actual_vs_predicted, residuals_vs_fitted, qq_plot, coefficients, importance,
    correlation_heatmap, target_vs_<predictor> per top predictor, minmax. Scatter charts plot
    at most max_points rows (random sample with `seed`), noted on the chart.
    """
    return render_charts_detailed(
        data, out_dir, workers=workers, max_points=max_points, seed=seed
    ).files


__all__ = [
    "MAX_BARS",
    "ChartData",
    "ChartJob",
    "ChartRender",
    "PendingCharts",
    "PointSample",
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
