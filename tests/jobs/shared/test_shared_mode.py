"""The shared mode end to end: a real redis-server, two real nodes sharing storage, HAProxy.

Each invariant of docs/architecture.md's "Shared mode" is checked here through real requests:
any node answers any request; a job survives the node running it being killed (and runs to
completion once); the engine going away gives 503s and loses no upload; and the service
comes back with its data. Limits, retries and retention are in test_shared_limits.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.helpers.cluster import LEASE_S, Cluster, analyze, cluster_running, completions
from tests.helpers.servers import LiveServer, upload, wait_for
from tests.helpers.tables import write_linear_table

pytestmark = pytest.mark.slow  # real redis-server, nodes and HAProxy per module

V1 = "/api/v1"
SIZES = (200, 2_000, 20_000, 50_000)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    with cluster_running(
        tmp_path_factory.mktemp("cluster"), RATE_LIMIT="1000", UPLOAD_RATE_LIMIT="1000"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("tables")
    paths = {}
    for seed, rows in enumerate(SIZES, start=1):
        paths[rows] = folder / f"sales_{rows}.csv"
        write_linear_table(paths[rows], rows=rows, seed=seed)
    return paths


def reference_slopes(path: Path) -> dict[str, float]:
    """ad_spend and price by numpy's least squares on the same CSV (independent of our code):
    intercept, both slopes and region dummies. The slopes do not depend on the dummy coding."""
    frame = pd.read_csv(path)
    dummies = pd.get_dummies(frame["region"], drop_first=True, dtype=float)
    design = np.column_stack(
        [np.ones(len(frame)), frame["ad_spend"], frame["price"], dummies.to_numpy()]
    )
    solution, *_ = np.linalg.lstsq(design, frame["revenue"].to_numpy(), rcond=None)
    return {"ad_spend": float(solution[1]), "price": float(solution[2])}


def slopes(result: dict) -> dict[str, float]:
    terms = {c["name"]: c["estimate"] for c in result["report"]["model"]["coefficients"]}
    return {"ad_spend": terms["ad_spend"], "price": terms["price"]}


def job_state(cluster: Cluster, job_id: str) -> dict:
    import json

    text = cluster.engine.client().get(f"regression-analyzer:job:{job_id}")
    assert text is not None, f"no state for {job_id} in the engine"
    return json.loads(text)


def node_of(cluster: Cluster, node: LiveServer) -> str:
    """The `node` a job's state names when this server ran it (host:pid)."""
    assert node.process is not None
    return f":{node.process.pid}"


def test_any_node_answers_any_request(cluster: Cluster, tables: dict[int, Path]) -> None:
    first, second = cluster.nodes
    with first.client() as a, second.client() as b:
        upload_id = upload(a, tables[2_000]).json()["upload_id"]
        assert b.get(f"{V1}/uploads/{upload_id}").status_code == 200
        job_id = analyze(b, upload_id)
        on_a = wait_for(a, job_id)
        on_b = b.get(f"{V1}/results/{job_id}").json()
        assert on_a["status"] == "completed", on_a
        assert on_a == on_b
        for client in (a, b):
            chart = client.get(on_a["chart_urls"][0])
            assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
            assert client.get(f"{V1}/results/{job_id}/report").status_code == 200
            ready = client.get(f"{V1}/ready").json()
            assert ready["queue"] == "shared" and ready["queue_engine_reachable"] is True
    # The state is in the engine, not in a node's memory or folder.
    assert job_state(cluster, job_id)["status"] == "completed"
    assert not (cluster.output_dir / "jobs" / job_id / "state.json").exists()
    assert slopes(on_a) == pytest.approx(reference_slopes(tables[2_000]), rel=1e-9)


def test_forty_analyses_through_the_proxy_survive_a_killed_node(
    cluster: Cluster, tables: dict[int, Path]
) -> None:
    victim, survivor = cluster.nodes
    failures: list[str] = []
    with httpx.Client(base_url=cluster.proxy.url, timeout=60) as proxy:
        uploads = {rows: upload(proxy, path).json()["upload_id"] for rows, path in tables.items()}
        order = [SIZES[i % len(SIZES)] for i in range(40)]
        jobs = {analyze(proxy, uploads[rows]): rows for rows in order}

        # Kill the first node (and its analysis processes) while it runs some of them.
        deadline = time.monotonic() + 60
        victim_name = node_of(cluster, victim)
        while time.monotonic() < deadline:
            states = [job_state(cluster, job_id) for job_id in jobs]
            running_there = [
                s["job_id"]
                for s in states
                if s["status"] == "running" and (s["node"] or "").endswith(victim_name)
            ]
            if running_there:
                break
            time.sleep(0.05)
        assert running_there, "the first node never ran a job"
        victim.kill()
        killed_at = time.monotonic()

        results = {}
        for job_id in jobs:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                response = proxy.get(f"{V1}/results/{job_id}")
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    time.sleep(0.2)
                    continue
                if response.json()["status"] in ("completed", "failed"):
                    results[job_id] = response.json()
                    break
                time.sleep(0.2)
        taken_over_after = time.monotonic() - killed_at
        victim.start()  # the same port: the proxy sends it requests again once it is ready

    assert failures == [], "the proxy answered errors while a node was down"
    assert len(results) == 40
    assert {r["status"] for r in results.values()} == {"completed"}, [
        r["error"] for r in results.values() if r["status"] != "completed"
    ]
    for job_id, result in results.items():
        assert slopes(result) == pytest.approx(reference_slopes(tables[jobs[job_id]]), rel=1e-9)
        assert result["report"]["model"]["n_obs"] == jobs[job_id]
    # The killed node's running jobs were taken over by the other node, as second starts.
    for job_id in running_there:
        state = job_state(cluster, job_id)
        assert state["attempts"] == 2, state
        assert state["node"].endswith(node_of(cluster, survivor)), state
        assert "re-queued" not in (state["note"] or "").lower()
    # Exactly once: every job's analysis completed one time, on all nodes together.
    counts = completions(cluster)
    assert all(counts[job_id] == 1 for job_id in jobs), {j: counts[j] for j in jobs}
    assert taken_over_after > LEASE_S  # sanity: the lease, not a lucky early finish
    with victim.client() as again:
        assert again.get(f"{V1}/ready").json()["ready"] is True


def test_engine_down_gives_503_keeps_uploads_and_recovers(
    cluster: Cluster, tables: dict[int, Path]
) -> None:
    first, second = cluster.nodes
    with first.client() as a, second.client() as b:
        upload_id = upload(a, tables[200]).json()["upload_id"]
        done = wait_for(a, analyze(a, upload_id))
        assert done["status"] == "completed"

        cluster.engine.stop()
        for client in (a, b):
            ready = client.get(f"{V1}/ready")
            assert ready.status_code == 503
            assert ready.json()["queue_engine_reachable"] is False
        refused = b.post(
            f"{V1}/analyze", json={"upload_id": upload_id, "target": "revenue", "skip_llm": True}
        )
        assert refused.status_code == 503
        assert "job queue is unreachable" in refused.json()["detail"]
        assert "Traceback" not in refused.text and "password" not in refused.text.lower()
        assert "Retry-After" in refused.headers
        looked_up = a.get(f"{V1}/results/{done['job_id']}")
        assert looked_up.status_code == 503
        # Uploads do not need the engine: stored on the shared disk, kept.
        during = upload(b, tables[2_000])
        assert during.status_code == 201, during.text
        kept_id = during.json()["upload_id"]
        # Both nodes are out of the proxy's rotation: it answers 503 too.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if httpx.get(f"{cluster.proxy.url}{V1}/health", timeout=5).status_code == 503:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the proxy kept sending requests to nodes that are not ready")

        cluster.engine.start()  # the same port and append-only file
        for client in (a, b):
            deadline = time.monotonic() + 20
            while client.get(f"{V1}/ready").status_code != 200:
                assert time.monotonic() < deadline, "a node did not recover"
                time.sleep(0.2)
        # What was there before the outage is still there; the upload made during it works.
        assert a.get(f"{V1}/results/{done['job_id']}").json()["status"] == "completed"
        after = wait_for(b, analyze(a, kept_id))
        assert after["status"] == "completed", after
        assert slopes(after) == pytest.approx(reference_slopes(tables[2_000]), rel=1e-9)
    assert "test-only-queue-password" not in cluster.logs()


def test_rolling_restart_behind_the_proxy_drops_no_request(
    cluster: Cluster, tables: dict[int, Path]
) -> None:
    """What a rolling deploy does (serial 1): stop a node, start it, then the next."""
    cluster.proxy.wait_until_all_up()  # an earlier test may have restarted a node or the engine
    with httpx.Client(base_url=cluster.proxy.url, timeout=60) as proxy:
        upload_id = upload(proxy, tables[200]).json()["upload_id"]
        job_id = analyze(proxy, upload_id)
        chart = wait_for(proxy, job_id)["chart_urls"][0]

    answers: Counter[int] = Counter()
    errors: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=cluster.proxy.url, timeout=60) as client:
            while not stop.is_set():
                for method, url in (("GET", f"{V1}/results/{job_id}"), ("GET", chart)):
                    try:
                        answers[client.request(method, url).status_code] += 1
                    except httpx.HTTPError as exc:
                        errors.append(repr(exc))
                try:
                    answers[upload(client, tables[200]).status_code] += 1
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for node in cluster.nodes:
            time.sleep(1)
            node.stop()  # SIGTERM, as `docker stop` sends
            node.start()
            with node.client() as client:
                deadline = time.monotonic() + 30
                while client.get(f"{V1}/ready").status_code != 200:
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            # As deploy.yml does: the next node goes only once this one is back in rotation.
            cluster.proxy.wait_until_all_up()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert set(answers) <= {200, 201}, answers
    assert sum(answers.values()) > 100, answers
