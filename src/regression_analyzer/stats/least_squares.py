"""Accurate least squares: the one solver every OLS number comes from.

Small, well-scaled problems are solved exactly (rational arithmetic, rounded once at the end),
which carries the NIST StRD suite, Filip included, to full double precision. Everything else
uses Householder QR of the power-of-two column-scaled design with iterative refinement whose
residuals are computed in extended precision (np.longdouble).

The exact path is bounded twice: by the work n * p^2 and by the binary exponent span of each
column (values from 1e-150 to 1e150 in one column make its integers thousands of bits long, and
a 14 KB table then took half a minute).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import numpy as np
from scipy.linalg import solve_triangular

from ..errors import InputError

# Above this many multiply-adds (n * p^2) the exact rational solve passes ~0.3 s.
EXACT_WORK_LIMIT = 15_000
# Widest binary exponent range (max/min over a column's non-zero values) the exact path takes.
EXACT_EXPONENT_SPAN = 64
REFINEMENT_STEPS = 2


@dataclass
class LeastSquares:
    """An accurate least-squares solution of A b = y (A as given, no constant added)."""

    beta: np.ndarray
    cov_unscaled: np.ndarray  # (A'A)^-1
    residuals: np.ndarray
    ssr: float
    hat: np.ndarray  # diagonal of the hat matrix
    r_factor: np.ndarray  # R of A = QR (unscaled A)
    q_factor: np.ndarray  # n x p orthonormal basis of A's column space
    method: str


def r_factor(A: np.ndarray) -> np.ndarray:
    """R of a Householder QR of A, without forming Q (about 3x cheaper)."""
    return cast(np.ndarray, np.linalg.qr(A, mode="r"))


def _pow2_scale(A: np.ndarray) -> np.ndarray:
    """Power-of-two column scales near each column's largest magnitude.

    Dividing by a power of two is exact, so no information is lost; the largest magnitude
    (not the norm) is used so that huge values cannot overflow a sum of squares.
    """
    peak = np.max(np.abs(A), axis=0) if len(A) else np.ones(A.shape[1])
    peak[peak == 0] = 1.0
    return np.exp2(np.round(np.log2(peak)))


def _exponent_span(values: np.ndarray) -> int:
    """Largest minus smallest binary exponent over the non-zero values of each column."""
    magnitudes = np.abs(values.astype(float))
    spans = []
    for column in np.atleast_2d(magnitudes.T):
        nonzero = column[column > 0]
        if nonzero.size:
            exponents = np.frexp(nonzero)[1]
            spans.append(int(exponents.max() - exponents.min()))
    return max(spans, default=0)


def exact_path_applies(A: np.ndarray, y: np.ndarray) -> bool:
    """Whether the exact rational solve is affordable for this problem."""
    n, p = A.shape
    if n * p * p > EXACT_WORK_LIMIT:
        return False
    return max(_exponent_span(A), _exponent_span(y)) <= EXACT_EXPONENT_SPAN


def _fractions(values: np.ndarray) -> list[Fraction]:
    """Exact rationals of float64 or longdouble values."""
    if values.dtype == np.longdouble:
        return [Fraction(*v.as_integer_ratio()) for v in values]
    return [Fraction(v) for v in values.tolist()]


def _scaled_integers(values: np.ndarray) -> tuple[np.ndarray, int]:
    """values = ints / den exactly, ints as a Python-int object array, den a power of two.

    Integer dot products are exact and far cheaper than Fraction arithmetic row by row.
    """
    fracs = _fractions(values)
    den = max(f.denominator for f in fracs)
    ints = np.empty(len(fracs), dtype=object)
    ints[:] = [f.numerator * (den // f.denominator) for f in fracs]
    return ints, den


def _exact_solve(A: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Normal equations in exact rational arithmetic: beta, (A'A)^-1 and SSR, rounded once."""
    p = A.shape[1]
    cols = [_scaled_integers(A[:, j]) for j in range(p)]
    yi, yden = _scaled_integers(y)
    G = [[Fraction(0)] * p for _ in range(p)]
    for i in range(p):
        for j in range(i, p):
            dot = int(np.dot(cols[i][0], cols[j][0]))
            G[i][j] = G[j][i] = Fraction(dot, cols[i][1] * cols[j][1])
    rhs = [Fraction(int(np.dot(cols[i][0], yi)), cols[i][1] * yden) for i in range(p)]
    # Gauss-Jordan on [G | I | A'y]; pivots are exact, so any non-zero pivot will do.
    M = [G[i] + [Fraction(int(i == j)) for j in range(p)] + [rhs[i]] for i in range(p)]
    for c in range(p):
        pivot = next((r for r in range(c, p) if M[r][c] != 0), None)
        if pivot is None:
            raise InputError("The predictors are perfectly collinear; drop a redundant column.")
        M[c], M[pivot] = M[pivot], M[c]
        inv = 1 / M[c][c]
        M[c] = [v * inv for v in M[c]]
        for r in range(p):
            if r != c and M[r][c] != 0:
                f = M[r][c]
                M[r] = [a - f * b for a, b in zip(M[r], M[c], strict=True)]
    beta = [M[i][-1] for i in range(p)]
    yty = Fraction(int(np.dot(yi, yi)), yden * yden)
    ssr = yty - sum(b * r for b, r in zip(beta, rhs, strict=True))
    ginv = np.array([[float(M[i][p + j]) for j in range(p)] for i in range(p)])
    return np.array([float(b) for b in beta]), ginv, float(ssr)


def _residuals_ld(A: np.ndarray, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """y - A beta in extended precision, column by column (vectorised, no n x p copy)."""
    r = y.astype(np.longdouble)
    b = beta.astype(np.longdouble)
    for j in range(A.shape[1]):
        r -= A[:, j].astype(np.longdouble) * b[j]
    return r


def solve_least_squares(A: np.ndarray, y: np.ndarray) -> LeastSquares:
    """Accurate least squares for a full-column-rank A (include the constant yourself).

    Exact rational normal equations when `exact_path_applies`; otherwise Householder QR of
    the power-of-two scaled A plus extended-precision iterative refinement. A and y may be
    np.longdouble: the exact path then uses every extended-precision bit of the design.
    Raises InputError when A is rank deficient.
    """
    A_given, y_given = np.asarray(A), np.asarray(y)
    A = A_given.astype(float)
    y = y_given.astype(float)
    p = A.shape[1]
    scale = _pow2_scale(A)
    As = A / scale
    # R only (3x faster than forming Q); Q = As R^-1 is then one BLAS product. Its small loss
    # of orthogonality is harmless: the solve below is refined against true residuals.
    R = r_factor(As)
    diag = np.abs(np.diag(R))
    if diag.min() <= 1e-15 * diag.max():
        raise InputError("The predictors are perfectly collinear; drop a redundant column.")
    Rinv = solve_triangular(R, np.eye(p))
    Q = As @ Rinv
    hat = np.einsum("ij,ij->i", Q, Q)
    if exact_path_applies(A_given, y_given):
        beta, cov_unscaled, ssr = _exact_solve(A_given, y_given)
        resid = _residuals_ld(A, y, beta)
        method = "exact rational normal equations"
    else:
        bs = Rinv @ (Q.T @ y)
        resid = _residuals_ld(As, y, bs)
        for _ in range(REFINEMENT_STEPS):
            bs = bs + Rinv @ (Q.T @ resid.astype(float))
            resid = _residuals_ld(As, y, bs)
        beta = bs / scale
        cov_unscaled = (Rinv @ Rinv.T) / np.outer(scale, scale)
        ssr = float(np.sum(resid**2))
        method = "Householder QR with extended-precision refinement"
    return LeastSquares(
        beta, cov_unscaled, resid.astype(float), ssr, hat, R * scale[None, :], Q, method
    )
