"""Upgrade, rollback, backup and restore, run as docs/operations.md says (TEST-ONLY material).

Molecule boots a fresh Debian 12 VM (molecule/host/vm.Dockerfile) and authorizes a test key for
`deploy`, whose sudo asks for a password. These tests are the operator, in the runbook's order:

1. Release N, the git tag v0.2.0, deployed with its own runbook from the operator's clone of
   this repository (`git clone`, `git checkout v0.2.0`, the staging inventory edited in that
   checkout, its vault from vault.yml.example); two uploads and two analyses stored, and the
   sha256 of everything served for them (report JSON, Markdown report, charts).
2. "Upgrading": what runs now, the line that moves the checkout to this tree's release, and the
   deploy, with analyses submitted while the run step replaces the container (one worker, so
   they queue).
3. "Rolling back": the runbook's line back to 0.2.0 with no rebuild, then the normal deploy
   forward again to the kept image.
4. "Backup and restore": the local-mode lines on a terminal (sudo's prompt answered), the data
   destroyed in between.
The wall times of the upgrade, rollback, backup and restore are printed at the end (the
verifier runs with -s, so they show in the CI log). Passwords the runbook asks for are passed
from files, as molecule/operator's tests do; testinfra's `host` (a docker connection) only
looks at the VM and calls the API on its loopback.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from operator_steps import (
    API,
    HOST,
    OPERATOR,
    PROJECT,
    SUDO_PROMPT,
    Operator,
    inspect,
    tail,
    wait_healthy,
)
from terminal import on_a_terminal, runbook_lines

CHECKOUT = OPERATOR / "regression-analyzer"  # the operator's clone of this repository
OP = Operator(
    OPERATOR, root=CHECKOUT, inventory=CHECKOUT / "ansible/inventories/staging", hosts={HOST: 2223}
)
RELEASE_N = "v0.2.0"
VERSION_N = "0.2.0"
# The commit the tag names. A CI clone may carry main's history without its tags (only the
# branch is published there); the operator's clone of the published repository has them.
RELEASE_N_COMMIT = "299834f86e3e1c6ba9f94fa26defe76688612924"
IMAGE_N = f"regression-analyzer:{VERSION_N}"
# The run step's task that replaces the container (roles/regression_analyzer/tasks/container.yml).
RUN_TASK = "TASK [regression_analyzer : Run the container with its full definition]"
BIG_ROWS = 300_000  # x 4 columns, ~11 MB: an analysis takes seconds on the VM's 1.5 CPUs
SSH_CONFIG = OPERATOR / "ssh_config"  # what the operator's ~/.ssh/config says about HOST
SECRETS_DIR = "/etc/regression-analyzer/secrets"

# What the steps hand to each other. Every test takes `host` (testinfra parametrizes by host;
# pytest would run the unparametrized ones out of file order).
state: dict = OP.state
state.update(uploads=[], results={}, timings={})


def version() -> str:
    """The version of the tree under test (release N+1)."""
    return re.search(r'(?m)^version\s*=\s*"([^"]+)"', (PROJECT / "pyproject.toml").read_text())[1]


def git(*args: str, cwd: Path = CHECKOUT) -> str:
    done = OP.run(["git", *args], cwd=cwd)
    assert done.returncode == 0, (args, tail(done))
    return done.stdout


def typed(line: str) -> list[str]:
    """A runbook `ansible-playbook` line as argv, for the staging inventory, the passwords it
    asks for from the test-only files."""
    argv = shlex.split(line.replace("inventories/production", "inventories/staging"))
    return OP.with_password_files(argv)


def timed_play(line: str) -> tuple[subprocess.CompletedProcess, dict[str, int], float]:
    """Run a runbook `ansible-playbook` line from the checkout; its wall time."""
    start = time.monotonic()
    result = OP.run(typed(line))
    seconds = time.monotonic() - start
    state["outputs"].append(result.stdout + result.stderr)
    return result, OP.recap_of(result.stdout), seconds


def summary(output: str, tag: str, before: str) -> re.Match | None:
    """The role's last line per host: `HOST runs IMAGE:TAG (version V); before: IMAGE:OLD`."""
    last_lines = "\n".join(output.splitlines()[-40:])
    return re.search(
        rf"{HOST} runs regression-analyzer:({tag}) \(version ([^)]+)\); "
        rf"before: {re.escape(before)}\b",
        last_lines,
    )


def moment(text: str) -> datetime:
    """An ISO time from Docker (nanoseconds) or the API."""
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00"))


def health_version(host) -> str:
    code, body = OP.curl(host, "/health", token=False)
    assert code == 200, body
    return json.loads(body)["version"]


def served_sha256(host, path: str) -> str:
    """sha256 of the body the API serves at `path` (on the VM: a PNG stays binary)."""
    auth = shlex.quote(f"Authorization: Bearer {state['token']}")
    command = f"curl -sfS -H {auth} {API}{path} | sha256sum"
    out = host.run(f"bash -o pipefail -c {shlex.quote(command)}")
    assert out.rc == 0, (path, out.stderr)
    return out.stdout.split()[0]


def fingerprint(host, job_id: str) -> dict[str, str]:
    """The sha256 of a completed job's report (as served in /results), Markdown and charts."""
    code, body = OP.curl(host, f"/results/{job_id}")
    assert code == 200, body
    result = json.loads(body)
    assert result["status"] == "completed", result
    report = json.dumps(result["report"], sort_keys=True).encode()
    prints = {"report.json": hashlib.sha256(report).hexdigest()}
    prints["report.md"] = served_sha256(host, f"/results/{job_id}/report")
    for url in result["chart_urls"]:
        prints[url.rsplit("/", 1)[1]] = served_sha256(host, url.removeprefix("/api/v1"))
    assert len(prints) > 2, result  # charts too
    return prints


def assert_every_result_served_as_before(host) -> None:
    for job_id, prints in state["results"].items():
        assert fingerprint(host, job_id) == prints, job_id
    for upload_id in state["uploads"]:
        assert OP.curl(host, f"/uploads/{upload_id}")[0] == 200, upload_id


def make_csv(host, path: str, rows: int, seed: int) -> None:
    """A table y ~ a, b, c with noise, written on the VM."""
    script = (
        "import random\n"
        f"r = random.Random({seed})\n"
        f"with open({path!r}, 'w') as f:\n"
        "    f.write('a,b,c,y\\n')\n"
        f"    for _ in range({rows}):\n"
        "        a, b, c = r.random(), r.random(), r.random()\n"
        "        y = 2 * a - b + 0.5 * c + r.gauss(0, 0.1)\n"
        "        f.write(f'{a:.6f},{b:.6f},{c:.6f},{y:.6f}\\n')\n"
    )
    host.run_test(f"python3 -c {shlex.quote(script)}")


def submit(host, upload_id: str) -> str:
    """POST /analyze until accepted (between the old container and the new one: refused)."""
    body = ""
    for _ in range(120):
        code, body = OP.analyze(host, upload_id, "y")
        if code == 202:
            return json.loads(body)["job_id"]
        time.sleep(0.5)
    raise AssertionError(f"no analysis accepted: {body}")


def upgrade_target() -> str:
    """`v<version>` when the project's HEAD carries that tag, else HEAD's commit."""
    tag = f"v{version()}"
    tags = git("tag", "--points-at", "HEAD", cwd=PROJECT).split()
    return tag if tag in tags else git("rev-parse", "HEAD", cwd=PROJECT).strip()


def copy_the_working_tree() -> list[str]:
    """TEST-ONLY: a development tree has uncommitted changes; copy its modified tracked files
    and its untracked, not ignored ones over the checkout (and delete what it deleted), so
    that a run in a dirty tree tests that tree. Files the operator edited in the checkout
    (hosts.yml, vars.yml) keep the operator's edits."""
    edited = set(git("diff", "--name-only", "HEAD").split())
    changed = git("diff", "--name-only", "HEAD", cwd=PROJECT).split()
    changed += git("ls-files", "--others", "--exclude-standard", cwd=PROJECT).split()
    copied = []
    for name in sorted(set(changed) - edited):
        source, target = PROJECT / name, CHECKOUT / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.is_file():
            target.unlink()
        copied.append(name)
    return copied


def as_the_operator_types(line: str) -> str:
    """A backup/restore line with HOST and DATE filled in; ssh and scp read the operator's
    ~/.ssh/config (-F: ssh takes ~ from the passwd entry, not $HOME)."""
    return (
        line.replace("ssh ", f"ssh -F {SSH_CONFIG} ")
        .replace("scp ", f"scp -F {SSH_CONFIG} ")
        .replace("HOST-DATE", f"{HOST}-{date.today():%F}")
        .replace("HOST", HOST)
    )


def on_the_operators_terminal(lines: list[str]) -> float:
    """Run runbook lines in the operator's ~ (HOME set), on a terminal; their wall time."""
    start = time.monotonic()
    for line in lines:
        code, out = on_a_terminal(
            as_the_operator_types(line), SUDO_PROMPT, OP.home, 300, env={"HOME": str(OP.home)}
        )
        state["outputs"].append(out)
        assert code == 0, (line, out[-3000:])
    return time.monotonic() - start


def publish_release_n_tag() -> None:
    """TEST-ONLY: give the operator's clone the release tag the published repository carries,
    when the clone under test came without tags."""
    if git("tag", "--list", RELEASE_N).strip():
        return
    has_commit = OP.run(["git", "cat-file", "-e", f"{RELEASE_N_COMMIT}^{{commit}}"], cwd=CHECKOUT)
    assert has_commit.returncode == 0, (
        f"release {VERSION_N} ({RELEASE_N_COMMIT[:12]}) is not in this clone's history "
        "(a shallow clone?): the upgrade starts from that release"
    )
    git("tag", RELEASE_N, RELEASE_N_COMMIT)  # lightweight: the role accepts either kind


@pytest.fixture(scope="module", autouse=True)
def workspace() -> None:
    """The operator's clone at release N, its controller as that release's README sets it up,
    the staging inventory edited in the checkout as that release's runbook says."""
    if CHECKOUT.exists():
        shutil.rmtree(CHECKOUT)
    git("clone", "-q", str(PROJECT), str(CHECKOUT), cwd=OPERATOR)
    publish_release_n_tag()
    git("-c", "advice.detachedHead=false", "checkout", "-q", RELEASE_N)
    OP.controller()
    # wheelhouse/ holds only its README in git (scripts/build-wheelhouse.sh fills it): like
    # molecule/operator, the image builds install from the package index, nothing to copy.
    # vars.yml gets `regression_analyzer_workers: 1` there: analyses queue during the upgrade.
    OP.describe_hosts(OPERATOR / "python-base.tar")
    SSH_CONFIG.write_text(
        f"Host {HOST}\n  HostName 127.0.0.1\n  Port {OP.port}\n  User deploy\n"
        f"  IdentityFile {OP.key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {OP.known_hosts}\n"
    )
    OP.accept_host_key()
    state["key"] = f"sk-ant-TEST-upgrade-{secrets.token_hex(8)}"
    state["token"] = secrets.token_hex(16)
    state["secrets"].update({state["key"], state["token"]})
    OP.write_vault(state["key"], "", state["token"])
    yield
    timings = "\n".join(f"  {name:<28} {s:6.1f} s" for name, s in state["timings"].items())
    print(f"\n==> molecule upgrade: measured wall times\n{timings}", file=sys.stderr)


def test_release_n_deploys_with_its_own_runbook(host):
    runbook_n = CHECKOUT / "docs" / "operations.md"
    _check, deploy_line = runbook_lines("5. Dry run, then deploy", 2, runbook_n)
    result, recap, seconds = timed_play(deploy_line)
    assert result.returncode == 0, tail(result)
    assert recap["failed"] == 0 and recap["changed"] > 0, tail(result)
    state["timings"][f"first deploy of {VERSION_N}"] = seconds
    wait_healthy(host)
    container = inspect(host)
    assert container["Config"]["Image"] == IMAGE_N
    state["image_n"] = container["Image"]
    assert health_version(host) == VERSION_N


def test_release_n_stores_two_uploads_and_two_analyses(host):
    for seed in (1, 2):
        make_csv(host, f"/tmp/n{seed}.csv", 200, seed)
        upload_id = OP.upload(host, f"/tmp/n{seed}.csv")
        code, body = OP.analyze(host, upload_id, "y")
        assert code == 202, body
        job_id = json.loads(body)["job_id"]
        assert OP.wait_for_job(host, job_id)["status"] == "completed"
        state["uploads"].append(upload_id)
        state["results"][job_id] = fingerprint(host, job_id)
    assert len(state["results"]) == 2


def test_the_upgrade_replaces_the_container_while_analyses_wait(host):
    """Steps 1-3 of "Upgrading", with three analyses submitted as the run step starts."""
    (running_now,) = runbook_lines("1. Note what runs now", 1)
    code, out = on_a_terminal(OP.over_ssh_here(running_now), SUDO_PROMPT, CHECKOUT)
    state["outputs"].append(out)
    assert code == 0 and IMAGE_N in out, out[-2000:]
    make_csv(host, "/tmp/big.csv", BIG_ROWS, 3)
    big = OP.upload(host, "/tmp/big.csv")
    state["uploads"].append(big)

    (move,) = runbook_lines("2. Take a backup", 1)
    assert f"git checkout --merge v{version()}" in move, move  # the runbook names this release
    moved = OP.run(["bash", "-c", move.replace(f"v{version()}", upgrade_target())])
    assert moved.returncode == 0, tail(moved)
    copied = copy_the_working_tree()
    print(f"\nTEST-ONLY: {len(copied)} uncommitted file(s) of the tree copied", file=sys.stderr)
    assert f'version = "{version()}"' in (CHECKOUT / "pyproject.toml").read_text()
    assert version() != VERSION_N, "the tree under test is release N itself"

    # The dry run: reports the build and the new container, changes nothing.
    check_line, deploy_line = runbook_lines("3. Dry run, then deploy, as for the first deploy", 2)
    checked, recap, _seconds = timed_play(check_line)
    assert checked.returncode == 0, tail(checked)
    assert recap["failed"] == 0 and recap["changed"] > 0, tail(checked)
    said = " ".join(checked.stdout.split())  # the yaml callback folds long messages
    assert "would be built" in said and "would be recreated on" in said, tail(checked)
    assert inspect(host)["Image"] == state["image_n"], "the dry run changed the container"
    start = time.monotonic()
    process = subprocess.Popen(
        typed(deploy_line),
        cwd=CHECKOUT,
        env=OP.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines, jobs = [], []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith(RUN_TASK) and not jobs:
            jobs = [submit(host, big) for _ in range(3)]
    process.wait(timeout=1800)
    state["timings"][f"upgrade {HOST}"] = time.monotonic() - start
    output = "".join(lines)
    state["outputs"].append(output)
    assert process.returncode == 0, output[-6000:]
    assert len(jobs) == 3, f"no {RUN_TASK!r} in the deploy's output"

    # The play's last lines name the new image and the one before.
    named = summary(output, r"\S+", IMAGE_N)
    assert named, "\n".join(output.splitlines()[-30:])
    print(f"\n{named[0]}", file=sys.stderr)
    state["tag_n1"] = named[1]
    # This tree's version; a checkout that is not exactly a release tag (this tree, dirty, in
    # development) builds VERSION-dev.HASH, and the image says that version.
    assert re.fullmatch(rf"{re.escape(version())}(-dev\.[0-9a-f]+)?", state["tag_n1"])
    assert named[2] in (version(), state["tag_n1"]), named[0]
    wait_healthy(host)
    container = inspect(host)
    assert container["Config"]["Image"] == f"regression-analyzer:{state['tag_n1']}"
    assert container["Image"] != state["image_n"]
    state["image_n1"] = container["Image"]
    assert health_version(host) == state["tag_n1"]
    assert_every_result_served_as_before(host)

    # The analyses that waited all complete, at least one started by the new container.
    started = moment(container["State"]["StartedAt"])
    done = [OP.wait_for_job(host, job_id, timeout=300) for job_id in jobs]
    assert [r["status"] for r in done] == ["completed"] * 3, done
    assert any(moment(r["started_at"]) > started for r in done), (started, done)
    for job_id in jobs:
        state["results"][job_id] = fingerprint(host, job_id)


def test_rolling_back_runs_the_kept_release_n_image(host):
    (line,) = runbook_lines("## Rolling back", 1)
    assert f"regression_analyzer_image_tag={VERSION_N}" in line, line
    result, recap, seconds = timed_play(line)
    state["timings"][f"rollback {HOST}"] = seconds
    assert result.returncode == 0, tail(result)
    assert recap["failed"] == 0 and recap["changed"] > 0, tail(result)
    wait_healthy(host)
    assert inspect(host)["Image"] == state["image_n"]
    assert health_version(host) == VERSION_N
    assert len(state["results"]) == 5
    assert_every_result_served_as_before(host)


def test_the_next_normal_deploy_goes_forward_to_the_kept_image(host):
    _check, deploy_line = runbook_lines("3. Dry run, then deploy, as for the first deploy", 2)
    result, recap, seconds = timed_play(deploy_line)
    state["timings"][f"forward again {HOST}"] = seconds
    assert result.returncode == 0, tail(result)
    assert recap["failed"] == 0, tail(result)
    assert summary(result.stdout, re.escape(state["tag_n1"]), IMAGE_N), tail(result, 30)
    wait_healthy(host)
    assert inspect(host)["Image"] == state["image_n1"]  # the kept image: not rebuilt
    assert health_version(host) == state["tag_n1"]
    assert_every_result_served_as_before(host)


def test_backup_and_restore_by_the_runbooks_lines(host):
    backup = runbook_lines("**Back up** a host", 2)
    restore = runbook_lines("**Restore** it", 2)
    etc_files = set(host.check_output("find /etc/regression-analyzer -type f").split())
    state["timings"]["backup"] = on_the_operators_terminal(backup)
    archive = OP.home / f"{HOST}-{date.today():%F}.tgz"
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    ids = state["uploads"] + list(state["results"])
    unexpected = [
        m.name
        for m in members
        if not m.name.startswith(("data", "output", "etc/regression-analyzer"))
        or (
            m.isfile()
            and m.name.startswith(("data/", "output/"))
            and not any(i in m.name for i in ids)
        )
    ]
    assert not unexpected, unexpected
    assert {f"/{m.name}" for m in members if m.name.startswith("etc/") and m.isfile()} == etc_files
    assert {f"{SECRETS_DIR}/api_token", f"{SECRETS_DIR}/anthropic_api_key"} <= etc_files
    wait_healthy(host)

    # Lost: everything in /data and /output, and the secrets the restore brings back.
    host.run_test(f"find /data /output -mindepth 1 -delete && rm -rf {SECRETS_DIR}")
    for job_id in state["results"]:
        assert OP.curl(host, f"/results/{job_id}")[0] == 404
    assert OP.curl(host, f"/uploads/{state['uploads'][0]}")[0] == 404

    state["timings"]["restore"] = on_the_operators_terminal(restore)
    assert not host.file("/home/deploy/backup.tgz").exists
    wait_healthy(host)
    assert host.file(f"{SECRETS_DIR}/api_token").exists
    assert_every_result_served_as_before(host)
    # The runbook: then the deploy with --check reports changed=0 (the vault did not change).
    _check, deploy_line = runbook_lines("3. Dry run, then deploy, as for the first deploy", 2)
    result, recap, _seconds = timed_play(deploy_line + " --check")
    assert result.returncode == 0, tail(result)
    assert recap["changed"] == 0, tail(result)


def test_no_secret_in_any_output(host):
    assert len(state["outputs"]) >= 10
    OP.assert_no_secret_in_outputs()
