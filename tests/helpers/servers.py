"""The service run for real: `regression-analyzer serve` (uvicorn) in a subprocess on a free
loopback port, and the HTTP steps of an analysis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.helpers.ports import free_port

STARTUP_TIMEOUT_S = 30


@dataclass
class LiveServer:
    """A running service: its URL, its directories and its process (for kill/restart)."""

    data_dir: Path
    output_dir: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    token: str | None = None
    command_prefix: list[str] = field(default_factory=list)  # e.g. unshare for a tmpfs
    fixed_port: bool = False  # restart on the same port (a load balancer knows it)
    _logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def start(self) -> None:
        if not (self.fixed_port and self.port):
            self.port = free_port()
        self.log_path = self.output_dir.parent / f"server-{self.port}.log"
        self._logs.append(self.log_path)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            # The command users run (not bare uvicorn): its proxy and shutdown settings count.
            [
                *self.command_prefix,
                sys.executable,
                "-m",
                "regression_analyzer.cli",
                "serve",
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.logs()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL the server and its job processes, like a crash or power loss."""
        import psutil

        if self.process is None:
            return
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.kill()
        self.process.wait()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self._logs if p.exists())


def make_server(tmp_path: Path, **env: str) -> LiveServer:
    data, output = tmp_path / "data", tmp_path / "output"
    data.mkdir(exist_ok=True)
    output.mkdir(exist_ok=True)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_API_KEY_FILE")) and not k.startswith("API_TOKEN")
    }
    full = {
        **base,
        "DATA_DIR": str(data),
        "OUTPUT_DIR": str(output),
        "LOG_LEVEL": "INFO",
        "WORKERS": "2",
        "RATE_LIMIT": "1000",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
        **env,
    }
    return LiveServer(data_dir=data, output_dir=output, env=full, token=env.get("API_TOKEN"))


@contextlib.contextmanager
def servers_started(
    tmp_path_factory: pytest.TempPathFactory, *, kill: bool = False
) -> Iterator[Callable[..., LiveServer]]:
    """A factory of started servers, each in its own folder; on leaving, each is stopped
    (SIGTERM, graceful) or, with kill, SIGKILLed with its child processes."""
    started: list[LiveServer] = []

    def factory(**env: str) -> LiveServer:
        server = make_server(tmp_path_factory.mktemp("srv"), **env)
        server.start()
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            if kill:
                server.kill()
            else:
                server.stop()


def upload(
    client: httpx.Client, path: Path, name: str | None = None, content_type: str = "text/csv"
):
    with path.open("rb") as handle:
        return client.post(
            "/api/v1/upload", files={"file": (name or path.name, handle, content_type)}
        )


def start_analysis(client: httpx.Client, upload_id: str, **options) -> str:
    """POST /analyze without the LLM; the job id of the accepted (202) analysis."""
    response = client.post(
        "/api/v1/analyze", json={"upload_id": upload_id, "skip_llm": True, **options}
    )
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def wait_for(client: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/results/{job_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")
