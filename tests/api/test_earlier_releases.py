"""Today's service on what earlier releases stored (issue 30): their own servers wrote the
folders in tests/fixtures/releases/ (make_fixtures.py there). Each is copied first; the
service then answers every earlier job as that release did, serves its files byte for byte,
runs the jobs it left unfinished, and changes none of the stored files (no migration in place,
so a rolled-back server still reads them). Shared mode: a real redis-server loaded from the
release's dump.rdb, with its password."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis

from regression_analyzer.jobs.model import JobState
from regression_analyzer.jobs.store import JobStore, remove_finished_before
from regression_analyzer.report import SCHEMA_VERSION
from tests.helpers.ports import free_port
from tests.helpers.release_fixtures import ReleaseFixture, release_fixtures, sha256
from tests.helpers.servers import LiveServer, make_server, start_analysis, wait_for

V1 = "/api/v1"
LOCAL = release_fixtures("local")
SHARED = release_fixtures("shared")


def _digests(root: Path, names: dict[str, str]) -> dict[str, str]:
    return {name: sha256((root / name).read_bytes()) for name in names if (root / name).is_file()}


# ---------------------------------------------------------------------- checks for both modes
def check_completed_jobs(client: httpx.Client, fixture: ReleaseFixture) -> None:
    """Each completed job answers completed, with the numbers its stored report holds."""
    for job in fixture.completed:
        body = client.get(f"{V1}/results/{job['job_id']}").json()
        assert body["status"] == "completed", body
        assert body["error"] is None
        stored, served = fixture.stored_report(job["job_id"]), body["report"]
        assert served["version"] == fixture.manifest["release"]
        assert served["model"]["kind"] == job["kind"]
        for name, value in stored["model"].items():
            if name != "coefficients":
                assert served["model"][name] == value, name
        for got, want in zip(
            served["model"]["coefficients"], stored["model"]["coefficients"], strict=True
        ):
            assert {k: got[k] for k in want} == want
        assert served["minmax"] == stored["minmax"]
        rows = stored["diagnostics"]["influential_rows"]
        assert served["diagnostics"]["influential_rows"] == rows
        dw = stored["diagnostics"]["durbin_watson"]
        if isinstance(dw, float):  # schema 1: the bare statistic
            assert served["diagnostics"]["durbin_watson"]["statistic"] == dw
            assert served["diagnostics"]["durbin_watson"]["p_value"] is None
        assert served["row_numbering"]
        assert body["chart_urls"] == [
            f"{V1}/charts/{job['job_id']}/{name}" for name in stored["charts"]
        ]


def check_files_served_identical(client: httpx.Client, fixture: ReleaseFixture) -> None:
    """Charts and report.md come back byte for byte as the release stored them."""
    files = fixture.manifest["files"]
    for job in fixture.completed:
        job_id = job["job_id"]
        stored = fixture.stored_report(job_id)
        listed = client.get(f"{V1}/charts/{job_id}").json()
        assert listed["charts"] == stored["charts"]
        for name in stored["charts"]:
            response = client.get(f"{V1}/charts/{job_id}/{name}")
            assert response.status_code == 200, name
            assert sha256(response.content) == files[f"output/jobs/{job_id}/{name}"]
        markdown = client.get(f"{V1}/results/{job_id}/report")
        assert markdown.status_code == 200
        assert sha256(markdown.content) == files[f"output/jobs/{job_id}/report.md"]


def check_failed_jobs(client: httpx.Client, fixture: ReleaseFixture) -> None:
    for job in fixture.failed:
        body = client.get(f"{V1}/results/{job['job_id']}").json()
        assert (body["status"], body["error"]) == ("failed", job["error"])
        assert client.get(f"{V1}/results/{job['job_id']}/report").status_code == 404


def check_unfinished_jobs_run_now(client: httpx.Client, fixture: ReleaseFixture) -> None:
    """What the release left queued or running is run by this server, to today's schema."""
    for job in fixture.unfinished:
        body = wait_for(client, job["job_id"], timeout=120)
        assert body["status"] == "completed", body
        assert body["report"]["schema_version"] == SCHEMA_VERSION
        assert "schema 1" not in body["report"]["row_numbering"]
        assert body["upload_id"] == job["upload_id"]


def check_uploads_previewed_and_analysed_again(
    client: httpx.Client, fixture: ReleaseFixture
) -> None:
    uploads = {job["upload_id"] for job in fixture.completed}
    for upload_id in sorted(uploads):
        info = client.get(f"{V1}/uploads/{upload_id}")
        assert info.status_code == 200, info.text
        assert info.json()["preview"]["columns"]
    ols = next(job for job in fixture.completed if job["kind"] == "ols")
    job_id = start_analysis(client, ols["upload_id"], target="revenue")
    body = wait_for(client, job_id)
    assert body["status"] == "completed", body
    assert body["report"]["schema_version"] == SCHEMA_VERSION
    before = fixture.stored_report(ols["job_id"])["model"]
    # The same table and options: the same fit (to rounding: solvers changed between releases).
    assert body["report"]["model"]["n_obs"] == before["n_obs"]
    assert body["report"]["model"]["r_squared"] == pytest.approx(before["r_squared"], rel=1e-9)


def check_nothing_changed(root: Path, fixture: ReleaseFixture) -> None:
    """Every file the release stored is as it was (sha256): nothing was migrated in place."""
    expected = fixture.finished_files()
    assert _digests(root, expected) == expected


# ---------------------------------------------------------------------- local mode
@pytest.fixture(scope="module", params=LOCAL, ids=[f.name for f in LOCAL])
def release_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ReleaseFixture, LiveServer]]:
    fixture: ReleaseFixture = request.param
    root = fixture.copy_to(tmp_path_factory.mktemp("release"))
    server = make_server(root, API_TOKEN=fixture.manifest["api_token"], WORKERS="2")
    server.start()
    try:
        yield fixture, server
    finally:
        server.stop()


def test_completed_jobs_answer_with_their_stored_numbers(release_server) -> None:
    fixture, server = release_server
    with server.client() as client:
        check_completed_jobs(client, fixture)


def test_charts_and_markdown_are_served_byte_identical(release_server) -> None:
    fixture, server = release_server
    with server.client() as client:
        check_files_served_identical(client, fixture)


def test_failed_jobs_stay_failed_with_their_message(release_server) -> None:
    fixture, server = release_server
    with server.client() as client:
        check_failed_jobs(client, fixture)


def test_unfinished_jobs_are_run_by_this_server(release_server) -> None:
    fixture, server = release_server
    with server.client() as client:
        check_unfinished_jobs_run_now(client, fixture)


def test_earlier_uploads_are_previewed_and_analysed_again(release_server) -> None:
    fixture, server = release_server
    with server.client() as client:
        check_uploads_previewed_and_analysed_again(client, fixture)


def test_no_stored_file_was_changed(release_server) -> None:
    fixture, server = release_server
    check_nothing_changed(server.data_dir.parent, fixture)


@pytest.mark.parametrize("fixture", LOCAL, ids=[f.name for f in LOCAL])
def test_retention_removes_earlier_finished_jobs_only(fixture: ReleaseFixture, tmp_path) -> None:
    root = fixture.copy_to(tmp_path / "copy")
    store = JobStore(root / "output" / "jobs")
    # Every state the release wrote parses (the job store would skip one that did not).
    assert {s.job_id for s in store.all()} == {
        job["job_id"] for kind in fixture.manifest["jobs"].values() for job in kind
    }
    removed = remove_finished_before(store, datetime.now(UTC) + timedelta(days=1))
    assert removed == len(fixture.completed) + len(fixture.failed)
    assert {s.job_id for s in store.all()} == {job["job_id"] for job in fixture.unfinished}


# ---------------------------------------------------------------------- a later schema
def test_a_report_of_a_later_schema_says_who_wrote_it(tmp_path: Path) -> None:
    """A server rolled back below the release that wrote a report: the job answers failed
    with why and what to do, not "missing or unreadable"."""
    fixture = LOCAL[-1]
    job = fixture.completed[0]
    server = make_server(tmp_path)
    job_dir = server.output_dir / "jobs" / job["job_id"]
    shutil.copytree(fixture.path / "output" / "jobs" / job["job_id"], job_dir)
    report = fixture.stored_report(job["job_id"])
    report |= {"schema_version": SCHEMA_VERSION + 1, "version": "9.1.0"}
    (job_dir / "report.json").write_text(json.dumps(report))
    server.start()
    try:
        with server.client() as client:
            version = client.get(f"{V1}/health").json()["version"]
            body = client.get(f"{V1}/results/{job['job_id']}").json()
    finally:
        server.stop()
    assert body["status"] == "failed"
    assert body["report"] is None
    assert body["error"] == (
        f"This report was written by regression-analyzer 9.1.0 in report schema 3; this "
        f"server (regression-analyzer {version}) reads report schemas 1, 2: upgrade to read it."
    )


def test_the_web_page_shows_the_error_of_a_failed_job() -> None:
    """The page prints a failed job's `error` as it is (the message above reaches the user)."""
    script = Path(__file__).resolve().parents[2] / "src/regression_analyzer/api/static/app.js"
    assert 'job.status === "failed"' in script.read_text()
    assert "${job.error}" in script.read_text()


# ---------------------------------------------------------------------- shared mode
@contextlib.contextmanager
def redis_from_dump(fixture: ReleaseFixture, directory: Path) -> Iterator[str]:
    """Debian's redis-server loading the release's dump.rdb, with the release's password."""
    binary = shutil.which("redis-server") or shutil.which("/usr/sbin/redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run scripts/install-system-deps.sh")
    directory.mkdir(parents=True)
    shutil.copy2(fixture.path / "dump.rdb", directory / "dump.rdb")
    port, password = free_port(), fixture.manifest["queue_password"]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
         "--appendonly", "no", "--save", "", "--dir", str(directory),
         "--dbfilename", "dump.rdb"],
        stdout=(directory / "redis.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = redis.Redis(port=port, password=password, decode_responses=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(redis.exceptions.RedisError):
                if client.ping():
                    break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=20)


def _age_by_a_day(url: str, fixture: ReleaseFixture) -> dict[str, JobState]:
    """The job states the release kept, after arq's job keys expired (a day after they were
    queued, as on any upgrade a day later); the queue itself still lists the jobs."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    client = redis.Redis(port=port, password=fixture.manifest["queue_password"])
    prefix = fixture.manifest["queue_prefix"]
    with client:
        for key in client.scan_iter("arq:job:*"):
            client.delete(key)
        return {
            key.decode(): JobState.model_validate_json(client.get(key) or b"")
            for key in client.scan_iter(f"{prefix}:job:*")
        }


@pytest.mark.parametrize("fixture", SHARED, ids=[f.name for f in SHARED])
def test_shared_mode_reads_what_the_release_kept_in_redis(
    fixture: ReleaseFixture, tmp_path: Path
) -> None:
    root = fixture.copy_to(tmp_path / "shared")
    password_file = tmp_path / "queue-password"
    password_file.write_text(fixture.manifest["queue_password"] + "\n")
    with redis_from_dump(fixture, tmp_path / "redis") as url:
        states = _age_by_a_day(url, fixture)
        assert {s.status for s in states.values()} == {"completed", "failed", "queued"}
        server = make_server(
            root,
            API_TOKEN=fixture.manifest["api_token"],
            QUEUE_URL=url,
            QUEUE_PASSWORD_FILE=str(password_file),
            QUEUE_PREFIX=fixture.manifest["queue_prefix"],
            QUEUE_LEASE_S="3",
        )
        server.start()
        try:
            with server.client() as client:
                check_completed_jobs(client, fixture)
                check_files_served_identical(client, fixture)
                check_failed_jobs(client, fixture)
                check_unfinished_jobs_run_now(client, fixture)
                check_uploads_previewed_and_analysed_again(client, fixture)
        finally:
            server.stop()
    check_nothing_changed(root, fixture)
