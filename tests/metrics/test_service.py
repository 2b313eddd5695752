"""ServiceMetrics in-process: what reaches a label is a fixed set, whatever arrives."""

from __future__ import annotations

from datetime import timedelta

from regression_analyzer.jobs.model import JobState, now
from regression_analyzer.metrics.service import ServiceMetrics
from tests.helpers.metrics import PREFIX, parse


def scraped(metrics: ServiceMetrics):
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    return parse(body.decode())


def finished_state(**changes) -> JobState:
    started = now()
    state = JobState(job_id="a" * 32, upload_id="b" * 32, upload_path="/data/x/secret.csv")
    return state.model_copy(
        update={
            "created_at": started - timedelta(seconds=3),
            "started_at": started,
            "finished_at": started + timedelta(seconds=2),
            **changes,
        }
    )


def test_a_method_outside_http_s_own_is_counted_as_other() -> None:
    metrics = ServiceMetrics()
    metrics.observe_request("/api/v1/health", "GET", 200, 0.001)
    metrics.observe_request("/api/v1/health", "X-ATTACKER-CHOSEN", 405, 0.001)
    methods = scraped(metrics).with_label(PREFIX + "http_request_duration_seconds_count", "method")
    assert methods == {"GET": 1, "other": 1}


def test_a_completed_job_observes_its_run_and_known_stages_only() -> None:
    metrics = ServiceMetrics()
    metrics.started(finished_state())
    metrics.finished(
        finished_state(
            status="completed",
            stage_seconds={"loading": 0.5, "fitting": 1.0, "Column Name/with data": 9.0},
        )
    )
    counts = scraped(metrics).with_label(PREFIX + "analysis_duration_seconds_count", "stage")
    assert counts == {"queued": 1, "run": 1, "loading": 1, "fitting": 1}
    sums = scraped(metrics).with_label(PREFIX + "analysis_duration_seconds_sum", "stage")
    assert sums["queued"] == 3 and sums["run"] == 2


def test_a_failure_is_counted_by_its_class_and_an_unclassed_one_as_internal() -> None:
    metrics = ServiceMetrics()
    metrics.finished(finished_state(status="failed", failure="timeout"))
    metrics.finished(finished_state(status="failed"))  # recorded by an earlier release
    metrics.finished(finished_state(status="running"))  # not an ending: nothing
    failed = scraped(metrics).with_label(PREFIX + "analyses_failed_total", "reason")
    assert failed == {
        "input": 0,
        "memory": 0,
        "timeout": 1,
        "crashed": 0,
        "interrupted": 0,
        "internal": 1,
    }
    assert scraped(metrics).value(PREFIX + "analyses_completed_total") == 0
