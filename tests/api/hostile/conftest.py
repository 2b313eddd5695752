"""The hostile suite: tiny files and requests an attacker would send, against a real server.

Each module gets one server, watched from start to end (tests.helpers.server_watch), so each
can assert that the service stayed small and responsive while everything else was thrown at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hostile_files as files
from tests.helpers.server_watch import ServerWatch
from tests.helpers.servers import LiveServer, make_server


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    """Every hostile workbook, generated once per session (the 1.5 GB one takes seconds)."""
    root = tmp_path_factory.mktemp("hostile")
    secret = root / "secret.txt"
    secret.write_text("TOP-SECRET-7d1e\n", encoding="utf-8")
    return {
        "secret": secret,
        "xfd": files.xlsx_padded_to_xfd(root / "padded.xlsx"),
        "sparse": files.xlsx_tall_and_sparse(root / "sparse.xlsx"),
        "ragged": files.csv_of_short_lines(root / "ragged.csv"),
        "whitespace": files.xlsx_of_whitespace(root / "whitespace.xlsx"),
        "bomb_size": files.xlsx_bomb_by_size(root / "bomb-size.xlsx"),
        "bomb_ratio": files.xlsx_bomb_by_ratio(root / "bomb-ratio.xlsx"),
        "xxe": files.xlsx_with_external_entity(root / "xxe.xlsx", secret),
        "laughs": files.xlsx_billion_laughs(root / "laughs.xlsx"),
        "csv": files.csv_table(root / "table.csv"),
        "xlsx": files.valid_xlsx(root / "table.xlsx"),
    }


@pytest.fixture(scope="module")
def watched(tmp_path_factory) -> Iterator[tuple[LiveServer, ServerWatch]]:
    """One server for the module, watched from start to end."""
    server = make_server(
        tmp_path_factory.mktemp("hostile-srv"),
        RATE_LIMIT="100000",
        UPLOAD_RATE_LIMIT="100000",
        WORKERS="2",
    )
    server.start()
    watch = ServerWatch(server)
    watch.start()
    yield server, watch
    watch.stop()
    server.stop()
