"""Shared fixtures: small real tables on disk with known generating models."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@pytest.fixture
def linear_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    write_linear_table(path)
    return path


@pytest.fixture
def binary_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(2)
    rows = 400
    tenure = rng.uniform(0, 60, rows)
    charges = rng.uniform(20, 120, rows)
    logit = 1.0 - 0.08 * tenure + 0.02 * charges
    churn = rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))
    path = tmp_path / "churn.csv"
    pd.DataFrame(
        {"tenure": tenure, "monthly_charges": charges, "churned": np.where(churn, "yes", "no")}
    ).to_csv(path, index=False)
    return path
