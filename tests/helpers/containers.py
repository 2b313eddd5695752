"""The container tests' tools: the docker CLI, the image's constants, a running container and
the analysis it is given."""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
TAG = "regression-analyzer:test"
DEFAULT_BASE = "regression-analyzer/python-base:3.11"
PROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
# A local part the package metadata never has: proves /health reports the build argument.
VERSION = f"{PROJECT_VERSION}+container-test"
APP_UID = 1000
# A new day's build installs the Debian updates published since (the layer is cached per
# stamp): the image under test is never older than a day's updates, on a warm machine too.
OS_UPDATES_STAMP = time.strftime("%Y-%m-%d", time.gmtime())


def docker(
    *args: str, check: bool = True, timeout: float = 120, **kw
) -> subprocess.CompletedProcess:
    """Run the docker CLI; output as text."""
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, **kw
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def inspect(name: str) -> dict:
    return json.loads(docker("inspect", name).stdout)[0]


def base_image() -> str:
    """The base the test image is built from."""
    return os.environ.get("REGRESSION_ANALYZER_BASE_IMAGE", DEFAULT_BASE)


def host_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    path = tmp_path_factory.mktemp(name)
    os.chmod(path, 0o755)
    if os.geteuid() == 0:
        os.chown(path, APP_UID, APP_UID)
    else:  # not root: let uid 1000 write anyway
        os.chmod(path, 0o777)
    return path


@dataclass
class Container:
    name: str
    data: Path
    output: Path
    port: int = 0
    extra: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def refresh_port(self) -> None:
        mapping = docker("port", self.name, "8000/tcp").stdout.split()[0]
        self.port = int(mapping.rsplit(":", 1)[1])

    def wait_http(self, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            state = inspect(self.name)["State"]
            if not state["Running"]:
                raise AssertionError(f"container exited: {state}\n{self.logs()}")
            try:
                self.refresh_port()
                r = requests.get(f"{self.url}/health", timeout=2)
                if r.status_code == 200:
                    return r.json()
                last = r.status_code
            except (requests.RequestException, AssertionError, IndexError, ValueError) as exc:
                last = exc
            time.sleep(0.2)
        raise AssertionError(f"no health answer within {timeout}s: {last}\n{self.logs()}")

    def logs(self) -> str:
        r = docker("logs", self.name, check=False)
        return r.stdout + r.stderr


def csv_bytes(rows: int, seed: int = 0) -> bytes:
    """y = 1 + 2 x1 - 3 x2 + 0.5 x3 + noise, with a categorical column."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    group = rng.integers(0, 3, size=rows)
    y = 1 + x @ [2.0, -3.0, 0.5] + 0.7 * group + rng.normal(size=rows)
    lines = ["x1,x2,x3,group,y"]
    lines += [
        f"{a:.5f},{b:.5f},{c:.5f},g{g},{t:.5f}" for (a, b, c), g, t in zip(x, group, y, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


def analyse(
    c: Container,
    payload: bytes,
    filename: str = "data.csv",
    timeout: float = 300,
    expect: str = "completed",
) -> dict:
    """Upload, analyse (skip_llm), wait: {"upload": ..., "job_id": ..., "result": ...}."""
    files = {"file": (filename, payload, "text/csv")}
    r = requests.post(f"{c.url}/upload", files=files, timeout=120)
    assert r.status_code in (200, 201), r.text
    upload = r.json()
    r = requests.post(
        f"{c.url}/analyze",
        json={"upload_id": upload["upload_id"], "target": "y", "skip_llm": True},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + timeout
    while True:
        result = requests.get(f"{c.url}/results/{job_id}", timeout=30).json()
        if result["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, f"job {job_id} still {result['status']}\n{c.logs()}"
        time.sleep(0.5)
    assert result["status"] == expect, f"{result.get('error')}\n{c.logs()}"
    return {"upload": upload, "job_id": job_id, "result": result}
