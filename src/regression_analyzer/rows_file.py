"""rows.csv: one line per row used in the fit (fitted, residuals, leverage, Cook's distance).

A million rows of eight floats must not cost more than the analysis: pandas' writer takes
~20 s for them and numpy's float-to-text cast ~15 s (both format one value at a time), and
pyarrow's C++ writer, fast enough, would add ~150 MB to a container image that must stay under
500 MB. So the numbers are formatted here, a block of rows at a time, with numpy: each float
is a fixed 22-byte field of 15 significant digits ("-1.23456789012345e-003"), its digits
looked up four at a time in a table; each integer its digits; an undefined value nothing.
The fields go into one byte matrix whose padding bytes are dropped in a single pass, on a
thread the pipeline starts as soon as the values exist (numpy releases the GIL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np

from .atomic_files import replaced_atomically
from .stats.influence import RowDiagnostics

ROWS_FILE = "rows.csv"
BLOCK_ROWS = 65_536
FLOAT_WIDTH = 22  # sign, digit, point, 14 digits, "e", exponent sign, 3 exponent digits
INT_WIDTH = 20  # sign and 19 digits: every int64
# Below this magnitude a value is written as 0: scaling it to 15 digits would need powers of
# ten beyond double precision (its absolute error is then below 1e-300).
TINY = 1e-300
_PAD = 0  # byte marking unused room in a fixed-width field; dropped before writing


def _table(count: int, width: int) -> np.ndarray:
    """The numbers 0..count-1 as zero-padded ASCII digits: (count, width) bytes."""
    numbers = np.arange(count)[:, None]
    powers = 10 ** np.arange(width - 1, -1, -1)
    return ((numbers // powers) % 10 + ord("0")).astype(np.uint8)


_FOUR_DIGITS = _table(10_000, 4)
# Each 4-digit group as one 32-bit word: a 1-D gather per group, several times faster than
# gathering rows of four bytes.
_FOUR_DIGIT_WORDS = _FOUR_DIGITS.view(np.uint32).ravel()
_EXPONENTS = _table(1_000, 3)
# 10^k for k = -200..200, looked up instead of computed per value (a pow per element).
_POWER_OFFSET = 200
_POWERS_OF_TEN = 10.0 ** np.arange(-_POWER_OFFSET, _POWER_OFFSET + 1)


def _four_digit_groups(numbers: np.ndarray, groups: int) -> list[np.ndarray]:
    """Non-negative whole numbers (below 2^53, as floats) split into `groups` groups of 4
    digits, most significant first, as int64 indices.

    Float division and floor instead of integer divmod (several times faster); the rare
    quotient that rounding puts one off is corrected from its remainder.
    """
    out = []
    for _ in range(groups):
        high = np.floor(numbers / 10_000.0)
        low = numbers - high * 10_000.0
        wrong = (low < 0) | (low >= 10_000.0)
        if wrong.any():
            high[wrong] += np.floor(low[wrong] / 10_000.0)
            low[wrong] = numbers[wrong] - high[wrong] * 10_000.0
        out.append(low.astype(np.int64))
        numbers = high
    return out[::-1]


def _mantissa(magnitude: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """round(magnitude * 10^(14 - exponent)), the power split in two halves so that neither
    overflows nor falls into the subnormal range (exponents reach +-308)."""
    shift = 14 - exponent
    half = shift // 2
    return np.asarray(np.rint(magnitude * _power(half) * _power(shift - half)))


def _power(k: np.ndarray) -> np.ndarray:
    """10.0 ** k for integer k in -200..200, from the table."""
    return np.asarray(_POWERS_OF_TEN[k + _POWER_OFFSET])


def _put_words(out: np.ndarray, words: np.ndarray) -> None:
    """Write one 32-bit word (four ASCII bytes) per row into out, (n, 4) bytes."""
    out[:] = words.view(np.uint8).reshape(len(words), 4)


def format_floats(values: np.ndarray, out: np.ndarray) -> None:
    """Write each value into its row of out, (n, FLOAT_WIDTH) bytes: 15 significant digits in
    scientific notation, "0" for zero, "inf"/"-inf", nothing for NaN (padding elsewhere)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    magnitude = np.where(finite, np.abs(values), 0.0)
    nonzero = magnitude >= TINY
    safe = np.where(nonzero, magnitude, 1.0)
    exponent = np.floor(np.log10(safe)).astype(np.int64)
    mantissa = _mantissa(safe, exponent)
    # log10 can land one off next to a power of ten: renormalise to exactly 15 digits.
    for off, step in ((mantissa >= 1e15, 1), (mantissa < 1e14, -1)):
        exponent[off] += step
        mantissa[off] = _mantissa(safe[off], exponent[off])
    g0, g1, g2, g3 = _four_digit_groups(mantissa, 4)  # 0ddd dddd dddd dddd
    out[:, 0] = np.where(values < 0, ord("-"), ord("+"))
    out[:, 1] = _FOUR_DIGITS[g0, 1]
    out[:, 2] = ord(".")
    out[:, 3:5] = _FOUR_DIGITS[g0, 2:]
    _put_words(out[:, 5:9], _FOUR_DIGIT_WORDS[g1])
    _put_words(out[:, 9:13], _FOUR_DIGIT_WORDS[g2])
    _put_words(out[:, 13:17], _FOUR_DIGIT_WORDS[g3])
    out[:, 17] = ord("e")
    out[:, 18] = np.where(exponent < 0, ord("-"), ord("+"))
    out[:, 19:22] = _EXPONENTS[np.abs(exponent)]
    if np.all(nonzero):
        return
    zero = finite & ~nonzero
    out[zero] = _PAD
    out[zero, 0] = ord("0")
    out[~finite] = _PAD
    for text, where in ((b"inf", values == np.inf), (b"-inf", values == -np.inf)):
        out[where, : len(text)] = np.frombuffer(text, dtype=np.uint8)


def format_integers(values: np.ndarray, out: np.ndarray) -> None:
    """Write each int64 value into its row of out, (n, INT_WIDTH) bytes, padding in front."""
    values = np.asarray(values, dtype=np.int64)
    magnitude = np.abs(values)
    # Integers beyond 2^53 are not exact as floats; row numbers never come near.
    groups = _four_digit_groups(magnitude.astype(float), 5)
    for index, group in enumerate(groups):
        _put_words(out[:, 4 * index : 4 * index + 4], _FOUR_DIGIT_WORDS[group])
    digits = np.floor(np.log10(np.maximum(magnitude, 1))).astype(np.int64) + 1
    out[np.arange(INT_WIDTH)[None, :] < (INT_WIDTH - digits)[:, None]] = _PAD
    negative = np.flatnonzero(values < 0)
    out[negative, INT_WIDTH - 1 - digits[negative]] = ord("-")


def _block(columns: list[np.ndarray], start: int, stop: int) -> bytes:
    """CSV lines for rows start..stop of the columns (integers for int columns)."""
    chunks = [values[start:stop] for values in columns]
    widths = [INT_WIDTH if np.issubdtype(c.dtype, np.integer) else FLOAT_WIDTH for c in chunks]
    matrix = np.empty((stop - start, sum(widths) + len(widths)), dtype=np.uint8)
    at = 0
    for chunk, width in zip(chunks, widths, strict=True):
        field = matrix[:, at : at + width]
        if width == INT_WIDTH:
            format_integers(chunk, field)
        else:
            format_floats(chunk, field)
        matrix[:, at + width] = ord(",")
        at += width + 1
    matrix[:, -1] = ord("\n")
    flat = matrix.ravel()
    return cast(bytes, flat[flat != _PAD].tobytes())


def write_rows_csv(path: Path, per_row: RowDiagnostics) -> None:
    """Write the per-row diagnostics to `path` atomically; undefined values stay empty."""
    named = per_row.columns()
    columns = list(named.values())
    total = len(per_row.rows)
    with replaced_atomically(path) as tmp, tmp.open("wb") as handle:
        handle.write((",".join(named) + "\n").encode("ascii"))
        for start in range(0, total, BLOCK_ROWS):
            handle.write(_block(columns, start, min(start + BLOCK_ROWS, total)))


class BackgroundTask:
    """A function run on its own thread; `wait` joins it and re-raises what it raised."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc

    def wait(self) -> None:
        """Block until the work is done; raise its exception if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
