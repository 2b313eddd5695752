"""Write the sample tables shipped in examples/ (deterministic: fixed seeds).

Run from the repository root: python examples/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def make_sales(rows: int = 200, seed: int = 7) -> pd.DataFrame:
    """Daily sales: revenue = 500 + 3.2*ad_spend - 12*price + region effect + noise."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "west"], rows, p=[0.3, 0.3, 0.2, 0.2])
    ad_spend = rng.gamma(4.0, 25.0, rows).round(2)
    price = rng.uniform(8, 30, rows).round(2)
    effect = pd.Series(region).map({"north": 0.0, "south": 60.0, "east": -40.0, "west": 25.0})
    revenue = 500 + 3.2 * ad_spend - 12 * price + effect.to_numpy() + rng.normal(0, 40, rows)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(1001, 1001 + rows),
            "date": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "region": region,
            "ad_spend": ad_spend,
            "price": price,
            "revenue": revenue.round(2),
        }
    )
    # A few missing values, as real exports have.
    for column, count in (("ad_spend", 6), ("price", 4), ("region", 3)):
        frame.loc[rng.choice(rows, count, replace=False), column] = None
    return frame


def make_churn(rows: int = 300, seed: int = 11) -> pd.DataFrame:
    """Customers: churn (yes/no) more likely with short tenure, many support calls, monthly plan."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    calls = rng.poisson(2.0, rows)
    plan = rng.choice(["monthly", "annual"], rows, p=[0.6, 0.4])
    charges = rng.uniform(20, 120, rows).round(2)
    eta = -0.5 - 0.05 * tenure + 0.45 * calls + 1.0 * (plan == "monthly") + 0.01 * charges
    churn = rng.uniform(size=rows) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame(
        {
            "customer_id": [f"C{n:05d}" for n in range(1, rows + 1)],
            "tenure_months": tenure,
            "support_calls": calls,
            "plan": plan,
            "monthly_charges": charges,
            "churn": np.where(churn, "yes", "no"),
        }
    )


def main() -> None:
    make_sales().to_csv(HERE / "sales.csv", index=False)
    make_churn().to_csv(HERE / "churn.csv", index=False)


if __name__ == "__main__":
    main()
