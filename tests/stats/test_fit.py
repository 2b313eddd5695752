"""fit_model: OLS against numpy/statsmodels and a known generating model; logit; HC3."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from regression_analyzer.report import ModelSummary
from regression_analyzer.stats.design import build_design
from regression_analyzer.stats.fit import fit_model


def _linear(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = pd.DataFrame(
        {
            "a": rng.uniform(0, 10, n),
            "b": rng.normal(size=n),
            "g": rng.choice(["p", "p", "q", "r"], n),
        }
    )
    f["y"] = (
        3 + 2 * f["a"] - 1.5 * f["b"] + (f["g"] == "q") * 4 + rng.normal(size=n) * (1 + f["a"] / 5)
    )
    return f


def _ols_reference(design):
    exog = sm.add_constant(design.X.to_numpy(), has_constant="add")
    return sm.OLS(design.y.to_numpy(), exog).fit(), exog


def test_ols_matches_lstsq_and_statsmodels() -> None:
    d = build_design(_linear(), "y", None, {})
    fit = fit_model(d)
    ref, exog = _ols_reference(d)
    beta, *_ = np.linalg.lstsq(exog, d.y.to_numpy(), rcond=None)
    s = fit.summary
    np.testing.assert_allclose([c.estimate for c in s.coefficients], beta, rtol=1e-10)
    np.testing.assert_allclose([c.std_error for c in s.coefficients], ref.bse, rtol=1e-9)
    np.testing.assert_allclose(
        [c.p_value for c in s.coefficients], ref.pvalues, rtol=1e-6, atol=1e-300
    )
    np.testing.assert_allclose([c.ci_low for c in s.coefficients], ref.conf_int()[:, 0], rtol=1e-9)
    assert s.coefficients[0].name == "Intercept"
    assert s.r_squared == pytest.approx(ref.rsquared, rel=1e-12)
    assert s.adj_r_squared == pytest.approx(ref.rsquared_adj, rel=1e-12)
    assert s.f_statistic == pytest.approx(ref.fvalue, rel=1e-9)
    assert s.aic == pytest.approx(ref.aic, rel=1e-12) and s.bic == pytest.approx(ref.bic, rel=1e-12)
    assert s.condition_number == pytest.approx(ref.condition_number, rel=1e-6)
    assert s.residual_std_error == pytest.approx(np.sqrt(ref.mse_resid), rel=1e-12)
    assert s.rmse == pytest.approx(np.sqrt(ref.ssr / ref.nobs), rel=1e-12)
    assert s.reference_levels == {"g": "p"}
    ModelSummary.model_validate(s)  # the dataclass maps onto the report schema


def test_recovers_generating_coefficients() -> None:
    d = build_design(_linear(n=5000, seed=2), "y", None, {})
    est = {c.name: c.estimate for c in fit_model(d).summary.coefficients}
    assert est["a"] == pytest.approx(2, abs=0.05)
    assert est["b"] == pytest.approx(-1.5, abs=0.1)
    assert est["g[T.q]"] == pytest.approx(4, abs=0.2)


def test_standardized_coefficient() -> None:
    d = build_design(_linear(), "y", None, {})
    c = next(c for c in fit_model(d).summary.coefficients if c.name == "a")
    assert c.standardized == pytest.approx(c.estimate * d.X["a"].std() / d.y.std(), rel=1e-12)


def test_hc3_matches_statsmodels() -> None:
    d = build_design(_linear(), "y", None, {})
    fit = fit_model(d, robust=True)
    exog = sm.add_constant(d.X.to_numpy(), has_constant="add")
    ref = sm.OLS(d.y.to_numpy(), exog).fit(cov_type="HC3")
    assert fit.summary.cov_type == "HC3"
    np.testing.assert_allclose([c.std_error for c in fit.summary.coefficients], ref.bse, rtol=1e-8)
    assert fit.summary.f_statistic == pytest.approx(ref.fvalue, rel=1e-6)


def test_logit_odds_ratios_and_statsmodels() -> None:
    rng = np.random.default_rng(3)
    n = 800
    f = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    p = 1 / (1 + np.exp(-(0.5 + 1.2 * f["a"] - 0.7 * f["b"])))
    f["won"] = np.where(rng.uniform(size=n) < p, "yes", "no")
    d = build_design(f, "won", None, {})
    fit = fit_model(d)
    ref = sm.Logit(d.y.to_numpy(), sm.add_constant(d.X.to_numpy())).fit(disp=0)
    s = fit.summary
    assert s.kind == "logit"
    est = np.array([c.estimate for c in s.coefficients])
    np.testing.assert_allclose(est, ref.params, rtol=1e-6)
    np.testing.assert_allclose([c.odds_ratio for c in s.coefficients], np.exp(est), rtol=1e-12)
    np.testing.assert_allclose(
        [c.odds_ratio_ci_low for c in s.coefficients], np.exp(ref.conf_int()[:, 0]), rtol=1e-6
    )
    assert s.r_squared == pytest.approx(ref.prsquared, rel=1e-8)
    assert s.llr_p_value == pytest.approx(ref.llr_pvalue, rel=1e-6, abs=1e-300)
    assert s.accuracy == pytest.approx(np.mean((ref.predict() >= 0.5) == (d.y.to_numpy() == 1)))
    ModelSummary.model_validate(s)


def test_logit_perfect_separation_warns_instead_of_crashing() -> None:
    x = np.linspace(-3, 3, 60)
    f = pd.DataFrame({"x": x, "z": np.cos(x), "cls": np.where(x > 0, 1, 0)})
    fit = fit_model(build_design(f, "cls", None, {}))
    assert fit.warnings and "separate" in fit.warnings[0]
    assert all(
        np.isfinite(c.estimate) and np.isfinite(c.std_error) for c in fit.summary.coefficients
    )
    assert next(c for c in fit.summary.coefficients if c.name == "x").estimate > 0


def test_interval_quantile_and_odds_ratio_helpers() -> None:
    from scipy import stats as sps

    from regression_analyzer.stats.logit import Z_95, odds_ratio

    assert float(sps.norm.ppf(0.975)) == Z_95  # a literal, so the API need not load scipy
    assert odds_ratio(np.log(3.0)) == pytest.approx(3.0, rel=1e-15)
    assert odds_ratio(800.0) == np.inf  # math.exp would raise OverflowError
