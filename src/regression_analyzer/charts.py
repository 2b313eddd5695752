"""Headless PNG charts of a fitted regression (matplotlib, Agg, object-oriented API only).

No pyplot: every chart is a private `Figure` on its own `FigureCanvasAgg`, so rendering holds no
global state and is safe in threads and worker processes. Scatter-type charts plot at most
`max_points` randomly sampled rows (deterministic seed) and say so on the chart, so drawing cost
stays flat however many rows the table has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.special import ndtri

FIGSIZE = (8.0, 5.0)
DPI = 110
MAX_BARS = 25
MAX_HEATMAP_COLUMNS = 20
ANNOTATE_HEATMAP_UP_TO = 12
LABEL_WIDTH = 32

# One style for every chart, applied explicitly per artist (rc_context would mutate the global
# rcParams, which is not thread-safe).
STYLE: dict[str, object] = {
    "title_size": 12,
    "label_size": 10,
    "tick_size": 9,
    "note_size": 8,
    "point_color": "#1f77b4",
    "accent_color": "#d62728",
    "second_color": "#ff7f0e",
    "grid_color": "#dddddd",
    "note_color": "#555555",
}


# (name, x, y, line_x, line_y) of one predictor, and (column, min, max[, mean]) of one column.
PredictorLine = tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
MinMaxBar = tuple[str, float, float] | tuple[str, float, float, float]
CoefficientBar = tuple[str, float, float, float]


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


def truncate(label: str, width: int = LABEL_WIDTH) -> str:
    """Shorten a long label to width characters with an ellipsis."""
    label = str(label)
    return label if len(label) <= width else label[: width - 1] + "…"


# --- figure plumbing -------------------------------------------------------------------------


def _new_figure(fixed_margins: bool = False) -> tuple[Figure, Axes]:
    """A figure with one axes.

    Constrained layout measures every label to fit long tick labels (coefficient names,
    heatmap columns) and costs about as much as drawing the chart. Scatter charts have short
    numeric tick labels, so they take fixed margins that leave room for the sampling note.
    """
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout=None if fixed_margins else "constrained")
    if fixed_margins:
        fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.15)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _style(ax: Axes, title: str, xlabel: str, ylabel: str, grid: bool = True) -> None:
    ax.set_title(truncate(title, 90), fontsize=STYLE["title_size"])
    ax.set_xlabel(xlabel, fontsize=STYLE["label_size"])
    ax.set_ylabel(ylabel, fontsize=STYLE["label_size"])
    ax.tick_params(labelsize=STYLE["tick_size"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid:
        ax.grid(True, color=STYLE["grid_color"], linewidth=0.6)
        ax.set_axisbelow(True)


def _note(fig: Figure, text: str) -> None:
    # supxlabel, not fig.text: constrained layout reserves room for it below the tick labels,
    # so the note never overlaps the axis label (a free fig.text did on tall tick labels).
    if text:
        fig.supxlabel(
            text, x=0.99, ha="right",
            fontsize=STYLE["note_size"], color=STYLE["note_color"], style="italic",
        )  # fmt: skip


def _empty(fig: Figure, ax: Axes, title: str, message: str) -> tuple[Figure, int]:
    """A chart with nothing to plot: the title and a centred message saying why."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            fontsize=STYLE["label_size"], color=STYLE["note_color"])  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    _style(ax, title, "", "", grid=False)
    return fig, 0


def _save(fig: Figure, path: Path) -> None:
    try:
        # zlib level 1: these flat-colour charts compress almost as well, in a fraction
        # of the time that the default level 6 spends.
        fig.savefig(path, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    finally:
        # No pyplot registry holds the figure; clearing frees the artists right away.
        fig.clear()


def _scatter(
    ax: Axes, x: np.ndarray, y: np.ndarray, color: str | None = None, alpha: float | None = None
) -> int:
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if alpha is None:
        # Fainter points when there are many, so density stays visible.
        alpha = 0.8 if len(x) < 500 else 0.35 if len(x) < 3000 else 0.2
    ax.scatter(x, y, s=8, alpha=alpha, color=color or STYLE["point_color"], linewidths=0)
    return len(x)


def _binned_mean(ax: Axes, x: np.ndarray, y: np.ndarray, bins: int = 20) -> None:
    """A cheap trend line (means in quantile bins) instead of an O(n^2) lowess."""
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 2 * bins:
        return
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(which, minlength=len(edges) - 1)
    ok = counts > 0
    mx = np.bincount(which, weights=x, minlength=len(edges) - 1)[ok] / counts[ok]
    my = np.bincount(which, weights=y, minlength=len(edges) - 1)[ok] / counts[ok]
    ax.plot(mx, my, color=STYLE["second_color"], linewidth=1.5, label="binned mean")
    # Fixed corners on scatter charts: loc="best" scans every plotted point and is slow.
    ax.legend(fontsize=STYLE["note_size"], loc="upper right", frameon=False)


# --- the charts ------------------------------------------------------------------------------


def _actual_vs_predicted(data: ChartData, s: PointSample, seed: int) -> tuple[Figure, int]:
    fig, ax = _new_figure(fixed_margins=True)
    y, f = np.asarray(data.y, float), np.asarray(data.fitted, float)
    if data.kind == "logit":
        # Histograms use every row: np.histogram is O(n) and cheap, nothing is drawn per row.
        bins = np.linspace(0, 1, 26)
        cls = y > 0.5
        for mask, label, color in (
            (~cls, f"actual {data.target} = 0", STYLE["point_color"]),
            (cls, f"actual {data.target} = 1", STYLE["accent_color"]),
        ):
            vals = f[mask & np.isfinite(f)]
            counts, _ = np.histogram(vals, bins=bins)
            share = counts / max(len(vals), 1)
            ax.stairs(share, bins, label=f"{truncate(label)} (n={len(vals):,})", color=color,
                      linewidth=1.8)  # fmt: skip
        ax.axvline(0.5, color="#888888", linestyle="--", linewidth=1, label="0.5 cut-off")
        ax.legend(fontsize=STYLE["note_size"], loc="upper center", framealpha=0.9,
                  edgecolor="#cccccc")  # fmt: skip
        _note(fig, f"histograms of all {len(y):,} rows, each class scaled to sum to 1")
        _style(ax, f"Predicted probability of {data.target} by actual class",
               "predicted probability", "share of rows in class")  # fmt: skip
        return fig, 0
    n = _scatter(ax, f[s.indices], y[s.indices])
    lo, hi = _finite_range(np.concatenate([f[s.indices], y[s.indices]]))
    ax.plot([lo, hi], [lo, hi], color=STYLE["accent_color"], linewidth=1, label="y = x")
    ax.legend(fontsize=STYLE["note_size"], frameon=False, loc="upper left")
    _style(ax, f"Actual vs predicted {data.target}", f"predicted {truncate(data.target)}",
           f"actual {truncate(data.target)}")  # fmt: skip
    _note(fig, s.note)
    return fig, n


def _finite_range(v: np.ndarray) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    return (0.0, 1.0) if len(v) == 0 else (float(v.min()), float(v.max()))


def _residuals_for(data: ChartData, s: PointSample) -> tuple[np.ndarray, str]:
    label = "deviance residual" if data.kind == "logit" else "residual (actual − predicted)"
    return np.asarray(data.residuals, float)[s.indices], label


def _residuals_vs_fitted(data: ChartData, s: PointSample, seed: int) -> tuple[Figure, int]:
    fig, ax = _new_figure(fixed_margins=True)
    r, label = _residuals_for(data, s)
    f = np.asarray(data.fitted, float)[s.indices]
    n = _scatter(ax, f, r)
    ax.axhline(0, color=STYLE["accent_color"], linewidth=1)
    _binned_mean(ax, f, r)
    xl = "predicted probability" if data.kind == "logit" else f"predicted {truncate(data.target)}"
    kind = "deviance residuals" if data.kind == "logit" else "residuals"
    _style(ax, f"{kind.capitalize()} vs fitted: {data.target}", xl, label)
    _note(fig, s.note)
    return fig, n


def _qq_plot(data: ChartData, s: PointSample, seed: int) -> tuple[Figure, int]:
    fig, ax = _new_figure(fixed_margins=True)
    r, label = _residuals_for(data, s)
    r = np.sort(r[np.isfinite(r)])
    kind = "deviance residuals" if data.kind == "logit" else "residuals"
    if len(r) < 3 or np.std(r) == 0:
        title = f"Normal Q-Q plot of {kind}: {data.target}"
        return _empty(fig, ax, title, "too few distinct residuals for a Q-Q plot")
    z = (r - r.mean()) / r.std(ddof=1)
    # Blom plotting positions; the sorted sample's values are its empirical quantiles.
    theo = ndtri((np.arange(1, len(z) + 1) - 0.375) / (len(z) + 0.25))
    # Q-Q points lie on a curve, not a cloud: keep them opaque so sparse tails stay visible.
    n = _scatter(ax, theo, z, alpha=0.7)
    lo, hi = float(theo[0]), float(theo[-1])
    ax.plot([lo, hi], [lo, hi], color=STYLE["accent_color"], linewidth=1, label="normal")
    ax.legend(fontsize=STYLE["note_size"], frameon=False, loc="upper left")
    _style(ax, f"Normal Q-Q plot of {kind}: {data.target}", "theoretical normal quantile",
           f"standardized {label}")  # fmt: skip
    _note(fig, s.note + (" (quantiles of the sample)" if s.note else ""))
    return fig, n


def _bar_rows(ax: Axes, count: int) -> None:
    ax.set_ylim(-0.7, count - 0.3)
    ax.invert_yaxis()


def _coefficients(data: ChartData, s: PointSample, seed: int) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    rows = [c for c in data.coefficients if c[0] != "Intercept" and np.isfinite(c[1])]
    title = f"Coefficients with 95% CI: {data.target}"
    if data.kind == "logit":
        title = f"Coefficients (log-odds) with 95% CI: {data.target}"
    note = ""
    if len(rows) > MAX_BARS:
        # |estimate| / half-width of the CI is |t| up to a constant, so this ranks by |t|
        # without needing standard errors in ChartData.
        def score(c: CoefficientBar) -> float:
            half = (c[3] - c[2]) / 2
            return float(abs(c[1]) / half if half > 0 and np.isfinite(half) else abs(c[1]))

        note = f"showing the top {MAX_BARS} of {len(rows)} coefficients by |t|"
        rows = sorted(rows, key=score, reverse=True)[:MAX_BARS]
    if not rows:
        return _empty(fig, ax, title, "no coefficients besides the intercept")
    pos = np.arange(len(rows))
    est = np.array([c[1] for c in rows], float)
    lo = np.array([c[2] for c in rows], float)
    hi = np.array([c[3] for c in rows], float)
    err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
    err = np.where(np.isfinite(err), err, 0)
    ax.errorbar(est, pos, xerr=err, fmt="o", color=STYLE["point_color"], ecolor="#7f7f7f",
                capsize=3, markersize=5)  # fmt: skip
    ax.axvline(0, color=STYLE["accent_color"], linewidth=1)
    ax.set_yticks(pos, [truncate(c[0]) for c in rows])
    _bar_rows(ax, len(rows))
    _style(ax, title, "estimate" if data.kind == "ols" else "estimate (log-odds)", "")
    _note(fig, note)
    return fig, 0


def _importance(data: ChartData, s: PointSample, seed: int) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    rows = sorted(
        [(n, float(v)) for n, v in data.importance if np.isfinite(v)],
        key=lambda t: abs(t[1]), reverse=True,
    )  # fmt: skip
    method = f" ({data.importance_method})" if data.importance_method else ""
    title = f"Predictor importance for {data.target}"
    note = ""
    if len(rows) > MAX_BARS:
        note = f"showing the top {MAX_BARS} of {len(rows)} predictors"
        rows = rows[:MAX_BARS]
    if not rows:
        return _empty(fig, ax, title, "no importance measured")
    pos = np.arange(len(rows))
    ax.barh(pos, [v for _, v in rows], color=STYLE["point_color"], height=0.6)
    ax.set_yticks(pos, [truncate(n) for n, _ in rows])
    _bar_rows(ax, len(rows))
    _style(ax, title, truncate(f"importance{method}", 100), "")
    _note(fig, note)
    return fig, 0


def _pick_heatmap_columns(corr: pd.DataFrame, target: str) -> list[str]:
    cols = list(corr.columns)
    if len(cols) <= MAX_HEATMAP_COLUMNS:
        return cols
    if target in cols:
        # Keep the target and the columns most correlated with it: the informative part.
        others = corr[target].drop(target).abs().sort_values(ascending=False)
        return [target, *list(others.index[: MAX_HEATMAP_COLUMNS - 1])]
    return cols[:MAX_HEATMAP_COLUMNS]


def _correlation_heatmap(data: ChartData, s: PointSample, seed: int) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    corr = data.correlation
    title = f"Correlation of numeric columns (target: {data.target})"
    if corr is None or corr.shape[0] < 2 or corr.shape[1] < 2:
        return _empty(fig, ax, title, "fewer than two numeric columns: no correlations to show")
    cols = _pick_heatmap_columns(corr, data.target)
    note = ""
    if len(cols) < corr.shape[1]:
        note = f"showing {len(cols)} of {corr.shape[1]} columns (the target and its strongest)"
    m = corr.loc[cols, cols].to_numpy(dtype=float)
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    labels = [truncate(c, 20) for c in cols]
    ax.set_xticks(range(len(cols)), labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(cols)), labels)
    if len(cols) <= ANNOTATE_HEATMAP_UP_TO:
        for i in range(len(cols)):
            for j in range(len(cols)):
                v = m[i, j]
                # Round tiny values to 0 first so the heatmap never shows "-0.00".
                text = "–" if not np.isfinite(v) else f"{(0.0 if abs(v) < 0.005 else v):.2f}"
                color = "white" if np.isfinite(v) and abs(v) > 0.6 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=STYLE["note_size"],
                        color=color)  # fmt: skip
    fig.colorbar(im, ax=ax, shrink=0.85).ax.tick_params(labelsize=STYLE["tick_size"])
    _style(ax, title, "", "", grid=False)
    _note(fig, note)
    return fig, 0


def _target_vs(
    data: ChartData, s: PointSample, seed: int, item: PredictorLine
) -> tuple[Figure, int]:
    name, x, y, line_x, line_y = item
    x, y = np.asarray(x, float), np.asarray(y, float)
    # Each predictor has its own row count only in theory; sample against its own length.
    ps = s if len(x) == s.total else sample_points(len(x), max(len(s.indices), 1), seed)
    fig, ax = _new_figure(fixed_margins=True)
    xs, ys = x[ps.indices], y[ps.indices]
    if data.kind == "logit":
        # Jitter 0/1 outcomes vertically so overlapping points stay visible.
        rng = np.random.default_rng(seed)
        ys = ys + rng.uniform(-0.04, 0.04, len(ys))
    n = _scatter(ax, xs, ys)
    fit_label = "model: predicted probability" if data.kind == "logit" else "model fit"
    ax.plot(np.asarray(line_x, float), np.asarray(line_y, float), color=STYLE["accent_color"],
            linewidth=2, label=f"{fit_label} (others at their means)")  # fmt: skip
    # "best" finds the emptiest spot; the frame keeps it legible if it touches points.
    ax.legend(fontsize=STYLE["note_size"], loc="best", framealpha=0.85, edgecolor="#cccccc")
    ylabel = (
        f"{truncate(data.target)} (0/1, jittered)"
        if data.kind == "logit"
        else truncate(data.target)
    )
    _style(ax, f"{truncate(data.target, 40)} vs {truncate(name, 40)}", truncate(name), ylabel)
    _note(fig, ps.note)
    return fig, n


def _minmax(data: ChartData, s: PointSample, seed: int) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    rows = [r for r in data.minmax if len(r) >= 3 and np.isfinite(r[1]) and np.isfinite(r[2])]
    title = f"Range of numeric columns (target: {data.target})"
    note = ""
    if len(rows) > MAX_BARS:
        note = f"showing {MAX_BARS} of {len(rows)} columns"
        rows = rows[:MAX_BARS]
    if not rows:
        return _empty(fig, ax, title, "no numeric columns")
    # Columns have unrelated scales, so each is drawn on its own 0..1 range with the real
    # min and max printed at the ends; the mean marker shows skew within the range.
    pos = np.arange(len(rows))
    ax.hlines(pos, 0, 1, color="#9ecae1", linewidth=6)
    for i, r in enumerate(rows):
        lo, hi = float(r[1]), float(r[2])
        ax.text(-0.02, i, _short(lo), ha="right", va="center", fontsize=STYLE["note_size"])
        ax.text(1.02, i, _short(hi), ha="left", va="center", fontsize=STYLE["note_size"])
        if len(r) >= 4 and r[3] is not None and np.isfinite(r[3]) and hi > lo:
            ax.plot((float(r[3]) - lo) / (hi - lo), i, "D", color=STYLE["accent_color"],
                    markersize=5, label="mean" if i == 0 else None)  # fmt: skip
    ax.set_xlim(-0.25, 1.25)
    ax.set_xticks([0, 1], ["min", "max"])
    ax.set_yticks(pos, [truncate(r[0]) for r in rows])
    _bar_rows(ax, len(rows))
    if any(len(r) >= 4 for r in rows):
        ax.legend(fontsize=STYLE["note_size"], frameon=False, loc="lower right")
    _style(ax, title, "each column on its own scale", "", grid=False)
    _note(fig, note)
    return fig, 0


def _short(v: float) -> str:
    return f"{v:.3g}" if v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e5) else f"{v:,.4g}"


# --- entry points ----------------------------------------------------------------------------

_Renderer = Callable[[ChartData, PointSample, int], tuple[Figure, int]]

_FIXED_FIRST: Sequence[tuple[str, _Renderer]] = (
    ("actual_vs_predicted.png", _actual_vs_predicted),
    ("residuals_vs_fitted.png", _residuals_vs_fitted),
    ("qq_plot.png", _qq_plot),
    ("coefficients.png", _coefficients),
    ("importance.png", _importance),
    ("correlation_heatmap.png", _correlation_heatmap),
)


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


def render_charts_detailed(
    data: ChartData, out_dir: Path, *, max_points: int = 5000, seed: int = 0
) -> ChartRender:
    """Write every chart into out_dir; return names, points plotted and notes per chart."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sample = sample_points(len(np.asarray(data.fitted)), max_points, seed)
    jobs: list[tuple[str, Callable[[], tuple[Figure, int]]]] = [
        (fname, partial(fn, data, sample, seed)) for fname, fn in _FIXED_FIRST
    ]
    names = predictor_file_names([t[0] for t in data.top_predictors])
    for fname, item in zip(names, data.top_predictors, strict=True):
        jobs.append((fname, partial(_target_vs, data, sample, seed, item)))
    jobs.append(("minmax.png", partial(_minmax, data, sample, seed)))
    result = ChartRender([], {}, {})
    root = out_dir.resolve()
    for fname, job in jobs:
        path = (out_dir / fname).resolve()
        # Belt and braces: sanitized names cannot escape, but never write outside out_dir.
        if path.parent != root:
            raise ValueError(f"chart path escapes the output directory: {fname}")
        fig, plotted = job()
        note = fig.get_supxlabel()
        _save(fig, path)
        result.files.append(fname)
        result.points_plotted[fname] = plotted
        result.notes[fname] = note
    return result


def render_charts(
    data: ChartData, out_dir: Path, *, max_points: int = 5000, seed: int = 0
) -> list[str]:
    """Write the charts as PNGs into out_dir and return their file names in a stable order.

    Order: actual_vs_predicted, residuals_vs_fitted, qq_plot, coefficients, importance,
    correlation_heatmap, target_vs_<predictor> per top predictor, minmax. Scatter charts plot
    at most max_points rows (random sample with `seed`), noted on the chart.
    """
    return render_charts_detailed(data, out_dir, max_points=max_points, seed=seed).files


__all__ = [
    "ChartData",
    "ChartRender",
    "PointSample",
    "predictor_file_names",
    "render_charts",
    "render_charts_detailed",
    "safe_name",
    "sample_points",
    "truncate",
]
