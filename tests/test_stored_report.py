"""stored_report.read_report: reports as earlier releases wrote them (tests/fixtures/releases)
read as today's Report, and a report of a later schema refused with a message that says why."""

from __future__ import annotations

import json
import math

import pytest

from regression_analyzer import __version__
from regression_analyzer.report import SCHEMA_VERSION, Report, render_markdown
from regression_analyzer.stored_report import (
    SCHEMA_1_DW_METHOD,
    SCHEMA_1_ROW_NUMBERING,
    ReportSchemaTooNew,
    read_report,
)
from tests.helpers.release_fixtures import ReleaseFixture, release_fixtures

FIXTURES = release_fixtures("local") + release_fixtures("shared")
COMPLETED = [(f, job["job_id"]) for f in FIXTURES for job in f.completed]


def _ids(case: tuple[ReleaseFixture, str]) -> str:
    return f"{case[0].name}-{case[1][:8]}"


def test_every_release_left_fixtures() -> None:
    releases = {f.manifest["release"] for f in FIXTURES}
    assert {"0.1.0", "0.2.0"} <= releases
    assert {f.manifest["mode"] for f in FIXTURES} == {"local", "shared"}


@pytest.mark.parametrize("case", COMPLETED, ids=[_ids(c) for c in COMPLETED])
def test_stored_reports_read_with_their_numbers(case: tuple[ReleaseFixture, str]) -> None:
    fixture, job_id = case
    stored = fixture.stored_report(job_id)
    path = fixture.path / "output" / "jobs" / job_id / "report.json"
    report = read_report(path.read_text(encoding="utf-8"))

    assert report.schema_version == SCHEMA_VERSION
    assert report.version == stored["version"] == fixture.manifest["release"]
    model = report.model.model_dump()
    for name, value in stored["model"].items():
        if name != "coefficients":
            assert model[name] == value, name
    for got, want in zip(model["coefficients"], stored["model"]["coefficients"], strict=True):
        assert {k: got[k] for k in want} == want
    assert [m.model_dump() for m in report.minmax] == stored["minmax"]
    assert report.charts == stored["charts"]
    assert report.rows == stored["rows"]
    # The Markdown renders from it (a rolled-forward page or export would use it).
    assert report.target in render_markdown(report)


def _schema_1() -> list[tuple[ReleaseFixture, str]]:
    return [c for c in COMPLETED if c[0].stored_report(c[1])["schema_version"] == 1]


@pytest.mark.parametrize("case", _schema_1(), ids=[_ids(c) for c in _schema_1()])
def test_schema_1_is_upgraded_honestly(case: tuple[ReleaseFixture, str]) -> None:
    fixture, job_id = case
    stored = fixture.stored_report(job_id)
    path = fixture.path / "output" / "jobs" / job_id / "report.json"
    # Without the reader, today's model refuses what 0.1.0 wrote (the bug of issue 30).
    with pytest.raises(ValueError):
        Report.model_validate_json(path.read_text(encoding="utf-8"))

    report = read_report(path.read_text(encoding="utf-8"))
    # Rows stay the 0-based positions 0.1.0 wrote, and the report says that is what they are.
    assert report.row_numbering == SCHEMA_1_ROW_NUMBERING
    rows = [r.model_dump() for r in report.diagnostics.influential_rows]
    assert rows == stored["diagnostics"]["influential_rows"]
    dw = report.diagnostics.durbin_watson
    if stored["diagnostics"]["durbin_watson"] is None:
        assert dw is None
    else:
        assert dw is not None
        assert dw.statistic == stored["diagnostics"]["durbin_watson"]
        assert dw.p_value is None
        assert dw.method == SCHEMA_1_DW_METHOD
    assert "schema 1" in render_markdown(report)
    # Nothing migrated: the file on disk is what 0.1.0 wrote.
    assert json.loads(path.read_text())["schema_version"] == 1


def _schema_2_text() -> str:
    fixture, job_id = next(
        c for c in COMPLETED if c[0].stored_report(c[1])["schema_version"] == SCHEMA_VERSION
    )
    return (fixture.path / "output" / "jobs" / job_id / "report.json").read_text()


def test_current_schema_reads_exactly_as_the_model_does() -> None:
    text = _schema_2_text()
    assert read_report(text) == Report.model_validate_json(text)


def test_a_later_minor_release_that_only_added_fields_still_reads() -> None:
    data = json.loads(_schema_2_text())
    data["added_by_a_later_release"] = {"anything": [1, 2]}
    data["model"]["another_new_measure"] = 1.5
    data["diagnostics"]["durbin_watson"]["new_detail"] = "x"
    report = read_report(json.dumps(data))
    assert report == Report.model_validate_json(_schema_2_text())
    assert "added_by_a_later_release" not in report.model_dump()


def test_a_later_schema_is_refused_with_who_wrote_it_and_what_to_do() -> None:
    data = json.loads(_schema_2_text())
    data["schema_version"] = SCHEMA_VERSION + 1
    data["version"] = "9.1.0"
    with pytest.raises(ReportSchemaTooNew) as raised:
        read_report(json.dumps(data))
    assert str(raised.value) == (
        f"This report was written by regression-analyzer 9.1.0 in report schema 3; this "
        f"server (regression-analyzer {__version__}) reads report schemas 1, 2: upgrade to "
        "read it."
    )
    assert (raised.value.written_by, raised.value.schema) == ("9.1.0", 3)


def test_schema_1_nulls_for_non_finite_numbers_read_as_nan() -> None:
    fixture, job_id = _schema_1()[0]
    data = fixture.stored_report(job_id)
    data["model"]["condition_number"] = None  # 0.1.0 wrote an infinite one so
    data["model"]["coefficients"][0]["std_error"] = None
    report = read_report(json.dumps(data))
    assert math.isnan(report.model.condition_number)
    assert math.isnan(report.model.coefficients[0].std_error)


@pytest.mark.parametrize("text", ["[]", '{"schema_version": "two"}', '{"schema_version": 0}', "{"])
def test_unreadable_reports_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError):
        read_report(text)
