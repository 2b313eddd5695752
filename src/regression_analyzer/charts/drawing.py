"""Drawing the charts as PNGs: matplotlib, Agg, object-oriented API only.

Imported only where charts are drawn (the chart stage, or a ChartWorkers process that loads it
while the table is still being read), never at start-up. No pyplot: every chart is a private
`Figure` on its own `FigureCanvasAgg`, so drawing holds no global state.

Layout is computed, not searched: constrained layout measured every tick label of every chart
and cost as much as drawing it. Here the margins come from the few labels that can be long
(bar names, heatmap columns), measured once with the renderer's own font metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from .input import ChartInput, Points, PredictorPoints, truncate

FIGSIZE = (8.0, 5.0)
DPI = 110
HEATMAP_LABEL_WIDTH = 20
ANNOTATE_HEATMAP_UP_TO = 12

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

_PX_PER_PT = DPI / 72
_WIDTH_PX, _HEIGHT_PX = FIGSIZE[0] * DPI, FIGSIZE[1] * DPI
# Room, in pixels, for what sits outside the axes on every chart: the title above; tick marks
# and labels, the axis label and the note below; the axis label and tick labels on the left.
_TITLE_PX = 2.2 * 12 * _PX_PER_PT
_TICKS_PX = 1.6 * 9 * _PX_PER_PT + 7 * _PX_PER_PT
_AXIS_LABEL_PX = 1.5 * 10 * _PX_PER_PT
_NOTE_PX = 1.6 * 8 * _PX_PER_PT
_EDGE_PX = 8.0


# --- figure plumbing -------------------------------------------------------------------------


def _new_figure() -> tuple[Figure, Axes]:
    """A figure with one axes, margins for short numeric tick labels (scatter charts)."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _set_margins(fig, left_px=0.0)
    return fig, ax


def _text_width_px(fig: Figure, labels: Sequence[str], size: object) -> float:
    """Width of the widest label as the Agg renderer will draw it."""
    if not labels:
        return 0.0
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg has one
    prop = FontProperties(size=size)  # type: ignore[arg-type]
    lines = [line for label in labels for line in label.split("\n")]
    return float(
        max(renderer.get_text_width_height_descent(s, prop, ismath=False)[0] for s in lines)
    )


def _set_margins(
    fig: Figure,
    *,
    left_px: float,
    bottom_px: float = 0.0,
    right: float = 0.97,
    has_xlabel: bool = True,
) -> None:
    """Place the axes: room for long y labels (left_px) or long x labels (bottom_px)."""
    numeric_tick_px = 6 * 9 * _PX_PER_PT * 0.6  # "-1,000" at 9 pt
    left = _EDGE_PX + _AXIS_LABEL_PX + max(left_px, numeric_tick_px) + 5 * _PX_PER_PT
    bottom = _EDGE_PX + _NOTE_PX + (_AXIS_LABEL_PX if has_xlabel else 0.0)
    bottom += max(bottom_px + 5 * _PX_PER_PT, _TICKS_PX)
    fig.subplots_adjust(
        left=min(left / _WIDTH_PX, 0.5),
        right=right,
        top=1 - _TITLE_PX / _HEIGHT_PX,
        bottom=min(bottom / _HEIGHT_PX, 0.5),
    )


def _style(ax: Axes, title: str, xlabel: str, ylabel: str, grid: bool = True) -> None:
    text = truncate(title, 90)
    # An explicit y turns off matplotlib's search for top-axis labels to dodge; these
    # charts have none, and that search measured every tick label again.
    ax.set_title(text, fontsize=STYLE["title_size"], y=1.0, x=_title_x(ax, text))
    ax.set_xlabel(xlabel, fontsize=STYLE["label_size"])
    ax.set_ylabel(ylabel, fontsize=STYLE["label_size"])
    ax.tick_params(labelsize=STYLE["tick_size"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid:
        ax.grid(True, color=STYLE["grid_color"], linewidth=0.6)
        ax.set_axisbelow(True)


def _title_x(ax: Axes, title: str) -> float:
    """Where to centre the title (axes fraction): over the axes, unless that would push it
    past an edge of the figure (long titles over axes shifted right by long bar labels)."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    box = ax.get_position()
    half = _text_width_px(fig, [title], STYLE["title_size"]) / 2
    centre = (box.x0 + box.width / 2) * _WIDTH_PX
    centre = min(max(centre, _EDGE_PX + half), _WIDTH_PX - _EDGE_PX - half)
    return float((centre / _WIDTH_PX - box.x0) / box.width)


def _note(fig: Figure, text: str) -> None:
    # The margins reserve a strip at the bottom edge for the note, below the axis label.
    if text:
        fig.supxlabel(
            text, x=0.99, y=0.01, ha="right", va="bottom",
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
    # zlib level 1: these flat-colour charts compress almost as well, in a fraction of the
    # time that the default level 6 spends. No pyplot registry holds the figure: it is freed
    # with its last reference.
    fig.savefig(path, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})


def _scatter(ax: Axes, points: Points, color: str | None = None, alpha: float | None = None) -> int:
    keep = np.isfinite(points.x) & np.isfinite(points.y)
    x, y = points.x[keep], points.y[keep]
    if alpha is None:
        # Fainter points when there are many, so density stays visible.
        alpha = 0.8 if len(x) < 500 else 0.35 if len(x) < 3000 else 0.2
    # Markers on a line artist, not ax.scatter: Agg stamps one cached marker per point
    # instead of transforming a path per point. Same look: 8 pt^2 discs, no edge.
    ax.plot(x, y, linestyle="none", marker="o", markersize=math.sqrt(8), markeredgewidth=0,
            alpha=alpha, color=color or STYLE["point_color"])  # fmt: skip
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


def _finite_range(v: np.ndarray) -> tuple[float, float]:
    v = v[np.isfinite(v)]
    return (0.0, 1.0) if len(v) == 0 else (float(v.min()), float(v.max()))


# --- the charts ------------------------------------------------------------------------------


def _actual_vs_predicted(c: ChartInput, _: int | None) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    if c.kind == "logit":
        colors = (STYLE["point_color"], STYLE["accent_color"])
        for hist, color in zip(c.class_histograms, colors, strict=False):
            ax.stairs(hist.share, c.histogram_bins, color=color, linewidth=1.8,
                      label=f"{truncate(hist.label)} (n={hist.rows:,})")  # fmt: skip
        ax.axvline(0.5, color="#888888", linestyle="--", linewidth=1, label="0.5 cut-off")
        ax.legend(fontsize=STYLE["note_size"], loc="upper center", framealpha=0.9,
                  edgecolor="#cccccc")  # fmt: skip
        _note(fig, f"histograms of all {c.rows:,} rows, each class scaled to sum to 1")
        _style(ax, f"Predicted probability of {c.target} by actual class",
               "predicted probability", "share of rows in class")  # fmt: skip
        return fig, 0
    points = c.fitted_vs_actual
    n = _scatter(ax, points)
    lo, hi = _finite_range(np.concatenate([points.x, points.y]))
    ax.plot([lo, hi], [lo, hi], color=STYLE["accent_color"], linewidth=1, label="y = x")
    ax.legend(fontsize=STYLE["note_size"], frameon=False, loc="upper left")
    _style(ax, f"Actual vs predicted {c.target}", f"predicted {truncate(c.target)}",
           f"actual {truncate(c.target)}")  # fmt: skip
    _note(fig, points.note)
    return fig, n


def _residual_words(c: ChartInput) -> tuple[str, str]:
    if c.kind == "logit":
        return "deviance residuals", "deviance residual"
    return "residuals", "residual (actual − predicted)"


def _residuals_vs_fitted(c: ChartInput, _: int | None) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    kind, label = _residual_words(c)
    points = c.residuals_vs_fitted
    n = _scatter(ax, points)
    ax.axhline(0, color=STYLE["accent_color"], linewidth=1)
    _binned_mean(ax, points.x, points.y)
    xl = "predicted probability" if c.kind == "logit" else f"predicted {truncate(c.target)}"
    _style(ax, f"{kind.capitalize()} vs fitted: {c.target}", xl, label)
    _note(fig, points.note)
    return fig, n


def _qq_plot(c: ChartInput, _: int | None) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    kind, label = _residual_words(c)
    title = f"Normal Q-Q plot of {kind}: {c.target}"
    if c.qq is None:
        return _empty(fig, ax, title, "too few distinct residuals for a Q-Q plot")
    # Q-Q points lie on a curve, not a cloud: keep them opaque so sparse tails stay visible.
    n = _scatter(ax, c.qq, alpha=0.7)
    lo, hi = float(c.qq.x[0]), float(c.qq.x[-1])
    ax.plot([lo, hi], [lo, hi], color=STYLE["accent_color"], linewidth=1, label="normal")
    ax.legend(fontsize=STYLE["note_size"], frameon=False, loc="upper left")
    _style(ax, title, "theoretical normal quantile", f"standardized {label}")
    _note(fig, c.qq.note)
    return fig, n


def _bar_rows(ax: Axes, count: int) -> None:
    ax.set_ylim(-0.7, count - 0.3)
    ax.invert_yaxis()


def _bar_labels(fig: Figure, ax: Axes, names: Sequence[str], *, has_xlabel: bool = True) -> None:
    """Name each bar on the y axis and make room for the longest name."""
    labels = [truncate(name) for name in names]
    ax.set_yticks(np.arange(len(labels)), labels)
    _set_margins(
        fig, left_px=_text_width_px(fig, labels, STYLE["tick_size"]), has_xlabel=has_xlabel
    )


def _coefficients(c: ChartInput, _: int | None) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    rows = c.coefficients
    title = f"Coefficients with 95% CI: {c.target}"
    if c.kind == "logit":
        title = f"Coefficients (log-odds) with 95% CI: {c.target}"
    if not rows:
        return _empty(fig, ax, title, "no coefficients besides the intercept")
    pos = np.arange(len(rows))
    est = np.array([r[1] for r in rows], float)
    lo = np.array([r[2] for r in rows], float)
    hi = np.array([r[3] for r in rows], float)
    err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
    err = np.where(np.isfinite(err), err, 0)
    ax.errorbar(est, pos, xerr=err, fmt="o", color=STYLE["point_color"], ecolor="#7f7f7f",
                capsize=3, markersize=5)  # fmt: skip
    ax.axvline(0, color=STYLE["accent_color"], linewidth=1)
    _bar_labels(fig, ax, [r[0] for r in rows])
    _bar_rows(ax, len(rows))
    _style(ax, title, "estimate" if c.kind == "ols" else "estimate (log-odds)", "")
    _note(fig, c.coefficients_note)
    return fig, 0


def _importance(c: ChartInput, _: int | None) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    rows = c.importance
    method = f" ({c.importance_method})" if c.importance_method else ""
    title = f"Predictor importance for {c.target}"
    if not rows:
        return _empty(fig, ax, title, "no importance measured")
    ax.barh(np.arange(len(rows)), [v for _, v in rows], color=STYLE["point_color"], height=0.6)
    _bar_labels(fig, ax, [name for name, _ in rows])
    _bar_rows(ax, len(rows))
    _style(ax, title, truncate(f"importance{method}", 100), "")
    _note(fig, c.importance_note)
    return fig, 0


def _correlation_heatmap(c: ChartInput, _: int | None) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    title = f"Correlation of numeric columns (target: {c.target})"
    if c.heatmap is None:
        return _empty(fig, ax, title, "fewer than two numeric columns: no correlations to show")
    m = c.heatmap.matrix
    labels = [truncate(name, HEATMAP_LABEL_WIDTH) for name in c.heatmap.columns]
    widest = _text_width_px(fig, labels, STYLE["tick_size"])
    # x labels are turned 45 degrees: their height is the widest label's diagonal.
    _set_margins(fig, left_px=widest, bottom_px=widest * math.sqrt(0.5), right=0.99,
                 has_xlabel=False)  # fmt: skip
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(labels)), labels)
    if len(labels) <= ANNOTATE_HEATMAP_UP_TO:
        for i in range(len(labels)):
            for j in range(len(labels)):
                v = m[i, j]
                # Round tiny values to 0 first so the heatmap never shows "-0.00".
                text = "–" if not np.isfinite(v) else f"{(0.0 if abs(v) < 0.005 else v):.2f}"
                color = "white" if np.isfinite(v) and abs(v) > 0.6 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=STYLE["note_size"],
                        color=color)  # fmt: skip
    fig.colorbar(im, ax=ax, shrink=0.85).ax.tick_params(labelsize=STYLE["tick_size"])
    _style(ax, title, "", "", grid=False)
    _note(fig, c.heatmap.note)
    return fig, 0


def _target_vs(c: ChartInput, index: int | None) -> tuple[Figure, int]:
    item: PredictorPoints = c.predictors[index or 0]
    fig, ax = _new_figure()
    points = item.points
    if c.kind == "logit":
        # Jitter 0/1 outcomes vertically so overlapping points stay visible.
        rng = np.random.default_rng(c.seed)
        jitter = rng.uniform(-0.04, 0.04, len(points.y))
        points = Points(points.x, points.y + jitter, points.note)
    n = _scatter(ax, points)
    fit_label = "model: predicted probability" if c.kind == "logit" else "model fit"
    ax.plot(item.line_x, item.line_y, color=STYLE["accent_color"], linewidth=2,
            label=f"{fit_label} (others at their means)")  # fmt: skip
    # "best" finds the emptiest spot; the frame keeps it legible if it touches points.
    ax.legend(fontsize=STYLE["note_size"], loc="best", framealpha=0.85, edgecolor="#cccccc")
    ylabel = f"{truncate(c.target)} (0/1, jittered)" if c.kind == "logit" else truncate(c.target)
    _style(ax, f"{truncate(c.target, 40)} vs {truncate(item.name, 40)}", truncate(item.name),
           ylabel)  # fmt: skip
    _note(fig, points.note)
    return fig, n


def _minmax(c: ChartInput, _: int | None) -> tuple[Figure, int]:
    fig, ax = _new_figure()
    rows = c.ranges
    title = f"Range of numeric columns (target: {c.target})"
    if not rows:
        return _empty(fig, ax, title, "no numeric columns")
    # Columns have unrelated scales, so each is drawn on its own 0..1 range with the real
    # min and max printed at the ends; the mean marker shows skew within the range.
    pos = np.arange(len(rows))
    ax.hlines(pos, 0, 1, color="#9ecae1", linewidth=6)
    for i, (_name, lo, hi, mean) in enumerate(rows):
        ax.text(-0.02, i, _short(lo), ha="right", va="center", fontsize=STYLE["note_size"])
        ax.text(1.02, i, _short(hi), ha="left", va="center", fontsize=STYLE["note_size"])
        if mean is not None and np.isfinite(mean) and hi > lo:
            ax.plot((mean - lo) / (hi - lo), i, "D", color=STYLE["accent_color"],
                    markersize=5, label="mean" if i == 0 else None)  # fmt: skip
    ax.set_xlim(-0.25, 1.25)
    ax.set_xticks([0, 1], ["min", "max"])
    _bar_labels(fig, ax, [r[0] for r in rows])
    _bar_rows(ax, len(rows))
    if any(r[3] is not None for r in rows):
        ax.legend(fontsize=STYLE["note_size"], frameon=False, loc="lower right")
    _style(ax, title, "each column on its own scale", "", grid=False)
    _note(fig, c.ranges_note)
    return fig, 0


def _short(v: float) -> str:
    return f"{v:.3g}" if v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e5) else f"{v:,.4g}"


_CHARTS: dict[str, Callable[[ChartInput, int | None], tuple[Figure, int]]] = {
    "actual_vs_predicted": _actual_vs_predicted,
    "residuals_vs_fitted": _residuals_vs_fitted,
    "qq_plot": _qq_plot,
    "coefficients": _coefficients,
    "importance": _importance,
    "correlation_heatmap": _correlation_heatmap,
    "target_vs": _target_vs,
    "minmax": _minmax,
}


def draw_chart(chart: str, data: ChartInput, index: int | None, path: str) -> tuple[int, str]:
    """Draw one chart (a name in _CHARTS) into path; return points plotted, note."""
    fig, plotted = _CHARTS[chart](data, index)
    note = fig.get_supxlabel()
    _save(fig, Path(path))
    return plotted, note
