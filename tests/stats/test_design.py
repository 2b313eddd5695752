"""build_design: dummies, dates, dropped columns, collinearity, deletion, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from regression_analyzer.errors import (
    ColumnNotFoundError,
    InputError,
    TargetNotUsableError,
    TooFewRowsError,
)
from regression_analyzer.stats.design import build_design


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = np.array(
        ["north"] * (n // 2) + ["south"] * (n // 3) + ["west"] * (n - n // 2 - n // 3)
    )
    return pd.DataFrame(
        {
            "order_id": np.arange(n),
            "x": rng.normal(size=n),
            "region": region,
            "when": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
            "flat": 7.0,
            "y": rng.normal(size=n),
        }
    )


ROLES = {
    "order_id": "id",
    "x": "numeric",
    "region": "categorical",
    "when": "date",
    "flat": "constant",
    "y": "numeric",
}


def test_dummies_against_most_frequent_level() -> None:
    d = build_design(_frame(), "y", ["x", "region"], ROLES)
    assert d.reference_levels == {"region": "north"}
    assert list(d.X.columns) == ["x", "region[T.south]", "region[T.west]"]
    assert d.X["region[T.south]"].sum() == 20
    assert d.groups["region"] == ["region[T.south]", "region[T.west]"]


def test_dates_become_days_since_first() -> None:
    d = build_design(_frame(), "y", ["x", "when"], ROLES)
    np.testing.assert_array_equal(d.X["when"].to_numpy(), np.arange(60, dtype=float))
    assert any("when" in w and "days" in w for w in d.warnings)


def test_id_and_constant_dropped_with_warning() -> None:
    d = build_design(_frame(), "y", None, ROLES)
    names = {c.name for c in d.dropped}
    assert {"order_id", "flat"} <= names
    assert "order_id" not in d.X.columns and "flat" not in d.X.columns
    assert "order_id" not in d.features


def test_collinear_column_dropped_naming_partner() -> None:
    f = _frame()
    f["x2"] = 3 * f["x"] - 1
    d = build_design(f, "y", ["x", "x2"], ROLES)
    assert list(d.X.columns) == ["x"]
    assert any("x2" in w and "collinear" in w and "'x'" not in w and "x" in w for w in d.warnings)
    assert [c.name for c in d.dropped] == ["x2"]


def test_ill_conditioned_polynomial_is_not_called_collinear() -> None:
    x = np.linspace(-8.8, -3.1, 82)
    f = pd.DataFrame({f"x{k}": x**k for k in range(1, 11)})
    f["y"] = np.sin(x)
    d = build_design(f, "y", None, {})
    assert d.X.shape[1] == 10


def test_listwise_deletion_keeps_original_row_positions() -> None:
    f = _frame()
    f.loc[[3, 10], "x"] = np.nan
    f.index = f.index + 100  # a non-default index must not leak into row positions
    d = build_design(f, "y", ["x"], ROLES)
    assert d.rows_dropped == 2
    assert 3 not in d.X.index and 10 not in d.X.index and 4 in d.X.index
    assert len(d.y) == 58


def test_binary_target_is_logit_with_the_event_coded_1() -> None:
    f = _frame()
    f["churn"] = np.where(f["x"] > 0, "yes", "no")
    d = build_design(f, "churn", ["region"], ROLES)
    assert d.kind == "logit" and d.coding is not None and d.coding.event == "yes"
    np.testing.assert_array_equal(d.y.to_numpy(), (f["x"] > 0).astype(float).to_numpy())


def test_errors() -> None:
    f = _frame()
    with pytest.raises(ColumnNotFoundError):
        build_design(f, "nope", None, ROLES)
    with pytest.raises(ColumnNotFoundError):
        build_design(f, "y", ["x", "nope"], ROLES)
    with pytest.raises(TargetNotUsableError):
        build_design(f, "flat", ["x"], ROLES)
    with pytest.raises(TargetNotUsableError):
        build_design(f, "region", ["x"], ROLES)
    with pytest.raises(InputError, match="No usable predictor"):
        build_design(f, "y", ["order_id", "flat"], ROLES)
    with pytest.raises(TooFewRowsError):
        build_design(f.head(3), "y", ["x", "when"], ROLES)
