"""Shared mode on three hosts: two app hosts, one queue host that also runs HAProxy (TEST-ONLY).

Run by `molecule verify` after converge and idempotence (molecule/scale_out/molecule.yml).
Each test names the hosts it looks at (testinfra's docker backend); HTTP goes from this
machine to the hosts' addresses on the scenario's network. Tests run in file order: the
rolling redeploy changes LOG_LEVEL, and the leak checks come last, over everything before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import testinfra
import yaml

APP = {"ra-scale-out-app1": "10.213.5.11", "ra-scale-out-app2": "10.213.5.12"}
QUEUE_HOST = "ra-scale-out-queue"
QUEUE_ADDRESS = "10.213.5.20"
PROXY_ROOT = f"http://{QUEUE_ADDRESS}:80"
PROXY = f"{PROXY_ROOT}/api/v1"
CONTAINER = "regression-analyzer"
SHARED = "/srv/regression-analyzer"

SCENARIO_DIR = Path(
    os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1])
)
PROJECT_DIR = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", SCENARIO_DIR.parents[1]))
EPHEMERAL_DIR = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
VAULT_PASSWORD_FILE = PROJECT_DIR / "molecule" / "vault-password.test-only.txt"
TABLE = "x,y,z\n" + "".join(f"{i},{2 * i + (i % 3)},{(i * 7) % 5}\n" for i in range(1, 41))
# What the rolling redeploy printed (the leak check reads it too).
OUTPUTS: list[str] = []


def docker_host(name: str):
    return testinfra.get_host(f"docker://{name}")


def app(name: str) -> str:
    return f"http://{APP[name]}:8000/api/v1"


def sha(text: str) -> str:
    """Compare secrets by hash: an assertion message then shows no secret."""
    return hashlib.sha256(text.encode()).hexdigest()


def vault(name: str) -> dict[str, str]:
    out = subprocess.run(
        ["ansible-vault", "view", "--vault-password-file", str(VAULT_PASSWORD_FILE), name],
        cwd=SCENARIO_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return yaml.safe_load(out)


class Secrets(dict):
    """The test-only secrets; shown as names only in tracebacks (pytest prints arguments)."""

    def __repr__(self) -> str:
        return f"<secrets {', '.join(self)}>"


@functools.cache
def load_secrets() -> Secrets:
    first, rotated = vault("secrets.test-only.vault"), vault("secrets-rotated.test-only.vault")
    assert (
        rotated["vault_regression_analyzer_queue_previous_password"]
        == (first["vault_regression_analyzer_queue_password"])
    ), "secrets-rotated.test-only.vault rotates the password of secrets.test-only.vault"
    return Secrets(
        token=first["vault_regression_analyzer_api_token"],
        queue_password=first["vault_regression_analyzer_queue_password"],
        new_queue_password=rotated["vault_regression_analyzer_queue_password"],
        wrong="not-the-queue-password",
    )


@pytest.fixture(scope="module")
def secrets() -> Secrets:
    return load_secrets()


@pytest.fixture(scope="module")
def client(secrets) -> httpx.Client:
    with httpx.Client(headers={"Authorization": f"Bearer {secrets['token']}"}, timeout=30) as http:
        yield http


def redis_cli(auth: str | None, *command: str) -> str:
    """redis-cli on the queue host with the secret named `auth` (a key of load_secrets(), so
    that a failed assertion shows the name, not the password); answer and stderr in one."""
    env = f"REDISCLI_AUTH='{load_secrets()[auth]}' " if auth else ""
    result = docker_host(QUEUE_HOST).run(
        f"{env}redis-cli --no-auth-warning -h {QUEUE_ADDRESS} " + " ".join(command)
    )
    return (result.stdout + result.stderr).strip()


# --- the queue host: Redis ------------------------------------------------------------------
def test_redis_answers_ping_only_with_the_password(secrets):
    assert redis_cli(None, "PING").startswith("NOAUTH")
    assert "WRONGPASS" in redis_cli("wrong", "PING")
    assert redis_cli("queue_password", "PING") == "PONG"


def test_redis_keeps_every_write_and_never_evicts(secrets):
    password = "queue_password"
    assert redis_cli(password, "CONFIG", "GET", "appendonly").split() == ["appendonly", "yes"]
    assert redis_cli(password, "CONFIG", "GET", "appendfsync").split()[1] == "everysec"
    assert redis_cli(password, "CONFIG", "GET", "maxmemory-policy").split()[1] == "noeviction"
    assert redis_cli(password, "CONFIG", "GET", "protected-mode").split()[1] == "yes"


def test_redis_listens_only_on_the_private_address():
    queue = docker_host(QUEUE_HOST)
    listening = queue.check_output("ss -Hltn 'sport = :6379'").split("\n")
    assert [line.split()[3] for line in listening if line] == [f"{QUEUE_ADDRESS}:6379"]
    assert queue.run("redis-cli -h 127.0.0.1 PING").rc != 0


def test_redis_configuration_files_are_root_redis_0640_and_upgrade_proof(secrets):
    queue = docker_host(QUEUE_HOST)
    for path in ["/etc/redis/regression-analyzer.conf", "/etc/redis/regression-analyzer-auth.conf"]:
        f = queue.file(path)
        assert (f.user, f.group, f.mode) == ("root", "redis", 0o640), path
    leaked = (
        secrets["queue_password"]
        in queue.file("/etc/redis/regression-analyzer.conf").content_string
    )
    assert not leaked, "the password is in the main configuration file"
    # The package's own file is untouched; the unit runs the role's through a drop-in.
    assert "regression-analyzer.conf" in queue.check_output("systemctl cat redis-server")
    assert queue.run("dpkg --verify redis-server haproxy").stdout.strip() == ""
    assert queue.service("redis-server").is_running and queue.service("redis-server").is_enabled


# --- the queue host: HAProxy ----------------------------------------------------------------
def haproxy_servers() -> dict[str, str]:
    """{server: status} of the app backend, from HAProxy's runtime API on the queue host."""
    script = "\n".join(
        [
            "import csv, io, json, socket",
            "s = socket.socket(socket.AF_UNIX)",
            "s.connect('/run/haproxy/admin.sock')",
            "s.sendall(b'show stat\\n')",
            "data = b''",
            "while chunk := s.recv(65536):",
            "    data += chunk",
            "rows = csv.DictReader(io.StringIO(data.decode().lstrip('# ')))",
            "print(json.dumps({r['svname']: r['status'] for r in rows",
            "    if r['pxname'] == 'regression_analyzer_app'",
            "    and r['svname'] not in ('FRONTEND', 'BACKEND')}))",
        ]
    )
    return json.loads(docker_host(QUEUE_HOST).check_output("python3 -c %s", script))


def test_haproxy_balances_over_both_app_hosts_checked_on_ready():
    assert haproxy_servers() == {name: "UP" for name in APP}
    config = docker_host(QUEUE_HOST).file("/etc/haproxy/regression-analyzer.cfg").content_string
    for line in [
        "balance roundrobin",
        "option httpchk",
        "http-check send meth GET uri /api/v1/ready",
        "default-server check inter 2s fall 2 rise 2",
        "option redispatch",
        "retries 3",
        "retry-on conn-failure empty-response response-timeout",
        "option http-server-close",
        "option forwardfor",
    ]:
        assert line in config
    health = httpx.get(f"{PROXY}/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert httpx.get(f"{PROXY}/ready", timeout=10).status_code == 200


# --- the app hosts: one service -------------------------------------------------------------
def test_both_app_hosts_use_the_queue_and_the_shared_directories():
    for name in APP:
        host = docker_host(name)
        inspect = json.loads(host.check_output(f"docker inspect {CONTAINER}"))[0]
        env = dict(item.split("=", 1) for item in inspect["Config"]["Env"])
        assert env["QUEUE_URL"] == f"redis://{QUEUE_ADDRESS}:6379/0"
        assert env["QUEUE_PASSWORD_FILE"] == "/run/secrets/queue_password"
        assert env["FORWARDED_ALLOW_IPS"] == QUEUE_ADDRESS
        mounts = {m["Destination"]: m["Source"] for m in inspect["Mounts"]}
        assert mounts["/data"] == f"{SHARED}/data"
        assert mounts["/output"] == f"{SHARED}/output"
        for path in (f"{SHARED}/data", f"{SHARED}/output"):
            d = host.file(path)
            assert (d.user, d.group, d.mode) == ("root", "regression-analyzer", 0o2770)
        assert host.group("regression-analyzer").gid == 2790


def wait_for_job(http: httpx.Client, base: str, job_id: str) -> dict:
    for _ in range(90):
        result = http.get(f"{base}/results/{job_id}")
        assert result.status_code == 200, result.text
        if result.json()["status"] in ("completed", "failed"):
            return result.json()
        time.sleep(1)
    raise AssertionError(f"job {job_id} did not finish: {result.json()}")


@pytest.fixture(scope="module")
def shared_job(client) -> dict:
    """An upload through app1, analysed by a request to app2."""
    app1, app2 = (app(name) for name in APP)
    upload = client.post(f"{app1}/upload", files={"file": ("shared.csv", TABLE, "text/csv")})
    assert upload.status_code in (200, 201), upload.text
    job = client.post(
        f"{app2}/analyze", json={"upload_id": upload.json()["upload_id"], "skip_llm": True}
    )
    assert job.status_code == 202, job.text
    result = wait_for_job(client, app2, job.json()["job_id"])
    assert result["status"] == "completed", result
    return result


def test_an_upload_to_host1_is_analysed_by_a_request_to_host2(client, shared_job):
    job_id = shared_job["job_id"]
    assert shared_job["chart_urls"], shared_job
    for name in APP:
        base = f"http://{APP[name]}:8000"
        result = client.get(f"{app(name)}/results/{job_id}").json()
        assert result["status"] == "completed", (name, result)
        chart = client.get(base + shared_job["chart_urls"][0])
        assert chart.status_code == 200, (name, chart.text)
        assert chart.headers["content-type"] == "image/png" and chart.content[:4] == b"\x89PNG"
        assert client.get(f"{app(name)}/results/{job_id}/report").status_code == 200


def test_the_same_through_haproxy(client):
    upload = client.post(f"{PROXY}/upload", files={"file": ("proxy.csv", TABLE, "text/csv")})
    assert upload.status_code in (200, 201), upload.text
    job = client.post(
        f"{PROXY}/analyze", json={"upload_id": upload.json()["upload_id"], "skip_llm": True}
    )
    assert job.status_code == 202, job.text
    result = wait_for_job(client, PROXY, job.json()["job_id"])
    assert result["status"] == "completed", result
    for _ in range(4):  # round robin: both hosts answer
        assert client.get(PROXY_ROOT + result["chart_urls"][0]).status_code == 200


def test_the_job_state_is_in_redis(secrets, shared_job):
    keys = redis_cli("queue_password", "--scan", "--pattern", f"'*{shared_job['job_id']}*'")
    assert keys, f"no key of job {shared_job['job_id']} in Redis"


def test_an_unauthenticated_request_is_refused_through_the_proxy():
    assert httpx.get(f"{PROXY}/results/nothing", timeout=10).status_code == 401


# --- a rolling redeploy behind HAProxy loses no request -------------------------------------
def started_at() -> dict[str, str]:
    return {
        name: docker_host(name)
        .check_output(f"docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER}")
        .strip()
        for name in APP
    }


def redis_run_id(auth: str) -> str:
    info = redis_cli(auth, "INFO", "server")
    return next(line.split(":")[1] for line in info.splitlines() if line.startswith("run_id:"))


def deploy(*args: str) -> subprocess.CompletedProcess:
    """ansible-playbook converge.yml (the vault, then ansible/deploy.yml) with more arguments."""
    run = subprocess.run(
        ["ansible-playbook", "-i", f"{EPHEMERAL_DIR}/inventory", "converge.yml", *args],
        cwd=SCENARIO_DIR,
        env={
            **os.environ,
            "ANSIBLE_ROLES_PATH": str(PROJECT_DIR / "ansible" / "roles"),
            "ANSIBLE_VAULT_PASSWORD_FILE": str(VAULT_PASSWORD_FILE),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )
    OUTPUTS.append(run.stdout + run.stderr)
    return run


def test_a_rolling_redeploy_with_a_queue_password_rotation_loses_no_request(
    client, secrets, shared_job
):
    """Steps 1-2 of docs/operations.md's rotation (new password + the previous one accepted) and
    a changed LOG_LEVEL: Redis takes the passwords without a restart, each app host is drained
    in HAProxy, restarted with the new password and put back; a client loop through HAProxy
    meanwhile gets an answer to every request."""
    before, redis_before = started_at(), redis_run_id("queue_password")
    job_url = f"{PROXY}/results/{shared_job['job_id']}"
    counts = {"ok": 0, "failed": 0}
    failures: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        with httpx.Client(headers=client.headers, timeout=30) as http:
            while not stop.is_set():
                for url in (f"{PROXY}/health", job_url):
                    try:
                        response = http.get(url)
                        good = response.status_code == 200
                        detail = f"{response.status_code} {response.text[:120]}"
                    except httpx.HTTPError as exc:
                        good, detail = False, repr(exc)
                    counts["ok" if good else "failed"] += 1
                    if not good:
                        failures.append(f"{time.strftime('%H:%M:%S')} {url}: {detail}")
                time.sleep(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        run = deploy(
            "-e", "@secrets-rotated.test-only.vault", "-e", "regression_analyzer_log_level=DEBUG"
        )
    finally:
        time.sleep(2)
        stop.set()
        thread.join(timeout=60)
    assert run.returncode == 0, run.stdout[-3000:]
    after = started_at()
    print(f"\nrolling redeploy through HAProxy: {counts}, restarted: {before} -> {after}")
    for name in APP:
        assert after[name] != before[name], f"{name} was not restarted"
        env = docker_host(name).file("/etc/regression-analyzer/regression-analyzer.env")
        assert "LOG_LEVEL=DEBUG" in env.content_string
        inside = docker_host(name).check_output(
            f"docker exec {CONTAINER} cat /run/secrets/queue_password"
        )
        assert sha(inside.strip()) == sha(secrets["new_queue_password"]), name
    assert counts["ok"] > 100, counts
    assert counts["failed"] == 0, f"{counts}: {failures[:20]}"
    assert redis_run_id("new_queue_password") == redis_before, "Redis was restarted"
    assert redis_cli("queue_password", "PING") == "PONG"


def test_the_previous_queue_password_is_dropped_without_restarting_redis(client, secrets):
    """Step 3: the queue play alone, without the previous password."""
    redis_before = redis_run_id("new_queue_password")
    run = deploy(
        "-e",
        "@secrets-rotated.test-only.vault",
        "-e",
        '{"vault_regression_analyzer_queue_previous_password": ""}',
        "--tags",
        "regression_analyzer_queue",
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert "WRONGPASS" in redis_cli("queue_password", "PING")
    assert redis_cli("new_queue_password", "PING") == "PONG"
    assert redis_run_id("new_queue_password") == redis_before, "Redis was restarted"
    auth = docker_host(QUEUE_HOST).file("/etc/redis/regression-analyzer-auth.conf").content_string
    assert "requirepass" in auth and "user default" not in auth
    assert httpx.get(f"{PROXY}/ready", timeout=10).status_code == 200
    assert client.get(f"{PROXY}/uploads/nothing").status_code == 404


# --- no secret anywhere ---------------------------------------------------------------------
def test_no_secret_in_docker_inspect_container_logs_or_ansible_output(secrets):
    values = [secrets["token"], secrets["queue_password"], secrets["new_queue_password"]]
    dumps = []
    for name in APP:
        host = docker_host(name)
        dumps.append(host.check_output(f"docker inspect {CONTAINER}"))
        dumps.append(host.run(f"docker logs {CONTAINER} 2>&1").stdout)
        dumps.append(host.file("/etc/regression-analyzer/regression-analyzer.env").content_string)
    queue = docker_host(QUEUE_HOST)
    dumps.append(queue.run("journalctl --no-pager -u redis-server -u haproxy").stdout)
    dumps.append(queue.file("/var/log/redis/redis-server.log").content_string)
    dumps.append(queue.file("/etc/redis/regression-analyzer.conf").content_string)
    dumps.append(queue.check_output("ps -eo args"))
    assert EPHEMERAL_DIR, "run through molecule"
    log = Path(EPHEMERAL_DIR) / "ansible.log"
    assert log.exists(), f"{log}: ANSIBLE_LOG_PATH not set?"
    dumps.append(log.read_text(errors="replace"))
    assert len(OUTPUTS) == 2, "the outputs of the rotation's deploys are checked too"
    dumps.extend(OUTPUTS)
    for value in values:
        leaked = [i for i, dump in enumerate(dumps) if value in dump]
        assert not leaked, f"a secret value appeared in outputs number {leaked}"
