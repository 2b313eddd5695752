"""durbin_watson_test against R 4.2.2 / lmtest 0.9-40: ``dwtest`` with its defaults.

The reference numbers were produced once in R and are pasted below, so R is not needed to
run these tests. Each was printed with ``sprintf("%.17g", c(r$statistic, r$p.value))`` for
the ``r <- dwtest(...)`` call given in the comment next to it.

Data (tests/data_dw/*.csv): mtcars, cars, warpbreaks, airquality (complete rows only),
LakeHuron and Nile were written from R's datasets with ``write.csv``; gen_*.csv were made in
Python (seeded normal regressors, AR(1) errors) and are the data of record.

Tolerances. The statistic: relative 1e-10. The p-value: relative 1e-9 wherever lmtest's
exact p-value is accurate (observed agreement is 1e-12 or better). lmtest computes the
exact p-value with Pan's procedure at 15 iterations, which on some designs is off by far
more than 1e-6; for those the tests check against ``dwtest(..., iterations = 200)`` at
relative 1e-6 and against the Imhof (1961) integral evaluated with mpmath at 30 significant
digits (on the eigenvalues dwtest forms) at relative 1e-11, and record lmtest's default.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regression_analyzer.stats import durbin_watson as dw_module
from regression_analyzer.stats.durbin_watson import DurbinWatsonTest, durbin_watson_test

DATA = Path(__file__).resolve().parents[1] / "data_dw"
STAT_REL = 1e-10
P_REL = 1e-9

Loader = Callable[[], tuple[np.ndarray, np.ndarray]]


def _frame(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def _model(name: str, target: str, predictors: list[str]) -> Loader:
    """y and [1, predictors] from a CSV, rows in file order (R's model.frame order)."""

    def load() -> tuple[np.ndarray, np.ndarray]:
        f = _frame(name)
        X = np.column_stack([np.ones(len(f)), f[predictors].to_numpy(float)])
        return f[target].to_numpy(float), X

    return load


def _all_columns(name: str, constant: bool) -> Loader:
    """R's ``y ~ .`` (constant=True) or ``y ~ . - 1`` on a gen_*.csv file."""

    def load() -> tuple[np.ndarray, np.ndarray]:
        f = _frame(name)
        X = f.drop(columns="y").to_numpy(float)
        if constant:
            X = np.column_stack([np.ones(len(f)), X])
        return f["y"].to_numpy(float), X

    return load


def _polynomial(name: str, target: str, degree: int, centred: bool = False) -> Loader:
    """y on 1, year, ..., year^degree (raw powers unless centred)."""

    def load() -> tuple[np.ndarray, np.ndarray]:
        f = _frame(name)
        t = f["year"].to_numpy(float)
        if centred:
            t = (t - t.mean()) / t.std()
        return f[target].to_numpy(float), np.column_stack([t**j for j in range(degree + 1)])

    return load


def _warpbreaks() -> tuple[np.ndarray, np.ndarray]:
    f = _frame("warpbreaks")
    dummies = [f["wool"] == "B", f["tension"] == "M", f["tension"] == "H"]
    X = np.column_stack([np.ones(len(f)), *dummies]).astype(float)
    return f["breaks"].to_numpy(float), X


def _literal(y: list[float], x: list[float] | None = None) -> Loader:
    def load() -> tuple[np.ndarray, np.ndarray]:
        cols = [np.ones(len(y))] + ([np.asarray(x, float)] if x is not None else [])
        return np.asarray(y, float), np.column_stack(cols)

    return load


def _ols_residuals(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    return y - X @ np.linalg.lstsq(X, y, rcond=None)[0]


def _run(load: Loader) -> DurbinWatsonTest:
    y, X = load()
    return durbin_watson_test(_ols_residuals(y, X), X)


@dataclass(frozen=True)
class RCase:
    id: str
    load: Loader
    statistic: float
    p_value: float
    method: str


EXACT, NORMAL = "exact", "normal approximation"

R_CASES = [
    # dwtest(lm(mpg ~ wt + hp, mtcars))
    RCase("mtcars", _model("mtcars", "mpg", ["wt", "hp"]), 1.3623992729510062,
          0.020612549019672428, EXACT),
    # dwtest(lm(dist ~ speed, cars))
    RCase("cars", _model("cars", "dist", ["speed"]), 1.6762253234350972,
          0.09521708980211406, EXACT),
    # dwtest(lm(breaks ~ wool + tension, warpbreaks))
    RCase("warpbreaks", _warpbreaks, 2.0331859621390511, 0.38955308237651037, EXACT),
    # dwtest(lm(Ozone ~ Solar.R + Wind + Temp, airquality))   (n = 111 complete rows)
    RCase("airquality", _model("airquality", "Ozone", ["Solar.R", "Wind", "Temp"]),
          1.9354759762849625, 0.33471495360717896, NORMAL),
    # dwtest(lm(LakeHuron ~ time(LakeHuron)))   (n = 98, strongly autocorrelated)
    RCase("lakehuron", _model("lakehuron", "level", ["year"]), 0.43949322926535661,
          1.0193762137564651e-22, EXACT),
    # dwtest(lm(Nile ~ time(Nile)))   (n = 100: first n on the approximation path)
    RCase("nile", _model("nile", "flow", ["year"]), 1.2472281299888051,
          4.6866277122989874e-05, NORMAL),
    # d <- read.csv("tests/data_dw/lakehuron.csv"); dwtest(level ~ year + I(year^2), data = d)
    RCase("lakehuron_quadratic", _polynomial("lakehuron", "level", 2), 0.53869410766974879,
          2.4443907316347695e-19, EXACT),
    # d <- read.csv("tests/data_dw/nile.csv"); dwtest(flow ~ year + I(year^2), data = d)
    RCase("nile_quadratic", _polynomial("nile", "flow", 2), 1.449856766419773,
          0.0013977035817270866, NORMAL),
    # d <- read.csv("tests/data_dw/gen_pos_n60.csv"); dwtest(y ~ ., data = d)   (AR rho 0.85)
    RCase("gen_pos_n60", _all_columns("gen_pos_n60", True), 0.47114646358039597,
          2.3816773284044657e-13, EXACT),
    # d <- read.csv("tests/data_dw/gen_neg_n40.csv"); dwtest(y ~ ., data = d)   (AR rho -0.75)
    RCase("gen_neg_n40", _all_columns("gen_neg_n40", True), 3.4759726305502414,
          0.99999999274754525, EXACT),
    # d <- read.csv("tests/data_dw/gen_n6.csv"); dwtest(y ~ ., data = d)
    RCase("gen_n6", _all_columns("gen_n6", True), 1.5694562082899046,
          0.28849956733014026, EXACT),
    # d <- read.csv("tests/data_dw/gen_noconst_n30.csv"); dwtest(y ~ . - 1, data = d)
    RCase("gen_noconst_n30", _all_columns("gen_noconst_n30", False), 1.8825368380541181,
          0.34920238766120143, EXACT),
    # d <- read.csv("tests/data_dw/gen_n100.csv"); dwtest(y ~ ., data = d)
    RCase("gen_n100", _all_columns("gen_n100", True), 1.3789647270654763,
          0.00080945982320642848, NORMAL),
    # d <- read.csv("tests/data_dw/gen_n500.csv"); dwtest(y ~ ., data = d)   (AR rho -0.1)
    RCase("gen_n500", _all_columns("gen_n500", True), 2.1313767737532534,
          0.92866047286994302, NORMAL),
    # d <- read.csv("tests/data_dw/gen_pos_n300.csv"); dwtest(y ~ ., data = d)   (AR rho 0.5)
    RCase("gen_pos_n300", _all_columns("gen_pos_n300", True), 1.18150966177094,
          5.36862748110994e-13, NORMAL),
    # x5 <- c(1, 2, 3, 4, 5); y5 <- c(1.2, 1.9, 3.4, 3.8, 5.3); dwtest(y5 ~ x5)
    RCase("literal_n5", _literal([1.2, 1.9, 3.4, 3.8, 5.3], [1, 2, 3, 4, 5]),
          3.5520599250936322, 0.97787203330072048, EXACT),
]  # fmt: skip


@pytest.mark.parametrize("case", R_CASES, ids=lambda c: c.id)
def test_matches_lmtest(case: RCase) -> None:
    result = _run(case.load)
    assert result.method == case.method
    assert result.note is None
    assert result.statistic == pytest.approx(case.statistic, rel=STAT_REL)
    assert result.p_value == pytest.approx(case.p_value, rel=P_REL)


@dataclass(frozen=True)
class PanCase:
    id: str
    load: Loader
    statistic: float
    r_default: float  # dwtest(...) as is: Pan's procedure, 15 iterations
    r_200: float  # dwtest(..., iterations = 200)
    imhof: float  # Imhof integral, mpmath, 30 significant digits


PAN_CASES = [
    # d <- read.csv("tests/data_dw/gen_n99_k10.csv"); dwtest(y ~ ., data = d)   (n 99, k 10)
    PanCase("gen_n99_k10", _all_columns("gen_n99_k10", True), 2.2764210295712433,
            0.91620802812916269, 0.91625773945956668, 0.91625773054842711822),
    # d <- read.csv("tests/data_dw/gen_pan15_off.csv"); dwtest(y ~ . - 1, data = d)
    # (n 93, k 12 including the x0 constant column; lmtest's default is off by 0.31)
    PanCase("gen_pan15_off", _all_columns("gen_pan15_off", False), 2.0824675442375269,
            0.91955788916604642, 0.61271827304396476, 0.61271823863899090899),
    # y4 <- c(2, -1, 0.5, 3); dwtest(y4 ~ 1)   (eigenvalues 2 - 2 cos(j pi / 4), j = 1..3)
    PanCase("literal_n4", _literal([2.0, -1.0, 0.5, 3.0]), 1.9047619047619051,
            0.43806715922851158, 0.43806715922851158, 0.43806715575984631536),
]  # fmt: skip


@pytest.mark.parametrize("case", PAN_CASES, ids=lambda c: c.id)
def test_exact_p_value_where_lmtest_default_is_inaccurate(case: PanCase) -> None:
    result = _run(case.load)
    assert result.method == EXACT and result.p_value is not None
    assert result.statistic == pytest.approx(case.statistic, rel=STAT_REL)
    assert result.p_value == pytest.approx(case.imhof, rel=1e-11)
    assert result.p_value == pytest.approx(case.r_200, rel=1e-6)
    # lmtest's default answer is not reproduced on purpose: it is further from the truth.
    assert abs(case.r_default - case.imhof) > 1e3 * abs(result.p_value - case.imhof)


@pytest.mark.parametrize("seed", range(5))
def test_closed_form_three_observations(seed: int) -> None:
    """n = 3 on a constant: DW = (z1^2 + 3 z2^2) / (z1^2 + z2^2), so for 1 < d < 3
    P(DW < d) = P(|Cauchy| < sqrt((d-1)/(3-d))) = (2/pi) atan(sqrt((d-1)/(3-d))).

    (lmtest reports 0.66649861459775628 for y3 <- c(1, 3, 2); dwtest(y3 ~ 1), where this
    formula gives exactly 2/3.)
    """
    y = np.random.default_rng(seed).normal(size=3)
    result = durbin_watson_test(y - y.mean(), np.ones((3, 1)))
    d = result.statistic
    expected = 2 / math.pi * math.atan(math.sqrt((d - 1) / (3 - d)))
    assert result.p_value == pytest.approx(expected, rel=1e-12)


def test_closed_form_matches_lmtest_example() -> None:
    result = _run(_literal([1.0, 3.0, 2.0]))
    assert result.statistic == pytest.approx(2.5000000000000004, rel=STAT_REL)
    assert result.p_value == pytest.approx(2 / 3, rel=1e-12)


@pytest.mark.parametrize("case", [R_CASES[0], R_CASES[3], PAN_CASES[1]], ids=lambda c: c.id)
def test_q_factor_and_any_basis_give_the_same_answer(case: RCase | PanCase) -> None:
    y, X = case.load()
    e = _ols_residuals(y, X)
    reference = durbin_watson_test(e, X)
    Q, R = np.linalg.qr(X)
    for basis in (Q, X @ np.linalg.inv(R) * 1.0001, X):  # orthonormal, nearly, not at all
        result = durbin_watson_test(e, X, basis)
        assert result.method == reference.method
        assert result.p_value == pytest.approx(reference.p_value, rel=1e-11)


def test_ill_conditioned_design_uses_the_column_space_only() -> None:
    """Raw powers of the year (scaled condition number ~4e6, beyond the Cholesky shortcut)
    span the same space as centred ones, so the answers must agree."""
    for name, target in (("lakehuron", "level"), ("nile", "flow")):
        y, X_raw = _polynomial(name, target, 3)()
        _, X_centred = _polynomial(name, target, 3, centred=True)()
        e = _ols_residuals(y, X_centred)
        raw, centred = durbin_watson_test(e, X_raw), durbin_watson_test(e, X_centred)
        assert raw.p_value == pytest.approx(centred.p_value, rel=1e-9)


def test_rank_deficient_design_counts_its_rank() -> None:
    y, X = R_CASES[0].load()
    duplicated = np.column_stack([X, X[:, 1] + X[:, 2]])
    result = durbin_watson_test(_ols_residuals(y, X), duplicated)
    assert result.p_value == pytest.approx(R_CASES[0].p_value, rel=P_REL)
    assert result.note is not None and "rank-deficient (3 of 4" in result.note


def test_fewer_than_three_observations_has_no_p_value() -> None:
    result = durbin_watson_test(np.array([1.0, -1.0]), np.ones((2, 1)))
    assert result.statistic == 2.0
    assert result.p_value is None
    assert result.method == "none"
    assert result.note is not None and "fewer than 3" in result.note


def test_perfect_fit_has_no_statistic() -> None:
    result = durbin_watson_test(np.zeros(10), np.ones((10, 1)))
    assert math.isnan(result.statistic)
    assert result.p_value is None
    assert result.note == "residuals are all zero (perfect fit)"


def test_no_residual_degrees_of_freedom() -> None:
    X = np.column_stack([np.ones(4), np.arange(4.0), np.arange(4.0) ** 2, np.arange(4.0) ** 3])
    result = durbin_watson_test(np.array([1e-16, -2e-16, 2e-16, -1e-16]), X)
    assert result.p_value is None
    assert result.note is not None and "degrees of freedom" in result.note


def test_falls_back_to_the_approximation_when_exact_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As lmtest does when Pan's value is outside [0, 1]. The approximated reference is
    dwtest(mpg ~ wt + hp, data = mtcars, exact = FALSE)."""
    for broken in (None, 1.5, -0.2):
        monkeypatch.setattr(dw_module, "_negative_probability", lambda lam, v=broken: v)
        result = _run(R_CASES[0].load)
        assert result.method == NORMAL
        assert result.note is not None and "normal approximation used" in result.note
        assert result.p_value == pytest.approx(0.020676339996556589, rel=P_REL)


def test_quadrature_noise_outside_the_unit_interval_is_clipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dw_module, "_negative_probability", lambda lam: 1 + 1e-12)
    result = _run(R_CASES[0].load)
    assert (result.method, result.p_value) == (EXACT, 1.0)


def test_too_few_observations_for_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dw_module, "_negative_probability", lambda lam: None)
    result = _run(_literal([2.0, -1.0, 0.5, 3.0]))
    assert result.p_value is None
    assert result.note is not None and "too few observations" in result.note


def test_statistic_at_the_ends_of_its_range() -> None:
    """Residuals along the extreme eigenvectors of M A M put DW at its bounds: p is 0 or 1
    (or within rounding of them), never NaN or outside [0, 1]."""
    rng = np.random.default_rng(1)
    n = 30
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    Q = np.linalg.qr(X)[0]
    M = np.eye(n) - Q @ Q.T
    A = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    A[0, 0] = A[-1, -1] = 1
    w, V = np.linalg.eigh(M @ A @ M)
    kept = np.argsort(w)[::-1][: n - 2]
    low = durbin_watson_test(M @ V[:, kept[-1]], X)
    next_low = durbin_watson_test(M @ V[:, kept[-2]], X)
    high = durbin_watson_test(M @ V[:, kept[0]], X)
    assert low.p_value is not None and 0 <= low.p_value < 1e-100
    assert next_low.p_value is not None and 0 < next_low.p_value < 1e-15
    assert high.p_value == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("seed", range(20))
def test_p_value_is_a_probability(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 130))
    k = int(rng.integers(1, min(n - 1, 8) + 1))
    X = np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))])
    e = _ols_residuals(np.cumsum(rng.normal(size=n)) * rng.choice([-1.0, 1.0]), X)
    result = durbin_watson_test(e, X)
    assert result.p_value is not None and 0.0 <= result.p_value <= 1.0
    assert result.method == (EXACT if n < 100 else NORMAL)


def test_invalid_input_is_refused() -> None:
    X = np.ones((5, 1))
    with pytest.raises(ValueError):
        durbin_watson_test(np.ones(4), X)
    with pytest.raises(ValueError):
        durbin_watson_test(np.array([1.0, np.nan, 0, 1, 2]), X)
    with pytest.raises(ValueError):
        durbin_watson_test(np.ones(5), X, q_factor=np.ones((4, 1)))
    with pytest.raises(ValueError):
        durbin_watson_test(np.ones(5), X, q_factor=np.ones((5, 2)))


def test_large_n_is_linear_in_memory() -> None:
    """The approximation path forms n x k arrays only (an n x n one would be 320 GB here)."""
    n, k = 200_000, 10
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))])
    e = rng.normal(size=n)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = durbin_watson_test(e, X)
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert result.method == NORMAL
    assert peak < 4 * X.nbytes
    assert elapsed < 5.0  # ~0.07 s when the machine is idle
