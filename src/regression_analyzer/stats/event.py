"""Which value of a two-valued target is the event (coded 1), and the 0/1 coding itself.

One rule, used wherever a yes/no column becomes 0/1:
1. the value the user names (--event, the API's `event`), if any;
2. booleans: True;
3. numbers (or text that is all numbers): the larger value;
4. text: the one recognised event word (yes, true, churned, success, ...), else the one value
   that is not a recognised non-event word (no, false, stayed, ...);
5. otherwise the value that sorts last, which is what R's glm codes 1 for a factor with
   default levels; the reason then says so and how to choose another.

Text values are compared ignoring case and surrounding spaces ("Yes" and "yes " are one
value); the event is shown with its most common spelling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, TargetNotUsableError
from ..understanding import is_number_column

EVENT_WORDS = frozenset(
    {
        "1", "yes", "y", "true", "t", "on", "positive", "pos", "success", "successful",
        "churn", "churned", "default", "defaulted", "converted", "purchased", "bought",
        "clicked", "fraud", "fraudulent", "spam", "won", "win", "pass", "passed", "present",
    }
)  # fmt: skip
NON_EVENT_WORDS = frozenset(
    {
        "0", "no", "n", "false", "f", "off", "negative", "neg", "failure", "unsuccessful",
        "stayed", "retained", "not churned", "legit", "legitimate", "ham", "lost", "lose",
        "fail", "failed", "absent", "none",
    }
)  # fmt: skip


@dataclass(frozen=True)
class BinaryCoding:
    """How a two-valued column maps to 0/1."""

    event: str  # the value coded 1, as the user spells it
    non_event: str  # the value coded 0
    reason: str  # why `event` is the event
    event_key: object  # the normalised value that is coded 1

    def code(self, values: pd.Series) -> pd.Series:
        """0.0/1.0 for each value (NaN stays NaN)."""
        keys = _normalised(values)
        coded = (keys == self.event_key).astype(float)
        return coded.where(values.notna())


def _normalised(values: pd.Series) -> pd.Series:
    """Values as comparable keys: numbers as floats, text stripped and lower-cased."""
    if pd.api.types.is_bool_dtype(values) or is_number_column(values):
        return values
    text = values.astype(object).where(values.isna(), values.astype(str).str.strip().str.lower())
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() == text.notna().sum():
        return numbers
    return text


def binary_levels(values: pd.Series) -> list[object]:
    """The distinct normalised values of a column (at most three are looked for)."""
    keys = _normalised(values).dropna()
    if is_number_column(keys):
        lo, hi = keys.min(), keys.max()
        if lo == hi:
            return [lo]
        inside = keys[(keys != lo) & (keys != hi)]
        return [lo, hi] if inside.empty else [lo, hi, inside.iloc[0]]
    return list(pd.unique(keys))[:3]


def _spelling(values: pd.Series, key: object) -> str:
    """The most common original spelling of a normalised value."""
    keys = _normalised(values)
    originals = values[keys == key]
    if originals.empty:
        return _label(key)
    return _label(originals.value_counts().index[0])


def _label(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return str(value)


def _requested_key(requested: str, levels: list[object]) -> object | None:
    wanted = requested.strip().lower()
    for level in levels:
        if isinstance(level, bool | np.bool_):
            if wanted == str(level).lower():
                return level
        elif isinstance(level, int | float | np.number):
            try:
                if float(wanted) == float(level):
                    return level
            except ValueError:
                continue
        elif str(level) == wanted:
            return level
    return None


def _by_meaning(levels: list[object]) -> tuple[object, str] | None:
    """The event when the values say it themselves (booleans, numbers, known words)."""
    if all(isinstance(v, bool | np.bool_) for v in levels):
        return True, "True is the event of a true/false column"
    if all(isinstance(v, int | float | np.number) for v in levels):
        return max(levels), "the larger of two numbers is the event"  # type: ignore[type-var]
    words = [str(v) for v in levels]
    events = [w for w in words if w in EVENT_WORDS]
    if len(events) == 1:
        return events[0], f"{events[0]!r} reads as the event"
    non_events = [w for w in words if w in NON_EVENT_WORDS]
    if len(non_events) == 1:
        other = next(w for w in words if w != non_events[0])
        return other, f"{non_events[0]!r} reads as the absence of the event"
    return None


def choose_event(values: pd.Series, requested: str | None = None) -> BinaryCoding:
    """Decide which of the two values of `values` is coded 1, and say why.

    Raises TargetNotUsableError if the column does not have exactly two values, and
    InputError if `requested` is not one of them.
    """
    levels = binary_levels(values)
    name = values.name
    if len(levels) != 2:
        raise TargetNotUsableError(
            f"Column {name!r} has {'more than two' if len(levels) > 2 else len(levels)} "
            "distinct values; a yes/no target needs exactly two."
        )
    if requested is not None:
        key = _requested_key(requested, levels)
        if key is None:
            shown = ", ".join(repr(_spelling(values, v)) for v in levels)
            raise InputError(
                f"Event {requested!r} is not a value of {name!r}; its values: {shown}."
            )
        reason = "chosen by the user"
    else:
        decided = _by_meaning(levels)
        if decided is not None:
            key, reason = decided
        else:
            key = sorted(levels, key=str)[-1]
            reason = (
                "neither value reads as the event, so the one that sorts last was coded 1 "
                "(as R's glm does); choose another with --event"
            )
    other = next(v for v in levels if v != key)
    return BinaryCoding(_spelling(values, key), _spelling(values, other), reason, key)
