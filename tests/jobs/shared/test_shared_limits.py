"""Limits that must hold for the whole service, not per node: the queue limit, the rate limits,
the number of times a job is started, and retention (one node per period)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from regression_analyzer.jobs.constants import RETENTION_KEY
from regression_analyzer.jobs.queue import retry_after_hint
from tests.helpers.cluster import Cluster, analyze, cluster_running, completions
from tests.helpers.servers import upload, wait_for
from tests.helpers.tables import write_linear_table

pytestmark = pytest.mark.slow  # real redis-server, nodes and HAProxy per module

V1 = "/api/v1"
# The lock a node sets (NX, for one period) to run retention: whoever holds it, the others wait.
RETENTION_TURN = f"regression-analyzer:{RETENTION_KEY}"


@pytest.fixture(scope="module")
def slow_table(tmp_path_factory) -> Path:
    """Large enough that an analysis runs for a few seconds."""
    path = tmp_path_factory.mktemp("tables") / "large.csv"
    write_linear_table(path, rows=400_000)
    return path


@pytest.fixture(scope="module")
def small_table(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tables") / "small.csv"
    write_linear_table(path, rows=200)
    return path


def state(cluster: Cluster, job_id: str) -> dict:
    return json.loads(cluster.engine.client().get(f"regression-analyzer:job:{job_id}"))


def wait_until(condition, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_queue_and_rate_limits_count_all_nodes(
    tmp_path_factory, slow_table: Path, small_table: Path
) -> None:
    with cluster_running(
        tmp_path_factory.mktemp("limits"),
        WORKERS="1",
        QUEUE_MAX="2",
        RATE_LIMIT="6",
        UPLOAD_RATE_LIMIT="4",
    ) as cluster:
        first, second = cluster.nodes
        with first.client() as a, second.client() as b:
            # Uploads: 4 per minute per client, counted across nodes.
            for client in (a, b, a):
                assert upload(client, small_table).status_code == 201
            big = upload(b, slow_table).json()["upload_id"]
            refused = upload(a, small_table)
            assert refused.status_code == 429, refused.text  # a's 3rd, the client's 5th
            assert "uploads" in refused.json()["detail"]

            # One worker per node: two analyses run, two wait, the next is one too many.
            running = [analyze(a, big), analyze(b, big)]
            wait_until(
                lambda: all(state(cluster, j)["status"] == "running" for j in running),
                what="both nodes to run one analysis",
            )
            waiting = [analyze(a, big), analyze(b, big)]
            full = a.post(f"{V1}/analyze", json={"upload_id": big, "skip_llm": True})
            assert full.status_code == 429, full.text
            assert "queue is full" in full.json()["detail"]
            # The hint counts the jobs waiting on both nodes: 2 per this node's 1 worker.
            assert full.headers["Retry-After"] == str(retry_after_hint(waiting=2, workers=1))
            assert b.post(f"{V1}/analyze", json={"upload_id": big}).status_code == 429
            assert b.get(f"{V1}/ready").json()["queued"] == 2
            # Six analyses asked for (a: 3, b: 3): the seventh is over the client's limit on
            # either node, though neither node alone has seen six.
            limited = a.post(f"{V1}/analyze", json={"upload_id": big, "skip_llm": True})
            assert limited.status_code == 429
            assert "too many analyses" in limited.json()["detail"]
            for job_id in running + waiting:
                assert wait_for(a, job_id, timeout=180)["status"] == "completed"


def test_a_job_that_keeps_losing_its_node_is_given_up(tmp_path_factory, slow_table: Path) -> None:
    with cluster_running(tmp_path_factory.mktemp("retries"), WORKERS="1") as cluster:
        with cluster.nodes[0].client() as client:
            job_id = analyze(client, upload(client, slow_table).json()["upload_id"])
        for attempt in (1, 2, 3):
            wait_until(
                lambda attempt=attempt: (
                    state(cluster, job_id)["status"] == "running"
                    and state(cluster, job_id)["attempts"] == attempt
                ),
                what=f"start {attempt}",
            )
            pids = {str(n.process.pid): n for n in cluster.nodes}
            runner = pids[state(cluster, job_id)["node"].rsplit(":", 1)[1]]
            runner.kill()
            runner.start()
        with cluster.nodes[1].client() as client:
            result = wait_for(client, job_id, timeout=120)
        assert result["status"] == "failed"
        assert "interrupted 3 times" in result["error"]
        assert completions(cluster)[job_id] == 0
        assert state(cluster, job_id)["attempts"] == 3


def test_retention_runs_on_one_node_per_period(tmp_path_factory, small_table: Path) -> None:
    check_s = 2.0
    with cluster_running(
        tmp_path_factory.mktemp("retention"),
        RETENTION_DAYS="0.00003",  # 2.6 s
        RETENTION_CHECK_S=str(check_s),
    ) as cluster:
        # Retention removes the upload once it is 2.6 s old, whether or not its analysis has
        # read it yet; on a loaded machine the analysis (niced) can take longer than that and
        # fail on a vanished file. So no node gets a turn until the job has completed: a node
        # takes its turn by setting this key only if it is absent (shared/queue.py), and the
        # key is held before the upload exists, so a run that took its turn just before
        # computed its cutoff before the upload was made.
        turn = cluster.engine.client()
        turn.set(RETENTION_TURN, "held by the test")
        with cluster.nodes[0].client() as a, cluster.nodes[1].client() as b:
            job_id = analyze(a, upload(a, small_table).json()["upload_id"])
            result = wait_for(b, job_id)
            assert result["status"] == "completed", (result.get("error"), result)
            turn.delete(RETENTION_TURN)
            wait_until(
                lambda: b.get(f"{V1}/results/{job_id}").status_code == 404,
                timeout=30,
                what="retention to remove the job",
            )
            assert a.get(f"{V1}/results/{job_id}").status_code == 404
        assert not (cluster.output_dir / "jobs" / job_id).exists()
        assert cluster.engine.client().zscore("regression-analyzer:jobs", job_id) is None

        def runs() -> list[int]:
            return [len(re.findall("retention run:", node.logs())) for node in cluster.nodes]

        before, started = runs(), time.monotonic()
        time.sleep(5 * check_s)
        after, elapsed = runs(), time.monotonic() - started
        during = [late - early for early, late in zip(before, after, strict=True)]
        # Both nodes try every period and one wins; alone, each would run once per period.
        assert sum(during) <= elapsed / check_s + 1, (during, elapsed)
        # ...and it does run: a node's turn comes every check_s plus the run's own time, and
        # the window's start and end can each cut one off (CI saw 4 in 10.0006 s, from one
        # node whose partner always found the lock taken).
        assert sum(during) >= elapsed / check_s - 2, (during, elapsed)
