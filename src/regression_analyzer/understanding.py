"""Deterministic heuristics: what each column is, which one is the target, which predict it."""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd

from .errors import ColumnNotFoundError, EmptyTableError, TargetNotUsableError

ColumnRole = Literal["numeric", "binary", "categorical", "date", "id", "constant", "text"]

MAX_CATEGORY_LEVELS = 20
MAX_CATEGORY_SHARE = 0.05
MAX_CATEGORY_LEVELS_BY_SHARE = 100
TEXT_MEAN_LENGTH = 30

# Outcome-sounding name tokens, strongest first: the earliest match wins.
OUTCOME_WORDS = (
    "target", "y", "outcome", "label", "response", "dependent", "churn", "churned",
    "converted", "conversion", "default", "revenue", "sales", "profit", "income", "turnover",
    "price", "cost", "amount", "total", "score", "result", "value",
)  # fmt: skip
_ID_NAME = re.compile(
    r"^(?:id|ID|Id|uuid|UUID|guid|GUID|key"
    r"|.*[_ \-.](?:id|ID|Id|uuid|UUID|key)"  # order_id, customer-uuid
    r"|.*[a-z](?:Id|ID|Uuid|UUID))$"  # customerId, orderID; not VALID or PAID
)


def is_number_column(values: pd.Series) -> bool:
    """Whether a column holds numbers (booleans are numeric to pandas, but not here)."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _is_integer_like(values: pd.Series) -> bool:
    if not is_number_column(values):
        return False
    return bool(((values % 1) == 0).all())


def _is_stringy(column: pd.Series) -> bool:
    return column.dtype == object or isinstance(column.dtype, pd.StringDtype)


def _normalised_levels(values: pd.Series) -> int:
    """Distinct values ignoring case and surrounding spaces ("Yes", "yes " are one level)."""
    return values.astype(str).str.strip().str.lower().nunique()


def _numeric_role(name: str, values: pd.Series) -> ColumnRole:
    """Role of a numeric column, avoiding a distinct count on every row where it can.

    Counting distinct values of a million floats costs far more than the rest of the
    classification, so cheap tests on a prefix rule out binary and ID columns first.
    """
    if values.empty or values.min() == values.max():
        return "constant"
    if values.iloc[:1000].nunique() <= 2 and values.nunique() == 2:
        return "binary"
    if _ID_NAME.match(name.strip()):
        return "id"
    rows = len(values)
    # A consecutive run of unique integers (1..n, 1001..1200) counts rows, it measures
    # nothing; years (1800-2200) are left numeric because they are a real time trend.
    if rows >= 10 and _is_integer_like(values.iloc[:1000]) and _is_integer_like(values):
        low, high = values.min(), values.max()
        consecutive = high - low + 1 == rows
        years = low >= 1800 and high <= 2200
        if consecutive and not years and values.nunique() == rows:
            return "id"
    return "numeric"


def _role_of(name: str, column: pd.Series) -> ColumnRole:
    values = column.dropna()
    if is_number_column(column):
        return _numeric_role(name, values)
    distinct = values.nunique()
    if distinct <= 1:
        return "constant"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "date"
    if distinct == 2 or (_is_stringy(column) and _normalised_levels(values) == 2):
        return "binary"
    if _ID_NAME.match(name.strip()):
        return "id"
    rows = len(values)
    if distinct <= MAX_CATEGORY_LEVELS or (
        distinct <= MAX_CATEGORY_SHARE * rows and distinct <= MAX_CATEGORY_LEVELS_BY_SHARE
    ):
        return "categorical"
    text = values.astype(str)
    if distinct == rows and text.str.len().mean() < TEXT_MEAN_LENGTH:
        return "id"
    return "text"


def classify_columns(frame: pd.DataFrame) -> dict[str, ColumnRole]:
    """Role of every column, in column order.

    constant: at most one distinct non-null value; date: datetime dtype; binary: exactly two
    distinct values; id: a name like id/*_id/uuid, a consecutive run of unique integers, or
    unique short strings; numeric: other numbers; categorical: strings with at most 20 levels
    (or at most 5% of rows and 100 levels); text: other strings.
    """
    return {str(name): _role_of(str(name), frame[name]) for name in frame.columns}


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)  # camelCase -> camel Case
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def choose_target(frame: pd.DataFrame, roles: dict[str, ColumnRole]) -> tuple[str, str]:
    """Pick the column to explain and say why.

    Only numeric or binary columns qualify (never id, date, constant, text or categorical).
    A column whose name contains an outcome word (OUTCOME_WORDS, strongest first) wins;
    otherwise the last numeric column, otherwise the last binary one.
    """
    if frame.empty or not roles:
        raise EmptyTableError("The table has no data to choose a target from")
    usable = [n for n in frame.columns if roles.get(str(n)) in ("numeric", "binary")]
    if not usable:
        raise TargetNotUsableError(
            "No numeric or yes/no column could be the target; add one or name it with --target"
        )
    for word in OUTCOME_WORDS:
        for name in reversed(usable):
            if word in _tokens(str(name)):
                return str(name), f"its name suggests an outcome ({word!r})"
    numeric = [n for n in usable if roles[str(n)] == "numeric"]
    if numeric:
        return str(numeric[-1]), "no outcome-like name; the last numeric column"
    return str(usable[-1]), "no outcome-like name or numeric column; the last yes/no column"


def default_features(frame: pd.DataFrame, roles: dict[str, ColumnRole], target: str) -> list[str]:
    """Usable predictors in column order: numeric, binary, categorical and date columns.

    id, constant and text columns are left out (the design step warns about them).
    """
    keep = ("numeric", "binary", "categorical", "date")
    return [str(n) for n in frame.columns if str(n) != target and roles.get(str(n)) in keep]


def validate_target(
    frame: pd.DataFrame, roles: dict[str, ColumnRole], target: str, named_by_user: bool = False
) -> None:
    """Raise ColumnNotFoundError if target is missing, TargetNotUsableError if unusable.

    A numeric column the user named is usable even when it looks like an identifier: only
    the tool's own picks are held to the heuristics.
    """
    names = [str(n) for n in frame.columns]
    if target not in names:
        shown = ", ".join(names[:15]) + (f", … ({len(names) - 15} more)" if len(names) > 15 else "")
        raise ColumnNotFoundError(f"Target column {target!r} not found; available: {shown}")
    role = roles.get(target) or classify_columns(frame[[target]])[target]
    if role == "constant":
        raise TargetNotUsableError(
            f"Target {target!r} has at most one distinct value; choose a column that varies"
        )
    if named_by_user and role == "id" and pd.api.types.is_numeric_dtype(frame[target]):
        return
    if role not in ("numeric", "binary"):
        raise TargetNotUsableError(
            f"Target {target!r} is {role}, not numeric or yes/no; choose another column"
        )
