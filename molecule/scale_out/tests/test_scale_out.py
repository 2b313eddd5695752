"""Shared mode on three hosts: two app hosts, one queue host that also runs HAProxy (TEST-ONLY).

Run by `molecule verify` after converge and idempotence (molecule/scale_out/molecule.yml).
Each test names the hosts it looks at (testinfra's docker backend); HTTP goes from this
machine to the hosts' addresses on the scenario's network. Tests run in file order.

The second half is the operator of docs/operations.md ("Shared mode: several hosts"): a copy
of ansible/inventories/production with the example hosts and addresses replaced by these,
its two vaults made from the vault.yml.example files, the queue-password rotation by
`ansible-vault edit`, and `ansible-playbook ansible/deploy.yml -i ... --ask-vault-pass -K`
from the repository root over SSH as `deploy`, whose sudo asks for a password (the passwords
from files: the test-only vault password in molecule/, the test-only sudo password of the
host images). HTTPS at the front is on, as in the production inventory, with TEST-ONLY
certificates made by prepare.yml (`front-a` in the converge and the operator's first vault,
`front-b` after the runbook's certificate rotation); every request through HAProxy trusts both.
The leak checks come last, over everything before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import testinfra
import yaml

# molecule/terminal.py, shared by the scenarios' tests (appended: the stdlib stays first).
sys.path.append(str(Path(__file__).resolve().parents[2]))
from terminal import on_a_terminal, runbook_lines

APP = {"ra-scale-out-app1": "10.213.5.11", "ra-scale-out-app2": "10.213.5.12"}
QUEUE_HOST = "ra-scale-out-queue"
QUEUE_ADDRESS = "10.213.5.20"
# HTTPS at the front (the proxy's 443; its 80 only redirects), for the runbook's name.
PROXY_ROOT = f"https://{QUEUE_ADDRESS}"
PROXY = f"{PROXY_ROOT}/api/v1"
FRONT_NAME = "analyzer.example.org"
CONTAINER = "regression-analyzer"
SHARED = "/srv/regression-analyzer"

SCENARIO_DIR = Path(
    os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1])
)
PROJECT_DIR = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", SCENARIO_DIR.parents[1]))
EPHEMERAL_DIR = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
VAULT_PASSWORD_FILE = PROJECT_DIR / "molecule" / "vault-password.test-only.txt"
OPERATOR = Path(EPHEMERAL_DIR or SCENARIO_DIR / ".operator") / "operator"
# prepare.yml's TEST-ONLY certificates of the front: front-{a,b}.{crt,key}, and both in one file.
TLS = Path(EPHEMERAL_DIR or SCENARIO_DIR / ".operator") / "tls"
FRONT_CA = TLS / "front-a-and-b.crt"
INVENTORY = OPERATOR / "inventories" / "production"
APP_VAULT = INVENTORY / "group_vars" / "regression_analyzer" / "vault.yml"
CLUSTER_VAULT = INVENTORY / "group_vars" / "regression_analyzer_cluster" / "vault.yml"
PROXY_VAULT = INVENTORY / "group_vars" / "regression_analyzer_proxy" / "vault.yml"
BECOME_PASSWORD = "test-only-sudo-password"  # molecule/host/Dockerfile and vm.Dockerfile
TABLE = "x,y,z\n" + "".join(f"{i},{2 * i + (i % 3)},{(i * 7) % 5}\n" for i in range(1, 41))
# What the rolling redeploy printed (the leak check reads it too).
OUTPUTS: list[str] = []


@functools.cache
def trusted() -> ssl.SSLContext:
    """What the tests' HTTPS clients trust: the front's two test-only certificates."""
    return ssl.create_default_context(cafile=str(FRONT_CA))


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
    """The converge's secrets; the rotation adds `new_queue_password`."""
    first = vault("secrets.test-only.vault")
    return Secrets(
        token=first["vault_regression_analyzer_api_token"],
        queue_password=first["vault_regression_analyzer_queue_password"],
        wrong="not-the-queue-password",
    )


@pytest.fixture(scope="module")
def secrets() -> Secrets:
    return load_secrets()


@pytest.fixture(scope="module")
def client(secrets) -> httpx.Client:
    headers = {"Authorization": f"Bearer {secrets['token']}"}
    with httpx.Client(headers=headers, timeout=30, verify=trusted()) as http:
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
    health = httpx.get(f"{PROXY}/health", timeout=10, verify=trusted())
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert httpx.get(f"{PROXY}/ready", timeout=10, verify=trusted()).status_code == 200


# --- the queue host: HTTPS at the front (docs/operations.md, "HTTPS") -----------------------
def shell(command: str) -> subprocess.CompletedProcess:
    """A command on this machine, as the operator types it (bash, pipefail)."""
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=60
    )


def fingerprint(certificate: Path) -> str:
    shown = shell(f"openssl x509 -noout -fingerprint -sha256 -in {certificate}")
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.strip()


def served_fingerprint() -> str:
    """The fingerprint of the certificate the front serves now, seen from this machine."""
    served = shell(
        f"openssl s_client -connect {QUEUE_ADDRESS}:443 -servername {FRONT_NAME} < /dev/null"
        " 2> /dev/null | openssl x509 -noout -fingerprint -sha256"
    )
    assert served.returncode == 0, served.stderr
    return served.stdout.strip()


def test_https_at_the_front_with_the_certificate_of_the_vault():
    """curl trusting the certificate gets the service through HAProxy; plain HTTP is sent to
    https; TLS 1.1 is refused by the server (the client offers it with every cipher), TLS 1.2
    and 1.3 are served; HSTS once; the certificate file is root:haproxy 0640."""
    assert served_fingerprint() == fingerprint(TLS / "front-a.crt")
    ok = shell(
        f"curl -sSf --cacert {TLS / 'front-a.crt'} --resolve {FRONT_NAME}:443:{QUEUE_ADDRESS}"
        f" -D - https://{FRONT_NAME}/api/v1/health"
    )
    assert ok.returncode == 0, ok.stderr
    headers = [line.lower() for line in ok.stdout.splitlines()]
    hsts = [line for line in headers if line.startswith("strict-transport-security:")]
    assert hsts == ["strict-transport-security: max-age=31536000"], headers
    for name in ("content-security-policy:", "x-content-type-options:", "x-frame-options:"):
        assert sum(line.startswith(name) for line in headers) == 1, (name, headers)
    assert '"status":"ok"' in ok.stdout.replace(" ", "")
    redirect = shell(
        f"curl -sS -o /dev/null -w '%{{http_code}} %{{redirect_url}}'"
        f" http://{QUEUE_ADDRESS}/api/v1/health?from=http"
    )
    assert redirect.stdout == f"301 https://{QUEUE_ADDRESS}/api/v1/health?from=http", redirect
    connect = f"openssl s_client -connect {QUEUE_ADDRESS}:443 -servername {FRONT_NAME}"
    old = shell(f"{connect} -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' < /dev/null 2>&1")
    assert old.returncode != 0 and "alert protocol version" in old.stdout, old.stdout[-2000:]
    for version, option in (("TLSv1.2", "-tls1_2"), ("TLSv1.3", "-tls1_3")):
        new = shell(f"{connect} {option} < /dev/null 2>&1")
        assert new.returncode == 0 and f"New, {version}, Cipher is" in new.stdout, new.stdout
    pem = docker_host(QUEUE_HOST).file("/etc/haproxy/certs/regression-analyzer.pem")
    assert (pem.user, pem.group, pem.mode) == ("root", "haproxy", 0o640)
    config = docker_host(QUEUE_HOST).file("/etc/haproxy/regression-analyzer.cfg").content_string
    for line in (
        "ssl crt /etc/haproxy/certs/regression-analyzer.pem",
        "ssl-min-ver TLSv1.2",
        "http-request redirect scheme https code 301 unless { ssl_fc }",
    ):
        assert line in config, line


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


def upload_and_analyse(http: httpx.Client, upload_to: str, analyse_at: str, name: str) -> dict:
    """TABLE uploaded through `upload_to`, analysed by a request to `analyse_at` (API bases);
    the completed result."""
    upload = http.post(f"{upload_to}/upload", files={"file": (name, TABLE, "text/csv")})
    assert upload.status_code in (200, 201), upload.text
    job = http.post(
        f"{analyse_at}/analyze", json={"upload_id": upload.json()["upload_id"], "skip_llm": True}
    )
    assert job.status_code == 202, job.text
    result = wait_for_job(http, analyse_at, job.json()["job_id"])
    assert result["status"] == "completed", result
    return result


@pytest.fixture(scope="module")
def shared_job(client) -> dict:
    """An upload through app1, analysed by a request to app2."""
    app1, app2 = (app(name) for name in APP)
    return upload_and_analyse(client, app1, app2, "shared.csv")


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
    result = upload_and_analyse(client, PROXY, PROXY, "proxy.csv")
    for _ in range(4):  # round robin: both hosts answer
        assert client.get(PROXY_ROOT + result["chart_urls"][0]).status_code == 200


def test_the_job_state_is_in_redis(secrets, shared_job):
    keys = redis_cli("queue_password", "--scan", "--pattern", f"'*{shared_job['job_id']}*'")
    assert keys, f"no key of job {shared_job['job_id']} in Redis"


def test_an_unauthenticated_request_is_refused_through_the_proxy():
    assert httpx.get(f"{PROXY}/results/nothing", timeout=10, verify=trusted()).status_code == 401


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


def operator(argv: list[str], **kw) -> subprocess.CompletedProcess:
    """A command on the controller as the operator runs it: from the repository root (its
    ansible.cfg), without Molecule's ANSIBLE_ and MOLECULE_ environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    env.update(kw.pop("env", {}))
    return subprocess.run(
        argv, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=1200, **kw
    )


def set_vars(path: Path, settings: dict) -> None:
    """$EDITOR vars.yml: drop the lines of these settings, write them at the end."""
    text = path.read_text()
    for name in settings:
        text = re.sub(rf"(?m)^{name}:.*\n", "", text)
    path.write_text(text + yaml.safe_dump(settings, default_flow_style=False, sort_keys=False))


def vault_file(path: Path) -> dict:
    """ansible-vault view PATH."""
    shown = operator(
        ["ansible-vault", "view", "--vault-password-file", str(VAULT_PASSWORD_FILE), str(path)]
    )
    assert shown.returncode == 0, shown.stderr
    return yaml.safe_load(shown.stdout)


def fill_vault(path: Path, values: dict[str, str]) -> None:
    """cp vault.yml.example vault.yml && $EDITOR vault.yml && ansible-vault encrypt vault.yml"""
    text = path.with_name("vault.yml.example").read_text()
    for name, value in values.items():
        # A value of one line, or a "|" block with its indented lines (a PEM placeholder).
        pattern = re.compile(rf"(?m)^{name}: .*$(\n[ \t]+\S.*$)*")
        text, found = pattern.subn(f"{name}: {json.dumps(value)}".replace("\\", "\\\\"), text)
        assert found == 1, name
    assert not [line for line in text.splitlines() if "REPLACE-ME" in line.split("#")[0]]
    path.write_text(text)
    encrypted = operator(
        ["ansible-vault", "encrypt", "--vault-password-file", str(VAULT_PASSWORD_FILE), str(path)]
    )
    assert encrypted.returncode == 0, encrypted.stderr


# The operator's $EDITOR for `ansible-vault edit`: sets the lines named in TEST_VAULT_EDIT.
EDITOR = """import json, os, re, sys
path = sys.argv[1]
text = open(path).read()
for name, value in json.loads(os.environ["TEST_VAULT_EDIT"]).items():
    line = f"{name}: {json.dumps(value)}"
    text, found = re.subn(rf"(?m)^{name}: .*$", lambda _: line, text)
    assert found == 1, name
open(path, "w").write(text)
"""


def edit_vault(path: Path, values: dict[str, str]) -> None:
    """ansible-vault edit PATH, with an editor that changes the lines of `values`."""
    editor = OPERATOR / "editor.py"
    editor.write_text(EDITOR)
    edited = operator(
        ["ansible-vault", "edit", "--vault-password-file", str(VAULT_PASSWORD_FILE), str(path)],
        env={"EDITOR": f"python3 {editor}", "TEST_VAULT_EDIT": json.dumps(values)},
    )
    assert edited.returncode == 0, edited.stderr


@pytest.fixture(scope="module")
def production_inventory(secrets) -> Path:
    """The operator's copy of ansible/inventories/production, edited as the runbook says:
    these hosts and addresses, the settings of this machine, both vaults from their examples."""
    if INVENTORY.exists():
        shutil.rmtree(INVENTORY)
    shutil.copytree(
        PROJECT_DIR / "ansible" / "inventories" / "production",
        INVENTORY,
        ignore=shutil.ignore_patterns("vault.yml"),
    )
    hosts = yaml.safe_load((INVENTORY / "hosts.yml").read_text())
    groups = hosts["all"]["children"]["regression_analyzer_cluster"]["children"]
    ssh = {
        "ansible_user": "deploy",
        "ansible_ssh_private_key_file": str(OPERATOR / "id_ed25519"),
        # ssh reads ~/.ssh from the passwd entry, not $HOME: keep these keys out of root's.
        "ansible_ssh_common_args": (
            f"-o UserKnownHostsFile={OPERATOR / 'known_hosts'} -o StrictHostKeyChecking=accept-new"
        ),
    }
    assert set(groups) == {
        "regression_analyzer",
        "regression_analyzer_queue",
        "regression_analyzer_proxy",
    }
    groups["regression_analyzer"]["hosts"] = {
        name: {**ssh, "ansible_host": address, "regression_analyzer_bind_address": address}
        for name, address in APP.items()
    }
    groups["regression_analyzer_queue"]["hosts"] = {
        QUEUE_HOST: {
            **ssh,
            "ansible_host": QUEUE_ADDRESS,
            "regression_analyzer_queue_bind_address": QUEUE_ADDRESS,
        }
    }
    groups["regression_analyzer_proxy"]["hosts"] = {QUEUE_HOST: None}  # "it may be the queue host"
    (INVENTORY / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))

    group_vars = INVENTORY / "group_vars"
    set_vars(
        group_vars / "regression_analyzer_cluster" / "vars.yml",
        {"regression_analyzer_queue_url": f"redis://{QUEUE_ADDRESS}:6379/0"},
    )
    # The app hosts' settings of this machine: those the converge used (molecule.yml).
    converged = yaml.safe_load((SCENARIO_DIR / "molecule.yml").read_text())
    app_settings = dict(converged["provisioner"]["inventory"]["group_vars"]["regression_analyzer"])
    for not_a_setting in ("regression_analyzer_source_dir", "regression_analyzer_api_token"):
        app_settings.pop(not_a_setting)
    assert app_settings["regression_analyzer_forwarded_allow_ips"] == QUEUE_ADDRESS
    set_vars(group_vars / "regression_analyzer" / "vars.yml", app_settings)
    fill_vault(
        APP_VAULT,
        {
            "vault_regression_analyzer_anthropic_api_key": "",
            "vault_regression_analyzer_openai_api_key": "",
            "vault_regression_analyzer_api_token": secrets["token"],
        },
    )
    fill_vault(
        CLUSTER_VAULT, {"vault_regression_analyzer_queue_password": secrets["queue_password"]}
    )
    # HTTPS at the front as the production inventory has it, with the converge's certificate.
    fill_vault(
        PROXY_VAULT,
        {
            "vault_regression_analyzer_proxy_tls_certificate": (TLS / "front-a.crt").read_text(),
            "vault_regression_analyzer_proxy_tls_key": (TLS / "front-a.key").read_text(),
        },
    )
    (OPERATOR / "known_hosts").write_text("")
    become = OPERATOR / "become-password.test-only.txt"
    become.write_text(BECOME_PASSWORD + "\n")
    become.chmod(0o600)
    return INVENTORY


def deploy(inventory: Path, *extra: str) -> subprocess.CompletedProcess:
    """The runbook's `ansible-playbook ansible/deploy.yml -i ansible/inventories/production
    --ask-vault-pass -K`, with the operator's inventory and the passwords from files."""
    run = operator(
        [
            "ansible-playbook",
            "ansible/deploy.yml",
            "-i",
            str(inventory),
            "--vault-password-file",
            str(VAULT_PASSWORD_FILE),
            "--become-password-file",
            str(OPERATOR / "become-password.test-only.txt"),
            *extra,
        ]
    )
    OUTPUTS.append(run.stdout + run.stderr)
    return run


def recaps(run: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    """PLAY RECAP: {host: {"ok": n, "changed": n, ...}}."""
    found = re.findall(
        r"(?m)^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", run.stdout
    )
    return {
        host: {
            "ok": int(ok),
            "changed": int(changed),
            "unreachable": int(unreachable),
            "failed": int(failed),
        }
        for host, ok, changed, unreachable, failed in found
    }


def probe(http: httpx.Client, url: str) -> tuple[bool, str]:
    """One request of a client loop: (answered 200?, what to report if not)."""
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        return False, repr(exc)
    return response.status_code == 200, f"{response.status_code} {response.text[:120]}"


def test_a_rolling_redeploy_with_a_queue_password_rotation_loses_no_request(
    client, secrets, shared_job, production_inventory
):
    """Steps 1-2 of docs/operations.md's rotation, by the operator over SSH: `ansible-vault
    edit` moves the password to the previous one and puts a new one (`openssl rand -hex 32`);
    the deploy gives Redis both without a restart, drains each app host in HAProxy, restarts it
    with the new password and puts it back; a client loop through HAProxy meanwhile gets an
    answer to every request."""
    before, redis_before = started_at(), redis_run_id("queue_password")
    current = vault_file(CLUSTER_VAULT)["vault_regression_analyzer_queue_password"]
    assert sha(current) == sha(secrets["queue_password"])
    fresh = operator(["openssl", "rand", "-hex", "32"])
    assert fresh.returncode == 0, fresh.stderr
    secrets["new_queue_password"] = fresh.stdout.strip()
    edit_vault(
        CLUSTER_VAULT,
        {
            "vault_regression_analyzer_queue_previous_password": current,
            "vault_regression_analyzer_queue_password": secrets["new_queue_password"],
        },
    )
    job_url = f"{PROXY}/results/{shared_job['job_id']}"
    counts = {"ok": 0, "failed": 0}
    failures: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        with httpx.Client(headers=client.headers, timeout=30, verify=trusted()) as http:
            while not stop.is_set():
                for url in (f"{PROXY}/health", job_url):
                    good, detail = probe(http, url)
                    counts["ok" if good else "failed"] += 1
                    if not good:
                        failures.append(f"{time.strftime('%H:%M:%S')} {url}: {detail}")
                time.sleep(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        run = deploy(production_inventory)
    finally:
        time.sleep(2)
        stop.set()
        thread.join(timeout=60)
    assert run.returncode == 0, run.stdout[-3000:]
    assert set(recaps(run)) == {*APP, QUEUE_HOST}, run.stdout[-3000:]
    after = started_at()
    print(f"\nrolling redeploy through HAProxy: {counts}, restarted: {before} -> {after}")
    for name in APP:
        assert after[name] != before[name], f"{name} was not restarted"
        inside = docker_host(name).check_output(
            f"docker exec {CONTAINER} cat /run/secrets/queue_password"
        )
        assert sha(inside.strip()) == sha(secrets["new_queue_password"]), name
    assert counts["ok"] > 100, counts
    assert counts["failed"] == 0, f"{counts}: {failures[:20]}"
    assert redis_run_id("new_queue_password") == redis_before, "Redis was restarted"
    assert redis_cli("queue_password", "PING") == "PONG"


def test_the_previous_queue_password_is_dropped_without_restarting_redis(
    client, secrets, production_inventory
):
    """Step 3: `ansible-vault edit` empties the previous password; the queue play alone."""
    redis_before = redis_run_id("new_queue_password")
    edit_vault(CLUSTER_VAULT, {"vault_regression_analyzer_queue_previous_password": ""})
    run = deploy(production_inventory, "--tags", "regression_analyzer_queue")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "WRONGPASS" in redis_cli("queue_password", "PING")
    assert redis_cli("new_queue_password", "PING") == "PONG"
    assert redis_run_id("new_queue_password") == redis_before, "Redis was restarted"
    auth = docker_host(QUEUE_HOST).file("/etc/redis/regression-analyzer-auth.conf").content_string
    assert "requirepass" in auth and "user default" not in auth
    assert httpx.get(f"{PROXY}/ready", timeout=10, verify=trusted()).status_code == 200
    assert client.get(f"{PROXY}/uploads/nothing").status_code == 404


def over_ssh_here(line: str) -> str:
    """A runbook line with the example hosts and addresses replaced by this scenario's, and
    `ssh` given the operator's key and known hosts (the ~/.ssh/config of a real operator)."""
    assert line.startswith(("ssh -t deploy@", " printf", "curl ", "scp ")), line
    for example, address in {
        # The test-only certificates are not in the system's store: trusted by name here.
        f"https://{FRONT_NAME}": (
            f"--cacert {FRONT_CA} --resolve {FRONT_NAME}:443:{QUEUE_ADDRESS} https://{FRONT_NAME}"
        ),
        "ra-prod-1": APP["ra-scale-out-app1"],
        "ra-prod-2": APP["ra-scale-out-app2"],
        "ra-proxy-1": QUEUE_ADDRESS,
        "ra-queue-1": QUEUE_ADDRESS,
        "10.0.0.5": QUEUE_ADDRESS,
    }.items():
        line = line.replace(example, address)
    options = (
        f"-i {OPERATOR / 'id_ed25519'} -o UserKnownHostsFile={OPERATOR / 'known_hosts'} "
        "-o StrictHostKeyChecking=accept-new"
    )
    # Every ssh and scp of the line (a backup line has both).
    line = re.sub(r"(?<![\w-])ssh (?=(-t )?deploy@)", f"ssh {options} ", line)
    return re.sub(r"(?<![\w-])scp ", f"scp {options} ", line)


def test_the_runbooks_checks_over_ssh_show_the_new_password_and_both_hosts_up(secrets):
    """docs/operations.md's own check and verify lines (sections 6 and 7), verbatim but for
    the host names, run on a terminal; sudo asks for deploy's password, as on a real VM."""
    sudo = {"[sudo] password for deploy": BECOME_PASSWORD}
    ready, journal, install, stat = runbook_lines("\nCheck:\n", 4)
    code, out = on_a_terminal(over_ssh_here(ready), {}, PROJECT_DIR)
    assert code == 0 and json.loads(out) == {"ready": True}, out[-2000:]
    code, out = on_a_terminal(over_ssh_here(journal), sudo, PROJECT_DIR)
    assert code == 0 and "haproxy" in out, out[-2000:]
    code, out = on_a_terminal(over_ssh_here(install), sudo, PROJECT_DIR)
    assert code == 0, out[-2000:]
    code, out = on_a_terminal(over_ssh_here(stat), sudo, PROJECT_DIR)
    assert code == 0, out[-2000:]
    for name in APP:
        assert f"regression_analyzer_app,{name},UP" in out, out[-2000:]

    in_container, by_hand, ping = runbook_lines("Verify by hashes", 3)
    code, out = on_a_terminal(over_ssh_here(in_container), sudo, PROJECT_DIR)
    assert code == 0, out[-2000:]
    hashes = re.findall(r"\b[0-9a-f]{64}\b", out)
    assert hashes == [sha(secrets["new_queue_password"] + "\n")], "not the new password"
    code, out = on_a_terminal(
        over_ssh_here(by_hand.replace("NEW-PASSWORD", secrets["new_queue_password"])),
        {},
        PROJECT_DIR,
    )
    assert code == 0 and re.findall(r"\b[0-9a-f]{64}\b", out) == hashes
    code, out = on_a_terminal(
        over_ssh_here(ping), {"queue password: ": secrets["new_queue_password"]}, PROJECT_DIR
    )
    assert code == 0 and "PONG" in out, out[-2000:]
    assert secrets["new_queue_password"] not in out, "the typed password was echoed"


def test_the_operators_next_deploy_over_ssh_changes_nothing(production_inventory):
    run = deploy(production_inventory)
    assert run.returncode == 0, run.stdout[-3000:]
    recap = recaps(run)
    assert set(recap) == {*APP, QUEUE_HOST}, run.stdout[-3000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), recap


# --- rotating the front's certificate (docs/operations.md, "HTTPS") ------------------------
def haproxy_master() -> str:
    return docker_host(QUEUE_HOST).check_output("systemctl show -p MainPID --value haproxy").strip()


def test_a_certificate_rotation_at_the_front_serves_the_new_one_and_loses_no_request(
    client, shared_job, production_inventory
):
    """The runbook's rotation: `ansible-vault edit` of the proxy's vault (the new certificate
    and key), then its play line with `--tags regression_analyzer_proxy`. While a client loop
    sends requests through HAProxy, trusting the old and the new certificate: every request is
    answered, HAProxy is reloaded (the same master process), and the new certificate is served.
    Then the runbook's check lines show it."""
    edit, play = runbook_lines("**Rotating the front's certificate**", 2)
    assert edit == (
        "ansible-vault edit "
        "ansible/inventories/production/group_vars/regression_analyzer_proxy/vault.yml"
    ), edit
    assert play == (
        "ansible-playbook ansible/deploy.yml -i ansible/inventories/production --ask-vault-pass -K"
        " --tags regression_analyzer_proxy"
    ), play
    master, before = haproxy_master(), served_fingerprint()
    assert before == fingerprint(TLS / "front-a.crt")
    edit_vault(
        PROXY_VAULT,
        {
            "vault_regression_analyzer_proxy_tls_certificate": (TLS / "front-b.crt").read_text(),
            "vault_regression_analyzer_proxy_tls_key": (TLS / "front-b.key").read_text(),
        },
    )
    job_url = f"{PROXY}/results/{shared_job['job_id']}"
    counts = {"ok": 0, "failed": 0}
    failures: list[str] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            # A new connection (and TLS handshake) for each request, as new users make them.
            with httpx.Client(headers=client.headers, timeout=30, verify=trusted()) as http:
                good, detail = probe(http, job_url)
            counts["ok" if good else "failed"] += 1
            if not good:
                failures.append(f"{time.strftime('%H:%M:%S')}: {detail}")
            time.sleep(0.02)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        run = deploy(production_inventory, "--tags", "regression_analyzer_proxy")
    finally:
        time.sleep(1)
        stop.set()
        thread.join(timeout=60)
    assert run.returncode == 0, run.stdout[-3000:]
    assert recaps(run)[QUEUE_HOST]["changed"] > 0, run.stdout[-3000:]
    print(f"\ncertificate rotation at the front: {counts}")
    assert served_fingerprint() == fingerprint(TLS / "front-b.crt") != before
    assert haproxy_master() == master, "HAProxy was restarted, not reloaded"
    assert counts["ok"] > 20, counts
    assert counts["failed"] == 0, f"{counts}: {failures[:20]}"

    # The runbook's check lines: the served certificate, and a request trusting the new one.
    show, ask = runbook_lines("Check the front's certificate", 2)
    shown = shell(show.replace(f"-connect {FRONT_NAME}:443", f"-connect {QUEUE_ADDRESS}:443"))
    assert shown.returncode == 0, shown.stderr
    assert fingerprint(TLS / "front-b.crt") in shown.stdout, shown.stdout
    asked = shell(
        ask.replace("curl ", f"curl --cacert {TLS / 'front-b.crt'} ", 1).replace(
            f"https://{FRONT_NAME}",
            f"--resolve {FRONT_NAME}:443:{QUEUE_ADDRESS} https://{FRONT_NAME}",
        )
    )
    assert asked.returncode == 0 and '"status":"ok"' in asked.stdout.replace(" ", ""), asked


# --- backup and restore (docs/operations.md, "Backup and restore", shared mode) -----------
def every_app_host(line: str) -> list[str]:
    """A runbook line marked `# every app host`, once per app host of this scenario."""
    assert line.endswith("# every app host") and "ra-prod-1" in line, line
    return [line.replace("ra-prod-1", f"ra-prod-{n}") for n in (1, 2)]


def shared_files() -> dict[str, str]:
    """sha256 of every file of the shared storage (uploads, job files), by path."""
    listing = docker_host("ra-scale-out-app1").check_output(
        f"cd {SHARED} && find data output -type f ! -name claim.lock -print0 | sort -z"
        " | xargs -0 -r sha256sum"
    )
    pairs = (line.split(maxsplit=1) for line in listing.splitlines())
    return {path: digest for digest, path in pairs}


def served(http: httpx.Client, job_ids: list[str]) -> dict[str, str]:
    """What the proxy serves of each job: its status, and the sha256 of its report (JSON and
    Markdown) and of every chart when it completed."""
    out = {}
    for job_id in job_ids:
        result = http.get(f"{PROXY}/results/{job_id}")
        if result.status_code != 200:
            out[job_id] = f"HTTP {result.status_code}"
            continue
        body = result.json()
        out[job_id] = body["status"]
        if body["status"] == "completed":
            out[f"{job_id} report"] = sha(json.dumps(body["report"], sort_keys=True))
            markdown = http.get(f"{PROXY}/results/{job_id}/report")
            out[f"{job_id} report.md"] = hashlib.sha256(markdown.content).hexdigest()
            for url in body["chart_urls"]:
                out[url] = hashlib.sha256(http.get(PROXY_ROOT + url).content).hexdigest()
    return out


def wait_until_served() -> None:
    """Both app hosts UP in HAProxy (its checks need `rise 2`) and the proxy ready."""
    for _ in range(60):
        all_up = haproxy_servers() == {name: "UP" for name in APP}
        if all_up and httpx.get(f"{PROXY}/ready", timeout=10, verify=trusted()).status_code == 200:
            return
        time.sleep(1)
    raise AssertionError(f"not served again: {haproxy_servers()}")


def on_the_operators_terminal(line: str, home: Path) -> str:
    """A runbook line over SSH as the operator types it, `~` being `home`; its output."""
    sudo = {"[sudo] password for deploy": BECOME_PASSWORD}
    code, out = on_a_terminal(over_ssh_here(line), sudo, PROJECT_DIR, env={"HOME": str(home)})
    assert code == 0, f"{line}\n{out[-2000:]}"
    return out


def test_a_backup_of_redis_and_the_shared_storage_restores_every_result(client, tmp_path):
    """The shared-mode backup and restore lines of the runbook, verbatim but for the hosts
    (and DATE), on a terminal: then the queue and the files are destroyed, restored, and every
    job answers as before with byte-identical files."""
    jobs = docker_host("ra-scale-out-app1").check_output(f"ls {SHARED}/output/jobs").split()
    before, files = served(client, jobs), shared_files()
    assert "completed" in before.values() and len(files) > 10, (before, len(files))

    stop, redis, shared, start, fetch_redis, fetch_shared = runbook_lines(
        "**Shared mode** keeps the job states", 6
    )
    for line in [*every_app_host(stop), redis, shared, *every_app_host(start)]:
        on_the_operators_terminal(line, tmp_path)
    on_the_operators_terminal(fetch_redis, tmp_path)
    on_the_operators_terminal(fetch_shared, tmp_path)
    today = time.strftime("%Y-%m-%d")
    archives = {p.name: p for p in tmp_path.glob("*.tgz")}
    assert set(archives) == {f"redis-{today}.tgz", f"shared-{today}.tgz"}, archives
    assert all(p.stat().st_mode & 0o077 == 0 for p in archives.values()), "readable by others"
    wait_until_served()
    assert served(client, jobs) == before

    # The disaster: the queue's data and every shared file gone.
    for name in APP:
        docker_host(name).check_output(f"docker stop {CONTAINER}")
    docker_host(QUEUE_HOST).check_output(
        "systemctl stop redis-server && find /var/lib/redis -mindepth 1 -delete"
        " && systemctl start redis-server"
    )
    docker_host("ra-scale-out-app1").check_output(
        f"find {SHARED}/data {SHARED}/output -mindepth 1 -delete"
    )
    for name in APP:
        docker_host(name).check_output(f"docker start {CONTAINER}")
    wait_until_served()
    assert set(served(client, jobs).values()) == {"HTTP 404"}

    stop, copy, redis, shared, start = runbook_lines("Restore in the same order", 5)
    for line in [*every_app_host(stop), copy.replace("DATE", today), redis, shared]:
        on_the_operators_terminal(line, tmp_path)
    for line in every_app_host(start):
        on_the_operators_terminal(line, tmp_path)
    wait_until_served()
    assert served(client, jobs) == before
    restored = shared_files()
    assert {path: restored.get(path) for path in files} == files


# --- no secret anywhere ---------------------------------------------------------------------
def test_no_secret_in_docker_inspect_container_logs_or_ansible_output(secrets):
    values = [secrets["token"], secrets["queue_password"], secrets["new_queue_password"]]
    assert all(values)
    # The front's test-only keys: no line of their bodies.
    for key in ("front-a.key", "front-b.key"):
        values.extend((TLS / key).read_text().strip().splitlines()[1:-1])
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
    assert len(OUTPUTS) == 4, "the outputs of the operator's deploys are checked too"
    dumps.extend(OUTPUTS)
    for value in values:
        leaked = [i for i, dump in enumerate(dumps) if value in dump]
        assert not leaked, f"a secret value appeared in outputs number {leaked}"
