"""20 analyses of 100k rows submitted at once: all complete; throughput and peak memory."""

from __future__ import annotations

import time

import httpx
from api_common import MemorySampler, Server, mb, write_linear_table

JOBS = 20


def main() -> None:
    with Server(RATE_LIMIT="0", QUEUE_MAX="50", JOB_TIMEOUT_S="600") as server:
        path = server.tmp / "100k.csv"
        write_linear_table(path, rows=100_000)
        upload_id = server.upload(path)["upload_id"]
        sampler = MemorySampler(server.pid, children=True, every_s=0.05)
        sampler.start()
        started = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ids = []
            for _ in range(JOBS):
                response = client.post(
                    "/api/v1/analyze", json={"upload_id": upload_id, "skip_llm": True}
                )
                assert response.status_code == 202, response.text
                ids.append(response.json()["job_id"])
            pending = set(ids)
            statuses: dict[str, str] = {}
            while pending:
                for job_id in list(pending):
                    status = client.get(f"/api/v1/results/{job_id}").json()["status"]
                    if status in ("completed", "failed"):
                        statuses[job_id] = status
                        pending.discard(job_id)
                time.sleep(0.25)
        elapsed = time.perf_counter() - started
        peak = sampler.stop()
    completed = sum(s == "completed" for s in statuses.values())
    print(
        f"{completed}/{JOBS} completed in {elapsed:.1f} s: "
        f"{JOBS / elapsed * 60:.1f} analyses/min, {elapsed / JOBS:.2f} s per analysis"
    )
    print(f"peak RSS of server + worker processes: {mb(peak)}")


if __name__ == "__main__":
    main()
