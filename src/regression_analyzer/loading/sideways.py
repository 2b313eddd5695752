"""Sideways tables: variables as rows and observations as columns, found and turned around.

looks_sideways decides from the header and the first column alone (observation labels such
as years, dates or quarters across the top, distinct variable names down the side);
_turn_sideways turns the table and numbers each observation by the file column it came from.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import LimitExceededError
from . import limits
from .cleaning import _DMY_DATE, _ISO_DATE, _as_text, _clean_header, _drop_empty

_OBSERVATION_LABEL = re.compile(
    r"^(?:[+-]?\d+(?:[.,]\d+)?|(?:19|20)\d{2}(?:[-/ ]?(?:q[1-4]|h[12]|m?\d{1,2}))?"
    r"|q[1-4](?:[-/ ]?\d{2,4})?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    rf"(?:[-/ ]?\d{{2,4}})?|{_ISO_DATE}|{_DMY_DATE})$",
    re.IGNORECASE,
)


def looks_sideways(frame: pd.DataFrame) -> tuple[bool, str]:
    """Whether a table has variables as rows and observations as columns, and why.

    Heuristic: sideways when (1) the first column holds distinct, non-numeric labels (the
    variable names, e.g. 'revenue', 'price'), (2) at least 80% of the other headers look like
    observation labels (numbers, years, dates, quarters or month names) and (3) there are at
    least two such header labels. A normal table's header holds names, so (2) fails.
    """
    if frame.shape[1] < 3 or frame.shape[0] < 1:
        return False, "not transposed: too few columns to be a sideways table"
    # Cheap checks first: a big table must not pay for stringifying its first column.
    first = frame.iloc[:, 0]
    if pd.api.types.is_numeric_dtype(first) or pd.api.types.is_datetime64_any_dtype(first):
        return False, "not transposed: the first column holds numbers or dates, not names"
    headers = [str(c) for c in frame.columns[1:]]
    observation_like = [h for h in headers if _OBSERVATION_LABEL.match(h.strip())]
    if len(observation_like) < 2 or len(observation_like) / len(headers) < 0.8:
        return False, "not transposed: the header row holds column names"
    labels = _as_text(first)
    if labels.empty or labels.duplicated().any() or len(labels) < first.notna().sum():
        return False, "not transposed: the first column does not hold distinct row labels"
    if pd.to_numeric(labels, errors="coerce").notna().mean() > 0.5:
        return False, "not transposed: the first column holds numbers, not variable names"
    shown_rows = ", ".join(labels.head(3).tolist())
    shown_cols = ", ".join(headers[:3])
    return True, (
        f"transposed: the first column holds variable names ({shown_rows}, …) and the header "
        f"row holds {len(observation_like)} observation labels ({shown_cols}, …)"
    )


def _transpose(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a variables-as-rows table around; the old header becomes an 'observation' column."""
    body = frame.set_index(frame.columns[0])
    turned = body.T.reset_index()
    names = ["observation", *(str(v).strip() for v in body.index)]
    turned.columns = pd.Index(_clean_header(pd.Index(names)))
    return turned.infer_objects()


def _turn_sideways(
    path: Path, frame: pd.DataFrame, file_columns: dict[str, int]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The transposed table, and for each observation the file column it came from."""
    # Each row of the file becomes a column: refuse before paying for the turn.
    if len(frame) + 1 > limits.MAX_COLUMNS:
        raise LimitExceededError(
            f"{path.name} read sideways has {len(frame) + 1:,} columns (one per row of "
            f"the file); the limit is {limits.MAX_COLUMNS:,}"
        )
    observations = np.array([file_columns[c] for c in frame.columns[1:]], dtype=np.int64)
    return _drop_empty(_transpose(frame), observations)
