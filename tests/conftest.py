"""Shared fixtures: small real tables on disk with known generating models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.tables import write_linear_table


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first. pytest-xdist's loadscope hands whole modules to the workers in this
    order: a slow module handed out last can keep one worker busy alone at the end of the
    run, the other cores idle. The order within each group stays as collected."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
