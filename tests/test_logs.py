"""LOG_FORMAT=json: every line a whole run writes is one JSON object, the server's and those of
its preview and analysis processes (which used to log in Python's default format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.servers import servers_started, start_analysis, upload, wait_for
from tests.helpers.tables import write_linear_table

pytestmark = pytest.mark.api


def json_lines(log: str) -> list[dict]:
    """Every non-empty line of `log` parsed; fails naming the first line that is not JSON."""
    entries = []
    for number, line in enumerate(log.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"line {number} is not JSON: {line[:300]}")
        assert isinstance(entry, dict), line
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        entries.append(entry)
    return entries


def test_every_line_of_a_run_is_json(tmp_path_factory, tmp_path: Path) -> None:
    table = tmp_path / "sales.csv"
    write_linear_table(table)
    # DEBUG: the children's libraries (matplotlib in an analysis) log too, as in a debugging
    # session on staging.
    with servers_started(tmp_path_factory) as start:
        server = start(LOG_FORMAT="json", LOG_LEVEL="DEBUG")
        with server.client() as client:
            upload_id = upload(client, table).json()["upload_id"]  # a preview process
            completed = wait_for(client, start_analysis(client, upload_id))
            failed = wait_for(client, start_analysis(client, upload_id, target="region"))
    assert completed["status"] == "completed", completed
    assert failed["status"] == "failed", failed

    entries = json_lines(server.logs())  # the whole run, to after the shutdown
    loggers = {entry["logger"] for entry in entries}
    messages = [entry["message"] for entry in entries]
    # Lines of each kind of process, all parsed above:
    assert "regression_analyzer.api.access" in loggers  # the server
    assert any(m.startswith("preview built in") for m in messages)  # the preview process
    assert f"analysis {completed['job_id']} completed" in messages  # the analysis process
    assert any(name.startswith("matplotlib") for name in loggers)  # a library in it
