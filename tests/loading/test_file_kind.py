"""Say what a file is: BOM-less UTF-16 text is read, other formats are named and refused."""

from __future__ import annotations

import bz2
import gzip
import io
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from regression_analyzer.errors import CorruptFileError
from regression_analyzer.loading import detect_file_kind, load_table

TEXT = "city,sales\nZürich,10\nMünchen,20\n"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(TEXT.encode(encoding))
    assert detect_file_kind(path) == "csv"
    table = load_table(path)
    assert table.encoding == encoding
    assert list(table.frame.columns) == ["city", "sales"]
    assert table.frame["city"].tolist() == ["Zürich", "München"]
    assert table.frame["sales"].tolist() == [10, 20]


def test_tiny_utf16_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_bytes("a,b\n1,2\n".encode("utf-16-le"))
    assert load_table(path).frame["b"].tolist() == [2]


def test_pdf_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    with pytest.raises(CorruptFileError, match=r"^report\.csv is a PDF document, not a CSV table$"):
        load_table(path)


def test_zip_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.txt", TEXT)
    with pytest.raises(
        CorruptFileError, match=r"data\.csv is a zip archive, not a CSV table"
    ) as err:
        load_table(path)
    assert ".xlsx" in str(err.value)
    assert "\n" not in str(err.value)


def test_workbook_named_csv_says_rename_to_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    pd.DataFrame({"a": [1, 2]}).to_excel(path, index=False)
    renamed = path.rename(tmp_path / "book.csv")
    with pytest.raises(CorruptFileError, match=r"is an Excel workbook.*rename it to book\.xlsx"):
        load_table(renamed)


@pytest.mark.parametrize(
    "page",
    [
        "<!DOCTYPE html>\n<html><body><table><tr><td>1</td></tr></table></body></html>\n",
        "\ufeff  \n<html lang='en'><body>a,b</body></html>\n",
        "<!doctype HTML><title>x,y</title>\n",
    ],
)
def test_html_page_named_csv(tmp_path: Path, page: str) -> None:
    path = tmp_path / "page.csv"
    path.write_text(page, encoding="utf-8")
    with pytest.raises(CorruptFileError, match=r"^page\.csv is an HTML web page, not a CSV table"):
        load_table(path)


def _sqlite(path: Path) -> bytes:
    with sqlite3.connect(path) as db:
        db.execute("create table t (a int)")
    data = path.read_bytes()
    path.unlink()
    return data


def _signatures(tmp_path: Path) -> dict[str, bytes]:
    return {
        "a PNG image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "a JPEG image": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        "a GIF image": b"GIF89a\x01\x00\x01\x00",
        "a gzip archive": gzip.compress(TEXT.encode()),
        "a bzip2 archive": bz2.compress(TEXT.encode()),
        "a 7-Zip archive": b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24),
        "an SQLite database": _sqlite(tmp_path / "db.sqlite"),
        "an RTF document": b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} a,b\\par 1,2}",
        "a Linux executable": b"\x7fELF\x02\x01\x01" + bytes(64),
        "a Windows executable": b"MZ\x90" + bytes(61) + b"This program cannot be run in DOS mode",
        "an old-style Office file": bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504),
    }


def test_common_non_table_formats_are_named(tmp_path: Path) -> None:
    for what, content in _signatures(tmp_path).items():
        path = tmp_path / "thing.csv"
        path.write_bytes(content)
        with pytest.raises(CorruptFileError, match=rf"^thing\.csv is {what}") as err:
            load_table(path)
        assert "\n" not in str(err.value)


def test_pdf_with_an_excel_extension_is_named(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(
        CorruptFileError, match=r"^report\.xlsx is a PDF document, not an \.xlsx workbook$"
    ):
        load_table(path)


def test_html_saved_as_xls_is_named(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table></table></body></html>", encoding="utf-8")
    with pytest.raises(CorruptFileError, match=r"^export\.xls is an HTML web page"):
        load_table(path)


def test_text_starting_like_a_signature_is_still_a_table(tmp_path: Path) -> None:
    # Header names that begin with magic-ish letters must not be mistaken for a format.
    path = tmp_path / "ok.csv"
    path.write_text("MZ_score,BZh1,GIF\n1,2,3\n4,5,6\n", encoding="utf-8")
    assert load_table(path).frame["MZ_score"].tolist() == [1, 4]


def test_binary_utf16_lookalike_is_not_text(tmp_path: Path) -> None:
    # 16-bit samples with small values have NULs in every other byte but are not text.
    path = tmp_path / "audio.csv"
    buffer = io.BytesIO()
    for value in range(2000):
        buffer.write((value % 31).to_bytes(2, "little"))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(CorruptFileError):
        load_table(path)
