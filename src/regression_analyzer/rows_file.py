"""rows.csv: one line per row used in the fit (fitted, residuals, leverage, Cook's distance).

A million rows of eight floats must not cost more than the analysis: pandas' writer takes
~20 s for them and numpy's float-to-text cast ~15 s (both format one value at a time), and
pyarrow's C++ writer, fast enough, would add ~150 MB to a container image that must stay under
500 MB. So the numbers are formatted here, a block of rows at a time, with numpy: each float
is a fixed 19-byte field of 12 significant digits ("-1.23456789012e-003"), its digits
looked up four at a time in a table; each integer its digits; an undefined value nothing.
The fields go into one byte matrix whose padding bytes are dropped in a single pass, on a
thread the pipeline starts as soon as the values exist (numpy releases the GIL). Blocks are
formatted on up to FORMAT_THREADS threads at once and written in order: a million rows take
~0.6 s instead of ~1 s on two cores, the tail of an analysis of that size.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .atomic_files import replaced_atomically
from .cores import usable_cores
from .stats.influence import RowDiagnostics

ROWS_FILE = "rows.csv"
BLOCK_ROWS = 65_536
# Blocks formatted at once (each ~10 MB of text while in flight).
FORMAT_THREADS = min(4, usable_cores())
SIGNIFICANT_DIGITS = 12  # relative rounding error below 5e-12: beyond any diagnostic's need
FLOAT_WIDTH = 19  # sign, digit, point, 11 digits, "e", exponent sign, 3 exponent digits
# Below this magnitude a value is written as zero: scaling it to 12 digits would need powers
# of ten beyond double precision (its absolute error is then below 1e-300).
TINY = 1e-300
_PAD = 0  # byte marking unused room in a fixed-width field; dropped before writing
# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula
# (OWASP "CSV injection"): "=HYPERLINK(...)", "@SUM(...)", "-2+cmd|' /C calc'!A0".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number: a spreadsheet reads it as a value, so its sign may stay in front.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def csv_safe_cell(value: str) -> str:
    """A text cell made safe to open in a spreadsheet: one that would start a formula gets a
    leading apostrophe (shown as text, the apostrophe hidden); numbers, negative ones too,
    stay numbers. Every text cell the tool writes to a CSV goes through this."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text_row(cells: Iterable[str]) -> bytes:
    """One CSV line of text cells: each made formula-safe, then quoted if it holds a comma,
    quote or line break (RFC 4180)."""
    fields = []
    for cell in cells:
        safe = csv_safe_cell(cell)
        if any(c in safe for c in ',"\r\n'):
            safe = '"' + safe.replace('"', '""') + '"'
        fields.append(safe)
    return (",".join(fields) + "\n").encode("utf-8")


def _table(count: int, width: int) -> np.ndarray:
    """The numbers 0..count-1 as zero-padded ASCII digits: (count, width) bytes."""
    numbers = np.arange(count)[:, None]
    powers = 10 ** np.arange(width - 1, -1, -1)
    return ((numbers // powers) % 10 + ord("0")).astype(np.uint8)


_FOUR_DIGITS = _table(10_000, 4)
# Each 4-digit group as one 32-bit word: a 1-D gather per group, several times faster than
# gathering rows of four bytes.
_FOUR_DIGIT_WORDS = _FOUR_DIGITS.view(np.uint32).ravel()
# The exponent part "sEEE" (sign and 3 digits) of every exponent -400..400, as 32-bit words.
_EXPONENT_OFFSET = 400
_EXPONENT_WORDS = (
    np.column_stack(
        [
            np.where(np.arange(-400, 401) < 0, ord("-"), ord("+")).astype(np.uint8),
            _table(1_000, 3)[np.abs(np.arange(-400, 401))],
        ]
    )
    .view(np.uint32)
    .ravel()
)
# 10^k for k = -350..350 (0 and inf beyond double range), looked up instead of computed.
_POWER_OFFSET = 350
with np.errstate(over="ignore"):
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


def _power(k: np.ndarray) -> np.ndarray:
    """10.0 ** k for integer k in -350..350, from the table."""
    return np.asarray(_POWERS_OF_TEN[k + _POWER_OFFSET])


def _mantissa(magnitude: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """round(magnitude * 10^(11 - exponent)): the value's 12 significant digits."""
    shift = SIGNIFICANT_DIGITS - 1 - exponent
    if shift.max(initial=0) <= 300:
        return np.asarray(np.rint(magnitude * _power(shift)))
    # Below ~1e-286 the power itself overflows: split it in two halves.
    half = shift // 2
    return np.asarray(np.rint(magnitude * _power(half) * _power(shift - half)))


def _put_words(out: np.ndarray, words: np.ndarray) -> None:
    """Write one 32-bit word (four ASCII bytes) per row into out, (n, 4) bytes."""
    out[:] = words.view(np.uint8).reshape(len(words), 4)


def _sign_bytes(negative: np.ndarray) -> np.ndarray:
    """b"-" where negative, else b"+" (uint8 arithmetic: np.where is slow on scalars)."""
    return negative.astype(np.uint8) * np.uint8(2) + np.uint8(ord("+"))


def format_floats(values: np.ndarray, out: np.ndarray) -> bool:
    """Write each value into its row of out, (n, FLOAT_WIDTH) bytes: 12 significant digits in
    scientific notation ("+0.00000000000e+000" for zero), "inf"/"-inf", nothing for NaN.
    Returns whether any field is shorter than the width (padding to drop)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    all_finite = bool(finite.all())
    safe = np.abs(values)
    if not all_finite:
        safe[~finite] = 1.0
    zero = safe < TINY
    has_zero = bool(zero.any())
    if has_zero:
        safe[zero] = 1.0
    exponent = np.floor(np.log10(safe)).astype(np.int64)
    mantissa = _mantissa(safe, exponent)
    # log10 can land one off next to a power of ten: renormalise to exactly 12 digits.
    top = 10.0**SIGNIFICANT_DIGITS
    for off, step in ((mantissa >= top, 1), (mantissa < top / 10, -1)):
        if off.any():
            exponent[off] += step
            mantissa[off] = _mantissa(safe[off], exponent[off])
    if has_zero:
        mantissa[zero] = 0.0
        exponent[zero] = 0
    g0, g1, g2 = _four_digit_groups(mantissa, 3)  # dddd dddd dddd
    lead = _FOUR_DIGIT_WORDS[g0].view(np.uint8).reshape(len(values), 4)
    out[:, 0] = _sign_bytes(values < 0)
    out[:, 1] = lead[:, 0]
    out[:, 2] = ord(".")
    out[:, 3:6] = lead[:, 1:]
    _put_words(out[:, 6:10], _FOUR_DIGIT_WORDS[g1])
    _put_words(out[:, 10:14], _FOUR_DIGIT_WORDS[g2])
    out[:, 14] = ord("e")
    _put_words(out[:, 15:19], _EXPONENT_WORDS[exponent + _EXPONENT_OFFSET])
    if all_finite:
        return False
    out[~finite] = _PAD
    for text, where in ((b"inf", values == np.inf), (b"-inf", values == -np.inf)):
        out[where, : len(text)] = np.frombuffer(text, dtype=np.uint8)
    return True


def _integer_width(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Characters each int64 value needs (sign included), and the most any needs."""
    magnitude = np.abs(values)
    length = np.floor(np.log10(np.maximum(magnitude, 1))).astype(np.int64) + 1
    length += values < 0
    return length, int(length.max(initial=1))


def format_integers(values: np.ndarray, out: np.ndarray) -> bool:
    """Write each int64 value, right-aligned, into its row of out, (n, width) bytes with width
    at least the longest value. Returns whether any value is shorter (padding to drop)."""
    values = np.asarray(values, dtype=np.int64)
    width = out.shape[1]
    groups = _four_digit_groups(np.abs(values).astype(float), 5)  # exact below 2^53
    digits = np.empty((len(values), 20), dtype=np.uint8)
    for index, group in enumerate(groups):
        _put_words(digits[:, 4 * index : 4 * index + 4], _FOUR_DIGIT_WORDS[group])
    out[:] = digits[:, 20 - width :]
    length, _ = _integer_width(values)
    short = length < width
    if short.any():
        out[np.arange(width)[None, :] < (width - length)[:, None]] = _PAD
    negative = np.flatnonzero(values < 0)
    out[negative, width - length[negative]] = ord("-")
    return bool(short.any())


def _block(columns: list[np.ndarray], start: int, stop: int) -> bytes:
    """CSV lines for rows start..stop of the columns (integers for int columns).

    Every field is fixed-width within the block; only when some value is shorter (an
    integer with fewer digits, an undefined value) is the padding dropped in one pass.
    """
    chunks = [values[start:stop] for values in columns]
    integer = [np.issubdtype(c.dtype, np.integer) for c in chunks]
    widths = [
        _integer_width(c)[1] if is_int else FLOAT_WIDTH
        for c, is_int in zip(chunks, integer, strict=True)
    ]
    matrix = np.empty((stop - start, sum(widths) + len(widths)), dtype=np.uint8)
    padded, at = False, 0
    for chunk, is_int, width in zip(chunks, integer, widths, strict=True):
        field = matrix[:, at : at + width]
        padded |= format_integers(chunk, field) if is_int else format_floats(chunk, field)
        matrix[:, at + width] = ord(",")
        at += width + 1
    matrix[:, -1] = ord("\n")
    if not padded:
        return matrix.tobytes()
    flat = matrix.ravel()
    compact: bytes = flat[flat != _PAD].tobytes()
    return compact


def write_rows_csv(path: Path, per_row: RowDiagnostics) -> None:
    """Write the per-row diagnostics to `path` atomically; undefined values stay empty."""
    named = per_row.columns()
    columns = list(named.values())
    total = len(per_row.rows)
    with (
        replaced_atomically(path) as tmp,
        tmp.open("wb") as handle,
        ThreadPoolExecutor(FORMAT_THREADS, thread_name_prefix="rows-csv") as pool,
    ):
        # The names are the tool's own today; the guard keeps it so if one ever is not.
        handle.write(csv_text_row(named))
        pending: deque[Future[bytes]] = deque()
        for start in range(0, total, BLOCK_ROWS):
            pending.append(pool.submit(_block, columns, start, min(start + BLOCK_ROWS, total)))
            if len(pending) > FORMAT_THREADS:
                handle.write(pending.popleft().result())
        while pending:
            handle.write(pending.popleft().result())
