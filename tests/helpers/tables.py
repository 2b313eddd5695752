"""Small real tables on disk with known generating models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def write_linear_table(path: Path, rows: int = 200, seed: int = 1) -> dict[str, float]:
    """revenue = 10 + 2*ad_spend - 1.5*price + region effect + noise; returns true coefs."""
    rng = np.random.default_rng(seed)
    ad = rng.uniform(0, 100, rows)
    price = rng.uniform(5, 20, rows)
    region = rng.choice(["north", "south", "west"], rows)
    effect = pd.Series(region).map({"north": 0.0, "south": 5.0, "west": -3.0}).to_numpy()
    revenue = 10 + 2 * ad - 1.5 * price + effect + rng.normal(0, 1.0, rows)
    pd.DataFrame(
        {
            "order_id": np.arange(1, rows + 1),
            "ad_spend": ad,
            "price": price,
            "region": region,
            "revenue": revenue,
        }
    ).to_csv(path, index=False)
    return {"ad_spend": 2.0, "price": -1.5}
