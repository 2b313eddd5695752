"""Chart input with known structure, without running an analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd

from regression_analyzer.charts.plan import ChartData


def make_data(
    kind: str = "ols",
    n: int = 300,
    names: tuple[str, ...] = ("ad_spend", "price"),
    n_coefs: int | None = None,
    seed: int = 0,
) -> ChartData:
    """A small synthetic fit with known structure, in ChartData form."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(names)))
    eta = 1.0 + X @ np.arange(1, len(names) + 1, dtype=float)
    if kind == "logit":
        fitted = 1 / (1 + np.exp(-eta))
        y = (rng.uniform(size=n) < fitted).astype(float)
    else:
        fitted = eta
        y = eta + rng.normal(size=n)
    coef_names = list(names) if n_coefs is None else [f"c{i}" for i in range(n_coefs)]
    coefs = [("Intercept", 1.0, 0.5, 1.5)] + [
        (c, float(i + 1), float(i + 1) - 0.5, float(i + 1) + 0.5) for i, c in enumerate(coef_names)
    ]
    frame = pd.DataFrame(X, columns=list(names)).assign(target=y)
    top = []
    for i, name in enumerate(names):
        line_x = np.linspace(X[:, i].min(), X[:, i].max(), 50)
        top.append((name, X[:, i], y, line_x, 1.0 + (i + 1) * line_x))
    return ChartData(
        target="target",
        kind=kind,  # type: ignore[arg-type]
        y=y,
        fitted=fitted,
        residuals=y - fitted,
        coefficients=coefs,
        importance=[(c, float(i)) for i, c in enumerate(coef_names)],
        importance_method="drop-column change in R²",
        correlation=frame.corr(),
        top_predictors=top,
        minmax=[
            (c, float(frame[c].min()), float(frame[c].max()), float(frame[c].mean()))
            for c in frame.columns
        ],
    )
