"""Limits and lifecycle of the real service: rate limits that hold, a full disk, logs without
table data, workers that die with their server, jobs claimed once, memory caps, headers."""

from __future__ import annotations

import fcntl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from regression_analyzer.jobs.model import JobState
from regression_analyzer.jobs.store import JobStore
from tests.helpers import hostile_files as files
from tests.helpers.fake_vendors import FakeVendor
from tests.helpers.servers import make_server, servers_started, start_analysis, upload, wait_for

pytestmark = [pytest.mark.api, pytest.mark.slow]
V1 = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def started(tmp_path_factory):
    """Start servers for one test; all are killed, with their children, at its end."""
    with servers_started(tmp_path_factory, kill=True) as start:
        yield start


def test_concurrent_workbook_uploads_right_after_start_all_succeed(started, tmp_path) -> None:
    # The lazy `import openpyxl` raced between threads: 9 of 10 got 422 after a deploy.
    book = files.valid_xlsx(tmp_path / "book.xlsx")
    server = started(UPLOAD_RATE_LIMIT="1000")
    with server.client() as client, ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda i: upload(client, book, f"b{i}.xlsx", XLSX), range(10)))
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(started, sales_csv) -> None:
    plain = started(RATE_LIMIT="2")
    with plain.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        codes = [
            client.post(
                f"{V1}/analyze",
                json={"upload_id": upload_id, "skip_llm": True},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(3)
        ]
    assert codes == [202, 202, 429]

    proxied = started(RATE_LIMIT="1", FORWARDED_ALLOW_IPS="127.0.0.1")
    with proxied.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]

        def analyze(forwarded_for: str) -> int:
            return client.post(
                f"{V1}/analyze",
                json={"upload_id": upload_id, "skip_llm": True},
                headers={"X-Forwarded-For": forwarded_for},
            ).status_code

        # Behind a trusted proxy each user has their own bucket...
        assert [analyze("198.51.100.1"), analyze("198.51.100.2")] == [202, 202]
        # ...and a user is still limited.
        assert analyze("198.51.100.1") == 429


def test_uploads_have_their_own_rate_limit(started, sales_csv) -> None:
    server = started(UPLOAD_RATE_LIMIT="2")
    with server.client() as client:
        answers = [upload(client, sales_csv) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert "UPLOAD_RATE_LIMIT" in answers[2].json()["detail"]
    assert len(list((server.data_dir / "uploads").glob("[0-9a-f]*"))) == 2


def _on_small_disks(tmp_path: Path, data_mb: int, output_full: bool) -> list[str]:
    """A command prefix that runs the server with DATA_DIR on a tmpfs of data_mb and
    OUTPUT_DIR on a tmpfs that is full, inside its own user and mount namespace."""
    data, output = tmp_path / "disk" / "data", tmp_path / "disk" / "output"
    data.mkdir(parents=True)
    output.mkdir(parents=True)
    fill = f"head -c 4000000 /dev/zero > {output}/filler 2>/dev/null;" if output_full else ""
    script = (
        f"mount -t tmpfs -o size={data_mb}m tmpfs {data} && "
        f"mount -t tmpfs -o size=1m tmpfs {output} && mkdir -p {output}/jobs {data}/uploads && "
        f'{fill} exec "$@"'
    )
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"]


def test_a_full_disk_is_a_507_that_is_logged_and_makes_ready_fail(
    started, tmp_path, sales_csv
) -> None:
    big = files.csv_table(tmp_path / "big.csv", rows=300_000)  # ~4 MB, over the 2 MB disk
    prefix = _on_small_disks(tmp_path, data_mb=2, output_full=True)
    (tmp_path / "srv").mkdir()
    server = make_server(tmp_path / "srv", READY_MIN_FREE_MB="0.5", UPLOAD_RATE_LIMIT="100")
    server.data_dir = server.env["DATA_DIR"] = str(tmp_path / "disk" / "data")  # type: ignore[assignment]
    server.env["OUTPUT_DIR"] = str(tmp_path / "disk" / "output")
    server.command_prefix = prefix
    server.start()
    try:
        with server.client() as client:
            kept = upload(client, sales_csv)
            assert kept.status_code == 201, kept.text
            too_big = upload(client, big)
            assert too_big.status_code == 507, too_big.text
            assert "storage is full" in too_big.json()["detail"]
            # What was stored before is still there.
            assert client.get(f"{V1}/uploads/{kept.json()['upload_id']}").status_code == 200
            ready = client.get(f"{V1}/ready")
            assert ready.status_code == 503
            assert ready.json()["output_dir_free_mb"] < 0.5
            analysed = client.post(
                f"{V1}/analyze", json={"upload_id": kept.json()["upload_id"], "skip_llm": True}
            )
            assert analysed.status_code == 507, analysed.text
    finally:
        server.kill()
    logs = server.logs()
    assert logs.count("no space left to store") >= 2
    assert "POST /api/v1/upload 507" in logs
    assert "Traceback" not in logs


def test_ready_reports_free_space_below_the_threshold(started) -> None:
    roomy = started(READY_MIN_FREE_MB="0")
    cramped = started(READY_MIN_FREE_MB=str(10**12))
    with roomy.client() as client:
        assert client.get(f"{V1}/ready").status_code == 200
    with cramped.client() as client:
        answer = client.get(f"{V1}/ready")
    assert answer.status_code == 503
    assert answer.json()["min_free_mb"] == 10**12


MARKER = "zq-column-sample-7731"


def _analyse_with_llm(started, tmp_path: Path, **env: str) -> str:
    table = tmp_path / f"marked{len(env)}.csv"
    rows = ["region,spend,revenue"] + [f"{MARKER}-{i % 3},{i},{3 * i + i % 4}" for i in range(60)]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with FakeVendor("anthropic") as fake:
        server = started(
            LOG_LEVEL="DEBUG",
            ANTHROPIC_API_KEY="sk-ant-test-only",
            ANTHROPIC_BASE_URL=fake.base_url,
            **env,
        )
        with server.client() as client:
            upload_id = upload(client, table).json()["upload_id"]
            answer = client.post(
                f"{V1}/analyze", json={"upload_id": upload_id, "target": "revenue"}
            )
            assert answer.status_code == 202, answer.text
            wait_for(client, answer.json()["job_id"])
        assert fake.requests, "the analysis did call the (fake) vendor"
        assert MARKER in str(fake.requests[0].json), "the request carried the column samples"
    return server.logs()


def test_debug_logs_do_not_carry_table_data(started, tmp_path) -> None:
    logs = _analyse_with_llm(started, tmp_path)
    assert "DEBUG" in logs  # the service itself does log at DEBUG
    assert MARKER not in logs


def test_vendor_sdk_debug_logs_only_on_request(started, tmp_path) -> None:
    # The other side of the test above: the leak it guards against is real.
    logs = _analyse_with_llm(started, tmp_path, LOG_VENDOR_SDKS="true")
    assert MARKER in logs


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def test_workers_die_with_a_killed_server_and_the_job_runs_once_more(
    started, tmp_path, sales_csv
) -> None:
    with FakeVendor("anthropic") as fake:
        fake.script(fake.slow(120))  # the analysis waits on the vendor: a long-running job
        server = started(ANTHROPIC_API_KEY="sk-ant-test-only", ANTHROPIC_BASE_URL=fake.base_url)
        with server.client() as client:
            upload_id = upload(client, sales_csv).json()["upload_id"]
            job_id = client.post(
                f"{V1}/analyze", json={"upload_id": upload_id, "target": "revenue"}
            ).json()["job_id"]
            deadline = time.monotonic() + 60
            while not fake.requests:
                assert time.monotonic() < deadline, "the job never reached the vendor"
                time.sleep(0.1)
        assert server.process is not None
        workers = _descendants(server.process.pid)
        assert workers
        server.process.kill()  # kill -9 of the server alone, as the OOM killer would
        server.process.wait()
        _gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, [p.cmdline() for p in alive]

        server.start()  # same folders: the job is found and run again, by one worker
        with server.client() as client:
            result = wait_for(client, job_id)
    assert result["status"] == "completed", result
    state = JobStore(server.output_dir / "jobs").get(job_id)
    assert state.attempts == 2


def test_a_job_claimed_by_a_live_process_is_not_run_twice(started, tmp_path, sales_csv) -> None:
    first = started()
    with first.client() as client:
        upload_info = upload(client, sales_csv).json()
    first.stop()
    store = JobStore(first.output_dir / "jobs")
    state = JobState(
        job_id="a" * 32,
        upload_id=upload_info["upload_id"],
        upload_path=str(first.data_dir / "uploads" / upload_info["upload_id"] / "sales.csv"),
        options={"skip_llm": True},
        status="running",
        attempts=1,
    )
    store.save(state)
    # This test plays the worker of a killed server that is still running the job.
    with store.claim_path(state.job_id).open("a") as claim:
        fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        first.start()
        time.sleep(4)
        assert store.get(state.job_id).status != "completed"
        assert not (store.job_dir(state.job_id) / "report.json").exists()
        assert "still running in an earlier process" in first.logs()
    with first.client() as client:
        result = wait_for(client, state.job_id)
    assert result["status"] == "completed", result


def test_a_table_beyond_the_memory_limit_fails_the_job_with_the_reason(started, tmp_path) -> None:
    big = files.csv_table(tmp_path / "big.csv", rows=400_000)
    server = started(WORKER_MEMORY_MB="64")
    with server.client() as client:
        stored = upload(client, big)
        assert stored.status_code == 201, stored.text  # the preview reads the first rows only
        result = wait_for(client, start_analysis(client, stored.json()["upload_id"]))
        assert result["status"] == "failed"
        assert "WORKER_MEMORY_MB" in result["error"]
        assert "needs more than 64 MB" in result["error"]
        assert client.get(f"{V1}/health").status_code == 200
        assert client.get(f"{V1}/ready").status_code == 200


def test_security_headers_on_every_answer(started) -> None:
    server = started()
    with server.client() as client:
        for path in ("/", f"{V1}/health", f"{V1}/uploads/{'0' * 32}", "/static/app.js"):
            headers = client.get(path).headers
            policy = headers["content-security-policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "script-src 'self';" in policy  # no inline or foreign scripts on the page
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"
            assert headers["referrer-policy"] == "no-referrer"
        assert client.get("/docs").status_code == 404  # Swagger UI is opt-in
        assert client.get("/openapi.json").status_code == 200


def test_swagger_ui_when_asked_for(started) -> None:
    server = started(API_DOCS="true")
    with server.client() as client:
        answer = client.get("/docs")
    assert answer.status_code == 200
    assert "cdn.jsdelivr.net" in answer.headers["content-security-policy"]
