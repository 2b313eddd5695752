"""From a frame, a target and predictors to the model's y and X (no constant column).

Dummies against a named reference level, dates as days since the first date, ID/constant/text
and perfectly collinear columns dropped with a warning, listwise deletion of missing values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ColumnNotFoundError, InputError, TargetNotUsableError, TooFewRowsError

# Relative residual norm below which a standardized column counts as an exact linear
# combination of earlier ones. Far below what ill-conditioned but valid designs reach
# (NIST Filip's x^10 keeps ~1e-10), far above rounding noise of true duplicates (~1e-15).
COLLINEAR_TOL = 1e-12

_POSITIVE_TOKENS = ("1", "1.0", "yes", "y", "true", "t", "positive", "pos", "success")


@dataclass(frozen=True)
class DroppedColumn:
    name: str
    reason: str


@dataclass
class Design:
    y: pd.Series
    X: pd.DataFrame
    target: str
    kind: str  # "ols" | "logit"
    features: list[str]
    reference_levels: dict[str, str] = field(default_factory=dict)
    dropped: list[DroppedColumn] = field(default_factory=list)
    rows_dropped: int = 0
    warnings: list[str] = field(default_factory=list)
    # original feature -> its design columns (a categorical owns several dummies)
    groups: dict[str, list[str]] = field(default_factory=dict)
    positive_level: str | None = None  # logit: which target value is coded 1


def binary_positive_level(values: pd.Series) -> object:
    """The level of a two-valued series to code as 1 (1, True, yes, ...; else the larger)."""
    levels = list(pd.unique(values.dropna()))
    for level in levels:
        if str(level).strip().lower() in _POSITIVE_TOKENS:
            return level
    return sorted(levels, key=str)[-1]


def _distinct_up_to_three(series: pd.Series) -> int:
    """Number of distinct non-missing values, capped at 3 (min/max test: no hashing of
    millions of floats when only 'constant?' and 'binary?' matter)."""
    values = series.dropna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if values.empty:
            return 0
        lo, hi = values.min(), values.max()
        if lo == hi:
            return 1
        return 2 if bool(((values == lo) | (values == hi)).all()) else 3
    return min(3, values.nunique())


def _target(
    frame: pd.DataFrame, target: str, role: str | None
) -> tuple[pd.Series, str, str | None]:
    """Numeric target for OLS, or 0/1 (with NaN kept) for logit."""
    raw = frame[target]
    count = _distinct_up_to_three(raw)
    if count < 2:
        raise TargetNotUsableError(f"Target {target!r} is constant or empty; nothing to explain.")
    if count == 2 or role == "binary":
        if count != 2:
            raise TargetNotUsableError(f"Target {target!r} is marked binary but has >2 values.")
        positive = binary_positive_level(raw)
        y = raw.map(lambda v: np.nan if pd.isna(v) else float(v == positive))
        return y.astype(float), "logit", str(positive)
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise TargetNotUsableError(f"Target {target!r} is neither numeric nor binary.")
    return raw.astype(float), "ols", None


def _role(frame: pd.DataFrame, name: str, roles: dict[str, str]) -> str:
    role = roles.get(name)
    if role:
        return role
    series = frame[name]
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return "numeric"
    return "categorical"


def _date_column(series: pd.Series) -> pd.Series | None:
    """Days since the first date, or None if the values do not parse as dates."""
    parsed = pd.to_datetime(series, errors="coerce")
    if parsed.notna().sum() < max(2, series.notna().sum() // 2):
        return None
    return (parsed - parsed.min()).dt.total_seconds() / 86400.0


def _expand(
    frame: pd.DataFrame, features: list[str], roles: dict[str, str], design: Design
) -> tuple[dict[str, pd.Series], list[str]]:
    """Numeric columns and their names per feature, before dummies and deletion."""
    columns: dict[str, pd.Series] = {}
    kept: list[str] = []
    for name in features:
        role = _role(frame, name, roles)
        series = frame[name]
        if role in ("id", "constant", "text"):
            reason = {"id": "identifier", "constant": "constant", "text": "free text"}[role]
            design.dropped.append(DroppedColumn(name, f"{reason} column, not a predictor"))
            design.warnings.append(f"Column {name!r} dropped: {reason} column.")
            continue
        if role == "date":
            days = _date_column(series)
            if days is None:
                design.dropped.append(DroppedColumn(name, "date column that could not be parsed"))
                design.warnings.append(f"Column {name!r} dropped: dates could not be parsed.")
                continue
            design.warnings.append(f"Date column {name!r} used as days since its first date.")
            columns[name] = days
        elif role == "numeric" or (
            role == "binary"
            and pd.api.types.is_numeric_dtype(series)
            and not pd.api.types.is_bool_dtype(series)
        ):
            numeric = pd.to_numeric(series, errors="coerce")
            if numeric.notna().sum() < series.notna().sum():
                design.warnings.append(f"Non-numeric values in {name!r} treated as missing.")
            columns[name] = numeric.astype(float)
        else:  # categorical, binary non-numeric: kept as labels, expanded after deletion
            columns[name] = series.map(lambda v: v if pd.isna(v) else str(v)).astype(object)
        kept.append(name)
    return columns, kept


def _dummies(name: str, labels: pd.Series, design: Design) -> pd.DataFrame:
    counts = labels.value_counts()
    # Most frequent level is the reference; ties broken by label so the choice is stable.
    reference = sorted(counts[counts == counts.max()].index, key=str)[0]
    design.reference_levels[name] = str(reference)
    levels = sorted((lvl for lvl in counts.index if lvl != reference), key=str)
    return pd.DataFrame(
        {f"{name}[T.{lvl}]": (labels == lvl).astype(float) for lvl in levels}, index=labels.index
    )


def _collinear(X: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Columns that are exact linear combinations of earlier ones (and of the intercept).

    One Householder QR of the standardized design with a leading intercept; the small R
    factor carries everything needed, so the greedy pass runs on p x p matrices only.
    """
    values = X.to_numpy(dtype=float)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    Z = np.column_stack([np.ones(len(values)), (values - values.mean(axis=0)) / scale])
    R = np.linalg.qr(Z, mode="r")
    norms = np.linalg.norm(R, axis=0)
    kept = [0]
    found: list[tuple[str, list[str]]] = []
    for j in range(1, R.shape[1]):
        sub = R[:, [*kept, j]]
        r = np.linalg.qr(sub, mode="r")
        if abs(r[-1, -1]) > COLLINEAR_TOL * max(norms[j], 1e-300):
            kept.append(j)
            continue
        coef, *_ = np.linalg.lstsq(R[:, kept], R[:, j], rcond=None)
        partners = [
            X.columns[k - 1] for k, c in zip(kept, coef, strict=True) if k > 0 and abs(c) > 1e-8
        ]
        found.append((X.columns[j - 1], partners))
    return found


def build_design(
    frame: pd.DataFrame, target: str, features: list[str] | None, roles: dict[str, str]
) -> Design:
    """Build y and X for a regression of `target` on `features` (all other columns if None).

    Raises ColumnNotFoundError, TargetNotUsableError, TooFewRowsError, or InputError when no
    usable predictor remains.
    """
    if target not in frame.columns:
        raise ColumnNotFoundError(f"Target column {target!r} not found in the table.")
    if features is None:
        features = [c for c in frame.columns if c != target]
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise ColumnNotFoundError(
            f"Predictor column(s) not found: {', '.join(map(repr, missing))}."
        )
    features = [f for f in dict.fromkeys(features) if f != target]
    frame = frame.reset_index(drop=True)  # index = 0-based row positions from here on
    y, kind, positive = _target(frame, target, roles.get(target))
    design = Design(
        y=y,
        X=pd.DataFrame(index=frame.index),
        target=target,
        kind=kind,
        features=[],
        positive_level=positive,
    )
    if kind == "logit":
        design.warnings.append(
            f"Binary target {target!r}: logistic regression, {positive!r} coded 1."
        )
    columns, kept = _expand(frame, features, roles, design)
    if not kept:
        raise InputError(
            "No usable predictor columns: all were identifiers, constant, text or dates."
        )

    complete = y.notna()
    for series in columns.values():
        complete &= series.notna()
    design.rows_dropped = int((~complete).sum())
    if design.rows_dropped:
        design.warnings.append(f"{design.rows_dropped} rows with missing values dropped.")
    y = y[complete]

    parts: list[pd.DataFrame] = []
    for name in list(kept):
        series = columns[name][complete]
        if _distinct_up_to_three(series) < 2:
            kept.remove(name)
            design.dropped.append(DroppedColumn(name, "constant in the complete rows"))
            design.warnings.append(f"Column {name!r} dropped: constant in the complete rows.")
            continue
        block = _dummies(name, series, design) if series.dtype == object else series.to_frame(name)
        design.groups[name] = list(block.columns)
        parts.append(block)
    if not parts:
        raise InputError("No usable predictor columns after removing constant ones.")
    X = pd.concat(parts, axis=1).astype(float)

    if len(X) < X.shape[1] + 2:
        raise TooFewRowsError(
            f"Only {len(X)} complete rows for {X.shape[1] + 1} parameters; need at least "
            f"{X.shape[1] + 2}."
        )
    for column, partners in _collinear(X):
        X = X.drop(columns=column)
        with_what = ", ".join(partners) if partners else "the intercept"
        design.warnings.append(f"Column {column!r} dropped: perfectly collinear with {with_what}.")
        owner = next(f for f, cols in design.groups.items() if column in cols)
        design.groups[owner].remove(column)
        if not design.groups[owner]:
            del design.groups[owner]
            kept.remove(owner)
            design.dropped.append(DroppedColumn(owner, f"perfectly collinear with {with_what}"))
    design.X = X
    design.y = y.astype(float)
    design.features = [f for f in kept if f in design.groups]
    return design
