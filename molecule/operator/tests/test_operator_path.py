"""The operator's path, exactly as docs/operations.md tells it (TEST-ONLY material).

Molecule boots a fresh Debian 12 VM (molecule/host/vm.Dockerfile: systemd, sshd, no Docker,
no python3-apt) and authorizes a test key for `deploy`, whose sudo asks for a password. These
tests are the operator: they copy the staging inventory, edit hosts.yml and vars.yml, create the
vault from vault.yml.example, and run `ansible-playbook ansible/deploy.yml` from the repository
root over SSH, in the runbook's order. Each test depends on the ones before it (pytest runs
them in file order). testinfra's `host` (a docker connection) only looks at the VM.

Where the runbook asks for a password interactively (--ask-vault-pass, -K) the tests pass the
same password from a file (--vault-password-file, --become-password-file): the test-only vault
password in molecule/ and the test-only sudo password of the VM image.

The controller is what the README's deploy section installs, not the test venv: its two
set-up lines run first (into OPERATOR/venv, HOME in OPERATOR/home), with the collections
fetched from a local Galaxy server (galaxy_server.py) since galaxy.ansible.com is out of reach.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from galaxy_server import GalaxyServer, build_artifact, requirements_collections

# molecule/terminal.py, shared by the scenarios' tests (appended: the stdlib stays first).
sys.path.append(str(Path(__file__).resolve().parents[2]))
from terminal import on_a_terminal, runbook_lines

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
OPERATOR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "operator"
INVENTORY = OPERATOR / "inventories" / "staging"
VAULT = INVENTORY / "group_vars" / "regression_analyzer" / "vault.yml"
VAULT_PASSWORD_FILE = PROJECT / "molecule" / "vault-password.test-only.txt"
BECOME_PASSWORD = "test-only-sudo-password"  # molecule/host/vm.Dockerfile
SUDO_PROMPT = {"[sudo] password for deploy": BECOME_PASSWORD}
SHA256 = re.compile(r"\b[0-9a-f]{64}\b")
DEPLOY_VENV = OPERATOR / "venv"  # the README's `.venv` of the deploy section
HOME = OPERATOR / "home"  # the operator's ~ (~/.ansible/collections, ~/.cache)
BASE_IMAGE = "regression-analyzer/python-base:3.11"
HOST = "ra-staging-1"
CONTAINER = "regression-analyzer"
API = "http://127.0.0.1:8000/api/v1"
SECRETS_DIR = "/etc/regression-analyzer/secrets"
LOGIN_USER = "debian"  # uid 1000, the first login user of Debian cloud images
RECAP = re.compile(
    rf"{HOST}\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)"
)

# What the steps hand to each other: ids made before a rotation, the keys in the vault.
# Every test takes `host`, even when it does not look at the VM: testinfra parametrizes
# tests by host, and pytest would run the unparametrized ones out of file order.
state: dict = {"outputs": [], "secrets": set()}


def run(
    argv: list[str], venv: Path = DEPLOY_VENV, cwd: Path = PROJECT, **kw
) -> subprocess.CompletedProcess:
    """Run a command on the controller as the operator would: the controller's venv first on
    PATH, the operator's HOME, no Molecule or ANSIBLE_ environment; from the repo root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    env["HOME"] = str(HOME)
    env.update(kw.pop("env", {}))
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, **kw
    )


def readme_deploy_setup() -> list[str]:
    """The README's set-up lines of the controller (venv, collections), in order."""
    section = (PROJECT / "README.md").read_text().split("## Deploying to VMs", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [
        line
        for line in block.splitlines()
        if "--group deploy" in line or "ansible-galaxy collection install" in line
    ]
    assert len(lines) == 2, block
    return lines


def galaxy_artifacts(out_dir: Path) -> list:
    """Artifacts of the collections ansible/requirements.yml names, for the local Galaxy."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = requirements_collections(PROJECT / "ansible" / "requirements.yml")
    return [build_artifact(name, out_dir) for name in names]


def play(
    playbook: str, inventory: str, *extra: str, **run_kw
) -> tuple[subprocess.CompletedProcess, dict[str, int]]:
    """`ansible-playbook PLAYBOOK -i INVENTORY --ask-vault-pass -K ...` with the passwords
    from files; the output is kept (for the leak check) and the host's recap parsed."""
    result = run(
        [
            "ansible-playbook",
            playbook,
            "-i",
            inventory,
            "--vault-password-file",
            str(VAULT_PASSWORD_FILE),
            "--become-password-file",
            str(OPERATOR / "become-password.test-only.txt"),
            *extra,
        ],
        **run_kw,
    )
    state["outputs"].append(result.stdout + result.stderr)
    match = RECAP.search(result.stdout)
    recap = {k: int(v) for k, v in match.groupdict().items()} if match else {}
    return result, recap


def deploy(*extra: str) -> tuple[subprocess.CompletedProcess, dict[str, int]]:
    """The runbook's `ansible-playbook ansible/deploy.yml -i <inventory> ...`."""
    return play("ansible/deploy.yml", str(INVENTORY), *extra)


def tail(result: subprocess.CompletedProcess, lines: int = 60) -> str:
    return "\n".join((result.stdout + result.stderr).splitlines()[-lines:])


def write_vault(anthropic: str, openai: str, token: str) -> None:
    """cp vault.yml.example vault.yml, fill it in, ansible-vault encrypt vault.yml."""
    example = VAULT.with_name("vault.yml.example").read_text()
    filled = (
        example.replace('"sk-ant-REPLACE-ME"', json.dumps(anthropic))
        .replace('"sk-REPLACE-ME"', json.dumps(openai))
        .replace('"REPLACE-ME"', json.dumps(token))
    )
    VAULT.write_text(filled)
    encrypt = run(
        ["ansible-vault", "encrypt", "--vault-password-file", str(VAULT_PASSWORD_FILE), str(VAULT)]
    )
    assert encrypt.returncode == 0, encrypt.stderr


def edit_vault(variable: str, value: str, vault: Path = VAULT, venv: Path = DEPLOY_VENV) -> None:
    """`ansible-vault edit vault.yml`, with an EDITOR that changes one line."""
    editor = OPERATOR / "editor.py"
    editor.write_text(
        "import re, sys\n"
        "path = sys.argv[1]\n"
        "text = open(path).read()\n"
        f"text = re.sub(r'(?m)^{variable}: .*$', {f'{variable}: {json.dumps(value)}'!r}, text)\n"
        "open(path, 'w').write(text)\n"
    )
    edited = run(
        ["ansible-vault", "edit", "--vault-password-file", str(VAULT_PASSWORD_FILE), str(vault)],
        venv=venv,
        env={"EDITOR": f"{sys.executable} {editor}"},
    )
    assert edited.returncode == 0, edited.stderr


def edit_vars(settings: dict[str, str]) -> None:
    """$EDITOR vars.yml: change the settings that are there, add the others."""
    path = INVENTORY / "group_vars" / "regression_analyzer" / "vars.yml"
    text = path.read_text()
    for name, value in settings.items():
        line = f"{name}: {value}"
        text, found = re.subn(rf"(?m)^{name}:.*$", line, text)
        if not found:
            text += line + "\n"
    path.write_text(text)


def vault_values() -> dict:
    out = run(
        ["ansible-vault", "view", "--vault-password-file", str(VAULT_PASSWORD_FILE), str(VAULT)]
    )
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def curl(host, path: str, *args: str, token: bool = True) -> tuple[int, str]:
    """Call the API from the VM itself (it listens on the VM's loopback only)."""
    auth = f"-H {shlex.quote('Authorization: Bearer ' + state['token'])}" if token else ""
    quoted = " ".join(shlex.quote(a) for a in args)
    out = host.run(f"curl -s -w '\\n%{{http_code}}' {auth} {quoted} {API}{path}")
    body, _, code = out.stdout.rpartition("\n")
    return int(code or 0), body


def inspect(host) -> dict:
    return json.loads(host.check_output(f"docker inspect {CONTAINER}"))[0]


def configuration(container: dict) -> dict:
    """What a restart must keep: every HostConfig setting, the mounts, env, user, image."""
    return {
        "Id": container["Id"],
        "Image": container["Image"],
        "HostConfig": container["HostConfig"],
        "Mounts": sorted(
            (m["Type"], m.get("Source"), m["Destination"], m["RW"]) for m in container["Mounts"]
        ),
        "Env": sorted(container["Config"]["Env"]),
        "User": container["Config"]["User"],
        "Healthcheck": container["Config"].get("Healthcheck"),
    }


def wait_healthy(host) -> None:
    status = ""
    for _ in range(60):
        status = host.check_output(
            f"docker inspect -f '{{{{.State.Health.Status}}}}' {CONTAINER}"
        ).strip()
        if status == "healthy":
            return
        time.sleep(1)
    raise AssertionError(f"container is {status!r}, not healthy")


def over_ssh_here(line: str) -> str:
    """A runbook line with HOST replaced by the VM, and `ssh` given the operator's key, known
    hosts and port (what a real operator's ~/.ssh/config holds)."""
    assert line.startswith(("ssh ", " printf")), line
    options = (
        f"-p 2222 -i {OPERATOR / 'id_ed25519'} -o UserKnownHostsFile={OPERATOR / 'known_hosts'}"
    )
    return line.replace("deploy@HOST", "deploy@127.0.0.1").replace("ssh ", f"ssh {options} ", 1)


def assert_rotated(host, before: dict, new_key: str) -> None:
    after = inspect(host)
    assert configuration(after) == configuration(before), "the restart changed the container"
    assert after["State"]["StartedAt"] != before["State"]["StartedAt"], "not restarted"
    wait_healthy(host)
    # The runbook's two lines, as typed: the sha256 of the file in the container (over SSH,
    # sudo asking for the password) against that of the new key + "\n".
    in_container, by_hand = runbook_lines("shows the provider `configured: true`", 2)
    code, out = on_a_terminal(over_ssh_here(in_container), SUDO_PROMPT, PROJECT)
    assert code == 0, out[-2000:]
    typed = by_hand.replace("sk-ant-NEW-KEY", new_key)
    code, expected = on_a_terminal(over_ssh_here(typed), {}, PROJECT)
    assert code == 0, expected
    assert SHA256.findall(out) == SHA256.findall(expected) and len(SHA256.findall(out)) == 1
    code, body = curl(host, "/providers")
    assert code == 200
    assert {p["name"]: p["configured"] for p in json.loads(body)}["anthropic"] is True
    # What was stored before the rotation is still served.
    code, _ = curl(host, f"/uploads/{state['upload_id']}")
    assert code == 200
    code, body = curl(host, f"/results/{state['job_id']}")
    assert code == 200 and json.loads(body)["status"] == "completed"
    code, _ = curl(host, f"/charts/{state['job_id']}/actual_vs_predicted.png", "-o", "/dev/null")
    assert code == 200


def controller() -> None:
    """The README's deploy set-up lines, run verbatim but for where `.venv` is."""
    for path in (DEPLOY_VENV, HOME):
        if path.exists():
            shutil.rmtree(path)
    HOME.mkdir(parents=True)
    with GalaxyServer(galaxy_artifacts(OPERATOR / "galaxy")) as galaxy:
        for line in readme_deploy_setup():
            done = run(
                ["bash", "-euo", "pipefail", "-c", line.replace(".venv", str(DEPLOY_VENV))],
                env={"ANSIBLE_GALAXY_SERVER": galaxy.url},
            )
            assert done.returncode == 0, (line, tail(done))
        state["galaxy_requests"] = list(galaxy.requests)


@pytest.fixture(scope="module", autouse=True)
def workspace() -> None:
    """The controller as the README sets it up, and the operator's copy of the staging
    inventory, edited as docs/operations.md says."""
    controller()
    if INVENTORY.exists():
        shutil.rmtree(INVENTORY)
    shutil.copytree(
        PROJECT / "ansible" / "inventories" / "staging",
        INVENTORY,
        ignore=shutil.ignore_patterns("vault.yml"),
    )
    key = OPERATOR / "id_ed25519"
    (INVENTORY / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "regression_analyzer": {
                            "hosts": {
                                HOST: {
                                    "ansible_host": "127.0.0.1",
                                    "ansible_port": 2222,
                                    "ansible_user": "deploy",
                                    "ansible_ssh_private_key_file": str(key),
                                    # ssh reads ~/.ssh from the passwd entry, not $HOME: keep
                                    # the test's known hosts out of the real user's.
                                    "ansible_ssh_common_args": (
                                        f"-o UserKnownHostsFile={OPERATOR / 'known_hosts'}"
                                    ),
                                }
                            }
                        }
                    }
                }
            }
        )
    )
    archive = OPERATOR / "python-base.tar"
    saved = subprocess.run(
        ["docker", "save", "-o", str(archive), BASE_IMAGE], capture_output=True, text=True
    )
    assert saved.returncode == 0, saved.stderr
    edit_vars(
        {
            "regression_analyzer_install_docker": "true",
            "regression_analyzer_base_image": BASE_IMAGE,
            "regression_analyzer_base_image_archive": str(archive),
            "regression_analyzer_log_level": "INFO",
            "regression_analyzer_memory": "1g",
            "regression_analyzer_memory_reservation": "256m",
            "regression_analyzer_cpus": "1.5",
            "regression_analyzer_workers": "1",
        }
    )
    (OPERATOR / "known_hosts").write_text("")
    become = OPERATOR / "become-password.test-only.txt"
    become.write_text(BECOME_PASSWORD + "\n")
    become.chmod(0o600)


def test_the_controller_has_ansible_and_the_pinned_collections_and_no_test_tools(host):
    python = str(DEPLOY_VENV / "bin" / "python")
    # -I: the repo root (cwd) is not on sys.path, so molecule/ here is not taken for the package.
    probe = run([python, "-I", "-c", "import ansible.release, docker"])
    assert probe.returncode == 0, probe.stderr
    for heavy in ("pytest", "molecule", "pandas", "playwright"):
        absent = run([python, "-I", "-c", f"import {heavy}"])
        assert absent.returncode != 0, f"{heavy} is in the deploy venv"
    listed = run(["ansible-galaxy", "collection", "list", "--format", "json"])
    assert listed.returncode == 0, listed.stderr
    found = {
        name: info["version"]
        for collections in json.loads(listed.stdout).values()
        for name, info in collections.items()
    }
    pinned = yaml.safe_load((PROJECT / "ansible" / "requirements.yml").read_text())
    for entry in pinned["collections"]:
        assert found.get(entry["name"]) == entry["version"], (entry, found)
        artifact = f"/download/{entry['name'].replace('.', '-')}-{entry['version']}.tar.gz"
        assert artifact in state["galaxy_requests"]


def test_an_unknown_host_key_stops_the_deploy_until_accepted(host):
    write_vault("sk-ant-TEST-unused", "", "unused-token")
    result, _ = deploy("--check")
    assert result.returncode != 0
    assert "Host key verification failed" in result.stdout + result.stderr
    # The runbook: connect once with ssh and accept the key after comparing its fingerprint.
    accept = run(
        [
            "ssh",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            f"UserKnownHostsFile={OPERATOR / 'known_hosts'}",
            "-i",
            str(OPERATOR / "id_ed25519"),
            "-p",
            "2222",
            "deploy@127.0.0.1",
            "true",
        ]
    )
    assert accept.returncode == 0, accept.stderr


def test_the_example_vault_placeholders_are_refused(host):
    VAULT.write_text(VAULT.with_name("vault.yml.example").read_text())  # cp, not edited
    run(["ansible-vault", "encrypt", "--vault-password-file", str(VAULT_PASSWORD_FILE), str(VAULT)])
    result, _ = deploy("--check")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    for variable in (
        "regression_analyzer_anthropic_api_key",
        "regression_analyzer_openai_api_key",
        "regression_analyzer_api_token",
    ):
        assert variable in out, tail(result)
    assert "REPLACE-ME" in out and "vault.yml.example" in out


def test_check_diff_on_the_fresh_host_shows_changes_and_changes_nothing(host):
    state["key"] = f"sk-ant-TEST-operator-{secrets.token_hex(8)}"
    state["token"] = secrets.token_hex(16)
    state["secrets"].update({state["key"], state["token"]})
    write_vault(state["key"], "", state["token"])
    result, recap = deploy("--check", "--diff")
    assert result.returncode == 0, tail(result)
    assert recap["failed"] == 0 and recap["changed"] > 0, tail(result)
    out = result.stdout
    for would in ("would be installed", "would be built", "would be created"):
        assert would in out, tail(result)
    assert not host.package("docker.io").is_installed
    assert not host.file("/etc/regression-analyzer").exists
    assert not host.group("regression-analyzer").exists


def test_first_deploy_installs_docker_and_starts_a_healthy_service(host):
    result, recap = deploy()
    assert result.returncode == 0, tail(result)
    assert recap["failed"] == 0 and recap["changed"] > 0
    assert host.service("docker").is_running
    wait_healthy(host)
    container = inspect(host)
    # Loopback by default: plain HTTP is not published to the network.
    assert container["HostConfig"]["PortBindings"]["8000/tcp"] == [
        {"HostIp": "127.0.0.1", "HostPort": "8000"}
    ]
    assert curl(host, "/health", token=False)[0] == 200
    assert curl(host, "/providers", token=False)[0] == 401  # the vault's token is required


def test_the_runbooks_check_lines_over_ssh_show_a_healthy_service(host):
    """Step 6 of the first deploy, its lines as written but for HOST, on a terminal."""
    health, containers = runbook_lines("6. Check (the service listens", 2)
    code, out = on_a_terminal(over_ssh_here(health), {}, PROJECT)
    assert code == 0 and re.search(r'"status":\s*"ok"', out), out[-2000:]
    code, out = on_a_terminal(over_ssh_here(containers), SUDO_PROMPT, PROJECT)
    assert code == 0, out[-2000:]
    assert re.search(r"\(healthy\).*regression-analyzer", out), out[-2000:]


def test_the_runbooks_security_update_line_shows_when_and_from_which_suites(host):
    """docs/operations.md, "Security updates": the check line, on a terminal over SSH."""
    (check,) = runbook_lines("what\n  that build upgraded):", 1)
    code, out = on_a_terminal(over_ssh_here(check), SUDO_PROMPT, PROJECT)
    assert code == 0, out[-2000:]
    # The role's stamp (a UTC time), and the release's three suites as apt read them.
    assert re.search(r"^stamp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\r?$", out, re.M), out[-2000:]
    for suite in ("bookworm", "bookworm-updates", "bookworm-security"):
        assert re.search(rf"  {suite}  \w{{3}}, ", out), (suite, out[-2000:])


def test_a_second_run_changes_nothing(host):
    result, recap = deploy()
    assert result.returncode == 0, tail(result)
    assert recap["changed"] == 0, tail(result)


def test_an_upload_and_an_analysis_before_the_rotation(host):
    rows = "x,y,z\\n1,2.1,5\\n2,3.9,3\\n3,6.2,4\\n4,8.1,1\\n5,9.8,2\\n6,12.2,6\\n"
    host.run_test(f"printf '{rows}' > /tmp/t.csv")
    code, body = curl(host, "/upload", "-F", "file=@/tmp/t.csv")
    assert code in (200, 201), body
    state["upload_id"] = json.loads(body)["upload_id"]
    code, body = curl(
        host,
        "/analyze",
        "-H",
        "content-type: application/json",
        "-d",
        json.dumps({"upload_id": state["upload_id"], "target": "y", "skip_llm": True}),
    )
    assert code == 202, body
    state["job_id"] = json.loads(body)["job_id"]
    status = ""
    for _ in range(120):
        status = json.loads(curl(host, f"/results/{state['job_id']}")[1])["status"]
        if status in ("completed", "failed"):
            break
        time.sleep(1)
    assert status == "completed"


def test_rotating_a_key_by_vault_edit_keeps_the_container_and_the_data(host):
    before = inspect(host)
    state["key"] = f"sk-ant-TEST-rotated-{secrets.token_hex(8)}"
    state["secrets"].add(state["key"])
    edit_vault("vault_regression_analyzer_anthropic_api_key", state["key"])
    assert vault_values()["vault_regression_analyzer_anthropic_api_key"] == state["key"]
    result, recap = deploy()
    assert result.returncode == 0, tail(result)
    assert recap["changed"] > 0
    assert_rotated(host, before, state["key"])


def test_rotating_with_the_runbooks_tags_keeps_the_container_and_the_data(host):
    before = inspect(host)
    state["key"] = f"sk-ant-TEST-tags-{secrets.token_hex(8)}"
    state["secrets"].add(state["key"])
    edit_vault("vault_regression_analyzer_anthropic_api_key", state["key"])
    result, recap = deploy(
        "--tags", "regression_analyzer_configure,regression_analyzer_run,regression_analyzer_verify"
    )
    assert result.returncode == 0, tail(result)
    assert recap["changed"] > 0
    assert_rotated(host, before, state["key"])


def test_the_hosts_uid_1000_login_user_reads_no_key_and_no_upload(host):
    assert host.user(LOGIN_USER).uid == 1000
    pid = inspect(host)["State"]["Pid"]
    for path in (
        f"{SECRETS_DIR}/anthropic_api_key",
        f"{SECRETS_DIR}/api_token",
        f"/data/uploads/{state['upload_id']}",
        "/output",
        f"/proc/{pid}/environ",
        f"/proc/{pid}/root/run/secrets/api_token",
    ):
        probe = host.run(
            f"su {LOGIN_USER} -s /bin/sh -c {shlex.quote(f'ls -l {path}; cat {path}')}"
        )
        assert probe.rc != 0 and "Permission denied" in probe.stderr, (path, probe.stdout)
    # ...while the service reads its key and writes its data.
    assert host.run(f"docker exec {CONTAINER} test -r /run/secrets/anthropic_api_key").rc == 0
    assert host.run(f"docker exec {CONTAINER} test -w /data").rc == 0
    assert host.check_output(f"docker exec {CONTAINER} id -u") == "1000"


def test_every_host_runs_the_locked_build(host):
    labels = json.loads(
        host.check_output(
            f"docker image inspect -f '{{{{json .Config.Labels}}}}' {inspect(host)['Image']}"
        )
    )
    lock = hashlib.sha256((PROJECT / "requirements.lock").read_bytes()).hexdigest()
    assert labels["io.github.regression-analyzer.lock-sha256"] == lock
    assert len(labels["io.github.regression-analyzer.context-sha256"]) == 64
    last = state["outputs"][-1]
    assert (
        f"1 host(s) run source {labels['io.github.regression-analyzer.context-sha256'][:12]}"
        in last
    )
    assert f"lock {lock[:12]}" in last


def test_userns_remap_moves_the_service_off_the_hosts_uids(host):
    """The runbook's option: the engine remapped, the data handed over, still served."""
    edit_vars({"regression_analyzer_docker_userns_remap": "true"})
    result, recap = deploy()
    assert result.returncode == 0, tail(result)
    assert recap["changed"] > 0
    assert "name=userns" in host.check_output("docker info --format '{{json .SecurityOptions}}'")
    offset = int(host.check_output("awk -F: '$1 == \"dockremap\" {print $2; exit}' /etc/subuid"))
    wait_healthy(host)
    pid = inspect(host)["State"]["Pid"]
    uid = host.check_output(f"awk '/^Uid:/ {{print $2}}' /proc/{pid}/status")
    assert int(uid) == offset + 1000
    # What was stored before is served, and nothing on the host belongs to uid 1000 any more.
    code, body = curl(host, f"/results/{state['job_id']}")
    assert code == 200 and json.loads(body)["status"] == "completed"
    assert host.check_output("find /data /output -uid 1000 | head -3") == ""
    assert host.file(f"/data/uploads/{state['upload_id']}").uid == offset + 1000
    code, body = curl(host, "/upload", "-F", "file=@/tmp/t.csv")
    assert code in (200, 201), body
    probe = host.run(f"su {LOGIN_USER} -s /bin/sh -c 'cat {SECRETS_DIR}/api_token'")
    assert probe.rc != 0
    again, recap = deploy()
    assert again.returncode == 0, tail(again)
    assert recap["changed"] == 0, tail(again)


def assert_no_secret_in_outputs() -> None:
    """No vaulted value appears in any ansible-playbook output kept so far."""
    for output in state["outputs"]:
        for value in state["secrets"]:
            assert value not in output


def test_no_secret_in_the_operators_output(host):
    assert len(state["outputs"]) >= 8
    assert_no_secret_in_outputs()
