"""Excel sheets are streamed: width is checked row by row and no row is padded out first."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from regression_analyzer.errors import CorruptFileError, LimitExceededError
from regression_analyzer.loading import NULL_MARKERS, cleaning, excel, limits, load_table

XFD = 16_384  # Excel's last column
SHEET_XML = "xl/worksheets/sheet1.xml"

# Loads a table in a fresh interpreter and reports its peak RSS over the imports' RSS, so
# nothing else this test session did can hide or fake the growth.
_MEASURE = """
import json, resource, sys
from pathlib import Path
from regression_analyzer.loading import load_table
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_table(Path(sys.argv[1]))
    error = None
except Exception as exc:
    error = [type(exc).__name__, str(exc)]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"error": error, "growth_kb": after - before}))
"""


def _book(path: Path, cells: dict[tuple[int, int], object], title: str = "Sheet1") -> Path:
    # A normal workbook stores cells sparsely, so a far-right cell costs nothing to write;
    # a write-only one would be handed every empty cell of the gap.
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for (row, column), value in cells.items():
        sheet.cell(row=row, column=column, value=value)
    book.save(path)
    return path


def _two_columns_and(far: object, rows: int = 2000) -> dict[tuple[int, int], object]:
    """Columns A and B of a table of rows rows, plus far in column XFD of every data row."""
    cells: dict[tuple[int, int], object] = {(1, 1): "x", (1, 2): "y"}
    for row in range(2, rows + 1):
        cells |= {(row, 1): row, (row, 2): row * 2.5, (row, XFD): far}
    return cells


def _rewrite_sheet(path: Path, edit: Callable[[str], str]) -> Path:
    """Rewrite the first sheet's XML inside the workbook, the way a forged file would be."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[SHEET_XML] = edit(parts[SHEET_XML].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def xfd_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xfd") / "book.xlsx"
    _book(path, _two_columns_and(7))
    assert path.stat().st_size < 64 * 1024
    return path


# ---------------------------------------------------------------- width


def test_value_in_column_xfd_is_refused_without_padding_rows(xfd_book: Path) -> None:
    # pandas pads each of the 2,000 rows to 16,384 cells: ~800 MB and over a minute.
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(xfd_book)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,  # a hang guard only
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["growth_kb"] < 150 * 1024
    assert report["error"] is not None
    kind, message = report["error"]
    assert kind == "LimitExceededError"
    assert "row 2 has a value in column XFD" in message
    assert "the limit is 2,000" in message


def test_value_in_column_xfd_message(xfd_book: Path) -> None:
    with pytest.raises(
        LimitExceededError,
        match=r"^book\.xlsx has 16,384 columns in sheet 'Sheet1'; the limit is 2,000 "
        r"\(row 2 has a value in column XFD\)$",
    ):
        load_table(xfd_book)


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_cells_in_column_xfd_do_not_count(tmp_path: Path, blank: str) -> None:
    path = _book(tmp_path / "blank.xlsx", _two_columns_and("BLANK"))
    # openpyxl writes "" as no value at all; the file may also hold an empty string.
    _rewrite_sheet(path, lambda xml: xml.replace("<t>BLANK</t>", f"<t>{blank}</t>"))
    table = load_table(path)
    assert list(table.frame.columns) == ["x", "y"]
    assert table.frame.shape == (1999, 2)
    assert table.row_numbers.tolist() == list(range(2, 2001))
    assert table.frame["x"].tolist() == list(range(2, 2001))


def test_a_row_at_the_limit_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_COLUMNS", 5)
    cells = {(1, column): f"c{column}" for column in range(1, 6)}
    cells |= {(2, column): column for column in range(1, 6)} | {(2, 9): "  "}
    table = load_table(_book(tmp_path / "edge.xlsx", cells))
    assert table.frame.shape == (1, 5)


def test_width_counts_the_widest_row_not_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_COLUMNS", 5)
    cells = {(1, 1): "a", (1, 2): "b", (2, 1): 1, (2, 2): 2, (3, 1): 3, (3, 6): "far"}
    with pytest.raises(
        LimitExceededError,
        match=r"has 6 columns in sheet 'Sheet1'; the limit is 5 \(row 3 has a value in column F\)",
    ):
        load_table(_book(tmp_path / "late.xlsx", cells))


def test_declared_dimension_that_lies_is_ignored(tmp_path: Path) -> None:
    cells = {(1, 1): "a", (1, 2): "b"} | {(row, 1): row for row in range(2, 7)}
    cells |= {(row, 2): row / 2 for row in range(2, 7)}
    path = _book(tmp_path / "lies.xlsx", cells)
    _rewrite_sheet(
        path, lambda xml: xml.replace('<dimension ref="A1:B6"', '<dimension ref="A1:XFD1048576"')
    )
    with zipfile.ZipFile(path) as archive:
        assert 'ref="A1:XFD1048576"' in archive.read(SHEET_XML).decode()
    table = load_table(path)
    assert table.frame.shape == (5, 2)
    assert table.row_numbers.tolist() == [2, 3, 4, 5, 6]
    assert table.total_rows == 5
    assert not table.truncated


@pytest.mark.parametrize(
    ("cells", "width"),
    [
        ((), 0),
        ((None, None), 0),
        (("a",), 1),
        (("a", None, "  ", "", "\t"), 1),
        ((None, "", 0, None), 3),
        ((False,), 1),
        (("a", *([None] * 1000), "b", *([None] * 600)), 1002),
        (("a", *([None] * 1000), " ", *([None] * 600)), 1),
        ((*([None] * 300), 0.0, *([None] * 300)), 301),
    ],
)
def test_filled_width(cells: tuple[object, ...], width: int) -> None:
    assert excel._filled_width(cells) == width


# ---------------------------------------------------------------- max_rows


def _numbered(rows: int, top: int = 1) -> dict[tuple[int, int], object]:
    cells: dict[tuple[int, int], object] = {(top, 1): "n", (top, 2): "half"}
    for row in range(1, rows + 1):
        cells |= {(top + row, 1): row, (top + row, 2): row / 2}
    return cells


def test_max_rows_keeps_the_first_rows_and_counts_all(tmp_path: Path) -> None:
    path = _book(tmp_path / "long.xlsx", _numbered(500))
    table = load_table(path, max_rows=10)
    assert table.frame["n"].tolist() == list(range(1, 11))
    assert table.row_numbers.tolist() == list(range(2, 12))
    assert (table.total_rows, table.truncated) == (500, True)
    full = load_table(path)
    assert len(full.frame) == 500
    assert (full.total_rows, full.truncated) == (500, False)


def test_max_rows_beyond_the_table_is_not_truncated(tmp_path: Path) -> None:
    table = load_table(_book(tmp_path / "short.xlsx", _numbered(5)), max_rows=10)
    assert len(table.frame) == 5
    assert (table.total_rows, table.truncated) == (5, False)


@pytest.mark.parametrize("top", [3, 40])
def test_max_rows_counts_from_a_header_lower_down(tmp_path: Path, top: int) -> None:
    cells = _numbered(100, top=top)
    cells[(top + 5, 1)] = cells[(top + 5, 2)] = None  # an empty row inside the table
    path = _book(tmp_path / "low.xlsx", {key: v for key, v in cells.items() if v is not None})
    table = load_table(path, max_rows=10)
    assert list(table.frame.columns) == ["n", "half"]
    # Ten rows with values: the empty one is kept out of the count.
    assert table.row_numbers.tolist() == [top + row for row in range(1, 12) if row != 5]
    assert (table.total_rows, table.truncated) == (99, True)


def test_max_rows_counts_rows_holding_values(tmp_path: Path) -> None:
    # Rows of only null markers, blanks or formula errors are dropped by loading, so a
    # preview that counted them could come out empty.
    cells: dict[tuple[int, int], object] = {(1, 1): "n", (1, 2): "half"}
    cells |= {(2, 1): "NA", (2, 2): "-", (3, 2): "   ", (4, 1): "#DIV/0!", (6, 1): "n/a"}
    cells |= {(row, 1): row for row in range(7, 30)} | {(9, 2): 4.5}
    path = _book(tmp_path / "sparse.xlsx", cells)
    full = load_table(path)
    preview = load_table(path, max_rows=3)
    assert preview.row_numbers.tolist() == [7, 8, 9] == full.row_numbers[:3].tolist()
    assert (preview.total_rows, preview.truncated) == (len(full.frame), True) == (23, True)
    pd.testing.assert_frame_equal(preview.frame, full.frame.head(3))


def test_max_rows_for_xls(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    path = tmp_path / "old.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("data")
    sheet.write(0, 0, "n")
    for row in range(1, 51):
        if row != 2:  # sheet row 3 stays empty
            sheet.write(row, 0, row)
    book.save(str(path))
    table = load_table(path, max_rows=4)
    assert table.frame["n"].tolist() == [1, 3, 4, 5]
    assert table.row_numbers.tolist() == [2, 4, 5, 6]
    assert (table.total_rows, table.truncated) == (49, True)


def test_pandas_null_markers_are_the_ones_this_pandas_uses() -> None:
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(STR_NA_VALUES) == cleaning._PANDAS_NULL_MARKERS


def test_max_rows_still_checks_the_width_of_every_row(tmp_path: Path) -> None:
    cells = _numbered(500) | {(400, XFD): 1}
    with pytest.raises(LimitExceededError, match=r"row 400 has a value in column XFD"):
        load_table(_book(tmp_path / "late_wide.xlsx", cells), max_rows=10)


def test_max_rows_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_rows"):
        load_table(_book(tmp_path / "t.xlsx", _numbered(3)), max_rows=0)


def test_max_rows_for_csv(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    lines = ["n,text", '1,"two\nlines"', *(f"{n},t{n}" for n in range(2, 501))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = load_table(path, max_rows=10)
    assert table.frame["n"].tolist() == list(range(1, 11))
    # The first record spans lines 2-3, so the others start a line later.
    assert table.row_numbers.tolist() == [2, *range(4, 13)]
    assert (table.total_rows, table.truncated) == (None, True)
    whole = load_table(path, max_rows=500)
    assert (len(whole.frame), whole.total_rows, whole.truncated) == (500, 500, False)


# ---------------------------------------------------------------- parity with pandas


def test_sheet_reads_as_pandas_reads_it(tmp_path: Path) -> None:
    # Header on row 3, under two empty rows; every cell kind pandas converts.
    cells: dict[tuple[int, int], object] = {}
    header = ["id", "price", "name", "when", "flag", "mixed", "score"]
    cells |= {(3, column): name for column, name in enumerate(header, start=1)}
    body = [
        [1, 2.5, "north", datetime(2021, 1, 4), True, 1.0, 7],
        [2, 3.0, "NA", datetime(2021, 2, 4, 6, 30), False, "x", None],
        [3, None, "south", None, True, "-", 9.25],
        [None, None, None, None, None, None, None],  # an empty row inside the table
        [5, 1e-3, "", datetime(2022, 3, 1), False, "#DIV/0!", "n/a"],
        [6, 4.75, "east", datetime(2022, 3, 2), None, 12, 11],
    ]
    for offset, values in enumerate(body):
        for column, value in enumerate(values, start=1):
            if value is not None:
                cells[(4 + offset, column)] = value
    path = _book(tmp_path / "mixed.xlsx", cells)
    with zipfile.ZipFile(path) as archive:
        assert 't="e"' in archive.read(SHEET_XML).decode()  # #DIV/0! is an error cell

    raw = excel._read_excel(path, "xlsx", None)
    expected = pd.read_excel(path, header=2, na_values=NULL_MARKERS)
    pd.testing.assert_frame_equal(raw.frame, expected, check_exact=True)
    assert raw.header_number == 3
    assert raw.row_numbers.tolist() == [4, 5, 6, 7, 8, 9]
    assert math.isnan(raw.frame.loc[4, "mixed"])  # the error cell

    table = load_table(path)
    assert table.row_numbers.tolist() == [4, 5, 6, 8, 9]
    assert table.frame["id"].tolist() == [1, 2, 3, 5, 6]


def test_broken_workbook_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not a workbook")
    with pytest.raises(CorruptFileError, match=r"^broken\.xlsx: cannot be read as \.xlsx \("):
        load_table(path)


def test_openpyxl_is_imported_only_to_read_a_workbook() -> None:
    code = "import sys, regression_analyzer.loading; print('openpyxl' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_a_tall_sparse_sheet_is_refused_by_its_cell_count(tmp_path: Path) -> None:
    """2 KB: a 2,000-wide header and one value 30,000 rows down is 60 million cells as a
    table; the old reader materialised them all (9.5 GB at 200,000 rows)."""
    from tests.helpers.hostile_files import xlsx_tall_and_sparse

    path = xlsx_tall_and_sparse(tmp_path / "sparse.xlsx", last_row=30_000)
    with pytest.raises(LimitExceededError, match=r"30,000 rows x 2,000 columns"):
        load_table(path)
