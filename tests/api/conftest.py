"""Fixtures that run the service for real: uvicorn in a subprocess on a free loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.servers import LiveServer, servers_started
from tests.helpers.tables import write_linear_table


@pytest.fixture(scope="module")
def server_factory(tmp_path_factory) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with extra environment; all are stopped at the end of the module."""
    with servers_started(tmp_path_factory) as factory:
        yield factory


@pytest.fixture(scope="module")
def server(server_factory) -> LiveServer:
    """The default service: 2 workers, generous limits."""
    return server_factory()


@pytest.fixture(scope="session")
def sales_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tables") / "sales.csv"
    write_linear_table(path)
    return path
