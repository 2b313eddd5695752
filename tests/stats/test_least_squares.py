"""NIST StRD certified values: >= 9 correct digits of coefficients and standard errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from regression_analyzer.stats import least_squares as fit_module

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import nist_accuracy

PROBLEMS = {p.name: p for p in nist_accuracy.problems()}
# Filip with a float64 design: the rounding of x^k to double alone moves the exact answer of
# the stored design in the 8th digit (the exact rational solve shows ~7.6 digits), so 9 digits
# are only reachable from an extended-precision design: "Filip(ld)".
FLOAT64_LIMITED = {"Filip"}


@pytest.mark.parametrize("name", [n for n in PROBLEMS if n not in FLOAT64_LIMITED])
def test_nist_nine_digits(name: str) -> None:
    s = nist_accuracy.score(PROBLEMS[name])
    assert s["coef"] >= 9, s
    assert s["se"] >= 9, s


def test_filip_float64_design_is_solved_exactly() -> None:
    # The solver must not lose anything beyond the design's own rounding: >= 7 digits
    # (statsmodels' pinv manages far fewer; a plain normal-equations solve gives none).
    s = nist_accuracy.score(PROBLEMS["Filip"])
    assert s["coef"] >= 7 and s["se"] >= 7, s


@pytest.mark.parametrize("name", ["Norris", "Pontius", "Longley", "Wampler1", "Wampler2"])
def test_refinement_path_nine_digits(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The large-data path (QR + extended-precision refinement) on the same problems.
    monkeypatch.setattr(fit_module, "EXACT_WORK_LIMIT", 0)
    ls = fit_module.solve_least_squares(PROBLEMS[name].A, PROBLEMS[name].y)
    assert ls.method.startswith("Householder")
    s = nist_accuracy.score(PROBLEMS[name])
    assert s["coef"] >= 9 and s["se"] >= 9, s


def test_lre_definition() -> None:
    from fractions import Fraction

    assert nist_accuracy.lre(1.0000001, Fraction(1)) == pytest.approx(7, abs=0.01)
    assert nist_accuracy.lre(1e-12, Fraction(0)) == pytest.approx(12, abs=0.01)
    assert nist_accuracy.lre(2.0, Fraction(2)) == 15.0


def test_exact_and_refined_paths_agree_with_lstsq() -> None:
    rng = np.random.default_rng(5)
    A = np.column_stack([np.ones(500), rng.normal(size=(500, 4))])
    y = A @ np.array([1.0, 2.0, -3.0, 0.5, 4.0]) + rng.normal(size=500)
    expected, *_ = np.linalg.lstsq(A, y, rcond=None)
    exact = fit_module._exact_solve(A, y)[0]
    np.testing.assert_allclose(exact, expected, rtol=1e-10)
    refined = fit_module.solve_least_squares(A, y)  # 500*25 > limit? either way must agree
    np.testing.assert_allclose(refined.beta, expected, rtol=1e-10)
