"""The CLI's report.json and rows.csv against R (lm, glm, car, lmtest, sandwich, tseries, MASS).

Each case runs `regression-analyzer analyze` on a table R wrote and read back itself, and
compares every number R computed for the same model (tests/helpers/r_reference.py lists them):
1e-6 relative for estimates, errors, tests, intervals and per-row diagnostics.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.r_reference import CASES, pairs, run_case


@pytest.mark.parametrize("case", CASES)
def test_report_matches_r(case: str, tmp_path: Path) -> None:
    report, rows = run_case(case, tmp_path)
    failures = [
        f"{p.quantity} [{p.where}]: ours {p.ours!r}, R {p.theirs!r} (rel. error {p.error:.2e})"
        for p in pairs(case, report, rows)
        if not p.error <= p.tolerance
    ]
    assert not failures, "\n".join(failures)


def test_every_case_is_checked() -> None:
    # The committed reference covers OLS and logit, robust and not, NAs and categoricals.
    assert len(CASES) >= 13
    assert {"airquality_ols", "infert_logit_hc3", "synthetic_ols_hc3", "churn_logit"} <= set(CASES)
