"""Cost bombs: tiny files that would cost far more to parse than their size suggests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from regression_analyzer.errors import InputError, LimitExceededError
from regression_analyzer.loading import limits, load_table
from regression_analyzer.loading.cleaning import _clean_header


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stream_single_line(path: Path, total: int, unit: bytes = b"1,") -> Path:
    """Write `total` bytes of one line without ever holding them in memory."""
    block = unit * (1024 * 1024 // len(unit))
    with path.open("wb") as handle:
        written = 0
        while written < total:
            piece = block[: total - written]
            handle.write(piece)
            written += len(piece)
    return path


def test_duplicate_header_bomb_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", ",".join(["x"] * 131_072) + "\n" + "1\n")
    assert path.stat().st_size <= 256 * 1024 + 2
    with pytest.raises(
        LimitExceededError, match=r"^x\.csv has 131,072 columns; the limit is 2,000$"
    ):
        load_table(path)


def test_limit_error_is_an_input_error() -> None:
    assert issubclass(LimitExceededError, InputError)


def test_table_at_the_column_limit_loads(tmp_path: Path) -> None:
    names = [f"c{i}" for i in range(limits.MAX_COLUMNS)]
    rows = [",".join(str(i + r) for i in range(limits.MAX_COLUMNS)) for r in range(3)]
    path = write(tmp_path / "wide.csv", "\n".join([",".join(names), *rows]) + "\n")
    table = load_table(path)
    assert table.frame.shape == (3, limits.MAX_COLUMNS)


def test_hundred_megabyte_single_line_is_refused(tmp_path: Path) -> None:
    path = stream_single_line(tmp_path / "line.csv", 100 * 1024 * 1024)
    with pytest.raises(
        LimitExceededError,
        match=r"^line 1 of line\.csv is longer than 1 MB; a table's header is not that long$",
    ):
        load_table(path)


def test_long_header_line_with_a_newline_after_it_is_refused(tmp_path: Path) -> None:
    path = stream_single_line(tmp_path / "head.csv", 3 * 1024 * 1024, b"abcdefgh")
    with path.open("ab") as handle:
        handle.write(b"\n1\n")
    with pytest.raises(LimitExceededError, match=r"^line 1 of head\.csv is longer than 1 MB"):
        load_table(path)


def test_excel_with_too_many_columns_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_COLUMNS", 5)
    path = tmp_path / "wide.xlsx"
    pd.DataFrame({f"c{i}": [1, 2] for i in range(6)}).to_excel(path, index=False, sheet_name="Data")
    with pytest.raises(
        LimitExceededError, match=r"wide\.xlsx has 6 columns in sheet 'Data'; the limit is 5"
    ):
        load_table(path)


def test_sideways_table_with_too_many_columns_after_turning_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_COLUMNS", 3)
    lines = ["metric,2019,2020"] + [f"v{i},{i},{i + 1}" for i in range(10)]
    path = write(tmp_path / "side.csv", "\n".join(lines) + "\n")
    with pytest.raises(LimitExceededError, match="the limit is 3"):
        load_table(path, transpose=True)
    assert load_table(path, transpose=False).frame.shape == (10, 3)


def test_clean_header_keeps_names_and_never_clashes() -> None:
    names = _clean_header(pd.Index(["x", "x", "x_2", "x", "x_2", " x ", "", "column_7"]))
    assert names == ["x", "x_2", "x_2_2", "x_3", "x_2_3", "x_4", "column_7", "column_7_2"]
    assert len(set(names)) == len(names)


def test_clean_header_many_duplicates_stay_unique() -> None:
    names = _clean_header(pd.Index(["x_3", *(["x"] * 5000)]))
    assert names[:4] == ["x_3", "x", "x_2", "x_4"]
    assert names[-1] == "x_5001"
    assert len(set(names)) == len(names)


def test_running_out_of_memory_while_parsing_is_a_memory_error_not_a_corrupt_file(
    tmp_path: Path,
) -> None:
    """Under a memory cap pandas' C tokenizer says 'C error: out of memory'; that must reach
    the worker as MemoryError (reported with the limit), not as a broken file."""
    import subprocess
    import sys
    import textwrap

    table = tmp_path / "big.csv"
    table.write_text(
        "a,b,c\n" + "".join(f"{i % 97},{i % 89},{i % 83}\n" for i in range(400_000)),
        encoding="utf-8",
    )
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from regression_analyzer.loading import load_table
        with open("/proc/self/status") as status:
            vm = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
        limit = vm * 1024 + 24 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            load_table(Path({str(table)!r}))
        except MemoryError:
            print("MemoryError")
        except Exception as exc:
            print(type(exc).__name__, exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "MemoryError", out.stdout + out.stderr


def test_a_csv_of_short_lines_under_a_wide_header_is_refused_before_pandas_pads_it(
    tmp_path: Path,
) -> None:
    """50 KB: 2,000 header fields over 30,000 lines of '1' was 60 million cells (~1 GB)."""
    path = tmp_path / "ragged.csv"
    path.write_text(",".join(f"c{i}" for i in range(2000)) + "\n" + "1\n" * 30_000)
    with pytest.raises(LimitExceededError, match=r"2,000 header columns x 30,001 lines"):
        load_table(path)


def test_a_dense_csv_over_the_cell_count_is_not_refused_by_the_padding_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the (lowered) cell limit, but every cell is in the file: the rule does not apply."""
    monkeypatch.setattr(limits, "MAX_TABLE_CELLS", 1000)
    path = tmp_path / "dense.csv"
    path.write_text("a,b,c\n" + "".join(f"{i % 7},{i % 5},{i % 3}\n" for i in range(1000)))
    assert len(load_table(path).frame) == 1000
