"""Accuracy against the NIST StRD linear least-squares datasets (certified values).

LRE = -log10(|estimate - certified| / |certified|), capped at 15; absolute error when the
certified value is 0. Prints one row per dataset: min LRE over coefficients, over standard
errors, and the LRE of R^2 and of the residual standard deviation.

Data: Norris, Pontius, Filip, Wampler5 from benchmarks/nist_data/*.json (copied from the NIST
.dat files via a public repository); Longley from statsmodels.datasets; Wampler1 and Wampler2
generated from their exact definitions (certified coefficients exact, SEs 0, R^2 1); NoInt1
(x = 60..70, y = x + 70) and NoInt2 (x = 4, 5, 6; y = 3, 4, 4), fits without intercept, with
NIST's certified values (an exact rational computation from this data reproduces all 15 digits).
NoInt R^2 is the uncentered one, as NIST defines it for models without intercept.

Run: PYTHONPATH=src python benchmarks/nist_accuracy.py
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np

from regression_analyzer.stats.least_squares import solve_least_squares

DATA = Path(__file__).parent / "nist_data"

# Longley certified values (NIST StRD Longley.dat), used with statsmodels' copy of the data.
LONGLEY_COEF = [
    "-3482258.63459582",
    "15.0618722713733",
    "-0.358191792925910E-01",
    "-2.02022980381683",
    "-1.03322686717359",
    "-0.511041056535807E-01",
    "1829.15146461355",
]
LONGLEY_SE = [
    "890420.383607373",
    "84.9149257747669",
    "0.334910077722432E-01",
    "0.488399681651699",
    "0.214274163161675",
    "0.226073200069370",
    "455.478499142212",
]
LONGLEY_R2 = "0.995479004577296"
LONGLEY_SD = "304.854073561965"


@dataclass
class Problem:
    name: str
    A: np.ndarray
    y: np.ndarray
    coef: list[Fraction]
    se: list[Fraction]
    r2: Fraction
    resid_sd: Fraction
    intercept: bool = True


def lre(estimate: float, certified: Fraction) -> float:
    """Log relative error in digits (absolute when certified is 0), capped at 15."""
    err = abs(Fraction(estimate) - certified)
    if err == 0:
        return 15.0
    rel = err / abs(certified) if certified != 0 else err
    return min(15.0, -math.log10(float(rel)))


def _frac(text: str) -> Fraction:
    return Fraction(Decimal(text))


def _poly(x: np.ndarray, degree: int) -> np.ndarray:
    # Powers by exact repeated multiplication of Fractions, rounded once: the certified
    # values are for exact powers of x.
    xs = [Fraction(v) for v in x.tolist()]
    return np.array([[float(v**d) for d in range(degree + 1)] for v in xs])


def _poly_ld(x: np.ndarray, degree: int) -> np.ndarray:
    # The same powers rounded to 80-bit extended precision instead of float64.
    xs = x.astype(np.longdouble)
    return np.column_stack([xs**d for d in range(degree + 1)])


def _from_json(name: str, extended: bool = False) -> Problem:
    d = json.loads((DATA / f"{name.lower()}.json").read_text())
    yx = np.array(d["yx"], dtype=float)
    A = _poly_ld(yx[:, 1], d["degree"]) if extended else _poly(yx[:, 1], d["degree"])
    return Problem(
        name + ("(ld)" if extended else ""),
        A,
        yx[:, 0],
        [_frac(c) for c in d["coef"]],
        [_frac(s) for s in d["se"]],
        _frac(d["r2"]),
        _frac(d["resid_sd"]),
    )


def _wampler(name: str, base: Fraction) -> Problem:
    x = np.arange(21, dtype=float)
    coef = [base**d for d in range(6)]
    y = np.array([float(sum(c * Fraction(int(v)) ** d for d, c in enumerate(coef))) for v in x])
    return Problem(name, _poly(x, 5), y, coef, [Fraction(0)] * 6, Fraction(1), Fraction(0))


def _noint(name: str, x: list[int], y: list[int], cert: tuple[str, str, str, str]) -> Problem:
    coef, se, resid_sd, r2 = (_frac(c) for c in cert)
    A = np.array(x, dtype=float).reshape(-1, 1)
    return Problem(name, A, np.array(y, dtype=float), [coef], [se], r2, resid_sd, intercept=False)


def _longley() -> Problem:
    from statsmodels.datasets import longley

    frame = longley.load_pandas().data
    A = np.column_stack([np.ones(len(frame)), frame.drop(columns="TOTEMP").to_numpy(float)])
    return Problem(
        "Longley",
        A,
        frame["TOTEMP"].to_numpy(float),
        [_frac(c) for c in LONGLEY_COEF],
        [_frac(s) for s in LONGLEY_SE],
        _frac(LONGLEY_R2),
        _frac(LONGLEY_SD),
    )


def problems() -> list[Problem]:
    """Every dataset whose data and certified values are available here."""
    return [
        _from_json("Norris"),
        _from_json("Pontius"),
        _noint(
            "NoInt1",
            list(range(60, 71)),
            list(range(130, 141)),
            ("2.07438016528926", "0.165289256198347E-01", "3.56753034006338", "0.999365492298663"),
        ),
        _noint(
            "NoInt2",
            [4, 5, 6],
            [3, 4, 4],
            (
                "0.727272727272727",
                "0.420827318078432E-01",
                "0.369274472937998",
                "0.993348115299335",
            ),
        ),
        _longley(),
        _wampler("Wampler1", Fraction(1)),
        _wampler("Wampler2", Fraction(1, 10)),
        _from_json("Wampler5"),
        _from_json("Filip"),
        _from_json("Filip", extended=True),
    ]


def score(problem: Problem) -> dict[str, float]:
    """LREs of coefficients, SEs, R^2 and residual SD from the package's OLS solver."""
    ls = solve_least_squares(problem.A, problem.y)
    n, p = problem.A.shape
    s2 = ls.ssr / (n - p)
    se = np.sqrt(np.diag(ls.cov_unscaled) * s2)
    yc = problem.y - problem.y.mean() if problem.intercept else problem.y
    r2 = 1 - ls.ssr / float(np.sum(yc.astype(np.longdouble) ** 2))
    return {
        "coef": min(lre(b, c) for b, c in zip(ls.beta, problem.coef, strict=True)),
        "se": min(lre(s, c) for s, c in zip(se, problem.se, strict=True)),
        "r2": lre(r2, problem.r2),
        "resid_sd": lre(math.sqrt(s2), problem.resid_sd),
    }


def main() -> None:
    print(f"{'dataset':<10} {'coef LRE':>9} {'SE LRE':>8} {'R2 LRE':>8} {'SD LRE':>8}")
    for problem in problems():
        s = score(problem)
        digits = f"{s['coef']:9.1f} {s['se']:8.1f} {s['r2']:8.1f} {s['resid_sd']:8.1f}"
        print(f"{problem.name:<10} {digits}")


if __name__ == "__main__":
    main()
