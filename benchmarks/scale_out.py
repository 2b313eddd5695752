"""Shared mode against local mode, and how fast a killed node's job moves on.

Prints three tables (run by hand, not by the tests; needs Debian's redis-server and haproxy):

1. throughput: N analyses of a ROWS-row table submitted at once, until all are completed:
   local mode on one node, shared mode on one node, shared mode on two nodes behind HAProxy
   (WORKERS per node = cores). Rounds interleave the three set-ups; the median is shown.
2. per-job overhead: one analysis at a time, from POST /analyze to the client seeing
   "completed" (polled every 20 ms), local against shared on one node, for a small table and
   a ROWS-row one; and the time from submission to the analysis starting (queue pick-up).
3. failover: two nodes; the node running a long analysis is killed (kill -9, with its
   analyses); the time until the other node has started it, and until it is completed, for
   QUEUE_LEASE_S of 15 (the default) and 4.

    .venv/bin/python benchmarks/scale_out.py [--jobs 20] [--rows 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from api_common import write_linear_table

from tests.helpers.cluster import TEST_ONLY_QUEUE_PASSWORD, HAProxy, RedisServer
from tests.helpers.servers import LiveServer, make_server

CORES = os.cpu_count() or 1
V1 = "/api/v1"


@contextlib.contextmanager
def nodes(mode: str, count: int, root: Path, **env: str) -> Iterator[tuple[str, list[LiveServer]]]:
    """`count` nodes in `mode` ("local" or "shared"), and the URL to send requests to."""
    root.mkdir(parents=True)
    settings = {
        "LOG_LEVEL": "WARNING",
        "WORKERS": str(CORES),
        "RATE_LIMIT": "0",
        "UPLOAD_RATE_LIMIT": "0",
        "QUEUE_MAX": "1000",
        **env,
    }
    engine = proxy = None
    if mode == "shared":
        engine = RedisServer(root / "redis")
        engine.start()
        secret = root / "queue-password"
        secret.write_text(TEST_ONLY_QUEUE_PASSWORD)
        settings |= {"QUEUE_URL": engine.url, "QUEUE_PASSWORD_FILE": str(secret)}
    shared = root / "shared"
    shared.mkdir()
    started = []
    try:
        for _ in range(count):
            node = make_server(shared, **settings)
            node.fixed_port = True
            node.start()
            started.append(node)
        url = started[0].url
        if count > 1:
            proxy = HAProxy(root / "haproxy", [n.port for n in started])
            proxy.start()
            url = proxy.url
        yield url, started
    finally:
        if proxy is not None:
            proxy.stop()
        for node in started:
            node.stop()
        if engine is not None:
            engine.stop()


def upload(url: str, path: Path) -> str:
    with path.open("rb") as handle:
        response = httpx.post(
            f"{url}{V1}/upload", files={"file": (path.name, handle, "text/csv")}, timeout=300
        )
    response.raise_for_status()
    return str(response.json()["upload_id"])


def submit(client: httpx.Client, upload_id: str) -> str:
    response = client.post(
        f"{V1}/analyze", json={"upload_id": upload_id, "target": "revenue", "skip_llm": True}
    )
    response.raise_for_status()
    return str(response.json()["job_id"])


def wait_all(client: httpx.Client, job_ids: list[str], poll_s: float = 0.05) -> dict[str, dict]:
    done: dict[str, dict] = {}
    deadline = time.monotonic() + 1800
    while len(done) < len(job_ids):
        if time.monotonic() > deadline:
            raise TimeoutError("analyses did not finish in 30 minutes")
        for job_id in job_ids:
            if job_id in done:
                continue
            body = client.get(f"{V1}/results/{job_id}").json()
            if body["status"] in ("completed", "failed"):
                if body["status"] != "completed":
                    raise RuntimeError(f"job failed: {body['error']}")
                done[job_id] = body
        time.sleep(poll_s)
    return done


def throughput(table: Path, jobs: int, rounds: int, root: Path) -> None:
    setups = [("local", 1), ("shared", 1), ("shared", 2)]
    seconds: dict[tuple[str, int], list[float]] = {s: [] for s in setups}
    for round_ in range(rounds):
        for mode, count in setups:
            with nodes(mode, count, root / f"t{round_}-{mode}-{count}") as (url, _):
                upload_id = upload(url, table)
                with httpx.Client(base_url=url, timeout=60) as client:
                    # Warm every analysis process slot first: the first analyses import more.
                    wait_all(client, [submit(client, upload_id) for _ in range(count * CORES)])
                    start = time.monotonic()
                    ids = [submit(client, upload_id) for _ in range(jobs)]
                    wait_all(client, ids, poll_s=0.2)
                    seconds[(mode, count)].append(time.monotonic() - start)
    print(f"\n1. throughput: {jobs} analyses of {table.stem} submitted at once, {CORES} cores")
    print(f"   WORKERS={CORES} per node; median of {rounds} interleaved rounds")
    print(f"   {'set-up':<22}{'wall time':>12}{'analyses/min':>15}   rounds")
    for (mode, count), values in seconds.items():
        median = statistics.median(values)
        shown = ", ".join(f"{v:.1f}" for v in values)
        label = f"{mode}, {count} node{'s' if count > 1 else ''}"
        print(f"   {label:<22}{median:>10.1f} s{jobs / median * 60:>15.1f}   [{shown}]")


def one_at_a_time(tables: dict[str, Path], repeat: int, root: Path) -> None:
    latency: dict[tuple[str, str], list[float]] = {}
    pickup: dict[tuple[str, str], list[float]] = {}
    for round_ in range(repeat):
        for mode in ("local", "shared"):
            with (
                nodes(mode, 1, root / f"o{round_}-{mode}") as (url, _),
                httpx.Client(base_url=url, timeout=60) as client,
            ):
                for name, table in tables.items():
                    upload_id = upload(url, table)
                    wait_all(client, [submit(client, upload_id)])  # warm: the first imports more
                    for _ in range(3):
                        start = time.monotonic()
                        job_id = submit(client, upload_id)
                        body = wait_all(client, [job_id], poll_s=0.02)[job_id]
                        latency.setdefault((mode, name), []).append(time.monotonic() - start)
                        queued = _seconds(body["started_at"]) - _seconds(body["created_at"])
                        pickup.setdefault((mode, name), []).append(queued)
    print("\n2. one analysis at a time (one node, median of", 3 * repeat, "runs)")
    print(f"   {'table':<14}{'local':>10}{'shared':>10}{'overhead':>10}   pick-up local/shared")
    for name in tables:
        local = statistics.median(latency[("local", name)])
        shared = statistics.median(latency[("shared", name)])
        up_l = statistics.median(pickup[("local", name)])
        up_s = statistics.median(pickup[("shared", name)])
        print(
            f"   {name:<14}{local:>9.2f}s{shared:>9.2f}s{shared - local:>+9.2f}s"
            f"   {up_l * 1000:.0f} ms / {up_s * 1000:.0f} ms"
        )


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


def failover(table: Path, runs: int, root: Path) -> None:
    print(f"\n3. failover: the node running an analysis of {table.stem} is killed (kill -9)")
    print(f"   {'QUEUE_LEASE_S':<15}{'taken over after':>18}{'completed after':>18}")
    for lease in (15, 4):
        picked, finished = [], []
        for run in range(runs):
            with nodes("shared", 2, root / f"f{lease}-{run}", QUEUE_LEASE_S=str(lease)) as (
                url,
                started,
            ):
                upload_id = upload(url, table)
                with httpx.Client(base_url=url, timeout=60) as client:
                    job_id = submit(client, upload_id)
                    state = _state_reader(started, job_id)
                    while state()["status"] != "running":
                        time.sleep(0.01)
                    runner = next(
                        n for n in started if state()["node"].endswith(f":{n.process.pid}")
                    )
                    runner.kill()
                    killed = time.monotonic()
                    while state()["attempts"] < 2 or state()["status"] != "running":
                        time.sleep(0.01)
                    picked.append(time.monotonic() - killed)
                    while state()["status"] != "completed":
                        time.sleep(0.05)
                    finished.append(time.monotonic() - killed)
        taken, done = statistics.median(picked), statistics.median(finished)
        runs_shown = ", ".join(f"{p:.2f}" for p in picked)
        print(f"   {lease:<15}{taken:>16.2f} s{done:>16.2f} s   (runs: {runs_shown})")


def _state_reader(started: list[LiveServer], job_id: str):
    """Read a job's state straight from the engine (a killed node cannot answer)."""
    import redis

    url = started[0].env["QUEUE_URL"]
    client = redis.Redis.from_url(url, password=TEST_ONLY_QUEUE_PASSWORD, decode_responses=True)

    def read() -> dict:
        return json.loads(client.get(f"regression-analyzer:job:{job_id}"))

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["throughput", "latency", "failover"]
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ra-scale-out-"))
    big = root / f"{args.rows // 1000}k_rows.csv"
    small = root / "200_rows.csv"
    long_job = root / "400k_rows.csv"
    write_linear_table(big, rows=args.rows)
    write_linear_table(small, rows=200)
    write_linear_table(long_job, rows=400_000)
    print(f"regression-analyzer shared mode vs local mode; {CORES} cores; files in {root}")
    if "throughput" not in args.skip:
        throughput(big, args.jobs, args.rounds, root)
    if "latency" not in args.skip:
        one_at_a_time({"200 rows": small, f"{big.stem}": big}, args.rounds, root)
    if "failover" not in args.skip:
        failover(long_job, args.rounds, root)


if __name__ == "__main__":
    main()
