"""LoadedTable.row_numbers: each row's number as the user finds it in the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from regression_analyzer.loading import LoadedTable, load_table


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def assert_aligned(table: LoadedTable) -> None:
    assert isinstance(table.row_numbers, np.ndarray)
    assert table.row_numbers.dtype == np.int64
    assert len(table.row_numbers) == len(table.frame)


# ---------------------------------------------------------------- CSV


def test_plain_csv_rows_are_numbered_from_line_2(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "sales.csv", "a,b\n1,2\n3,4\n5,6\n"))
    assert_aligned(table)
    assert table.row_numbers.tolist() == [2, 3, 4]
    assert table.row_numbering == "CSV line numbers in sales.csv (line 1 is the header)"


def test_blank_lines_do_not_shift_later_rows(tmp_path: Path) -> None:
    text = "a,b\n1,2\n\n\n3,4\n   \n5,6\n\n"
    table = load_table(write(tmp_path / "gaps.csv", text))
    assert_aligned(table)
    assert table.frame["a"].tolist() == [1, 3, 5]
    assert table.row_numbers.tolist() == [2, 5, 7]
    # Blank lines must not turn whole-number columns into floats.
    assert table.frame["a"].dtype == np.int64


def test_blank_lines_before_the_header(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "late.csv", "\n\na,b\n1,2\n3,4\n"))
    assert list(table.frame.columns) == ["a", "b"]
    assert table.row_numbers.tolist() == [4, 5]
    assert table.row_numbering == "CSV line numbers in late.csv (line 3 is the header)"


def test_fully_empty_row_in_the_middle_keeps_later_numbers(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "holes.csv", "a,b,c\n1,,x\n,,\n3,,y\n4,,z\n"))
    assert_aligned(table)
    assert table.frame["a"].tolist() == [1, 3, 4]
    assert table.row_numbers.tolist() == [2, 4, 5]


def test_whitespace_only_line_with_tabs_is_a_blank_line(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "tabs.csv", "a,b\n1,2\n\t \n3,4\n"))
    assert table.frame["a"].tolist() == [1, 3]
    assert table.row_numbers.tolist() == [2, 4]
    assert not table.warnings  # no spurious "text read as numbers" note


def test_quoted_newlines_count_every_physical_line(tmp_path: Path) -> None:
    text = 'id,note,v\n1,"two\nlines",10\n2,plain,20\n3,"three\r\nline\nnote",30\n4,x,40\n'
    table = load_table(write(tmp_path / "notes.csv", text))
    assert_aligned(table)
    assert table.frame["id"].tolist() == [1, 2, 3, 4]
    assert table.row_numbers.tolist() == [2, 4, 5, 8]


def test_quoted_newline_inside_a_number_still_counts(tmp_path: Path) -> None:
    # pandas reads "1\n" as the number 1: no text cell shows the extra line.
    table = load_table(write(tmp_path / "hidden.csv", 'a,b\n"1\n",2\n3,4\n'))
    assert table.frame["a"].tolist() == [1, 3]
    assert table.row_numbers.tolist() == [2, 4]


def test_multi_line_header_and_blank_lines_together(tmp_path: Path) -> None:
    text = '"long\nname",b\n1,2\n\n3,4\n'
    table = load_table(write(tmp_path / "mixed.csv", text))
    assert table.row_numbers.tolist() == [3, 5]


def test_old_mac_line_endings(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "mac.csv", "a,b\r1,2\r\r3,4\r"))
    assert table.frame["a"].tolist() == [1, 3]
    assert table.row_numbers.tolist() == [2, 4]


def test_row_numbers_survive_utf16(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "wide.csv", "a,b\n1,2\n\n3,4\n", "utf-16"))
    assert table.row_numbers.tolist() == [2, 4]


# ---------------------------------------------------------------- Excel


def _book(path: Path, cells: dict[tuple[int, int], object], title: str = "Data") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for (row, col), value in cells.items():
        sheet.cell(row=row, column=col, value=value)
    book.save(path)
    return path


def test_xlsx_header_on_sheet_row_3(tmp_path: Path) -> None:
    # The used range is B3:C5: two empty rows and an empty column before the table.
    cells = {(3, 2): "a", (3, 3): "b", (4, 2): 1, (4, 3): 2.5, (5, 2): 3, (5, 3): 4.5}
    table = load_table(_book(tmp_path / "book.xlsx", cells))
    assert_aligned(table)
    assert list(table.frame.columns) == ["a", "b"]
    assert table.frame["b"].tolist() == [2.5, 4.5]
    assert table.row_numbers.tolist() == [4, 5]
    assert table.row_numbering == (
        "spreadsheet row numbers in sheet 'Data' of book.xlsx (row 3 is the header)"
    )


def test_xlsx_header_far_down(tmp_path: Path) -> None:
    cells = {(20, 1): "a", (20, 2): "b", (21, 1): 1, (21, 2): 2, (23, 1): 3, (23, 2): 4}
    table = load_table(_book(tmp_path / "deep.xlsx", cells))
    assert list(table.frame.columns) == ["a", "b"]
    assert table.row_numbers.tolist() == [21, 23]
    assert table.row_numbering.endswith("(row 20 is the header)")


def test_xlsx_empty_row_in_the_middle(tmp_path: Path) -> None:
    cells = {(1, 1): "a", (1, 2): "b", (2, 1): 1, (2, 2): 2, (3, 1): 3, (3, 2): 4}
    cells |= {(5, 1): 5, (5, 2): 6, (6, 1): 7}
    table = load_table(_book(tmp_path / "gap.xlsx", cells))
    assert_aligned(table)
    assert table.frame["a"].tolist() == [1, 3, 5, 7]
    assert table.row_numbers.tolist() == [2, 3, 5, 6]
    assert table.row_numbering.endswith("(row 1 is the header)")


def test_xls_header_below_an_empty_row(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    path = tmp_path / "old.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("data")
    for col, value in enumerate(["region", "revenue"]):
        sheet.write(1, col, value)  # 0-based: sheet row 2
    for row, (region, revenue) in ((2, ("north", 10.5)), (4, ("south", 20.0))):
        sheet.write(row, 0, region)
        sheet.write(row, 1, revenue)
    book.save(str(path))
    table = load_table(path)
    assert table.frame["revenue"].tolist() == [10.5, 20.0]
    assert table.row_numbers.tolist() == [3, 5]
    assert table.row_numbering == (
        "spreadsheet row numbers in sheet 'data' of old.xls (row 2 is the header)"
    )


# ---------------------------------------------------------------- sideways


SIDEWAYS = "metric,2019,2020,2021,2022\nrevenue,100,110,125,130\nprice,9.5,9.8,10.1,10.4\n"


def test_transposed_rows_are_file_columns(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "side.csv", SIDEWAYS))
    assert table.transposed
    assert_aligned(table)
    assert table.row_numbers.tolist() == [2, 3, 4, 5]
    assert table.row_numbering == (
        "column numbers in side.csv: the table was read sideways, so each observation is "
        "a column of the file (column 1 holds the variable names)"
    )


def test_transposed_with_an_empty_column_keeps_file_column_numbers(tmp_path: Path) -> None:
    text = "metric,2019,,2021\nrevenue,100,,120\nprice,9.5,,9.9\n"
    table = load_table(write(tmp_path / "side.csv", text))
    assert table.transposed
    assert table.frame["revenue"].tolist() == [100, 120]
    assert table.row_numbers.tolist() == [2, 4]


def test_forced_transpose_and_forced_no_transpose_number_rows(tmp_path: Path) -> None:
    normal = write(tmp_path / "normal.csv", "name,a,b\nx,1,2\ny,3,4\nz,5,6\n")
    forced = load_table(normal, transpose=True)
    assert forced.transposed
    assert forced.row_numbers.tolist() == [2, 3]
    assert forced.row_numbering.startswith("column numbers in normal.csv")
    kept = load_table(write(tmp_path / "side.csv", SIDEWAYS), transpose=False)
    assert not kept.transposed
    assert kept.row_numbers.tolist() == [2, 3]
    assert kept.row_numbering.startswith("CSV line numbers in side.csv")


def test_sideways_xlsx_numbers_sheet_columns(tmp_path: Path) -> None:
    path = tmp_path / "side.xlsx"
    body = {"metric": ["sales", "ad_spend"], 2021: [10.0, 1.0], 2022: [12.0, 2.0]}
    body[2023] = [15.0, 2.5]
    pd.DataFrame(body).to_excel(path, index=False, sheet_name="Wide")
    table = load_table(path)
    assert table.transposed
    assert table.row_numbers.tolist() == [2, 3, 4]
    assert table.row_numbering.startswith("column numbers in sheet 'Wide' of side.xlsx")
    assert "(column 1, A, holds the variable names)" in table.row_numbering


def test_hand_built_table_gets_positional_numbers() -> None:
    table = LoadedTable(frame=pd.DataFrame({"a": [1, 2, 3]}), kind="csv")
    assert table.row_numbers.tolist() == [1, 2, 3]
    assert table.row_numbers.dtype == np.int64
