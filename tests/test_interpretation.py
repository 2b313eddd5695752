"""Template interpretation and the grounding check, on honestly built report.Report objects."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from regression_analyzer.interpretation import (
    facts_for_llm,
    template_interpretation,
    ungrounded_numbers,
)
from regression_analyzer.report import (
    Coefficient,
    CrossValidation,
    Diagnostics,
    DroppedColumn,
    DurbinWatsonTest,
    Importance,
    InfluentialRow,
    ModelSummary,
    Report,
    SourceInfo,
    VifEntry,
)
from regression_analyzer.report import (
    TestResult as StatTest,  # aliased: pytest would try to collect Test*
)

# The version a report carries; pyproject.toml is its only source.
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
VERSION = tomllib.loads(PYPROJECT.read_text())["project"]["version"]


def _report(model: ModelSummary, diagnostics: Diagnostics, **extra: Any) -> Report:
    fields: dict[str, Any] = {
        "version": VERSION,
        "source": SourceInfo(file="sales.csv", kind="csv", encoding="utf-8", delimiter=","),
        "rows": 203,
        "row_numbering": "CSV line numbers in sales.csv (line 1 is the header)",
        "columns": [],
        "target": "revenue",
        "target_reason": "chosen by the user",
        "features": ["ad_spend", "price", "region"],
        "dropped_columns": [
            DroppedColumn(name="order_id", reason="identifier (all values unique)")
        ],
        "rows_dropped": 3,
        "model": model,
        "diagnostics": diagnostics,
        "importance": [Importance(name="ad_spend", importance=0.81, method="drop-column ΔR²")],
        "minmax": [],
        "charts": [],
        "interpretation": "",
        "interpretation_source": "template",
        "llm": "none",
    }
    fields.update(extra)
    return Report(**fields)


def _coef(name: str, estimate: float, se: float, p: float, **extra: Any) -> Coefficient:
    return Coefficient(
        name=name,
        estimate=estimate,
        std_error=se,
        statistic=estimate / se,
        p_value=p,
        ci_low=estimate - 1.96 * se,
        ci_high=estimate + 1.96 * se,
        **extra,
    )


@pytest.fixture
def ols_report() -> Report:
    model = ModelSummary(
        kind="ols",
        n_obs=200,
        df_model=4,
        df_resid=195,
        r_squared=0.8734,
        adj_r_squared=0.8708,
        residual_std_error=1.02,
        rmse=1.01,
        f_statistic=336.4,
        f_p_value=1.2e-85,
        aic=580.2,
        bic=596.7,
        condition_number=210.0,
        cov_type="nonrobust",
        reference_levels={"region": "north"},
        coefficients=[
            _coef("Intercept", 10.12, 0.41, 1e-60),
            _coef("ad_spend", 3.2143, 0.0122, 1e-150, standardized=0.91),
            _coef("price", -1.4876, 0.0251, 2e-100, standardized=-0.22),
            _coef("region[T.south]", 5.031, 0.17, 3e-70, standardized=0.07),
            _coef("region[T.west]", 0.12, 0.17, 0.48, standardized=0.01),
        ],
    )
    diagnostics = Diagnostics(
        vif=[VifEntry(name="ad_spend", vif=1.02), VifEntry(name="price", vif=12.7)],
        breusch_pagan=StatTest(statistic=14.2, p_value=0.0067),
        jarque_bera=StatTest(statistic=1.1, p_value=0.58),
        durbin_watson=DurbinWatsonTest(statistic=1.21, p_value=0.00012, method="exact"),
        influential_rows=[InfluentialRow(row=17, cooks_distance=0.31)],
        cross_validation=CrossValidation(folds=5, r_squared=0.8612, per_fold=[0.85, 0.87, 0.86]),
    )
    return _report(model, diagnostics)


@pytest.fixture
def logit_report() -> Report:
    model = ModelSummary(
        kind="logit",
        n_obs=400,
        df_model=2,
        df_resid=397,
        r_squared=0.213,
        llr_p_value=1e-20,
        accuracy=0.7425,
        aic=410.0,
        bic=422.0,
        condition_number=80.0,
        cov_type="nonrobust",
        event="yes",
        non_event="no",
        event_reason="'yes' reads as the event",
        coefficients=[
            _coef("Intercept", 1.02, 0.3, 0.001, odds_ratio=2.773),
            _coef(
                "tenure",
                -0.0812,
                0.009,
                1e-18,
                standardized=-1.4,
                odds_ratio=0.922,
                odds_ratio_ci_low=0.906,
                odds_ratio_ci_high=0.938,
            ),
            _coef(
                "monthly_charges",
                0.0031,
                0.004,
                0.44,
                standardized=0.09,
                odds_ratio=1.0031,
                odds_ratio_ci_low=0.995,
                odds_ratio_ci_high=1.011,
            ),
        ],
    )
    return _report(
        model,
        Diagnostics(),
        target="churned",
        rows=400,
        rows_dropped=0,
        features=["tenure", "monthly_charges"],
        dropped_columns=[],
    )


def test_template_names_fit_significant_predictors_and_direction(ols_report: Report) -> None:
    text = template_interpretation(ols_report)
    assert "R² = 0.873" in text
    assert "87.3%" in text
    assert "200 observations" in text
    assert "each additional unit of ad_spend is associated with 3.21 more revenue" in text
    assert "each additional unit of price is associated with 1.49 less revenue" in text
    assert "region = south have revenue 5.03 higher than rows with region = north" in text
    # region[T.west] has p = 0.48: listed as not significant, never described as an effect.
    assert "region = west have" not in text
    assert "Not significant: region[T.west]" in text


def test_template_reports_caveats_cv_and_dropped(ols_report: Report) -> None:
    text = template_interpretation(ols_report)
    assert "Breusch-Pagan p = 0.0067" in text and "heteroscedasticity" in text
    assert "Jarque-Bera" not in text  # p = 0.58: residuals look normal, no caveat
    assert "Durbin-Watson = 1.21, p < 0.001" in text
    assert "price (12.7)" in text and "VIF above 10" in text
    assert "row 17" in text
    assert "5-fold cross-validation gives a mean R² of 0.861" in text
    assert "3 of 203 rows were left out" in text
    assert "order_id was not used: identifier" in text


def test_template_logit_uses_odds_ratios(logit_report: Report) -> None:
    text = template_interpretation(logit_report)
    assert "pseudo-R² of 0.213" in text
    assert "74.2% of rows correctly" in text or "74.3% of rows correctly" in text
    assert "A logistic regression of the odds of churned = yes (against no)" in text
    assert "multiplies the odds of churned = yes by 0.922 (7.8% lower odds)" in text
    assert "monthly_charges multiplies" not in text


def test_template_is_deterministic_and_fully_grounded(
    ols_report: Report, logit_report: Report
) -> None:
    for report in (ols_report, logit_report):
        text = template_interpretation(report)
        assert text == template_interpretation(report)
        assert ungrounded_numbers(text, report) == []


def test_no_significant_predictor_is_said_plainly(ols_report: Report) -> None:
    for coef in ols_report.model.coefficients:
        coef.p_value = 0.5
    text = template_interpretation(ols_report)
    assert "No predictor is statistically significant at the 5% level" in text


@pytest.mark.parametrize(
    "quote",
    [
        "R² is 0.87",  # rounded r_squared
        "R² is 0.8734",  # exact
        "explains 87% of the variation",  # share as a percentage
        "87.3 percent",
        "3.2 more revenue",  # coefficient to 1 decimal
        "a drop of -1.49",  # sign ignored
        "1.2e-85",  # scientific notation of f_p_value
        "p below 0.05",  # conventional level
        "in 5 folds",  # a count stored in the report
        "across 3 predictors",  # a count not stored as a number: len(features)
        "row 17",
        "F = 336",
        "95% confidence",
        "AIC of 580",
        "200 observations",
    ],
)
def test_grounded_quotes_are_accepted(ols_report: Report, quote: str) -> None:
    assert ungrounded_numbers(quote, ols_report) == []


def test_invented_numbers_are_flagged(ols_report: Report) -> None:
    text = (
        "The model explains 93% of the variation (R² = 0.912). Each extra unit of ad_spend adds "
        "3.5 revenue, and revenue will reach 1,234.5 next year; p = 1e-5. Price effect is 1.49."
    )
    assert ungrounded_numbers(text, ols_report) == ["93%", "0.912", "3.5", "1,234.5", "1e-5"]


def test_precision_matters(ols_report: Report) -> None:
    # 0.8734 rounds to 0.873, not to 0.874; 0.87 is fine at two decimals.
    assert ungrounded_numbers("R² 0.874", ols_report) == ["0.874"]
    assert ungrounded_numbers("R² 0.87", ols_report) == []


def test_numbers_inside_identifiers_are_ignored(ols_report: Report) -> None:
    assert ungrounded_numbers("R^2 and R2 and sales_2023 and x9 rise", ols_report) == []


def test_odds_ratio_percent_change_is_grounded(logit_report: Report) -> None:
    assert ungrounded_numbers("odds fall by about 8% per month (OR 0.92)", logit_report) == []
    assert ungrounded_numbers("odds fall by 30% per month", logit_report) == ["30%"]


def test_facts_for_llm_is_compact_and_keeps_the_key_numbers(ols_report: Report) -> None:
    facts = facts_for_llm(ols_report)
    assert facts["target"] == "revenue"
    assert facts["model"]["r_squared"] == pytest.approx(0.8734)
    names = [c["name"] for c in facts["coefficients"]]
    assert names == ["Intercept", "ad_spend", "price", "region[T.south]", "region[T.west]"]
    assert "odds_ratio" not in facts["coefficients"][1]
    assert facts["diagnostics"]["vif"] == {"ad_spend": 1.02, "price": 12.7}
    assert facts["diagnostics"]["cross_validation"]["folds"] == 5
    assert "per_fold" not in facts["diagnostics"]["cross_validation"]
    assert "columns" not in facts and "minmax" not in facts


def test_template_text_reads_well(ols_report: Report) -> None:
    # Paragraph structure: fit, effects, caveats, validation and data.
    paragraphs = template_interpretation(ols_report).split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[2].startswith("Caveats:")
