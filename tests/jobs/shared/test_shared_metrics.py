"""The queue gauges in shared mode: read from Redis at each scrape, so every node reports the
whole queue (jobs waiting and running on all nodes), not what it holds itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers.cluster import analyze, cluster_running
from tests.helpers.metrics import PREFIX, Scrape, scrape, scrape_when
from tests.helpers.servers import upload, wait_for
from tests.helpers.tables import write_linear_table

pytestmark = pytest.mark.slow  # real redis-server, nodes and HAProxy per module


def idle(scraped: Scrape) -> bool:
    return scraped.value(PREFIX + "jobs_waiting") == scraped.value(PREFIX + "jobs_running") == 0


@pytest.fixture(scope="module")
def slow_table(tmp_path_factory) -> Path:
    """Large enough that an analysis runs for a few seconds."""
    path = tmp_path_factory.mktemp("tables") / "large.csv"
    write_linear_table(path, rows=400_000)
    return path


def test_every_node_reports_the_whole_queue(tmp_path_factory, slow_table: Path) -> None:
    with cluster_running(tmp_path_factory.mktemp("gauges"), WORKERS="1") as cluster:
        first, second = cluster.nodes
        with first.client() as a, second.client() as b:
            big = upload(a, slow_table).json()["upload_id"]
            # One worker per node: two run (one on each node), two wait.
            jobs = [analyze(client, big) for client in (a, b, a, b)]
            seen: list[tuple[float, ...]] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                on_a, on_b = scrape(a), scrape(b)
                seen.append(
                    tuple(
                        scraped.value(PREFIX + name)
                        for scraped in (on_a, on_b)
                        for name in ("jobs_waiting", "jobs_running")
                    )
                )
                if seen[-1] == (2, 2, 2, 2):
                    break
                time.sleep(0.05)
            # Each node runs one job, yet both report two running: the count is Redis's.
            assert seen[-1] == (2, 2, 2, 2), seen[-10:]
            for job in jobs:
                wait_for(a, job, timeout=300)
            # Both done with the queue: nothing waits, nothing runs, on either node.
            finals = [scrape_when(client, idle) for client in (a, b)]
            completed = [final.value(PREFIX + "analyses_completed_total") for final in finals]
    # Each node counts what it ran itself: the four completions, summed over nodes.
    assert sum(completed) == 4, completed
