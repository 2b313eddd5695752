"""From a frame, a target and predictors to the model's y and X (no constant column).

Dummies against a named reference level, dates as days since the first date, listwise
deletion of missing (and infinite) values. Columns the tool picked by itself are skipped when
a heuristic calls them identifiers or free text; a column the user named is always used (with
a warning when it looks like an identifier). Constant and perfectly collinear columns are
dropped with a warning whoever named them: the model's fitted values are the same without
them, as R's lm reports them as aliased (NA).

Bounds, each refused with a message naming it: the width and size of the design, and values
too large or small for sums of squares and products to stay finite.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import (
    ColumnNotFoundError,
    InputError,
    LimitExceededError,
    TargetNotUsableError,
    TooFewRowsError,
)
from ..understanding import is_number_column
from .event import BinaryCoding, binary_levels, choose_event
from .least_squares import r_factor
from .results import ModelKind

# Relative residual norm below which a standardized column counts as an exact linear
# combination of earlier ones. Far below what ill-conditioned but valid designs reach
# (NIST Filip's x^10 keeps ~1e-10), far above rounding noise of true duplicates (~1e-15).
COLLINEAR_TOL = 1e-12
# The design's width and size (rows x columns of float64): beyond them the fit's few copies
# of the design would not fit in a worker's memory (a design of 30 categoricals with 100
# levels over 100k rows is 2.4 GB).
MAX_DESIGN_COLUMNS = 1_000
MAX_DESIGN_CELLS = 30_000_000
# Magnitudes outside this range overflow or underflow in the products of up to four values
# that variances, covariances and moments take.
MAX_MAGNITUDE = 1e75


@dataclass(frozen=True)
class DroppedColumn:
    name: str
    reason: str


@dataclass
class Design:
    y: pd.Series
    X: pd.DataFrame
    target: str
    kind: ModelKind
    features: list[str]
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    reference_levels: dict[str, str] = field(default_factory=dict)
    dropped: list[DroppedColumn] = field(default_factory=list)
    rows_dropped: int = 0
    warnings: list[str] = field(default_factory=list)
    # original feature -> its design columns (a categorical owns several dummies)
    groups: dict[str, list[str]] = field(default_factory=dict)
    coding: BinaryCoding | None = None  # logit: which target value is coded 1


def _target(
    frame: pd.DataFrame, target: str, role: str | None, event: str | None
) -> tuple[pd.Series, ModelKind, BinaryCoding | None]:
    """Numeric target for OLS, or 0/1 (with NaN kept) for logit."""
    raw = frame[target]
    levels = binary_levels(raw)
    if len(levels) < 2:
        raise TargetNotUsableError(f"Target {target!r} is constant or empty; nothing to explain.")
    if len(levels) == 2:
        coding = choose_event(raw, event)
        return coding.code(raw), "logit", coding
    if event is not None:
        raise InputError(
            f"An event ({event!r}) applies to a yes/no target; {target!r} has more than two values."
        )
    if role == "binary":
        raise TargetNotUsableError(f"Target {target!r} is marked binary but has >2 values.")
    if not is_number_column(raw):
        raise TargetNotUsableError(f"Target {target!r} is neither numeric nor binary.")
    return raw.astype(float), "ols", None


def _role(frame: pd.DataFrame, name: str, roles: Mapping[str, str]) -> str:
    role = roles.get(name)
    if role:
        return role
    series = frame[name]
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if is_number_column(series):
        return "numeric"
    return "categorical"


def _date_column(series: pd.Series) -> pd.Series | None:
    """Days since the first date, or None if the values do not parse as dates."""
    parsed = pd.to_datetime(series, errors="coerce")
    if parsed.notna().sum() < max(2, series.notna().sum() // 2):
        return None
    return (parsed - parsed.min()).dt.total_seconds() / 86400.0


def _varies(series: pd.Series) -> bool:
    """Whether a predictor takes at least two values (labels compared as written)."""
    values = series.dropna()
    if values.dtype == object:
        return values.nunique() >= 2
    return bool(len(values)) and values.min() != values.max()


def _labels(series: pd.Series) -> pd.Series:
    return series.map(lambda v: v if pd.isna(v) else str(v)).astype(object)


def _user_role(name: str, role: str, series: pd.Series, design: Design) -> str:
    """The role a column the user named is used with: never skipped by a heuristic."""
    if role == "id":
        design.warnings.append(
            f"Column {name!r} looks like an identifier; it is used as a predictor because "
            "you named it."
        )
        return "numeric" if is_number_column(series) else "categorical"
    if role == "text":
        design.warnings.append(
            f"Column {name!r} looks like free text; each distinct value is used as a level "
            "because you named it."
        )
        return "categorical"
    return role


def _expand(
    frame: pd.DataFrame,
    features: list[str],
    roles: Mapping[str, str],
    named: Collection[str],
    design: Design,
) -> tuple[dict[str, pd.Series], list[str]]:
    """Numeric columns and their names per feature, before dummies and deletion."""
    columns: dict[str, pd.Series] = {}
    kept: list[str] = []
    for name in features:
        role = _role(frame, name, roles)
        series = frame[name]
        if name in named:
            role = _user_role(name, role, series, design)
        if role in ("id", "constant", "text"):
            reason = {"id": "identifier", "constant": "constant", "text": "free text"}[role]
            design.dropped.append(DroppedColumn(name, f"{reason} column, not a predictor"))
            design.warnings.append(f"Column {name!r} dropped: {reason} column.")
            continue
        if role == "date":
            days = _date_column(series)
            if days is None and name not in named:
                design.dropped.append(DroppedColumn(name, "date column that could not be parsed"))
                design.warnings.append(f"Column {name!r} dropped: dates could not be parsed.")
                continue
            if days is None:
                columns[name] = _labels(series)
            else:
                design.warnings.append(f"Date column {name!r} used as days since its first date.")
                columns[name] = days
        elif role == "numeric" or (role == "binary" and is_number_column(series)):
            numeric = pd.to_numeric(series, errors="coerce")
            if numeric.notna().sum() < series.notna().sum():
                design.warnings.append(f"Non-numeric values in {name!r} treated as missing.")
            columns[name] = numeric.astype(float)
        else:  # categorical, binary non-numeric: kept as labels, expanded after deletion
            columns[name] = _labels(series)
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


def _check_size(columns: dict[str, pd.Series], kept: list[str], rows: int) -> None:
    """Refuse a design too wide or too big before any dummy is built."""
    widths = {
        name: (columns[name].nunique() - 1 if columns[name].dtype == object else 1) for name in kept
    }
    width = sum(widths.values()) + 1
    if width <= MAX_DESIGN_COLUMNS and rows * width <= MAX_DESIGN_CELLS:
        return
    widest = sorted((n for n in kept if widths[n] > 1), key=lambda n: -widths[n])[:5]
    levels = ", ".join(f"{n} ({widths[n] + 1} levels)" for n in widest)
    advice = f" or merge rare levels of {levels}" if widest else ""
    raise LimitExceededError(
        f"The model would have {width:,} columns over {rows:,} rows "
        f"({rows * width * 8 / 2**20:,.0f} MB); the limits are {MAX_DESIGN_COLUMNS:,} columns "
        f"and {MAX_DESIGN_CELLS:,} cells. Choose fewer predictors with --features{advice}."
    )


def _check_magnitudes(y: pd.Series, columns: dict[str, pd.Series], target: str) -> None:
    """Refuse values whose squares and products would overflow or vanish in float64."""
    named = {target: y, **{n: s for n, s in columns.items() if s.dtype != object}}
    magnitudes = np.empty(len(y))  # one buffer for every column: no copy per column
    for name, series in named.items():
        np.abs(series.to_numpy(dtype=float), out=magnitudes)
        big = float(magnitudes.max(initial=0.0))
        small = float(np.min(magnitudes, where=magnitudes > 0, initial=np.inf))
        if big == 0.0:
            continue
        if big > MAX_MAGNITUDE or small < 1 / MAX_MAGNITUDE:
            worst = big if big > MAX_MAGNITUDE else small
            raise LimitExceededError(
                f"Column {name!r} has values as {'large' if worst == big else 'small'} as "
                f"{worst:.3g}; magnitudes between 1e-75 and 1e+75 are supported. Rescale the "
                "column (another unit) and try again."
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
    R = r_factor(Z)
    norms = np.linalg.norm(R, axis=0)
    kept = [0]
    found: list[tuple[str, list[str]]] = []
    for j in range(1, R.shape[1]):
        sub = R[:, [*kept, j]]
        r = r_factor(sub)
        if abs(r[-1, -1]) > COLLINEAR_TOL * max(norms[j], 1e-300):
            kept.append(j)
            continue
        coef, *_ = np.linalg.lstsq(R[:, kept], R[:, j], rcond=None)
        partners = [
            X.columns[k - 1] for k, c in zip(kept, coef, strict=True) if k > 0 and abs(c) > 1e-8
        ]
        found.append((X.columns[j - 1], partners))
    return found


def _complete_rows(y: pd.Series, columns: dict[str, pd.Series]) -> pd.Series:
    """Rows with a finite target and every predictor present (infinite counts as missing)."""
    complete = pd.Series(np.isfinite(y.to_numpy(dtype=float)), index=y.index)
    for series in columns.values():
        if series.dtype == object:
            complete &= series.notna()
        else:
            complete &= np.isfinite(series.to_numpy(dtype=float))
    return complete


def build_design(
    frame: pd.DataFrame,
    target: str,
    features: list[str] | None,
    roles: Mapping[str, str],
    *,
    named: Collection[str] = (),
    event: str | None = None,
    row_numbers: np.ndarray | None = None,
) -> Design:
    """Build y and X for a regression of `target` on `features` (all other columns if None).

    named: the columns the user chose (never skipped by a heuristic). event: the target value
    to code 1 (yes/no targets). row_numbers: what each frame row is called in reports (its
    row number in the file); default the 0-based position.
    Raises ColumnNotFoundError, TargetNotUsableError, TooFewRowsError, LimitExceededError, or
    InputError when no usable predictor remains.
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
    numbers = np.arange(len(frame)) if row_numbers is None else np.asarray(row_numbers)
    y, kind, coding = _target(frame, target, roles.get(target), event)
    design = Design(
        y=y, X=pd.DataFrame(index=frame.index), target=target, kind=kind, features=[],
        coding=coding,
    )  # fmt: skip
    if coding is not None:
        design.warnings.append(
            f"Binary target {target!r}: logistic regression of the odds of {coding.event!r} "
            f"(coded 1) against {coding.non_event!r}; {coding.reason}."
        )
    columns, kept = _expand(frame, features, roles, named, design)
    if not kept:
        raise InputError(
            "No usable predictor columns: all were identifiers, constant, text or dates."
        )

    complete = _complete_rows(y, columns)
    design.rows_dropped = int((~complete).sum())
    if design.rows_dropped:
        design.warnings.append(f"{design.rows_dropped} rows with missing values dropped.")
    y = y[complete]
    columns = {name: series[complete] for name, series in columns.items()}
    _check_size(columns, kept, len(y))
    _check_magnitudes(y, columns, target)

    parts: list[pd.DataFrame] = []
    for name in list(kept):
        series = columns[name]
        if not _varies(series):
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
    design.rows = numbers[X.index.to_numpy()]
    design.features = [f for f in kept if f in design.groups]
    return design
