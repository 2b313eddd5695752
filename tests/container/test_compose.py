"""The README's container section, run as a new user would: its commands, verbatim, in a
fresh copy of the repository, with compose v1 (`docker-compose`, Debian's 1.29) and v2
(`docker compose`). Up, healthy, upload, analyse, fetch a chart, down; the data survive a
plain `up` again; no compose warnings. Then the bind-mount variant: without its
mkdir/chown line the service stops with the one-line fix, with it the service works.

The commands are read from README.md, so a README that drifts from what works fails here.
The only substitutions are the ids the service hands out (the README's "..." and JOB_ID),
`docker compose` for `docker-compose` in the v2 run (the README says so), a free host port
when 8000 is taken, and a leading `sudo` dropped when running as root without sudo.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.containers import APP_UID, ROOT

pytestmark = [pytest.mark.container, pytest.mark.slow]

COMPOSE_COMMANDS = {"v1": "docker-compose", "v2": "docker compose"}
# What compose v1 ("WARNING: ...", "... not supported and have been ignored") and v2
# ("WARN[0000] ...", "... invalid compose project") print about a file, and pip's warnings in
# the build output. The builder's echo of each step ("Step 3/54 : RUN ...") is not output.
WARNING = re.compile(r"WARNING|WARN\[|not supported|been ignored|invalid compose")


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def bash_blocks(section: str) -> list[list[str]]:
    """Each ```bash block as a list of commands (backslash continuations joined)."""
    blocks = []
    for body in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL):
        blocks.append([c.strip() for c in body.replace("\\\n", " ").splitlines() if c.strip()])
    return blocks


def command(commands: list[str], starts: str) -> str:
    found = [c for c in commands if c.startswith(starts)]
    assert len(found) == 1, f"README: expected one command starting {starts!r} in {commands}"
    return found[0]


def host_port() -> int:
    """8000 as in the README, unless something on this machine already listens there."""
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", 8000))
            return 8000
        except OSError:
            s.bind(("0.0.0.0", 0))
            return int(s.getsockname()[1])


@dataclass
class Shell:
    """A shell session in the fresh copy: every command runs after the README's export."""

    cwd: Path
    compose: str
    port: int
    exports: list[str]

    def adapt(self, line: str) -> str:
        line = line.replace("docker-compose ", f"{self.compose} ")
        line = line.replace("localhost:8000", f"localhost:{self.port}")
        if os.geteuid() == 0 and shutil.which("sudo") is None:
            line = line.replace("sudo ", "")
        return line

    def run(self, line: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        script = "\n".join([*self.exports, "set -e", self.adapt(line)])
        env = {k: v for k, v in os.environ.items() if k not in ("BASE_IMAGE", "VERSION")}
        env["HOST_PORT"] = str(self.port)  # the file's default is 8000: same unless taken
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, line: str, timeout: float = 900) -> str:
        """Run a line that must succeed; everything it printed (compose talks on stderr)."""
        result = self.run(line, timeout)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr

    def json(self, line: str) -> dict:
        """Run a curl line; its answer (curl's progress meter goes to stderr)."""
        result = self.run(line, timeout=120)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        return dict(json.loads(result.stdout))

    def logs(self) -> str:
        return self.run("docker-compose logs --no-color --tail 20 api").stdout

    def wait_healthy(self, ps: str, timeout: float = 90) -> None:
        """Poll the README's `ps` until it says healthy; fail early on a restart loop."""
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            seen = self.ok(ps)
            if "(healthy)" in seen:
                return
            if "Restarting" in seen or "Exit" in seen:
                break
            time.sleep(1)
        raise AssertionError(f"not healthy:\n{seen}\n{self.logs()}")


def fresh_copy(destination: Path) -> Path:
    """The files a clone has: tracked and not ignored (no data/, output/, secrets/, .venv)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(params=sorted(COMPOSE_COMMANDS))
def shell(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shell]:
    compose = COMPOSE_COMMANDS[request.param]
    probe = subprocess.run([*compose.split(), "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail(f"`{compose}` is not installed: run scripts/install-system-deps.sh")
    blocks = bash_blocks(readme_section("The container"))
    exports = [c for c in blocks[0] if c.startswith("export ")]
    session = Shell(fresh_copy(tmp_path / "regression-analyzer"), compose, host_port(), exports)
    yield session
    session.run("docker-compose down -v --remove-orphans", timeout=120)
    # The bind variant's folders belong to uid 1000: leave nothing pytest cannot remove.
    subprocess.run(["chmod", "-R", "a+rwX", str(session.cwd)], check=False)


def web_service_commands() -> list[str]:
    return bash_blocks(readme_section("The web service"))[0]


def analyse_with_readme_curls(sh: Shell, upload_line: str) -> tuple[str, dict]:
    """The README's upload, analyze and results calls, with the ids the service returned."""
    upload = sh.json(upload_line)
    web = web_service_commands()
    analyze = command(web, "curl -H 'content-type: application/json'")
    analyze = analyze.replace('"upload_id": "..."', f'"upload_id": "{upload["upload_id"]}"')
    job_id = sh.json(analyze)["job_id"]
    results = command(web, "curl localhost:8000/api/v1/results/JOB_ID").replace("JOB_ID", job_id)
    deadline = time.monotonic() + 120
    while True:
        state = sh.json(results)
        if state["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert state["status"] == "completed", f"{state}\n{sh.logs()}"
    return job_id, state


def fetch_chart(sh: Shell, job_id: str) -> bytes:
    line = command(web_service_commands(), "curl -O localhost:8000/api/v1/charts/JOB_ID/")
    line = line.replace("JOB_ID", job_id)
    chart = sh.cwd / line.rsplit("/", 1)[1]
    chart.unlink(missing_ok=True)
    sh.ok(line)
    return chart.read_bytes()


def local_analysis(out: Path) -> dict:
    """The same table through the pipeline in this process, as the reference for the
    container's numbers (the image must not change them)."""
    from regression_analyzer.pipeline import AnalysisOptions, run_analysis

    report = run_analysis(
        ROOT / "examples" / "sales.csv", AnalysisOptions(target="revenue", use_llm=False), out
    )
    return json.loads(report.model_dump_json())


def no_warnings(output: str) -> None:
    warnings = [
        line
        for line in output.splitlines()
        if WARNING.search(line) and not line.startswith("Step ")
    ]
    assert not warnings, "\n".join(warnings)


def test_readme_compose_path_from_a_fresh_clone(shell: Shell, tmp_path: Path) -> None:
    steps = bash_blocks(readme_section("The container"))[0]
    for script in ("bash scripts/start-docker-engine.sh", "bash scripts/build-base-image.sh"):
        shell.ok(command(steps, script))  # quick when the engine runs and the base exists
    assert not (shell.cwd / "data").exists() and not (shell.cwd / "output").exists()

    no_warnings(shell.ok(command(steps, "docker-compose up -d --build")))
    ps = command(steps, "docker-compose ps")
    shell.wait_healthy(ps)

    api = shell.ok("docker-compose ps -q api").split()[-1]
    config = json.loads(subprocess.run(["docker", "inspect", api], capture_output=True).stdout)[0]
    host = config["HostConfig"]
    assert (host["Memory"], host["MemoryReservation"]) == (2 * 1024**3, 512 * 1024**2)
    # 2 CPUs as a quota, which (unlike NanoCpus) an engine on a 1-CPU host accepts.
    assert (host["CpuQuota"], host["CpuPeriod"], host["NanoCpus"]) == (200_000, 100_000, 0)
    assert (host["CpuShares"], host["PidsLimit"], host["ReadonlyRootfs"]) == (512, 256, True)
    assert host["CapDrop"] == ["ALL"]
    volumes = {m["Destination"]: m["Type"] for m in config["Mounts"]}
    assert volumes == {"/data": "volume", "/output": "volume"}

    job_id, state = analyse_with_readme_curls(shell, command(steps, "curl -F file=@"))
    report = state["report"]
    rows_in_file = len((ROOT / "examples/sales.csv").read_text().strip().splitlines()) - 1
    assert (report["target"], report["rows"]) == ("revenue", rows_in_file)
    local = local_analysis(tmp_path / "local")["model"]["coefficients"]
    reference = {c["name"]: c["estimate"] for c in local}
    served = {c["name"]: c["estimate"] for c in report["model"]["coefficients"]}
    assert served.keys() == reference.keys()
    for name, estimate in reference.items():
        assert served[name] == pytest.approx(estimate, rel=1e-9, abs=1e-12), name
    assert fetch_chart(shell, job_id)[:8] == b"\x89PNG\r\n\x1a\n"

    no_warnings(shell.ok(command(steps, "docker-compose down")))
    # A plain `up` (the image exists now): no warnings, and the volumes kept the results.
    no_warnings(shell.ok("docker-compose up -d"))
    shell.wait_healthy(ps)
    results = command(web_service_commands(), "curl localhost:8000/api/v1/results/JOB_ID")
    again = shell.json(results.replace("JOB_ID", job_id))
    assert again["status"] == "completed" and again["report"]["model"] == report["model"]
    assert fetch_chart(shell, job_id)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (shell.cwd / "data").exists(), "named volumes, not folders in the checkout"


@pytest.mark.parametrize("shell", ["v1"], indirect=True)
def test_bind_mount_variant_needs_its_chown_and_says_so(shell: Shell) -> None:
    blocks = bash_blocks(readme_section("The container"))
    steps, (mkdir, up) = blocks[0], blocks[1]
    assert mkdir.startswith("mkdir -p data output") and "chown 1000:1000" in mkdir
    # First without the mkdir/chown line: Docker creates ./data as root, as in the report
    # that started this; the service must say what to do instead of "internal error".
    shell.ok(up)
    deadline = time.monotonic() + 60
    while "not writable" not in (logs := shell.logs()) and time.monotonic() < deadline:
        time.sleep(1)
    assert f"error: DATA_DIR folder /data is not writable by uid {APP_UID}" in logs, logs
    assert f"chown -R {APP_UID}:{APP_UID} /data" in logs and "internal error" not in logs
    assert (shell.cwd / "data").stat().st_uid != APP_UID

    shell.ok(mkdir)
    shell.ok(up)
    shell.wait_healthy(command(steps, "docker-compose ps"))
    job_id, _ = analyse_with_readme_curls(shell, command(steps, "curl -F file=@"))
    stored = list((shell.cwd / "data" / "uploads").iterdir())
    assert stored and all(p.stat().st_uid == APP_UID for p in stored)
    state = shell.cwd / "output" / "jobs" / job_id / "state.json"
    assert json.loads(state.read_text())["status"] == "completed"
