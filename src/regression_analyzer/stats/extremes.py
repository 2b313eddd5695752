"""The minimum and maximum of each numeric column, with the rows where they occur."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..understanding import is_number_column
from .results import MinMax


def column_minmax(frame: pd.DataFrame, row_numbers: np.ndarray) -> list[MinMax]:
    """Min and max of each numeric (non-boolean) column and the file row numbers of their
    first occurrences; `row_numbers` gives the file row number of each frame row."""
    out = []
    for name in frame.columns:
        series = frame[name]
        if not is_number_column(series):
            continue
        values = series.to_numpy(dtype=float)
        if np.all(np.isnan(values)):
            continue
        lo, hi = int(np.nanargmin(values)), int(np.nanargmax(values))
        out.append(
            MinMax(
                column=str(name),
                min=float(values[lo]),
                min_row=int(row_numbers[lo]),
                max=float(values[hi]),
                max_row=int(row_numbers[hi]),
            )
        )
    return out
