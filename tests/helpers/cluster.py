"""Real processes for the shared mode: redis-server, two `regression-analyzer serve` nodes on
loopback sharing one DATA_DIR and OUTPUT_DIR, and HAProxy round-robin in front.

redis-server and haproxy are Debian's packages (scripts/install-system-deps.sh installs them).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from tests.helpers.ports import free_port
from tests.helpers.servers import LiveServer, make_server

# TEST-ONLY password of the throwaway redis-server these tests start.
TEST_ONLY_QUEUE_PASSWORD = "test-only-queue-password-7f3a"
LEASE_S = 4
COMPLETED_LINE = re.compile(r"analysis ([0-9a-f]{32}) completed")


def _need(binary: str) -> str:
    path = shutil.which(binary) or shutil.which(f"/usr/sbin/{binary}")
    if path is None:
        pytest.fail(f"{binary} is not installed: run scripts/install-system-deps.sh (as root)")
    return path


@dataclass
class RedisServer:
    """A redis-server with a password and an append-only file, stoppable and restartable."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                _need("redis-server"),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--requirepass", TEST_ONLY_QUEUE_PASSWORD,
                "--appendonly", "yes",
                "--save", "",
                "--dir", str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.exceptions.RedisError):
                if self.client().ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=TEST_ONLY_QUEUE_PASSWORD, decode_responses=True)


@dataclass
class HAProxy:
    """HAProxy round-robin over the nodes, health-checking /api/v1/ready."""

    directory: Path
    backends: list[int]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_socket(self) -> Path:
        return self.directory / "admin.sock"

    def server_status(self) -> dict[str, str]:
        """Each node's state as the proxy's health checks see it ("UP", "DOWN", "UP 1/2"...)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
            admin.settimeout(5)
            admin.connect(str(self.admin_socket))
            admin.sendall(b"show stat\n")
            answer = b""
            while chunk := admin.recv(65536):
                answer += chunk
        lines = answer.decode().splitlines()
        columns = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(columns, line.split(","), strict=False)) for line in lines[1:] if line]
        return {
            row["svname"]: row["status"]
            for row in rows
            if row["pxname"] == "nodes" and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_until_all_up(self, timeout: float = 30) -> None:
        """Return once every node is in rotation: a node that answers /ready is not yet
        sent requests until the proxy's checks have passed `rise` times."""
        deadline = time.monotonic() + timeout
        status: dict[str, str] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                status = self.server_status()
                if status and all(state == "UP" for state in status.values()):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"haproxy did not put every node back in rotation: {status}")

    def config(self) -> str:
        servers = "\n".join(
            f"    server node{i} 127.0.0.1:{port} check inter 1s fall 2 rise 2"
            for i, port in enumerate(self.backends, start=1)
        )
        return f"""
global
    maxconn 512
    stats socket {self.admin_socket} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    option http-server-close
    option redispatch
    retries 3
    retry-on conn-failure empty-response response-timeout

frontend api
    bind 127.0.0.1:{self.port}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /api/v1/ready
    http-check expect status 200
{servers}
"""

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / "haproxy.cfg"
        path.write_text(self.config())
        subprocess.run([_need("haproxy"), "-c", "-q", "-f", str(path)], check=True)
        log = (self.directory / "haproxy.log").open("ab")
        self.process = subprocess.Popen(
            [_need("haproxy"), "-db", "-f", str(path)], stdout=log, stderr=subprocess.STDOUT
        )
        self.wait_until_all_up()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    engine: RedisServer
    nodes: list[LiveServer]
    proxy: HAProxy
    data_dir: Path
    output_dir: Path

    def logs(self) -> str:
        return "\n".join(node.logs() for node in self.nodes)


@contextlib.contextmanager
def cluster_running(tmp_path: Path, **env: str) -> Iterator[Cluster]:
    """An engine, two nodes sharing storage, a proxy; all stopped on leaving."""
    engine = RedisServer(tmp_path / "redis")
    engine.start()
    password_file = tmp_path / "queue-password"
    password_file.write_text(TEST_ONLY_QUEUE_PASSWORD + "\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    settings = {
        "QUEUE_URL": engine.url,
        "QUEUE_PASSWORD_FILE": str(password_file),
        "QUEUE_LEASE_S": str(LEASE_S),
        "WORKERS": "2",
        "SHUTDOWN_GRACE_S": "3",
        **env,
    }
    nodes = []
    for _ in range(2):
        node = make_server(shared, **settings)
        node.fixed_port = True
        nodes.append(node)
    try:
        for node in nodes:
            node.start()
        proxy = HAProxy(tmp_path / "haproxy", [n.port for n in nodes])
        proxy.start()
        try:
            yield Cluster(engine, nodes, proxy, shared / "data", shared / "output")
        finally:
            proxy.stop()
    finally:
        for node in nodes:
            node.stop()
        engine.stop()


def analyze(client: httpx.Client, upload_id: str) -> str:
    response = client.post(
        "/api/v1/analyze", json={"upload_id": upload_id, "target": "revenue", "skip_llm": True}
    )
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def completions(cluster: Cluster) -> Counter[str]:
    """How many times each job's analysis completed, over every log of every node."""
    return Counter(COMPLETED_LINE.findall(cluster.logs()))
