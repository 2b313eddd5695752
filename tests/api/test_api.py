"""The service over real HTTP: happy path, and a 4xx (never a 5xx) for every bad input."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.servers import start_analysis, upload, wait_for
from tests.helpers.tables import write_linear_table

pytestmark = pytest.mark.api
V1 = "/api/v1"


# --------------------------------------------------------------------------- basics


def test_health_is_fast_and_versioned(server) -> None:
    from regression_analyzer import __version__

    with server.client() as client:
        client.get(f"{V1}/health")
        started = time.perf_counter()
        response = client.get(f"{V1}/health")
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}
    assert elapsed < 0.1
    assert response.headers["x-request-id"]


def test_request_id_is_echoed(server) -> None:
    with server.client() as client:
        response = client.get(f"{V1}/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_ready_and_providers(server) -> None:
    with server.client() as client:
        ready = client.get(f"{V1}/ready").json()
        providers = client.get(f"{V1}/providers").json()
    assert ready["ready"] and ready["workers_alive"]
    assert {p["name"] for p in providers} >= {"anthropic", "openai"}
    assert all(set(p) == {"name", "configured", "model"} for p in providers)


def test_page_and_openapi_are_served(server) -> None:
    with server.client() as client:
        page = client.get("/")
        schema = client.get("/openapi.json").json()
    assert page.status_code == 200 and "Regression analyzer" in page.text
    paths = set(schema["paths"])
    for path in (
        "/upload",
        "/uploads/{upload_id}",
        "/analyze",
        "/results/{job_id}",
        "/results/{job_id}/report",
        "/charts/{job_id}",
        "/charts/{job_id}/{name}",
        "/health",
        "/ready",
        "/providers",
    ):
        assert f"{V1}{path}" in paths


# --------------------------------------------------------------------------- uploads


def test_upload_preview_get_delete(server, sales_csv: Path) -> None:
    import hashlib

    with server.client() as client:
        response = upload(client, sales_csv)
        assert response.status_code == 201, response.text
        info = response.json()
        assert info["filename"] == "sales.csv"
        assert info["size"] == sales_csv.stat().st_size
        assert info["sha256"] == hashlib.sha256(sales_csv.read_bytes()).hexdigest()
        names = [c["name"] for c in info["preview"]["columns"]]
        assert names == ["order_id", "ad_spend", "price", "region", "revenue"]
        assert info["preview"]["rows"][0]["region"] in {"north", "south", "west"}
        again = client.get(f"{V1}/uploads/{info['upload_id']}")
        assert again.json() == info
        assert client.delete(f"{V1}/uploads/{info['upload_id']}").status_code == 204
        assert client.get(f"{V1}/uploads/{info['upload_id']}").status_code == 404
        assert client.delete(f"{V1}/uploads/{info['upload_id']}").status_code == 404


def test_excel_upload(server, tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": range(30), "y": [2 * i + 1 for i in range(30)]}).to_excel(
            writer, sheet_name="data", index=False
        )
    with server.client() as client:
        info = upload(client, path, content_type="application/octet-stream").json()
        assert info["preview"]["kind"] == "xlsx" and info["preview"]["sheets"] == ["data"]
        bad = client.post(f"{V1}/analyze", json={"upload_id": info["upload_id"], "sheet": "nope"})
    assert bad.status_code == 422 and "nope" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("table.pdf", b"%PDF-1.4 not a table", 415),
        ("noextension", b"a,b\n1,2\n", 415),
        ("junk.csv", bytes(range(256)) * 64, 422),
        ("fake.xlsx", b"a,b\n1,2\n", 422),
        ("empty.csv", b"", 422),
        ("header_only.csv", b"a,b,c\n", 422),
    ],
)
def test_bad_files_are_refused(server, name: str, content: bytes, status: int) -> None:
    with server.client() as client:
        response = client.post(f"{V1}/upload", files={"file": (name, content)})
    assert response.status_code == status, response.text
    assert isinstance(response.json()["detail"], str)
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.csv",
        "..\\..\\evil.csv",
        "/tmp/abs.csv",
        "%2e%2e/%2e%2e/x.csv",
        ".hidden.csv",
    ],
)
def test_upload_filenames_are_sanitized(server, name: str) -> None:
    with server.client() as client:
        response = client.post(f"{V1}/upload", files={"file": (name, b"a,b\n1,2\n3,5\n4,4\n")})
    assert response.status_code == 201, response.text
    stored = response.json()["filename"]
    assert "/" not in stored and "\\" not in stored and not stored.startswith(".")
    # Nothing was written outside DATA_DIR/uploads/<id>/.
    assert (server.data_dir / "uploads" / response.json()["upload_id"] / stored).is_file()


def test_not_multipart_and_no_file_part(server) -> None:
    with server.client() as client:
        raw = client.post(
            f"{V1}/upload", content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"}
        )
        other = client.post(f"{V1}/upload", files={"other": ("x.csv", b"a,b\n1,2\n")})
        broken = client.post(
            f"{V1}/upload",
            content=b"--xyz\r\ngarbage",
            headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        )
    assert raw.status_code == 422
    assert other.status_code == 422
    assert broken.status_code == 422


@pytest.mark.parametrize("bad_id", ["nope", "0" * 32, "..%2F..%2Fetc%2Fpasswd", "%2e%2e"])
def test_unknown_ids_are_404(server, bad_id: str) -> None:
    with server.client() as client:
        for path in (
            f"/uploads/{bad_id}",
            f"/results/{bad_id}",
            f"/results/{bad_id}/report",
            f"/charts/{bad_id}",
            f"/charts/{bad_id}/x.png",
        ):
            response = client.get(V1 + path)
            assert response.status_code == 404, (path, response.text)


# --------------------------------------------------------------------------- analyses


def test_full_analysis(server, sales_csv: Path) -> None:
    with server.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        accepted = client.post(
            f"{V1}/analyze",
            json={"upload_id": upload_id, "target": "revenue", "skip_llm": True},
        )
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["status"] == "queued"
        job_id = accepted.json()["job_id"]
        result = wait_for(client, job_id)
        assert result["status"] == "completed", result
        assert result["started_at"] and result["finished_at"]
        report = result["report"]
        assert report["target"] == "revenue"
        coefs = {c["name"]: c["estimate"] for c in report["model"]["coefficients"]}
        assert coefs["ad_spend"] == pytest.approx(2.0, abs=0.05)
        assert result["chart_urls"]
        listed = client.get(f"{V1}/charts/{job_id}").json()
        assert listed["urls"] == result["chart_urls"]
        chart = client.get(result["chart_urls"][0])
        assert chart.status_code == 200 and chart.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert "max-age" in chart.headers["cache-control"]
        cached = client.get(
            result["chart_urls"][0], headers={"If-None-Match": chart.headers["etag"]}
        )
        assert cached.status_code == 304
        md = client.get(f"{V1}/results/{job_id}/report")
        assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
        assert "# Regression report" in md.text


@pytest.fixture(scope="module")
def finished_job(server, sales_csv: Path) -> str:
    with server.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        job_id = start_analysis(client, upload_id)
        assert wait_for(client, job_id)["status"] == "completed"
    return job_id


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2fstate.json",
        "%2e%2e",
        "state.json",
        "report.json",
        "report.md",
        "..",
        "x.png",
        ".actual_vs_predicted.png",
    ],
)
def test_chart_names_cannot_escape(server, finished_job: str, name: str) -> None:
    with server.client() as client:
        response = client.get(f"{V1}/charts/{finished_job}/{name}")
        assert response.status_code == 404
        assert "root:" not in response.text
        # and a real chart of the same job is served
        listed = client.get(f"{V1}/charts/{finished_job}").json()["urls"]
        assert client.get(listed[0]).status_code == 200


def test_auto_target_when_omitted(server, sales_csv: Path) -> None:
    with server.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        job_id = start_analysis(client, upload_id)
        result = wait_for(client, job_id)
    assert result["status"] == "completed"
    assert result["report"]["target"] == "revenue"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"target": "profit"}, "profit"),
        ({"features": ["ad_spend", "nope"]}, "nope"),
        ({"target": "revenue", "features": ["revenue"]}, "revenue"),
    ],
)
def test_invalid_options_are_422_at_once(server, sales_csv: Path, options, words) -> None:
    with server.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        response = client.post(f"{V1}/analyze", json={"upload_id": upload_id, **options})
    assert response.status_code == 422
    assert words in response.json()["detail"]


def test_a_column_empty_in_the_previewed_rows_can_still_be_named(server, tmp_path: Path) -> None:
    """The preview reads the first 1,000 rows; a column first filled after them is not in
    it, so only the engine, reading the whole table, may say whether it exists."""
    table = tmp_path / "late.csv"
    lines = ["x,y,late"] + [
        f"{i % 13},{2 * (i % 13) + i % 3},{'' if i < 1200 else i % 7}" for i in range(1500)
    ]
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with server.client() as client:
        info = upload(client, table).json()
        assert info["preview"]["truncated"] is True
        assert "late" not in [c["name"] for c in info["preview"]["columns"]]
        job = start_analysis(client, info["upload_id"], target="y", features=["x", "late"])
        result = wait_for(client, job)
    assert result["status"] == "completed", result
    assert "late" in result["report"]["features"]


def test_named_features_and_event_reach_the_model(server, tmp_path: Path) -> None:
    # `order` counts 0..n-1 (an "identifier" to the heuristic) but the user asks for it.
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    n = 200
    order = np.arange(n)
    x = rng.normal(size=n)
    churned = rng.uniform(size=n) < 1 / (1 + np.exp(-(x + 0.01 * (order - 100))))
    path = tmp_path / "churn.csv"
    pd.DataFrame({"order": order, "x": x, "status": np.where(churned, "churned", "stayed")}).to_csv(
        path, index=False
    )
    with server.client() as client:
        upload_id = upload(client, path).json()["upload_id"]
        default = wait_for(client, start_analysis(client, upload_id, target="status"))
        named = wait_for(
            client,
            start_analysis(
                client, upload_id, target="status", features=["order", "x"], event="stayed"
            ),
        )
        bad_event = wait_for(client, start_analysis(client, upload_id, target="status", event="x"))
    assert default["status"] == named["status"] == "completed"
    assert default["report"]["features"] == ["x"]  # the tool's own pick skips `order`
    assert default["report"]["model"]["event"] == "churned"
    model = named["report"]["model"]
    assert named["report"]["features"] == ["order", "x"]
    assert model["event"] == "stayed" and model["event_reason"] == "chosen by the user"
    assert "odds of stayed" in named["report"]["interpretation"]
    assert (
        bad_event["status"] == "failed" and "'x' is not a value of 'status'" in bad_event["error"]
    )


def test_unusable_target_fails_the_job_with_the_engine_message(server, sales_csv: Path) -> None:
    with server.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        job_id = start_analysis(client, upload_id, target="region")
        result = wait_for(client, job_id)
        report = client.get(f"{V1}/results/{job_id}/report")
    assert result["status"] == "failed"
    assert "region" in result["error"]
    assert report.status_code == 404


def test_analyze_bad_requests(server) -> None:
    with server.client() as client:
        unknown = client.post(f"{V1}/analyze", json={"upload_id": "0" * 32})
        malformed = client.post(
            f"{V1}/analyze", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        wrong_types = client.post(f"{V1}/analyze", json={"upload_id": 5, "features": "x"})
        missing = client.post(f"{V1}/analyze", json={})
    assert unknown.status_code == 404
    assert malformed.status_code == 422
    assert wrong_types.status_code == 422
    assert missing.status_code == 422


# --------------------------------------------------------------------------- limits


def test_oversize_upload_is_413_while_streaming(server_factory, tmp_path: Path) -> None:
    small = server_factory(MAX_UPLOAD_MB="1")
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,b\n" + b"1,2\n" * 400_000)  # 1.6 MB

    def chunks():
        # No Content-Length (chunked), so the limit must be enforced on the stream itself.
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        with big.open("rb") as handle:
            while block := handle.read(64 * 1024):
                yield block
        yield b"\r\n--b--\r\n"

    with small.client() as client:
        declared = upload(client, big)
        try:
            streamed = client.post(
                f"{V1}/upload",
                content=chunks(),
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            )
            streamed_status = streamed.status_code
        except httpx.HTTPError:
            streamed_status = 413  # the server may close the connection mid-body after answering
        fine = client.post(f"{V1}/upload", files={"file": ("ok.csv", b"a,b\n1,2\n2,3\n3,5\n")})
    assert declared.status_code == 413
    assert "1 MB" in declared.json()["detail"]
    assert streamed_status == 413
    assert fine.status_code == 201
    leftovers = [p for p in (small.data_dir / "uploads").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_rate_limit(server_factory, sales_csv: Path) -> None:
    limited = server_factory(RATE_LIMIT="2")
    with limited.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        codes = []
        for _ in range(3):
            response = client.post(f"{V1}/analyze", json={"upload_id": upload_id, "skip_llm": True})
            codes.append(response.status_code)
    assert codes == [202, 202, 429]
    assert int(response.headers["retry-after"]) >= 1


def test_queue_full(server_factory, tmp_path: Path) -> None:
    busy = server_factory(WORKERS="1", QUEUE_MAX="1")
    path = tmp_path / "large.csv"
    write_linear_table(path, rows=200_000)  # slow enough to keep the single worker busy
    with busy.client() as client:
        upload_id = upload(client, path).json()["upload_id"]
        body = {"upload_id": upload_id, "skip_llm": True}
        codes = []
        for _ in range(4):
            response = client.post(f"{V1}/analyze", json=body)
            codes.append(response.status_code)
            if response.status_code == 429:
                break
            time.sleep(0.3)  # let the dispatcher move the first job to running
    assert codes[-1] == 429, codes
    assert codes.count(202) >= 2
    assert int(response.headers["retry-after"]) >= 1


def test_job_timeout_kills_the_analysis(server_factory, tmp_path: Path) -> None:
    # 0.2 s: a 300k-row analysis (loading, fit, ten charts) takes several times that, also on
    # an idle machine where it finished within the former 1 s and the test saw `completed`.
    slow = server_factory(WORKERS="1", JOB_TIMEOUT_S="0.2")
    path = tmp_path / "large.csv"
    write_linear_table(path, rows=300_000)
    with slow.client() as client:
        upload_id = upload(client, path).json()["upload_id"]
        job_id = start_analysis(client, upload_id)
        result = wait_for(client, job_id, timeout=30)
        ready = client.get(f"{V1}/ready").json()
    assert result["status"] == "failed"
    assert "longer than 0.2 s" in result["error"]
    assert ready["running"] == 0


def test_token_required_everywhere_but_health(server_factory, sales_csv: Path) -> None:
    secured = server_factory(API_TOKEN="s3cret-token-value")
    anonymous = httpx.Client(base_url=secured.url, timeout=30)
    wrong = httpx.Client(
        base_url=secured.url, timeout=30, headers={"Authorization": "Bearer wrong"}
    )
    with anonymous, wrong, secured.client() as good:
        assert anonymous.get(f"{V1}/health").status_code == 200
        for client in (anonymous, wrong):
            assert client.get(f"{V1}/providers").status_code == 401
            # Readiness answers load balancers and probes without a token, but only yes/no.
            readiness = client.get(f"{V1}/ready")
            assert readiness.status_code == 200
            assert readiness.json() == {"ready": True}
            assert client.get(f"{V1}/uploads/{'0' * 32}").status_code == 401
            assert client.post(f"{V1}/analyze", json={"upload_id": "x"}).status_code == 401
            response = upload(client, sales_csv)
            assert response.status_code == 401
            assert "s3cret" not in response.text
        assert upload(good, sales_csv).status_code == 201
        assert good.get(f"{V1}/providers").status_code == 200
        assert good.get(f"{V1}/ready").json()["queue"] == "local"
    assert "s3cret-token-value" not in secured.logs()


def test_token_from_file_and_keys_never_shown(server_factory, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("file-token-123\n")
    secured = server_factory(API_TOKEN_FILE=str(token_file), ANTHROPIC_API_KEY="sk-ant-do-not-leak")
    with httpx.Client(
        base_url=secured.url, timeout=10, headers={"Authorization": "Bearer file-token-123"}
    ) as client:
        providers = client.get(f"{V1}/providers")
    assert providers.status_code == 200
    assert {"name": "anthropic", "configured": True}.items() <= providers.json()[0].items()
    assert "sk-ant" not in providers.text
    assert "sk-ant-do-not-leak" not in secured.logs()
    assert "file-token-123" not in secured.logs()


def test_json_logs(server_factory) -> None:
    import json

    logged = server_factory(LOG_FORMAT="json")
    with logged.client() as client:
        client.get(f"{V1}/health", headers={"X-Request-ID": "json-check"})
    time.sleep(0.2)
    lines = [json.loads(line) for line in logged.logs().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("request_id") == "json-check"]
    assert access and access[0]["status"] == 200 and access[0]["path"] == f"{V1}/health"


def test_sigterm_keeps_unfinished_jobs_queued(server_factory, tmp_path: Path) -> None:
    server = server_factory(WORKERS="1", SHUTDOWN_GRACE_S="0.5")
    path = tmp_path / "large.csv"
    write_linear_table(path, rows=300_000)
    with server.client() as client:
        upload_id = upload(client, path).json()["upload_id"]
        ids = [start_analysis(client, upload_id) for _ in range(2)]
        time.sleep(1.0)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 9  # inside Docker's 10 s
    import json

    for job_id in ids:
        state = json.loads((server.output_dir / "jobs" / job_id / "state.json").read_text())
        assert state["status"] in ("queued", "completed"), state
    assert os.path.isdir(server.data_dir / "uploads" / upload_id)


def test_retention_removes_old_uploads_and_results(server_factory, sales_csv: Path) -> None:
    # RETENTION_DAYS is a float: 0.00002 days is under 2 s.
    short = server_factory(RETENTION_DAYS="0.00002", RETENTION_CHECK_S="0.5")
    with short.client() as client:
        upload_id = upload(client, sales_csv).json()["upload_id"]
        job_id = start_analysis(client, upload_id)
        wait_for(client, job_id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            gone_upload = client.get(f"{V1}/uploads/{upload_id}").status_code == 404
            gone_job = client.get(f"{V1}/results/{job_id}").status_code == 404
            if gone_upload and gone_job:
                break
            time.sleep(0.5)
    assert gone_upload and gone_job
