"""loading against real files on disk: encodings, delimiters, number formats, bad files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regression_analyzer.errors import (
    ColumnNotFoundError,
    CorruptFileError,
    EmptyTableError,
    UnsupportedFileError,
)
from regression_analyzer.loading import (
    cleaning,
    describe_columns,
    detect_file_kind,
    limits,
    load_table,
    looks_sideways,
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


SIMPLE = "name,amount\nfoo,1.5\nbar,2.5\n"


# ---------------------------------------------------------------- kind detection


def test_detect_kind_by_extension_and_content(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "t.csv", SIMPLE)
    assert detect_file_kind(csv_path) == "csv"
    xlsx_path = tmp_path / "t.xlsx"
    pd.DataFrame({"a": [1, 2]}).to_excel(xlsx_path, index=False)
    assert detect_file_kind(xlsx_path) == "xlsx"


@pytest.mark.parametrize("name", ["table.pdf", "table", "table.json"])
def test_wrong_or_missing_extension_is_unsupported(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, SIMPLE)
    with pytest.raises(UnsupportedFileError):
        detect_file_kind(path)
    with pytest.raises(UnsupportedFileError):
        load_table(path)


def test_binary_junk_named_csv_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(CorruptFileError):
        detect_file_kind(path)
    with pytest.raises(CorruptFileError):
        load_table(path)


def test_xlsx_that_is_not_a_zip_is_corrupt(tmp_path: Path) -> None:
    path = write(tmp_path / "fake.xlsx", SIMPLE)
    with pytest.raises(CorruptFileError):
        load_table(path)


def test_xlsx_zip_bomb_is_refused_before_opening(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        # 64 MB of zeros deflates ~1000:1, far past the 100:1 limit.
        with z.open("xl/worksheets/sheet1.xml", "w") as entry:
            block = b"\0" * (1 << 20)
            for _ in range(64):
                entry.write(block)
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(CorruptFileError, match="zip bomb"):
        load_table(path)


# ---------------------------------------------------------------- empty inputs


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyTableError):
        load_table(write(tmp_path / "empty.csv", ""))


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(EmptyTableError):
        load_table(write(tmp_path / "header.csv", "a,b,c\n"))


def test_every_value_missing(tmp_path: Path) -> None:
    with pytest.raises(EmptyTableError):
        load_table(write(tmp_path / "missing.csv", "a,b\nNA,\n-,null\n,?\n"))


def test_fully_empty_rows_and_columns_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path / "gaps.csv", "a,b,c\n1,,x\n,,\n3,,y\n")
    frame = load_table(path).frame
    assert list(frame.columns) == ["a", "c"]
    assert frame["a"].tolist() == [1, 3]


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16", b""),
        ("latin-1", b""),
        ("cp1252", b""),
    ],
)
def test_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    # "€" only exists in cp1252 (and Unicode); latin-1 gets é/ü only.
    city = "Zürich €" if encoding != "latin-1" else "Zürich é"
    text = f"city,sales\n{city},10\nMünchen,20\n"
    path = tmp_path / "enc.csv"
    path.write_bytes(prefix + text.encode(encoding))  # Python's utf-16 codec writes a BOM
    frame = load_table(path).frame
    assert list(frame.columns) == ["city", "sales"]
    assert frame["city"].tolist() == [city, "München"]
    assert frame["sales"].tolist() == [10, 20]


# ---------------------------------------------------------------- delimiters and numbers


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    rows = ["id", "x", "y"], ["1", "2.5", "a"], ["2", "3.5", "b"], ["3", "4.5", "c"]
    text = "\n".join(delimiter.join(r) for r in rows) + "\n"
    table = load_table(write(tmp_path / "d.csv", text))
    assert table.delimiter == delimiter
    assert table.frame["x"].tolist() == [2.5, 3.5, 4.5]


def test_decimal_commas_with_semicolons(tmp_path: Path) -> None:
    text = "region;price;qty\nnorth;3,5;1.234,56\nsouth;4,25;2.000,5\nwest;10;7\n"
    frame = load_table(write(tmp_path / "eu.csv", text)).frame
    assert frame["price"].tolist() == [3.5, 4.25, 10.0]
    assert frame["qty"].tolist() == [1234.56, 2000.5, 7.0]


def test_us_thousands_separators(tmp_path: Path) -> None:
    text = 'item,total\na,"1,234,567.89"\nb,"2,000"\nc,15\n'
    frame = load_table(write(tmp_path / "us.csv", text)).frame
    assert frame["total"].tolist() == [1234567.89, 2000.0, 15.0]


def test_space_thousands_separators(tmp_path: Path) -> None:
    text = "item;total\na;1 234\nb;12 345 678\nc;1\u00a0000,5\n"
    frame = load_table(write(tmp_path / "fr.csv", text)).frame
    assert frame["total"].tolist() == [1234.0, 12345678.0, 1000.5]


@pytest.mark.parametrize(
    "marker", ["NA", "N/A", "n/a", "null", "NULL", "None", "-", "?", "#N/A", "nan", ""]
)
def test_null_markers(tmp_path: Path, marker: str) -> None:
    text = f"x,y\n1,2\n{marker},3\n4,5\n"
    frame = load_table(write(tmp_path / "nulls.csv", text)).frame
    assert pd.api.types.is_numeric_dtype(frame["x"])
    assert frame["x"].isna().tolist() == [False, True, False]


def test_date_columns_are_parsed(tmp_path: Path) -> None:
    text = (
        "when,eu_when,v\n"
        "2024-01-05,31/01/2024,1\n2024-02-10,15/02/2024,2\n2024-03-15,01/03/2024,3\n"
    )
    frame = load_table(write(tmp_path / "dates.csv", text)).frame
    assert pd.api.types.is_datetime64_any_dtype(frame["when"])
    assert frame["when"].iloc[1] == pd.Timestamp("2024-02-10")
    assert frame["eu_when"].iloc[2] == pd.Timestamp("2024-03-01")  # day first: 31/01 exists


def test_header_names_cleaned_and_deduplicated(tmp_path: Path) -> None:
    text = " a ,,a\n1,2,3\n4,5,6\n"
    frame = load_table(write(tmp_path / "h.csv", text)).frame
    # " a " and "a" only clash after stripping; the blank header is named by position.
    assert list(frame.columns) == ["a", "column_2", "a_2"]
    assert frame["a_2"].tolist() == [3, 6]


# ---------------------------------------------------------------- Excel


def test_xlsx_first_sheet_and_named_sheet(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_excel(
            writer, sheet_name="first", index=False
        )
        pd.DataFrame({"c": [7.5, 8.5]}).to_excel(writer, sheet_name="second", index=False)
    first = load_table(path)
    assert (first.kind, first.sheet) == ("xlsx", "first")
    assert first.frame["a"].tolist() == [1, 2, 3]
    second = load_table(path, sheet="second")
    assert second.sheet == "second"
    assert second.frame["c"].tolist() == [7.5, 8.5]
    with pytest.raises(ColumnNotFoundError, match="first, second"):
        load_table(path, sheet="third")


def test_xls_reading(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    path = tmp_path / "old.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("data")
    for col, header in enumerate(["region", "revenue"]):
        sheet.write(0, col, header)
    for row, (region, revenue) in enumerate([("north", 10.5), ("south", 20.0)], start=1):
        sheet.write(row, 0, region)
        sheet.write(row, 1, revenue)
    book.save(str(path))
    assert detect_file_kind(path) == "xls"
    table = load_table(path)
    assert table.kind == "xls"
    assert table.sheet == "data"
    assert table.frame["revenue"].tolist() == [10.5, 20.0]


def test_xls_that_is_not_ole2_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError):
        load_table(write(tmp_path / "fake.xls", SIMPLE))


# ---------------------------------------------------------------- sideways


SIDEWAYS = "metric,2019,2020,2021,2022\nrevenue,100,110,125,130\nprice,9.5,9.8,10.1,10.4\n"


def test_sideways_table_detected_and_transposed(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "side.csv", SIDEWAYS))
    assert table.transposed
    assert "revenue" in table.transpose_reason
    assert list(table.frame.columns) == ["observation", "revenue", "price"]
    assert table.frame["revenue"].tolist() == [100, 110, 125, 130]
    assert table.frame["observation"].tolist() == [2019, 2020, 2021, 2022]


def test_normal_table_not_transposed(tmp_path: Path) -> None:
    text = "region,revenue,price\nnorth,100,9.5\nsouth,110,9.8\n"
    table = load_table(write(tmp_path / "normal.csv", text))
    assert not table.transposed
    assert table.transpose_reason.startswith("not transposed")
    flag, _ = looks_sideways(table.frame)
    assert flag is False


def test_forced_transpose_and_forced_no_transpose(tmp_path: Path) -> None:
    side = write(tmp_path / "side.csv", SIDEWAYS)
    kept = load_table(side, transpose=False)
    assert not kept.transposed
    assert list(kept.frame.columns) == ["metric", "2019", "2020", "2021", "2022"]
    normal = write(tmp_path / "normal.csv", "name,a,b\nx,1,2\ny,3,4\nz,5,6\n")
    forced = load_table(normal, transpose=True)
    assert forced.transposed
    assert list(forced.frame.columns) == ["observation", "x", "y", "z"]
    assert forced.frame["y"].tolist() == [3, 4]


# ---------------------------------------------------------------- describe


def test_describe_columns_is_json_safe(tmp_path: Path) -> None:
    text = "when,v,s\n2024-01-05,1.5,a\n2024-01-06,,b\n"
    described = describe_columns(load_table(write(tmp_path / "d.csv", text)).frame)
    by_name = {d["name"]: d for d in described}
    assert by_name["v"]["nulls"] == 1
    assert by_name["v"]["sample"] == [1.5]
    assert by_name["when"]["sample"][0].startswith("2024-01-05")
    json.dumps(described)  # must not raise
    assert set(described[0]) == {"name", "dtype", "nulls", "sample"}


def test_shipped_examples_load(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    sales = load_table(examples / "sales.csv").frame
    assert len(sales) == 200
    assert sales["ad_spend"].isna().sum() > 0
    churn = load_table(examples / "churn.csv").frame
    assert set(churn["churn"].dropna()) == {"yes", "no"}


def test_zip_total_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Random bytes do not compress, so only the total-size limit can trip here.
    monkeypatch.setattr(limits, "MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/big.bin", np.random.default_rng(1).bytes(2 * 1024 * 1024))
    with pytest.raises(CorruptFileError, match="expand"):
        load_table(path)


def test_csv_extension_on_a_workbook_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    pd.DataFrame({"a": [1, 2]}).to_excel(path, index=False)
    renamed = path.rename(tmp_path / "book.csv")
    with pytest.raises(CorruptFileError):
        detect_file_kind(renamed)


def test_semicolon_file_with_comma_decimals_everywhere(tmp_path: Path) -> None:
    # Data rows hold as many commas as semicolons; only ; is in the header.
    text = "a;b\n1,5;2,5\n3,5;4,5\n5,5;6,5\n"
    table = load_table(write(tmp_path / "semi.csv", text))
    assert table.delimiter == ";"
    assert table.frame["b"].tolist() == [2.5, 4.5, 6.5]


def test_xlsx_header_only_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "header.xlsx"
    pd.DataFrame(columns=["a", "b"]).to_excel(path, index=False)
    with pytest.raises(EmptyTableError):
        load_table(path)


def test_sideways_xlsx_with_numeric_year_headers(tmp_path: Path) -> None:
    path = tmp_path / "side.xlsx"
    body = {
        "metric": ["sales", "ad_spend"],
        2021: [10.0, 1.0],
        2022: [12.0, 2.0],
        2023: [15.0, 2.5],
    }
    pd.DataFrame(body).to_excel(path, index=False)
    table = load_table(path)
    assert table.transposed
    assert table.frame["sales"].tolist() == [10.0, 12.0, 15.0]
    assert table.frame["observation"].tolist() == [2021, 2022, 2023]


def test_sheet_option_ignored_for_csv_with_a_warning(tmp_path: Path) -> None:
    table = load_table(write(tmp_path / "t.csv", SIMPLE), sheet="Sheet2")
    assert table.sheet is None
    assert any("sheet" in w for w in table.warnings)


def test_format_change_past_the_sample_is_not_misread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample says decimal commas; "1.5" later would become 15 if read as EU thousands.
    monkeypatch.setattr(cleaning, "SAMPLE_VALUES", 2)
    text = "k;v\na;3,5\nb;4,5\nc;1.5\n"
    frame = load_table(write(tmp_path / "mixed.csv", text)).frame
    assert not pd.api.types.is_numeric_dtype(frame["v"])
    assert frame["v"].tolist() == ["3,5", "4,5", "1.5"]
