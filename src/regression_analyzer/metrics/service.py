"""ServiceMetrics: the registry of the service process and every metric it updates.

Names start with ``regression_analyzer_``; counters get prometheus_client's ``_total``. Label
values come from small fixed sets (route templates, HTTP methods and statuses, failure and
refusal classes, limit names, stage names), never from a request's data, so neither a file
name, nor a column, nor an id can reach a scrape (tests/api/test_metrics.py checks a full one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from ..jobs.model import FAILURE_REASONS, JobState
from . import build

PREFIX = "regression_analyzer_"
# Any other method (a client may send anything) is counted as "other".
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
# Seconds. A request answers in milliseconds, an upload with its preview in seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Seconds. Analyses take from a second to JOB_TIMEOUT_S (600 by default); waits can be longer.
ANALYSIS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# The stages of analysis_duration_seconds besides the pipeline's own (pipeline.STAGES).
QUEUED_STAGE = "queued"  # from submission to the start of its process
RUN_STAGE = "run"  # from the start of its process to its completion
# A pipeline stage name as the analysis child records it; anything else is not counted.
_STAGE_NAME = re.compile(r"^[a-z_]{1,32}$")


class ServiceMetrics:
    """The metrics of one service process, in a registry of its own (several apps in one
    test process do not share counts). Implements jobs.events.JobEvents."""

    def __init__(self, preview_refusals: Iterable[str] = (), rate_limits: Iterable[str] = ()):
        """`preview_refusals` and `rate_limits`: every label value those counters can take,
        exported at 0 from the start, so rate() and the alert rules see them before the
        first event."""
        # No `_created` series beside each counter and histogram: they double a scrape, and
        # Prometheus learns of a reset from the counter itself (process-wide, idempotent).
        disable_created_metrics()  # type: ignore[no-untyped-call]  # (unannotated upstream)
        self.registry = CollectorRegistry()
        self._requests = Counter(
            PREFIX + "http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self._request_seconds = Histogram(
            PREFIX + "http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template",
            ["route", "method"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self._define_job_metrics()
        self._define_upload_metrics(preview_refusals, rate_limits)
        # process_*: memory, CPU, open files of this (the service) process, from /proc.
        ProcessCollector(registry=self.registry)
        Info(PREFIX + "build", "The running build", registry=self.registry).info(
            {"version": build.version(), "lock_sha256": build.lock_sha256()}
        )
        # Children of the two request metrics by labels: a dict look-up per request instead
        # of prometheus_client's locked one (benchmarks/metrics_cost.py measures it).
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def _define_job_metrics(self) -> None:
        self._submitted = Counter(
            PREFIX + "analyses_submitted",
            "Analyses accepted into the queue by this node",
            registry=self.registry,
        )
        self._completed = Counter(
            PREFIX + "analyses_completed",
            "Analyses this node ran to a report",
            registry=self.registry,
        )
        self._failed = Counter(
            PREFIX + "analyses_failed",
            "Analyses this node saw fail, by reason class",
            ["reason"],
            registry=self.registry,
        )
        for reason in FAILURE_REASONS:
            self._failed.labels(reason)
        self._analysis_seconds = Histogram(
            PREFIX + "analysis_duration_seconds",
            f"Analyses by stage: {QUEUED_STAGE} (waiting for a worker), {RUN_STAGE} (a "
            "completed analysis, start to report) and each pipeline stage of it",
            ["stage"],
            buckets=ANALYSIS_BUCKETS,
            registry=self.registry,
        )
        for stage in (QUEUED_STAGE, RUN_STAGE):
            self._analysis_seconds.labels(stage)

    def _define_upload_metrics(
        self, preview_refusals: Iterable[str], rate_limits: Iterable[str]
    ) -> None:
        self._uploads = Counter(
            PREFIX + "uploads", "Uploads stored (previewed)", registry=self.registry
        )
        self._upload_bytes = Counter(
            PREFIX + "upload_bytes", "Bytes of the uploads stored", registry=self.registry
        )
        self._previews_refused = Counter(
            PREFIX + "previews_refused",
            "Uploads refused because their preview failed, by reason class",
            ["reason"],
            registry=self.registry,
        )
        for reason in preview_refusals:
            self._previews_refused.labels(reason)
        self._rate_limited = Counter(
            PREFIX + "rate_limited",
            "Requests answered 429, by the limit that refused them",
            ["limit"],
            registry=self.registry,
        )
        for limit in rate_limits:
            self._rate_limited.labels(limit)

    # ------------------------------------------------------------------ HTTP
    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request; `route` is its template (never the raw path)."""
        method = method if method in HTTP_METHODS else "other"
        children = self._request_children.get((route, method, status))
        if children is None:
            children = (
                self._requests.labels(route, method, str(status)),
                self._request_seconds.labels(route, method),
            )
            self._request_children[(route, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def count_upload(self, size: int) -> None:
        """An upload stored, `size` bytes."""
        self._uploads.inc()
        self._upload_bytes.inc(size)

    def count_refused_preview(self, reason: str) -> None:
        """A preview refused; `reason` is a class (api.previews.PreviewRefusal)."""
        self._previews_refused.labels(reason).inc()

    def count_rate_limited(self, limit: str) -> None:
        """A 429; `limit` names the limit (analyses, uploads, queue)."""
        self._rate_limited.labels(limit).inc()

    # ------------------------------------------------------------------ jobs.events.JobEvents
    def submitted(self) -> None:
        """A job accepted into the queue."""
        self._submitted.inc()

    def started(self, state: JobState) -> None:
        """A job's process started: how long it waited."""
        if state.started_at is not None:
            waited = (state.started_at - state.created_at).total_seconds()
            self._analysis_seconds.labels(QUEUED_STAGE).observe(max(0.0, waited))

    def finished(self, state: JobState) -> None:
        """A job ended: completed (with its durations) or failed (with its reason)."""
        if state.status == "failed":
            self._failed.labels(state.failure or "internal").inc()
            return
        if state.status != "completed":
            return
        self._completed.inc()
        if state.started_at is not None and state.finished_at is not None:
            run = (state.finished_at - state.started_at).total_seconds()
            self._analysis_seconds.labels(RUN_STAGE).observe(max(0.0, run))
        for stage, seconds in state.stage_seconds.items():
            if _STAGE_NAME.match(stage) and stage not in (QUEUED_STAGE, RUN_STAGE):
                self._analysis_seconds.labels(stage).observe(max(0.0, seconds))

    # ------------------------------------------------------------------ exposition
    def render(self) -> tuple[bytes, str]:
        """The whole registry in Prometheus' text format, and its content type: 0.0.4, which
        every Prometheus reads (Debian 12's 2.42 too); with only classic names, as here, the
        body is the same as the library's newer 1.0.0."""
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4
