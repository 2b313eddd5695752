"""Crash safety: SIGKILL the server mid-analysis, start it again on the same directories."""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers.servers import make_server, start_analysis, upload, wait_for
from tests.helpers.tables import write_linear_table

pytestmark = [pytest.mark.api, pytest.mark.slow]
V1 = "/api/v1"


def test_kill_and_restart_loses_nothing(tmp_path) -> None:
    server = make_server(tmp_path, WORKERS="1")
    server.start()
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    write_linear_table(small)
    write_linear_table(large, rows=400_000)
    try:
        with server.client() as client:
            small_id = upload(client, small).json()["upload_id"]
            done_id = start_analysis(client, small_id)
            finished = wait_for(client, done_id)
            assert finished["status"] == "completed"

            large_id = upload(client, large).json()["upload_id"]
            running_id = start_analysis(client, large_id)
            queued_id = start_analysis(client, small_id)
            deadline = time.monotonic() + 30
            while client.get(f"{V1}/results/{running_id}").json()["status"] != "running":
                assert time.monotonic() < deadline
                time.sleep(0.1)
        server.kill()  # SIGKILL: no shutdown code runs

        state = json.loads((server.output_dir / "jobs" / running_id / "state.json").read_text())
        assert state["status"] == "running"  # what a crash leaves behind

        server.start()
        with server.client() as client:
            # Uploads and finished results are intact.
            assert client.get(f"{V1}/uploads/{small_id}").status_code == 200
            assert client.get(f"{V1}/uploads/{large_id}").status_code == 200
            again = client.get(f"{V1}/results/{done_id}").json()
            assert again["status"] == "completed"
            assert again["report"] == finished["report"]
            assert client.get(again["chart_urls"][0]).status_code == 200
            # The interrupted and the waiting job are re-queued and run to completion.
            resumed = wait_for(client, running_id, timeout=180)
            assert resumed["status"] == "completed", resumed
            assert "restart" in (resumed["note"] or "")
            assert wait_for(client, queued_id, timeout=120)["status"] == "completed"
    finally:
        server.stop()
