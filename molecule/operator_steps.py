"""The operator's steps over SSH (TEST-ONLY helpers of the Molecule scenarios `operator` and
`upgrade`).

An `Operator` is one operator's workplace on the controller: the controller venv and HOME the
README's deploy section sets up (collections from the local Galaxy server, galaxy_server.py),
an SSH key and known hosts for a VM reached on 127.0.0.1:PORT, the staging inventory they
edit, and the checkout they run `ansible-playbook` from. Its methods are the operator's
commands (deploy, vault, vars) and the API calls the tests make on the VM's loopback through
testinfra's `host`. Everything printed by a playbook or a terminal line is kept in
`state["outputs"]`, for the check that no secret leaks.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from galaxy_server import GalaxyServer, build_artifact, requirements_collections

BECOME_PASSWORD = "test-only-sudo-password"  # molecule/host/vm.Dockerfile
SUDO_PROMPT = {"[sudo] password for deploy": BECOME_PASSWORD}
BASE_IMAGE = "regression-analyzer/python-base:3.11"
HOST = "ra-staging-1"
CONTAINER = "regression-analyzer"
API = "http://127.0.0.1:8000/api/v1"
VAULT_PASSWORD_FILE = Path(__file__).resolve().parent / "vault-password.test-only.txt"
# Under `molecule verify`: the repository, and the operator's files in the scenario's
# ephemeral directory (prepare.yml puts the SSH key there).
PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[1]))
OPERATOR = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "operator"


def tail(result: subprocess.CompletedProcess, lines: int = 60) -> str:
    return "\n".join((result.stdout + result.stderr).splitlines()[-lines:])


def readme_deploy_setup(root: Path) -> list[str]:
    """The README's set-up lines of the controller (venv, collections), in order."""
    section = (root / "README.md").read_text().split("## Deploying to VMs", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [
        line
        for line in block.splitlines()
        if "--group deploy" in line or "ansible-galaxy collection install" in line
    ]
    assert len(lines) == 2, block
    return lines


def inspect(host) -> dict:
    return json.loads(host.check_output(f"docker inspect {CONTAINER}"))[0]


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


class Operator:
    """One operator: their controller (venv, HOME), key, inventory and checkout."""

    def __init__(self, workdir: Path, root: Path, inventory: Path, hosts: dict[str, int]) -> None:
        self.dir = workdir  # the operator's files on the controller
        self.root = root  # the checkout `ansible-playbook` runs from
        self.inventory = inventory
        self.vault = inventory / "group_vars" / "regression_analyzer" / "vault.yml"
        # The inventory's hosts and the SSH port each VM is reached on (all on 127.0.0.1).
        self.hosts = hosts
        self.port = next(iter(hosts.values()))  # the first VM's
        self.venv = workdir / "venv"  # the README's `.venv` of the deploy section
        self.home = workdir / "home"  # the operator's ~ (~/.ansible/collections, ~/.cache)
        self.key = workdir / "id_ed25519"
        self.known_hosts = workdir / "known_hosts"
        self.become_password_file = workdir / "become-password.test-only.txt"
        self.recap = re.compile(
            r"(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)"
            r"\s+unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
            re.M,
        )
        # What the steps hand to each other; every output, for the leak check.
        self.state: dict = {"outputs": [], "secrets": set()}

    # -- commands on the controller -------------------------------------------------------

    def env(self, venv: Path | None = None, **extra: str) -> dict[str, str]:
        """The operator's environment: the controller's venv first on PATH, their HOME, no
        Molecule or ANSIBLE_ variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
        env["PATH"] = f"{(venv or self.venv) / 'bin'}:{env.get('PATH', '')}"
        env["HOME"] = str(self.home)
        env.update(extra)
        return env

    def run(
        self, argv: list[str], venv: Path | None = None, cwd: Path | None = None, **kw
    ) -> subprocess.CompletedProcess:
        """Run a command on the controller as the operator would, from the checkout."""
        env = self.env(venv, **kw.pop("env", {}))
        return subprocess.run(
            argv, cwd=cwd or self.root, env=env, capture_output=True, text=True, timeout=1800, **kw
        )

    def recaps_of(self, output: str) -> dict[str, dict[str, int]]:
        """PLAY RECAP per inventory host: {host: {ok, changed, unreachable, failed}}."""
        return {
            m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
            for m in self.recap.finditer(output)
            if m["host"] in self.hosts
        }

    def recap_of(self, output: str) -> dict[str, int]:
        """The recap summed over the hosts the play ran on ({} when none): changed == 0 means
        no host changed; failed == 0 that none failed."""
        recaps = list(self.recaps_of(output).values())
        return {k: sum(r[k] for r in recaps) for k in recaps[0]} if recaps else {}

    def with_password_files(self, argv: list[str]) -> list[str]:
        """The runbook's `--ask-vault-pass -K` as files: the test-only passwords."""
        files = {
            "--ask-vault-pass": ["--vault-password-file", str(VAULT_PASSWORD_FILE)],
            "-K": ["--become-password-file", str(self.become_password_file)],
        }
        return [part for arg in argv for part in files.get(arg, [arg])]

    def play(
        self, playbook: str, inventory: str, *extra: str, **run_kw
    ) -> tuple[subprocess.CompletedProcess, dict[str, int]]:
        """`ansible-playbook PLAYBOOK -i INVENTORY --ask-vault-pass -K ...` with the passwords
        from files; the output is kept (for the leak check) and the host's recap parsed."""
        argv = ["ansible-playbook", playbook, "-i", inventory, "--ask-vault-pass", "-K", *extra]
        result = self.run(self.with_password_files(argv), **run_kw)
        self.state["outputs"].append(result.stdout + result.stderr)
        return result, self.recap_of(result.stdout)

    def deploy(self, *extra: str) -> tuple[subprocess.CompletedProcess, dict[str, int]]:
        """The runbook's `ansible-playbook ansible/deploy.yml -i <inventory> ...`."""
        return self.play("ansible/deploy.yml", str(self.inventory), *extra)

    def galaxy_artifacts(self, out_dir: Path) -> list:
        """Artifacts of the collections ansible/requirements.yml names, for the local Galaxy."""
        out_dir.mkdir(parents=True, exist_ok=True)
        names = requirements_collections(self.root / "ansible" / "requirements.yml")
        return [build_artifact(name, out_dir) for name in names]

    def controller(self) -> list[str]:
        """The README's deploy set-up lines, run verbatim but for where `.venv` is; returns the
        requests the local Galaxy server answered."""
        for path in (self.venv, self.home):
            if path.exists():
                shutil.rmtree(path)
        self.home.mkdir(parents=True)
        with GalaxyServer(self.galaxy_artifacts(self.dir / "galaxy")) as galaxy:
            for line in readme_deploy_setup(self.root):
                done = self.run(
                    ["bash", "-euo", "pipefail", "-c", line.replace(".venv", str(self.venv))],
                    env={"ANSIBLE_GALAXY_SERVER": galaxy.url},
                )
                assert done.returncode == 0, (line, tail(done))
            return list(galaxy.requests)

    def describe_hosts(self, base_image_archive: Path) -> None:
        """hosts.yml with the VMs, vars.yml as the runbook's first deploy edits it (Docker by the
        role, the base image from an archive saved on the controller, the test VM's sizing and
        one worker: analyses queue), the sudo password."""
        (self.inventory / "hosts.yml").write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "children": {
                            "regression_analyzer": {
                                "hosts": {
                                    name: {
                                        "ansible_host": "127.0.0.1",
                                        "ansible_port": port,
                                        "ansible_user": "deploy",
                                        "ansible_ssh_private_key_file": str(self.key),
                                        # ssh reads ~/.ssh from the passwd entry, not $HOME:
                                        # keep the test's known hosts out of the real user's.
                                        "ansible_ssh_common_args": (
                                            f"-o UserKnownHostsFile={self.known_hosts}"
                                        ),
                                    }
                                    for name, port in self.hosts.items()
                                }
                            }
                        }
                    }
                }
            )
        )
        saved = subprocess.run(
            ["docker", "save", "-o", str(base_image_archive), BASE_IMAGE],
            capture_output=True,
            text=True,
        )
        assert saved.returncode == 0, saved.stderr
        self.edit_vars(
            {
                "regression_analyzer_install_docker": "true",
                "regression_analyzer_base_image": BASE_IMAGE,
                "regression_analyzer_base_image_archive": str(base_image_archive),
                "regression_analyzer_log_level": "INFO",
                "regression_analyzer_memory": "1g",
                "regression_analyzer_memory_reservation": "256m",
                "regression_analyzer_cpus": "1.5",
                "regression_analyzer_workers": "1",
            }
        )
        self.known_hosts.write_text("")
        self.become_password_file.write_text(BECOME_PASSWORD + "\n")
        self.become_password_file.chmod(0o600)

    def accept_host_key(self) -> None:
        """The runbook's `ssh deploy@HOST true` for each host, answering "yes" (accept-new)."""
        for port in self.hosts.values():
            accept = self.run(
                [
                    "ssh",
                    "-o",
                    "StrictHostKeyChecking=accept-new",
                    "-o",
                    f"UserKnownHostsFile={self.known_hosts}",
                    "-i",
                    str(self.key),
                    "-p",
                    str(port),
                    "deploy@127.0.0.1",
                    "true",
                ]
            )
            assert accept.returncode == 0, accept.stderr

    def over_ssh_here(self, line: str, port: int | None = None) -> str:
        """A runbook line with HOST replaced by a VM (the first unless PORT names another), and
        `ssh` given the operator's key, known hosts and port (what a real operator's
        ~/.ssh/config holds)."""
        assert line.startswith(("ssh ", " printf")), line
        options = f"-p {port or self.port} -i {self.key} -o UserKnownHostsFile={self.known_hosts}"
        return line.replace("deploy@HOST", "deploy@127.0.0.1").replace("ssh ", f"ssh {options} ", 1)

    # -- the inventory ----------------------------------------------------------------------

    def write_vault(self, anthropic: str, openai: str, token: str) -> None:
        """cp vault.yml.example vault.yml, fill it in, ansible-vault encrypt vault.yml."""
        example = self.vault.with_name("vault.yml.example").read_text()
        filled = (
            example.replace('"sk-ant-REPLACE-ME"', json.dumps(anthropic))
            .replace('"sk-REPLACE-ME"', json.dumps(openai))
            .replace('"REPLACE-ME"', json.dumps(token))
        )
        self.vault.write_text(filled)
        self.encrypt_vault()

    def encrypt_vault(self) -> None:
        encrypt = self.run(
            [
                "ansible-vault",
                "encrypt",
                "--vault-password-file",
                str(VAULT_PASSWORD_FILE),
                str(self.vault),
            ]
        )
        assert encrypt.returncode == 0, encrypt.stderr

    def edit_vault(
        self, variable: str, value: str, vault: Path | None = None, venv: Path | None = None
    ) -> None:
        """`ansible-vault edit vault.yml`, with an EDITOR that changes one line."""
        editor = self.dir / "editor.py"
        editor.write_text(
            "import re, sys\n"
            "path = sys.argv[1]\n"
            "text = open(path).read()\n"
            f"text = re.sub(r'(?m)^{variable}: .*$', "
            f"{f'{variable}: {json.dumps(value)}'!r}, text)\n"
            "open(path, 'w').write(text)\n"
        )
        edited = self.run(
            [
                "ansible-vault",
                "edit",
                "--vault-password-file",
                str(VAULT_PASSWORD_FILE),
                str(vault or self.vault),
            ],
            venv=venv,
            env={"EDITOR": f"{sys.executable} {editor}"},
        )
        assert edited.returncode == 0, edited.stderr

    def edit_vars(self, settings: dict[str, str]) -> None:
        """$EDITOR vars.yml: change the settings that are there, add the others."""
        path = self.inventory / "group_vars" / "regression_analyzer" / "vars.yml"
        text = path.read_text()
        for name, value in settings.items():
            line = f"{name}: {value}"
            text, found = re.subn(rf"(?m)^{name}:.*$", line, text)
            if not found:
                text += line + "\n"
        path.write_text(text)

    def vault_values(self) -> dict:
        view = ["ansible-vault", "view", "--vault-password-file", str(VAULT_PASSWORD_FILE)]
        out = self.run([*view, str(self.vault)])
        assert out.returncode == 0, out.stderr
        return yaml.safe_load(out.stdout)

    # -- the API, on the VM's loopback -----------------------------------------------------

    def curl(self, host, path: str, *args: str, token: bool = True) -> tuple[int, str]:
        """Call the API from the VM itself (it listens on the VM's loopback only)."""
        auth = f"-H {shlex.quote('Authorization: Bearer ' + self.state['token'])}" if token else ""
        quoted = " ".join(shlex.quote(a) for a in args)
        out = host.run(f"curl -s -w '\\n%{{http_code}}' {auth} {quoted} {API}{path}")
        body, _, code = out.stdout.rpartition("\n")
        return int(code or 0), body

    def upload(self, host, path: str) -> str:
        """POST /upload of a file on the VM; its upload id."""
        code, body = self.curl(host, "/upload", "-F", f"file=@{path}")
        assert code in (200, 201), body
        return json.loads(body)["upload_id"]

    def analyze(self, host, upload_id: str, target: str) -> tuple[int, str]:
        """POST /analyze (no LLM); the status code and the body."""
        request = json.dumps({"upload_id": upload_id, "target": target, "skip_llm": True})
        return self.curl(host, "/analyze", "-H", "content-type: application/json", "-d", request)

    def wait_for_job(self, host, job_id: str, timeout: float = 120) -> dict:
        """GET /results/ID until the job is completed or failed; the last result."""
        deadline = time.monotonic() + timeout
        while True:
            code, body = self.curl(host, f"/results/{job_id}")
            assert code == 200, body
            result = json.loads(body)
            if result["status"] in ("completed", "failed") or time.monotonic() > deadline:
                return result
            time.sleep(1)

    def assert_no_secret_in_outputs(self) -> None:
        """No vaulted value appears in any output kept so far."""
        for output in self.state["outputs"]:
            for value in self.state["secrets"]:
                assert value not in output
