"""GET /metrics of a real server (uvicorn on loopback), scraped while it works: each counter
moves by what happened, routes are templates, no label holds user data, the token guards it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.helpers.metrics import PREFIX, Scrape, scrape, scrape_when
from tests.helpers.servers import LiveServer, start_analysis, upload, wait_for

pytestmark = pytest.mark.api
V1 = "/api/v1"
TOKEN = "test-only-metrics-token"
# Names a label must never carry: the file's, its columns'.
FILE_NAME = "quarterly-zebra-figures.csv"
COLUMNS = ("zebra_spend", "zebra_price", "zebra_outlet", "zebra_revenue")
REASONS = ("input", "memory", "timeout", "crashed", "interrupted", "internal")


def write_table(path: Path, rows: int) -> Path:
    """revenue from spend and price, an outlet category: an analysis of it completes; with
    the category as its target it fails (input)."""
    rng = np.random.default_rng(3)
    spend, price = rng.uniform(0, 100, rows), rng.uniform(5, 20, rows)
    pd.DataFrame(
        {
            COLUMNS[0]: spend,
            COLUMNS[1]: price,
            COLUMNS[2]: rng.choice(["east", "west", "north"], rows),
            COLUMNS[3]: 3 + 2 * spend - price + rng.normal(0, 1, rows),
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    return write_table(tmp_path_factory.mktemp("tables") / FILE_NAME, rows=200)


@pytest.fixture(scope="module")
def long_table(tmp_path_factory) -> Path:
    """Long enough (seconds) that scrapes see the analysis running."""
    return write_table(tmp_path_factory.mktemp("tables") / FILE_NAME, rows=150_000)


@pytest.fixture(scope="module")
def guarded(server_factory) -> LiveServer:
    """A service with an API token and one worker."""
    return server_factory(API_TOKEN=TOKEN, WORKERS="1")


class Scraper:
    """Scrapes a server in a thread every few milliseconds, as Prometheus would (faster)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.scrapes: list[Scrape] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with self.server.client() as client:
            while not self._stop.is_set():
                self.scrapes.append(scrape(client))
                time.sleep(0.02)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_analyses_move_their_counters_while_scraped(guarded: LiveServer, long_table: Path) -> None:
    with guarded.client() as client:
        upload_id = upload(client, long_table).json()["upload_id"]
        before = scrape(client)
        with Scraper(guarded) as scraper:
            completed = wait_for(client, start_analysis(client, upload_id))
            failed = wait_for(client, start_analysis(client, upload_id, target=COLUMNS[2]))
        # Once the service has seen both processes end (a moment after their states say so).
        after = scrape_when(
            client,
            lambda s: (
                s.value(PREFIX + "jobs_running") == 0
                and s.value(PREFIX + "analyses_failed_total", reason="input")
                > before.value(PREFIX + "analyses_failed_total", reason="input")
            ),
        )
    assert completed["status"] == "completed", completed
    assert failed["status"] == "failed", failed

    def moved(name: str, **labels: str) -> float:
        return after.value(PREFIX + name, **labels) - before.value(PREFIX + name, **labels)

    assert moved("analyses_submitted_total") == 2
    assert moved("analyses_completed_total") == 1
    assert moved("analyses_failed_total", reason="input") == 1
    assert all(moved("analyses_failed_total", reason=r) == 0 for r in REASONS if r != "input")
    histogram = "analysis_duration_seconds_count"
    assert moved(histogram, stage="run") == 1  # a completed analysis, start to report
    assert moved(histogram, stage="queued") == 2  # both waited, then started
    for stage in ("loading", "fitting", "charts", "writing"):  # the pipeline's own stages
        assert moved(histogram, stage=stage) == 1, stage
    run_seconds = moved("analysis_duration_seconds_sum", stage="run")
    assert 0 < run_seconds < 120
    # Scraped every 20 ms, the gauges saw the analysis run, and never more than WORKERS.
    running = [s.value(PREFIX + "jobs_running") for s in scraper.scrapes]
    assert max(running) == 1, running
    assert after.value(PREFIX + "jobs_waiting") == 0


def test_an_upload_counts_one_and_its_bytes(guarded: LiveServer, table: Path) -> None:
    with guarded.client() as client:
        before = scrape(client)
        assert upload(client, table).status_code == 201
        after = scrape(client)
    assert after.value(PREFIX + "uploads_total") - before.value(PREFIX + "uploads_total") == 1
    added = after.value(PREFIX + "upload_bytes_total") - before.value(PREFIX + "upload_bytes_total")
    assert added == table.stat().st_size


def test_a_refused_preview_counts_its_reason_not_an_upload(guarded: LiveServer, tmp_path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)  # a PDF renamed .csv
    with guarded.client() as client:
        before = scrape(client)
        answer = upload(client, junk)
        after = scrape(client)
    assert answer.status_code in (415, 422), answer.text
    refused = PREFIX + "previews_refused_total"
    assert after.value(refused, reason="input") - before.value(refused, reason="input") == 1
    assert after.value(PREFIX + "uploads_total") == before.value(PREFIX + "uploads_total")


def test_metrics_need_the_token_when_the_service_has_one(guarded: LiveServer) -> None:
    with guarded.client() as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    with httpx.Client(base_url=guarded.url, timeout=30) as anonymous:
        answer = anonymous.get("/metrics")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert PREFIX not in answer.text


def test_requests_are_labelled_by_route_template(guarded: LiveServer, table: Path) -> None:
    with guarded.client() as client:
        upload_id = upload(client, table).json()["upload_id"]
        job_id = start_analysis(client, upload_id)
        before = scrape(client)
        assert client.get(f"{V1}/results/{job_id}").status_code == 200
        assert client.get(f"{V1}/uploads/{upload_id}").status_code == 200
        assert client.get(f"/no/such/{job_id}").status_code == 404
        after = scrape(client)
        wait_for(client, job_id)

    def moved(route: str, status: str) -> float:
        name = PREFIX + "http_requests_total"
        labels = {"route": route, "method": "GET", "status": status}
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved(f"{V1}/results/{{job_id}}", "200") == 1
    assert moved(f"{V1}/uploads/{{upload_id}}", "200") == 1
    assert moved("unmatched", "404") == 1
    latency = PREFIX + "http_request_duration_seconds_count"
    assert after.value(latency, route=f"{V1}/results/{{job_id}}", method="GET") >= 1
    routes = set(after.with_label(PREFIX + "http_requests_total", "route"))
    assert not [route for route in routes if job_id in route or upload_id in route], routes


def test_no_label_carries_user_data(guarded: LiveServer, table: Path) -> None:
    with guarded.client() as client:
        upload_id = upload(client, table).json()["upload_id"]
        jobs = [
            start_analysis(client, upload_id, target=COLUMNS[3], features=list(COLUMNS[:2])),
            start_analysis(client, upload_id, target=COLUMNS[2]),  # fails, naming the column
        ]
        results = [wait_for(client, job) for job in jobs]
        client.get(f"{V1}/results/{jobs[0]}/report")
        client.get(f"{V1}/charts/{jobs[0]}")
        full = scrape(client)
    assert [r["status"] for r in results] == ["completed", "failed"]
    secrets = [FILE_NAME, Path(FILE_NAME).stem, *COLUMNS, upload_id, *jobs]
    leaks = [(value, s) for value in full.label_values() for s in secrets if s in value]
    assert not leaks, leaks


def test_build_info_gives_the_health_version(guarded: LiveServer) -> None:
    with guarded.client() as client:
        version = client.get(f"{V1}/health").json()["version"]
        info = scrape(client).with_label(PREFIX + "build_info", "version")
    assert info == {version: 1.0}


def test_without_a_token_metrics_are_open_and_429s_counted(server_factory, table: Path) -> None:
    open_server = server_factory(UPLOAD_RATE_LIMIT="1")
    with open_server.client() as client:
        assert "authorization" not in client.headers
        before = scrape(client)  # no token: open, like the rest of the API
        assert upload(client, table).status_code == 201
        assert upload(client, table).status_code == 429
        after = scrape(client)
    limited = PREFIX + "rate_limited_total"
    assert after.value(limited, limit="uploads") - before.value(limited, limit="uploads") == 1
    assert after.value(limited, limit="analyses") == after.value(limited, limit="queue") == 0
    assert after.value(PREFIX + "uploads_total") - before.value(PREFIX + "uploads_total") == 1
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total"):
        assert after.value(name) > 0, name
    free = after.with_label(PREFIX + "storage_free_bytes", "directory")
    assert set(free) == {"data", "output"} and min(free.values()) > 0
    assert after.value(PREFIX + "ready_min_free_bytes") == 100 * 1024 * 1024
    assert after.value(PREFIX + "queue_max") == 100
