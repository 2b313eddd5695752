"""Hostile files and requests against one real server (uvicorn on loopback, `serve`).

Each case asserts its answer; the module's last test asserts that through all of them the
service process stayed under RSS_BOUND_MB and /health kept answering within HEALTH_BOUND_MS.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers.server_watch import HEALTH_BOUND_MS, RSS_BOUND_MB
from tests.helpers.servers import upload

pytestmark = [pytest.mark.api, pytest.mark.slow]
V1 = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def raw_exchange(port: int, request: bytes, *, trickle_s: float = 0.0) -> bytes:
    """Send bytes on a fresh connection (optionally one byte at a time); the raw answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            if trickle_s:
                for byte in request:
                    sock.sendall(bytes([byte]))
                    time.sleep(trickle_s)
            else:
                sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body was sent
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b"content-length" not in answer.lower():
                break
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_workbook_padded_to_column_xfd_is_refused_in_a_child(watched, hostile_files) -> None:
    server, _ = watched
    with server.client() as client, ThreadPoolExecutor(3) as pool:
        # Three at once: together they took the old server past a container's 2 GB.
        answers = list(
            pool.map(lambda _: upload(client, hostile_files["xfd"], "padded.xlsx", XLSX), range(3))
        )
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert "XFD" in answer.json()["detail"]
        assert "2,000" in answer.json()["detail"]
    assert not list((server.data_dir / "uploads").glob("[0-9a-f]*"))


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("sparse", "the limit is 50,000,000 cells"),
        ("ragged", "the limit is 50,000,000 cells"),
        ("whitespace", "refusing to open it"),
        ("bomb_size", "limit 500 MB"),
        ("bomb_ratio", "zip bomb"),
    ],
)
def test_bombs_are_refused_before_anything_inflates(
    watched, hostile_files, case: str, says: str
) -> None:
    server, _ = watched
    path = hostile_files[case]
    kind = "text/csv" if path.suffix == ".csv" else XLSX
    with server.client() as client:
        answer = upload(client, path, path.name, kind)
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"]


@pytest.mark.parametrize("case", ["xxe", "laughs"])
def test_xml_entities_are_neither_resolved_nor_expanded(watched, hostile_files, case) -> None:
    server, _ = watched
    with server.client() as client:
        answer = upload(client, hostile_files[case], f"{case}.xlsx", XLSX)
    assert answer.status_code == 422, answer.text
    assert "TOP-SECRET" not in answer.text
    assert "lollol" not in answer.text


def test_path_traversal_in_names_and_ids(watched, hostile_files) -> None:
    server, _ = watched
    with server.client() as client:
        answer = upload(client, hostile_files["csv"], "../../../../tmp/evil.csv")
        assert answer.status_code == 201, answer.text
        assert answer.json()["filename"] == "evil.csv"
        stored = list(server.data_dir.rglob("evil.csv"))
        assert len(stored) == 1 and stored[0].is_relative_to(server.data_dir)
        for bad in ("..%2F..%2Fetc%2Fpasswd", "0" * 31 + "g", "%2e%2e"):
            assert client.get(f"{V1}/uploads/{bad}").status_code == 404
            assert client.get(f"{V1}/results/{bad}").status_code == 404


def test_a_form_of_a_thousand_parts_is_refused(watched, hostile_files) -> None:
    server, _ = watched
    boundary = "xyzzy"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv\r\n'
        for i in range(1000)
    )
    body = (
        parts + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="t.csv"\r\nContent-Type: text/csv\r\n\r\nx,y\n1,2\n2,3\n\r\n--{boundary}--\r\n'
    ).encode()
    with server.client() as client:
        answer = client.post(
            f"{V1}/upload",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert answer.status_code == 413
    assert "parts" in answer.json()["detail"]


def test_a_large_field_beside_the_file_is_refused(watched, hostile_files) -> None:
    server, _ = watched
    with server.client() as client, hostile_files["csv"].open("rb") as handle:
        answer = client.post(
            f"{V1}/upload",
            data={"comment": "x" * 1_000_000},
            files={"file": ("t.csv", handle, "text/csv")},
        )
    assert answer.status_code == 413
    assert "64 KB" in answer.json()["detail"]


def test_a_400_mb_json_body_is_refused_unread(watched) -> None:
    server, _ = watched
    head = (
        f"POST {V1}/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {400 * 2**20}\r\n\r\n"
    ).encode()
    answer = raw_exchange(server.port, head + b'{"upload_id": "' + b"a" * 60_000)
    assert status_of(answer) == 413
    assert b"MAX_BODY_KB" in answer


def test_a_chunked_body_is_cut_off_at_the_limit(watched) -> None:
    server, _ = watched

    def chunks():
        for _ in range(100):  # 10 MB if it were all read
            yield b" " * 100_000

    with server.client() as client:
        answer = client.post(
            f"{V1}/analyze", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 413
    assert "MAX_BODY_KB" in answer.json()["detail"]


def test_malformed_json_is_a_422_with_a_message(watched) -> None:
    server, _ = watched
    with server.client() as client:
        answer = client.post(
            f"{V1}/analyze", content=b'{"upload_id": ', headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 422
    assert answer.json()["detail"]


def test_huge_headers_are_refused(watched) -> None:
    server, _ = watched
    request = (f"GET {V1}/health HTTP/1.1\r\nHost: x\r\nX-Filler: {'a' * 200_000}\r\n\r\n").encode()
    answer = raw_exchange(server.port, request)
    assert answer == b"" or 400 <= status_of(answer) < 500


def test_slow_bodies_do_not_block_anyone(watched) -> None:
    server, watch = watched
    body = b'{"upload_id": "' + b"0" * 32 + b'"}'
    head = (
        f"POST {V1}/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    answers: list[bytes] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(raw_exchange(server.port, head + body, trickle_s=0.05))
        )
        for _ in range(20)
    ]
    probes_before = len(watch.latencies_ms)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 20
    assert all(status_of(a) == 404 for a in answers)  # read to the end, then: no such upload
    assert len(watch.latencies_ms) > probes_before + 10  # /health kept answering meanwhile


def test_fifty_concurrent_uploads_all_succeed(watched, hostile_files) -> None:
    server, _ = watched
    with server.client() as client, ThreadPoolExecutor(50) as pool:
        answers = list(
            pool.map(lambda i: upload(client, hostile_files["csv"], f"t{i}.csv"), range(50))
        )
    assert [a.status_code for a in answers] == [201] * 50, [a.text for a in answers][:3]
    assert len({a.json()["upload_id"] for a in answers}) == 50


def test_the_service_stayed_small_and_responsive(watched) -> None:
    """Last in the module: the bound over everything above."""
    server, watch = watched
    with server.client() as client:
        assert client.get(f"{V1}/health").status_code == 200
    print(watch.summary())
    assert not watch.failures, watch.summary()
    assert watch.peak_rss_mb < RSS_BOUND_MB, watch.summary()
    assert watch.p99_ms() < HEALTH_BOUND_MS, watch.summary()


def test_files_for_the_record(hostile_files) -> None:
    """The generated files are as small as the findings say (so the suite stays honest)."""
    assert hostile_files["xfd"].stat().st_size < 40_000
    assert hostile_files["whitespace"].stat().st_size < 2_000_000
    sizes = {name: Path(path).stat().st_size for name, path in hostile_files.items()}
    assert max(sizes.values()) < 3_000_000
