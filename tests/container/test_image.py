"""The Docker image on a real engine: size, user, health, API through the published port,
volumes, restart, graceful stop, hardened and memory-limited runs, keys as files, the locked
dependencies."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime

import pytest
import requests
from packaging.utils import canonicalize_name

from tests.helpers.containers import (
    APP_UID,
    ROOT,
    VERSION,
    Container,
    analyse,
    csv_bytes,
    docker,
    inspect,
)
from tests.helpers.requirements_lock import parse_lock

pytestmark = [pytest.mark.container, pytest.mark.slow]

# What compose and the Ansible role run with; /tmp is where nothing may be executed.
TMPFS = ["--tmpfs", "/tmp:rw,noexec,nosuid,nodev"]
HARDENED = [
    "--read-only", *TMPFS, "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges", "--memory", "512m", "--cpus", "0.5",
]  # fmt: skip
PROBE = ["python", "-I", "-S", "/usr/local/lib/regression-analyzer/healthcheck.py"]


def test_image_size_under_500_mb(image: str) -> None:
    size = inspect(image)["Size"]
    print(f"\nimage size: {size / 1e6:.0f} MB")
    assert size < 500e6


def test_image_metadata(image: str) -> None:
    config = inspect(image)["Config"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == VERSION
    for key in ("revision", "created", "source", "title"):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert config["User"] in ("1000", "1000:1000")
    assert sorted(config["Volumes"]) == ["/data", "/output"]
    health = config["Healthcheck"]
    assert health["Test"] == ["CMD", *PROBE]
    # Engine 20.10 probes first one interval after the start: the interval bounds the time
    # to `healthy`.
    assert 0 < health["Interval"] <= 5 * 10**9
    assert health["Timeout"] < health["Interval"]
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["DATA_DIR"] == "/data" and env["OUTPUT_DIR"] == "/output"
    assert env["PYTHONUNBUFFERED"] == "1" and env["MPLBACKEND"] == "Agg"


@pytest.fixture(scope="module")
def app(run_container) -> Container:
    """The main container: default options, host dirs on /data and /output."""
    return run_container()


def test_runs_as_uid_1000(app: Container) -> None:
    assert docker("exec", app.name, "id", "-u").stdout.strip() == str(APP_UID)
    status = docker("exec", app.name, "cat", "/proc/1/status").stdout
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == [str(APP_UID)] * 4, uid_line


def test_health_reports_build_version(app: Container) -> None:
    body = requests.get(f"{app.url}/health", timeout=5).json()
    assert body["version"] == VERSION


def docker_time(stamp: str) -> datetime:
    """Docker's RFC 3339 timestamps carry nanoseconds; datetime takes microseconds."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def test_becomes_healthy_within_10_s(app: Container) -> None:
    deadline = time.monotonic() + 60
    state = inspect(app.name)["State"]
    while time.monotonic() < deadline:
        state = inspect(app.name)["State"]
        if state["Health"]["Status"] == "healthy":
            break
        assert state["Health"]["Status"] != "unhealthy", state["Health"]
        time.sleep(0.5)
    assert state["Health"]["Status"] == "healthy", state["Health"]
    # Docker's own clock: from the container's start to the end of the first passing probe
    # (the log keeps the last 5 probes; at a 4 s interval the first is still there).
    first_ok = next(e for e in state["Health"]["Log"] if e["ExitCode"] == 0)
    seconds = (docker_time(first_ok["End"]) - docker_time(state["StartedAt"])).total_seconds()
    print(f"\nhealthy {seconds:.1f} s after the start")
    assert seconds < 10, state["Health"]


def test_probe_exits_0_only_on_http_200(app: Container) -> None:
    assert docker("exec", app.name, *PROBE, check=False).returncode == 0
    nothing = docker("exec", "-e", "PORT=9", app.name, *PROBE, check=False)
    assert nothing.returncode != 0 and "refused" in nothing.stderr, nothing
    # A server that answers, but not 200 (a service in trouble, or something else on the port).
    answers_503 = (
        "import http.server, os, subprocess, sys, threading\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self): self.send_error(503)\n"
        "    def log_message(self, *a): pass\n"
        "server = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
        "threading.Thread(target=server.serve_forever, daemon=True).start()\n"
        "env = {**os.environ, 'PORT': str(server.server_port)}\n"
        "p = subprocess.run(sys.argv[1:], env=env, capture_output=True, text=True)\n"
        "print(p.returncode, p.stderr.strip())\n"
    )
    out = docker("exec", app.name, "python", "-c", answers_503, *PROBE).stdout.strip()
    code, _, message = out.partition(" ")
    assert code != "0" and "503" in message, out


@pytest.fixture(scope="module")
def analysed(app: Container) -> dict:
    return analyse(app, csv_bytes(300), filename="small.csv")


def test_upload_analyse_chart_through_published_port(app: Container, analysed: dict) -> None:
    job_id = analysed["job_id"]
    charts = requests.get(f"{app.url}/charts/{job_id}", timeout=10).json()
    names = charts["charts"] if isinstance(charts, dict) else charts
    assert names, charts
    name = names[0] if isinstance(names[0], str) else names[0]["name"]
    r = requests.get(f"{app.url}/charts/{job_id}/{name}", timeout=10)
    assert r.status_code == 200
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_files_land_in_host_volumes(app: Container, analysed: dict) -> None:
    upload_id, job_id = analysed["upload"]["upload_id"], analysed["job_id"]
    uploads = [p for p in app.data.rglob("*") if p.is_file() and upload_id in str(p)]
    assert any(p.name == "small.csv" for p in uploads), list(app.data.rglob("*"))
    job_files = [p for p in app.output.rglob("*") if p.is_file() and job_id in str(p)]
    assert any(p.suffix == ".png" for p in job_files), list(app.output.rglob("*"))
    assert any(p.suffix == ".json" for p in job_files)
    assert all(p.stat().st_uid == APP_UID for p in uploads + job_files)


def test_restart_keeps_results_and_uploads(app: Container, analysed: dict) -> None:
    docker("restart", app.name, timeout=60)
    app.wait_http()
    upload_id, job_id = analysed["upload"]["upload_id"], analysed["job_id"]
    assert requests.get(f"{app.url}/uploads/{upload_id}", timeout=10).status_code == 200
    result = requests.get(f"{app.url}/results/{job_id}", timeout=10).json()
    assert result["status"] == "completed"
    assert result["report"] == analysed["result"]["report"]
    charts = requests.get(f"{app.url}/charts/{job_id}", timeout=10)
    assert charts.status_code == 200


def test_stop_is_graceful(app: Container) -> None:
    docker("stop", app.name, timeout=60)  # SIGTERM, SIGKILL after 10 s
    state = inspect(app.name)["State"]
    logs = app.logs()
    assert state["ExitCode"] != 137, f"killed after the grace period\n{logs}"
    assert state["ExitCode"] in (0, 143), state
    assert not state["OOMKilled"]
    assert "Shutting down" in logs or "Finished server process" in logs, logs


def test_hardened_limited_container_analyses_100k_rows(run_container) -> None:
    c = run_container(*HARDENED)
    host_config = inspect(c.name)["HostConfig"]
    assert host_config["ReadonlyRootfs"] and host_config["CapDrop"] == ["ALL"]
    assert host_config["Memory"] == 512 * 2**20 and host_config["NanoCpus"] == 5 * 10**8
    assert "no-new-privileges" in host_config["SecurityOpt"]
    start = time.monotonic()
    done = analyse(c, csv_bytes(100_000, seed=1), filename="big.csv", timeout=600)
    print(f"\n100k rows analysed in {time.monotonic() - start:.1f} s (512m, 0.5 cpu, read-only)")
    assert done["result"]["report"]["rows"] == 100_000
    assert not inspect(c.name)["State"]["OOMKilled"]
    assert "not a writable directory" not in c.logs()  # matplotlib cache copied to /tmp


def test_keys_as_files_are_used_and_not_exposed(run_container, tmp_path) -> None:
    key = "sk-ant-container-test-" + "x" * 24
    secret = tmp_path / "anthropic_api_key"
    secret.write_text(key + "\n")
    secret.chmod(0o444)
    tmp_path.chmod(0o755)
    c = run_container(
        "-v", f"{secret}:/run/secrets/anthropic_api_key:ro",
        env={"ANTHROPIC_API_KEY_FILE": "/run/secrets/anthropic_api_key", "OPENAI_API_KEY": ""},
    )  # fmt: skip
    providers = {p["name"]: p for p in requests.get(f"{c.url}/providers", timeout=60).json()}
    assert providers["anthropic"]["configured"] is True, providers
    assert providers["openai"]["configured"] is False, providers
    assert key not in docker("inspect", c.name).stdout
    assert key not in c.logs()


def test_bytecode_covers_what_the_service_imports(image: str) -> None:
    """Read-only root: every module the service and an analysis import has a .pyc."""
    check = (
        "import importlib.util, os, sys\n"
        "import regression_analyzer.api.main, regression_analyzer.pipeline\n"
        "import regression_analyzer.charts.plan, regression_analyzer.charts.workers\n"
        "import regression_analyzer.cli\n"
        "from regression_analyzer.llm import configured_providers; configured_providers()\n"
        "missing = sorted(m.__name__ for m in list(sys.modules.values())\n"
        "    if (getattr(m, '__file__', None) or '').endswith('.py')\n"
        "    and m.__file__.startswith('/opt/venv')\n"
        "    and not os.path.exists(importlib.util.cache_from_source(m.__file__)))\n"
        "print(len(missing), missing[:20])\n"
    )
    out = docker(
        "run", "--rm", "--read-only", *TMPFS, image, "python", "-c", check, timeout=120
    ).stdout.strip()  # fmt: skip
    assert out.startswith("0 "), out


def test_installed_distributions_are_exactly_the_lock(image: str) -> None:
    listing = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))\n"
    )
    out = docker("run", "--rm", image, "python", "-c", listing, timeout=120).stdout
    installed = {canonicalize_name(k): v for k, v in json.loads(out).items()}
    assert installed.pop("regression-analyzer")
    locked = {
        e.name: str(e.requirement.specifier).removeprefix("==")
        for e in parse_lock(ROOT / "requirements.lock")
        if e.applies_in_image
    }
    assert installed == locked


def test_image_carries_the_lock_it_was_built_from(image: str) -> None:
    out = docker(
        "run", "--rm", "--entrypoint", "sha256sum", image, "/opt/venv/requirements.lock"
    ).stdout  # fmt: skip
    expected = hashlib.sha256((ROOT / "requirements.lock").read_bytes()).hexdigest()
    assert out.split()[0] == expected


def test_hostile_workbooks_leave_a_limited_container_up(run_container, tmp_path) -> None:
    """The hostile suite's workbooks against the hardened 512m container: each is refused with
    its reason, a table beyond WORKER_MEMORY_MB fails its job with the reason, and the
    container neither restarts nor loses a process to the OOM killer."""
    from tests.helpers import hostile_files as files

    c = run_container(*HARDENED, env={"WORKER_MEMORY_MB": "64"})
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    cases = {
        "padded.xlsx": (files.xlsx_padded_to_xfd, "XFD"),
        "whitespace.xlsx": (files.xlsx_of_whitespace, "refusing to open it"),
        "ratio.xlsx": (files.xlsx_bomb_by_ratio, "zip bomb"),
        "laughs.xlsx": (files.xlsx_billion_laughs, ""),
    }
    for name, (make, says) in cases.items():
        path = make(tmp_path / name)
        r = requests.post(
            f"{c.url}/upload", files={"file": (name, path.read_bytes(), xlsx)}, timeout=120
        )
        assert r.status_code == 422, (name, r.text)
        assert says in r.json()["detail"], (name, r.text)

    done = analyse(c, csv_bytes(400_000, seed=2), "large.csv", timeout=600, expect="failed")
    assert "WORKER_MEMORY_MB" in done["result"]["error"]

    assert requests.get(f"{c.url}/health", timeout=10).status_code == 200
    state = inspect(c.name)
    assert state["RestartCount"] == 0
    assert state["State"]["Running"] and not state["State"]["OOMKilled"]
    assert "Traceback" not in c.logs()
