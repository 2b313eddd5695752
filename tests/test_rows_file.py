"""rows.csv: the numbers read back as written, undefined values empty, any reader parses it."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regression_analyzer.rows_file import (
    FLOAT_WIDTH,
    format_floats,
    format_integers,
    write_rows_csv,
)
from regression_analyzer.stats.influence import RowDiagnostics


def _texts(values: np.ndarray, integers: bool = False) -> list[str]:
    out = np.zeros((len(values), 20 if integers else FLOAT_WIDTH), dtype=np.uint8)
    (format_integers if integers else format_floats)(values, out)
    return [bytes(row[row != 0]).decode("ascii") for row in out]


def test_floats_read_back_to_12_significant_digits() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.normal(size=20_000),
            10.0 ** rng.uniform(-299, 308, 20_000) * rng.choice([-1.0, 1.0], 20_000),
            np.round(rng.normal(size=5_000), 3),  # short decimals
            [1.0, 10.0, 9.999999999999999e-1, 0.1, 1 / 3, 2.0**52, 1e22, 1.5e308],
        ]
    )
    back = np.array([float(text) for text in _texts(values)])
    nonzero = values != 0
    np.testing.assert_allclose(back[nonzero], values[nonzero], rtol=5.1e-12, atol=0)
    assert (back[~nonzero] == 0).all()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "+0.00000000000e+000"), (-0.0, "+0.00000000000e+000"),
        (1.5, "+1.50000000000e+000"), (-0.00123, "-1.23000000000e-003"),
        (1e-310, "+0.00000000000e+000"), (math.inf, "inf"), (1 / 3, "+3.33333333333e-001"),
        (-math.inf, "-inf"), (math.nan, ""),
    ],
)  # fmt: skip
def test_float_texts(value: float, text: str) -> None:
    assert _texts(np.array([value])) == [text]


def test_integers_without_padding() -> None:
    values = np.array([0, 2, 9, 10, 99, 100, 9999, 10_000, 1_000_001, -5, -1_234_567])
    assert _texts(values, integers=True) == [str(v) for v in values]


def test_written_file_parses_with_csv_and_pandas(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 70_000  # more than one block
    arrays = [rng.normal(size=n) for _ in range(6)]
    arrays[1][[5, 69_999]] = np.nan  # a leverage of 1 gives undefined residuals
    per_row = RowDiagnostics(np.arange(2, n + 2), *arrays)
    path = tmp_path / "rows.csv"
    write_rows_csv(path, per_row)
    frame = pd.read_csv(path)
    assert list(frame.columns) == list(per_row.columns())
    assert frame["row"].dtype == np.int64 and frame["row"].iloc[-1] == n + 1
    np.testing.assert_allclose(frame["fitted"], arrays[0], rtol=5.1e-12)
    assert frame["residual"].isna().sum() == 2
    with path.open(newline="") as handle:
        lines = list(csv.reader(handle))
    assert len(lines) == n + 1 and lines[6][2] == "" and lines[1][0] == "2"


def test_blocks_formatted_on_threads_are_written_in_row_order(tmp_path: Path) -> None:
    from regression_analyzer import rows_file

    n = rows_file.BLOCK_ROWS * 3 + 17  # more blocks than threads, and a short last one
    arrays = [np.linspace(-1, 1, n) * (k + 1) for k in range(7)]
    per_row = RowDiagnostics(np.arange(2, n + 2), *arrays)
    columns = list(per_row.columns().values())
    expected = b"".join(
        rows_file._block(columns, start, min(start + rows_file.BLOCK_ROWS, n))
        for start in range(0, n, rows_file.BLOCK_ROWS)
    )
    path = tmp_path / "rows.csv"
    write_rows_csv(path, per_row)
    header, body = path.read_bytes().split(b"\n", 1)
    assert header.decode().split(",") == list(per_row.columns())
    assert body == expected
