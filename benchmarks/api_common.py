"""Helpers for the API benchmarks: a live server in a subprocess and a memory sampler."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.servers import make_server  # noqa: E402
from tests.helpers.tables import write_linear_table  # noqa: E402

__all__ = ["ROOT", "MemorySampler", "Server", "write_linear_table"]


class Server:
    """uvicorn running regression_analyzer.api.main:app with temporary directories.

    The tests' LiveServer starts and stops it; the benchmarks only change its defaults to the
    service's own (a worker per CPU, the default rate limit) and keep its log quiet.
    """

    def __init__(self, **env: str) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="ra-bench-"))
        defaults = {"LOG_LEVEL": "WARNING", "WORKERS": str(os.cpu_count() or 1), "RATE_LIMIT": "10"}
        self.live = make_server(self.tmp, **{**defaults, **env})
        self.live.start()
        self.url = self.live.url

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop(timeout=15)

    @property
    def pid(self) -> int:
        assert self.live.process is not None
        return self.live.process.pid

    def upload(self, path: Path) -> dict:
        with path.open("rb") as handle, httpx.Client(timeout=600) as client:
            response = client.post(
                f"{self.url}/api/v1/upload", files={"file": (path.name, handle, "text/csv")}
            )
        response.raise_for_status()
        return response.json()


class MemorySampler(threading.Thread):
    """Samples RSS of a process (and optionally its children) every few milliseconds."""

    def __init__(self, pid: int, children: bool = False, every_s: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.children = children
        self.every_s = every_s
        self.peak = 0
        self._halt = threading.Event()

    def rss(self) -> int:
        total = self.proc.memory_info().rss
        if self.children:
            for child in self.proc.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += child.memory_info().rss
        return total

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.peak = max(self.peak, self.rss())
            except psutil.NoSuchProcess:
                return
            time.sleep(self.every_s)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MB"
