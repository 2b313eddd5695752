"""diagnose, term_tests (importance), column_minmax against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.outliers_influence import variance_inflation_factor
from statsmodels.stats.stattools import durbin_watson, jarque_bera

from regression_analyzer.report import Diagnostics, Importance, MinMax
from regression_analyzer.stats.design import build_design
from regression_analyzer.stats.diagnostics import diagnose
from regression_analyzer.stats.extremes import column_minmax
from regression_analyzer.stats.fit import fit_model
from regression_analyzer.stats.influence import row_diagnostics
from regression_analyzer.stats.terms import term_tests


def _diagnose(d, fit, **options):
    return diagnose(d, fit, row_diagnostics(fit, d.rows), **options)


def predictor_importance(d, fit):
    return term_tests(d, fit)[1]


def _frame(n: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    f = pd.DataFrame(
        {
            "a": a,
            "b": a * 0.6 + rng.normal(size=n),
            "c": rng.normal(size=n),
            "g": rng.choice(["u", "v", "w"], n),
        }
    )
    f["y"] = (
        1 + 3 * f["a"] + 0.2 * f["c"] + (f["g"] == "v") * 2 + rng.normal(size=n) * (1 + np.abs(a))
    )
    return f


@pytest.fixture
def ols():
    f = _frame()
    f.loc[[5, 7], "c"] = np.nan
    f.loc[40, "y"] += 25  # a planted outlier
    d = build_design(f, "y", None, {})
    return d, fit_model(d), sm.OLS(d.y.to_numpy(), sm.add_constant(d.X.to_numpy())).fit()


def test_ols_tests_match_statsmodels(ols) -> None:
    d, fit, ref = ols
    dg = _diagnose(d, fit)
    lm, lm_p, *_ = het_breuschpagan(ref.resid, ref.model.exog)
    assert dg.breusch_pagan.statistic == pytest.approx(lm, rel=1e-8)
    assert dg.breusch_pagan.p_value == pytest.approx(lm_p, rel=1e-6)
    jb, jb_p, *_ = jarque_bera(ref.resid)
    assert dg.jarque_bera.statistic == pytest.approx(jb, rel=1e-8)
    assert dg.jarque_bera.p_value == pytest.approx(jb_p, rel=1e-6)
    assert dg.durbin_watson.statistic == pytest.approx(durbin_watson(ref.resid), rel=1e-10)
    exog = ref.model.exog
    expected = [variance_inflation_factor(exog, i) for i in range(1, exog.shape[1])]
    np.testing.assert_allclose([v.vif for v in dg.vif], expected, rtol=1e-8)
    Diagnostics.model_validate(dg)


def test_cooks_distance_and_row_positions(ols) -> None:
    d, fit, ref = ols
    dg = _diagnose(d, fit, top_influential=3)
    cooks = ref.get_influence().cooks_distance[0]
    order = np.argsort(-cooks)[:3]
    assert [r.row for r in dg.influential_rows] == list(d.X.index[order])
    np.testing.assert_allclose(
        [r.cooks_distance for r in dg.influential_rows], cooks[order], rtol=1e-8
    )
    assert dg.influential_rows[0].row == 40


def test_cross_validation_matches_manual_folds(ols) -> None:
    d, fit, _ = ols
    dg = _diagnose(d, fit, folds=4)
    cv = dg.cross_validation
    assert cv.folds == 4 and len(cv.per_fold) == 4 and cv.metric == "r_squared"
    exog, y = fit.exog, fit.y
    # Fold k holds the rows whose place in a seeded permutation is k modulo the fold count.
    test = np.flatnonzero(np.random.default_rng(0).permutation(len(y)) % 4 == 0)
    train = np.setdiff1d(np.arange(len(y)), test)
    beta, *_ = np.linalg.lstsq(exog[train], y[train], rcond=None)
    r2 = 1 - np.sum((y[test] - exog[test] @ beta) ** 2) / np.sum((y[test] - y[train].mean()) ** 2)
    assert cv.per_fold[0] == pytest.approx(r2, rel=1e-8)
    assert cv.r_squared == pytest.approx(np.mean(cv.per_fold))
    assert 0 < cv.r_squared < fit.summary.r_squared


def test_importance_is_drop_column_r2_change(ols) -> None:
    d, fit, ref = ols
    imp = predictor_importance(d, fit)
    assert next(i.name for i in imp) == "a"
    assert imp == sorted(imp, key=lambda i: -i.importance)
    by_name = {i.name: i.importance for i in imp}
    for feature, cols in d.groups.items():
        rest = d.X.drop(columns=cols)
        r2 = sm.OLS(d.y.to_numpy(), sm.add_constant(rest.to_numpy())).fit().rsquared
        assert by_name[feature] == pytest.approx(ref.rsquared - r2, rel=1e-8)
    assert "R^2" in imp[0].method
    assert set(by_name) == {"a", "b", "c", "g"}  # g's two dummies grouped
    Importance.model_validate(imp[0])


def test_logit_diagnostics_and_importance() -> None:
    f = _frame(n=500)
    f["hit"] = (f["y"] > 1).astype(int)
    d = build_design(f, "hit", ["a", "c", "g"], {})
    fit = fit_model(d)
    dg = _diagnose(d, fit)
    assert dg.breusch_pagan is None and dg.jarque_bera is None and dg.durbin_watson is None
    assert {"breusch_pagan", "jarque_bera", "durbin_watson"} <= set(dg.not_computed)
    assert dg.cross_validation.metric == "accuracy" and 0.5 < dg.cross_validation.r_squared <= 1
    exog = sm.add_constant(d.X.to_numpy())
    full = sm.GLM(fit.y, exog, family=sm.families.Binomial()).fit()
    cooks = full.get_influence().cooks_distance[0]
    assert dg.influential_rows[0].cooks_distance == pytest.approx(cooks.max(), rel=1e-6)
    imp = {i.name: i.importance for i in predictor_importance(d, fit)}
    restricted = sm.Logit(fit.y, sm.add_constant(d.X.drop(columns=["a"]).to_numpy())).fit(disp=0)
    expected = 2 * (full.llf - restricted.llf)
    assert imp["a"] == pytest.approx(expected, rel=1e-6)


def test_column_minmax_rows() -> None:
    f = pd.DataFrame({"v": [3.0, -1.0, np.nan, 9.0], "s": list("abcd"), "w": [1, 1, 0, 5]})
    out = column_minmax(f, np.array([2, 3, 5, 6]))  # file rows, e.g. after a blank line
    assert [m.column for m in out] == ["v", "w"]
    assert (out[0].min, out[0].min_row, out[0].max, out[0].max_row) == (-1.0, 3, 9.0, 6)
    assert (out[1].min_row, out[1].max_row) == (5, 6)
    MinMax.model_validate(out[0])
