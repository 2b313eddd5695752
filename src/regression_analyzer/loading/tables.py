"""The two shapes of a table in loading: as a reader hands it over, and as load_table returns it.

_RawTable is what csv_files and excel parse a file into, before cleaning, each row still
numbered as the file numbers it; LoadedTable is the clean table and how it was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .file_kind import FileKind


@dataclass
class LoadedTable:
    """A loaded table and how it was read (reported in the report's source section)."""

    frame: pd.DataFrame
    kind: FileKind
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    transposed: bool = False
    transpose_reason: str = ""
    warnings: list[str] = field(default_factory=list)
    # Per row of frame, the row's number as the user finds it in the file (CSV line,
    # spreadsheet row, or file column for a sideways table); row_numbering says which.
    row_numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    row_numbering: str = ""
    # Whether max_rows left rows of the file out, and the file's data rows holding a value
    # (None when not known: a CSV file or a sideways table that was cut).
    truncated: bool = False
    total_rows: int | None = None
    sheets: list[str] = field(default_factory=list)  # a workbook's sheet names, in order

    def __post_init__(self) -> None:
        # Tables built by hand (tests, fakes) get plain positions so the field stays aligned.
        if len(self.row_numbers) == 0 and len(self.frame) > 0:
            self.row_numbers = np.arange(1, len(self.frame) + 1, dtype=np.int64)
            self.row_numbering = self.row_numbering or "row positions in the loaded table"
        self.row_numbers = np.asarray(self.row_numbers, dtype=np.int64)


@dataclass
class _RawTable:
    """A parsed file before cleaning, with each row's number in the file."""

    frame: pd.DataFrame
    row_numbers: np.ndarray
    header_number: int  # the header's CSV line or spreadsheet row
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    truncated: bool = False  # the reader stopped after max_rows data rows
    total_rows: int | None = None  # then, the data rows holding a value, if known
    sheets: list[str] = field(default_factory=list)
