"""Property-based fuzzing of the live API from its own OpenAPI schema (schemathesis CLI):
no answer is a 5xx and every answer matches the documented schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.servers import make_server

pytestmark = [pytest.mark.api, pytest.mark.slow]
MAX_EXAMPLES = 40


def test_api_never_5xx_and_matches_schema(tmp_path: Path) -> None:
    server = make_server(tmp_path, RATE_LIMIT="100000", WORKERS="1", QUEUE_MAX="1000")
    server.start()
    try:
        st = Path(sys.executable).with_name("st")
        result = subprocess.run(
            [
                str(st),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--request-timeout",
                "30",
                "--seed",
                "1",
                "--suppress-health-check",
                "all",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,  # schemathesis writes a .schemathesis/ cache in its working dir
        )
    finally:
        server.stop()
    output = result.stdout + result.stderr
    print(output[-3000:])
    assert result.returncode == 0, output[-6000:]
    assert "Internal server error" not in server.logs()
