"""The pyarrow reader gives pandas' C-parser frame, or steps aside: never a different table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from regression_analyzer import loading
from regression_analyzer.loading import cleaning, csv_files, file_kind
from regression_analyzer.loading.arrow_csv import read_plain_csv

pytest.importorskip("pyarrow", reason="pyarrow is the optional fast CSV reader (dev extra)")

# (name, file content, whether pyarrow may read it). None: either answer is fine, as long as
# an answer is pandas' frame.
CASES: list[tuple[str, str, bool | None]] = [
    ("numbers", "y,x1,x2\n1.5,2,3e-4\n-2.25,4,1E+3\n3,6,0.5\n", True),
    ("ints with gaps", "y,x\n1,2\n2,\n3,4\n", True),
    ("markers", "y,x,g\n1,NA,a\n2,null,None\n3,-,?\n4,5,N/A\n5,#N/A,nan\n", True),
    ("text and quotes", 'y,name\n1,"Smith J"\n2,"say ""hi"""\n3,plain\n', True),
    ("delimiter and space in quotes", 'y,name\n1,"Smith, J"\n2,x\n', None),
    ("quoted newline", 'y,note\n1,"two\nlines"\n2,one\n', True),
    ("dates", "y,day,at\n1,2024-01-02,2024-01-02 10:00\n2,2024-02-03,2024-02-03 11:30\n", True),
    ("booleans", "y,flag\n1,True\n2,false\n3,TRUE\n", True),
    ("all empty column", "y,empty,x\n1,,2\n2,,3\n", True),
    ("crlf", "y,x\r\n1,2\r\n3,4\r\n", True),
    ("semicolon decimal comma", "y;x\n1,5;2,25\n3,0;4,5\n", True),
    ("tabs", "y\tx\n1\t2\n3\t4\n", True),
    ("space after delimiter", "y, x\n1, 2\n3, 4\n", False),
    ("trailing spaces", "y,x\n1 ,2\n3 ,4\n", None),
    ("text with spaces", "y,g\n1,a \n2, b\n", None),
    ("blank line inside", "y,x\n1,2\n\n3,4\n", None),
    ("blank lines before header", "\n\ny,x\n1,2\n", False),
    ("duplicate names", "y,x,x\n1,2,3\n", False),
    ("unnamed column", "y,,x\n1,2,3\n", False),
    ("header only", "y,x\n", False),
    ("booleans with gaps", "y,flag\n1,True\n2,\n3,False\n", False),
    ("plus sign and infinity", "y,x\n1,+2\n2,Infinity\n3,-inf\n", None),
    ("ragged rows", "y,x\n1,2,3\n4,5\n", False),
    ("stray quote", 'y,x\n1,ab"c\n2,d\n', None),
    ("huge integers", "y,x\n1,18446744073709551616\n2,3\n", None),
]


def _both(path: Path) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    encoding, _ = csv_files._detect_encoding(path)
    head = path.read_text(encoding=encoding)[: file_kind.SNIFF_BYTES]
    blank, _ = csv_files._find_header(path, head)
    delimiter = csv_files._sniff_delimiter(head)
    fast = read_plain_csv(
        path,
        delimiter=delimiter,
        encoding=encoding,
        header_line=blank,
        null_markers=cleaning._NULL_MARKERS_READ,
        sample=head,
    )
    slow = csv_files._read_csv_with_pandas(path, delimiter, encoding, blank, None)
    return fast, slow


@pytest.mark.parametrize(("name", "content", "fast_path"), CASES, ids=[c[0] for c in CASES])
def test_same_frame_as_pandas_or_none(
    tmp_path: Path, name: str, content: str, fast_path: bool | None
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content.encode())
    fast, slow = _both(path)
    if fast_path is not None:
        assert (fast is not None) == fast_path, name
    if fast is not None:
        pd.testing.assert_frame_equal(fast, slow, check_exact=True)


@pytest.mark.parametrize(("name", "content", "fast_path"), CASES, ids=[c[0] for c in CASES])
def test_load_table_is_the_same_with_and_without_pyarrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str, fast_path: bool | None
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content.encode())

    def load() -> loading.LoadedTable | str:
        try:
            return loading.load_table(path)
        except loading.InputError as exc:  # the same refusal either way
            return f"{type(exc).__name__}: {exc}"

    with_arrow = load()
    monkeypatch.setattr(csv_files, "read_plain_csv", lambda *a, **k: None)
    without = load()
    if isinstance(with_arrow, str) or isinstance(without, str):
        assert with_arrow == without
        return
    pd.testing.assert_frame_equal(with_arrow.frame, without.frame, check_exact=True)
    assert list(with_arrow.row_numbers) == list(without.row_numbers)
    assert with_arrow.warnings == without.warnings


def test_a_large_plain_file_takes_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "\n".join(f"{i},{i * 0.5},{'abc'[i % 3]}" for i in range(50_000))
    path.write_text("y,x,g\n" + rows + "\n")
    fast, slow = _both(path)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
