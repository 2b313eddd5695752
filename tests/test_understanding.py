"""understanding.py: column roles, target choice, predictors, target validation, yes/no mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regression_analyzer.errors import (
    ColumnNotFoundError,
    EmptyTableError,
    TargetNotUsableError,
)
from regression_analyzer.loading import load_table
from regression_analyzer.understanding import (
    choose_target,
    classify_columns,
    default_features,
    validate_target,
)

ROWS = 100


@pytest.fixture
def table(tmp_path: Path) -> pd.DataFrame:
    """A mixed table written to disk and read back, so roles see loader dtypes."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(1, ROWS + 1),
            "customer_uuid": [f"u-{i:04x}" for i in rng.permutation(ROWS)],
            "row_number": np.arange(501, 501 + ROWS),
            "day": pd.date_range("2023-01-01", periods=ROWS).strftime("%Y-%m-%d"),
            "region": rng.choice(["north", "south", "east"], ROWS),
            "promo": rng.choice(["yes", "no"], ROWS),
            "flag01": rng.integers(0, 2, ROWS),
            "channel": "web",
            "comment": [f"customer said thing number {i} about the product" for i in range(ROWS)],
            "ad_spend": rng.uniform(0, 100, ROWS).round(2),
            "price": rng.uniform(5, 20, ROWS).round(2),
            "revenue": rng.normal(500, 50, ROWS).round(2),
        }
    )
    frame.loc[3, "comment"] = frame.loc[4, "comment"]  # text need not be unique
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return load_table(path).frame


def test_classify_columns(table: pd.DataFrame) -> None:
    roles = classify_columns(table)
    assert roles == {
        "order_id": "id",
        "customer_uuid": "id",
        "row_number": "id",
        "day": "date",
        "region": "categorical",
        "promo": "binary",
        "flag01": "binary",
        "channel": "constant",
        "comment": "text",
        "ad_spend": "numeric",
        "price": "numeric",
        "revenue": "numeric",
    }


def test_unique_strings_are_id_and_years_stay_numeric() -> None:
    frame = pd.DataFrame(
        {
            "code": [f"SKU{i:03d}" for i in range(30)],
            "year": np.arange(1990, 2020),
            "count": np.arange(30) * 7 + 3,  # unique integers but not consecutive
        }
    )
    roles = classify_columns(frame)
    assert roles == {"code": "id", "year": "numeric", "count": "numeric"}


def test_categorical_by_share_of_rows() -> None:
    levels = [f"store_{i}" for i in range(40)]
    frame = pd.DataFrame({"store": levels * 25})  # 40 levels in 1000 rows = 4%
    assert classify_columns(frame)["store"] == "categorical"


def test_choose_target_prefers_outcome_names(table: pd.DataFrame) -> None:
    roles = classify_columns(table)
    target, reason = choose_target(table, roles)
    # price also sounds like an outcome, but revenue ranks higher in OUTCOME_WORDS.
    assert target == "revenue"
    assert "revenue" in reason


def test_choose_target_falls_back_to_last_numeric() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.5, 4.0], "b": [2.0, 1.0, 0.5, 3.0], "c": list("xyzw")})
    target, reason = choose_target(frame, classify_columns(frame))
    assert target == "b"
    assert "last numeric" in reason


def test_choose_target_never_picks_id_date_or_text() -> None:
    frame = pd.DataFrame(
        {
            "sales_id": np.arange(20),
            "when": pd.date_range("2024-01-01", periods=20),
            "x": np.linspace(0, 1, 20),
        }
    )
    assert choose_target(frame, classify_columns(frame))[0] == "x"


def test_choose_target_with_nothing_usable() -> None:
    frame = pd.DataFrame({"name": [f"n{i}" for i in range(30)], "k": ["same"] * 30})
    with pytest.raises(TargetNotUsableError):
        choose_target(frame, classify_columns(frame))
    with pytest.raises(EmptyTableError):
        choose_target(pd.DataFrame(), {})


def test_binary_target_on_churn_example() -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    frame = load_table(examples / "churn.csv").frame
    roles = classify_columns(frame)
    assert choose_target(frame, roles)[0] == "churn"
    features = default_features(frame, roles, "churn")
    assert "customer_id" not in features
    assert {"tenure_months", "support_calls", "plan", "monthly_charges"} <= set(features)


def test_default_features(table: pd.DataFrame) -> None:
    roles = classify_columns(table)
    assert default_features(table, roles, "revenue") == [
        "day",
        "region",
        "promo",
        "flag01",
        "ad_spend",
        "price",
    ]


def test_validate_target_missing_column_lists_available(table: pd.DataFrame) -> None:
    roles = classify_columns(table)
    with pytest.raises(ColumnNotFoundError, match=r"'profit'.*order_id, customer_uuid"):
        validate_target(table, roles, "profit")


@pytest.mark.parametrize("column", ["region", "comment", "day", "order_id", "channel"])
def test_validate_target_rejects_unusable(table: pd.DataFrame, column: str) -> None:
    with pytest.raises(TargetNotUsableError, match=column):
        validate_target(table, classify_columns(table), column)


def test_validate_target_accepts_numeric_and_binary(table: pd.DataFrame) -> None:
    roles = classify_columns(table)
    validate_target(table, roles, "revenue")
    validate_target(table, roles, "promo")


def test_id_names() -> None:
    values = np.linspace(1.0, 9.0, 12)  # would be numeric without the name
    frame = pd.DataFrame({n: values for n in ["customerId", "orderID", "store_key", "VALID"]})
    roles = classify_columns(frame)
    assert roles == {"customerId": "id", "orderID": "id", "store_key": "id", "VALID": "numeric"}
