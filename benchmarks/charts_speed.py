"""Chart rendering time at 10k, 100k and 1M rows: it should stay flat (scatter plots are sampled).

Run by hand (never as a timed test):

    PYTHONPATH=src python benchmarks/charts_speed.py            # 10k, 100k, 1M rows
    PYTHONPATH=src python benchmarks/charts_speed.py 250000     # one size
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

# Loaded up front, as the drawing processes do, so the first size is not charged for it.
import regression_analyzer.charts.drawing  # noqa: F401
from regression_analyzer.charts.plan import ChartData, render_charts_detailed

SIZES = (10_000, 100_000, 1_000_000)
PREDICTORS = 9


def make_data(rows: int, seed: int = 0) -> ChartData:
    """A linear fit on 9 normal predictors, with 3 top-predictor charts, like the pipeline's."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, PREDICTORS))
    beta = np.linspace(-2, 2, PREDICTORS)
    fitted = 3 + X @ beta
    y = fitted + rng.normal(size=rows)
    names = [f"x{i}" for i in range(PREDICTORS)]
    frame = pd.DataFrame(X, columns=names).assign(y=y)
    top = []
    for i in range(3):
        line_x = np.linspace(X[:, i].min(), X[:, i].max(), 50)
        top.append((names[i], X[:, i], y, line_x, 3 + beta[i] * line_x))
    return ChartData(
        target="y",
        kind="ols",
        y=y,
        fitted=fitted,
        residuals=y - fitted,
        coefficients=[(n, b, b - 0.1, b + 0.1) for n, b in zip(names, beta, strict=True)],
        importance=[(n, abs(b)) for n, b in zip(names, beta, strict=True)],
        importance_method="|standardized coefficient|",
        correlation=frame.corr(),
        top_predictors=top,
        minmax=[(c, frame[c].min(), frame[c].max(), frame[c].mean()) for c in frame.columns],
    )


def main(sizes: tuple[int, ...]) -> None:
    """Print render time and points plotted per size."""
    print(f"{'rows':>10}  {'seconds':>8}  max points plotted per chart")
    for rows in sizes:
        data = make_data(rows)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            result = render_charts_detailed(data, Path(tmp))
            elapsed = time.perf_counter() - start
        print(f"{rows:>10,}  {elapsed:>8.2f}  {max(result.points_plotted.values()):,}")


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
