"""The role used from another repository, as the role's README tells it (TEST-ONLY material).

Runs after test_operator_path.py (file order), against the Debian 12 VM it deployed (the oldest
ansible-core the role declares predates Debian 13's Python 3.13: on that host the preflight
refuses it, which the last tests check). The operator moves
the deployment into their own infrastructure repository: the same inventory and vault, the
role taken from this repository's git URL (a bare clone with a release tag stands for the
forge), the app's source as a release tarball (`git archive`), and a controller with the
oldest ansible-core the role declares (meta/main.yml) plus the collections of the README's
requirements.yml from the local Galaxy server. The README's code blocks are used verbatim,
with the example URL replaced by the bare clone's. From there: the same build (changed=0),
a key rotation (a change, through the restart handler), and the controller checks' refusals.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from galaxy_server import GalaxyServer
from test_operator_path import (
    HOSTS,
    INVENTORY,
    OPERATOR,
    PROJECT,
    VMS,
    assert_no_secret_in_outputs,
    assert_rotated,
    curl,
    edit_vault,
    galaxy_artifacts,
    inspect,
    play,
    run,
    state,
    tail,
    wait_healthy,
)

ROLE = PROJECT / "ansible" / "roles" / "regression_analyzer"
EXAMPLE_URL = "https://git.example.org/regression-analyzer.git"
UPSTREAM = OPERATOR / "upstream.git"  # this repository, as published
INFRA = OPERATOR / "infra"  # the operator's repository: role by ansible-galaxy, tarball source
INFRA_CHECKOUT = OPERATOR / "infra-checkout"  # the other way: a checkout on roles_path
OLDEST = OPERATOR / "venv-oldest"  # ansible-core at the role's declared minimum
# file:// submodules are refused by default since git 2.38 (CVE-2022-39253); a forge's https
# URL needs no such setting.
GIT_FILE_URLS = {
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "protocol.file.allow",
    "GIT_CONFIG_VALUE_0": "always",
}
# What the operator's repository keeps beside its inventory (not the role's own settings).
ANSIBLE_CFG = """\
[defaults]
{roles_path}
collections_path = {collections}
interpreter_python = auto_silent
retry_files_enabled = false
host_key_checking = true

[ssh_connection]
pipelining = true
"""


def readme_blocks(kind: str) -> list[str]:
    """The role README's code blocks of one language, in order."""
    text = (ROLE / "README.md").read_text()
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.S)


def minimum_ansible_core() -> str:
    meta = yaml.safe_load((ROLE / "meta" / "main.yml").read_text())
    return str(meta["galaxy_info"]["min_ansible_version"])


def version() -> str:
    return re.search(r'(?m)^version\s*=\s*"([^"]+)"', (PROJECT / "pyproject.toml").read_text())[1]


def git(*args: str, cwd: Path = OPERATOR) -> None:
    done = run(["git", *args], cwd=cwd, env=GIT_FILE_URLS)
    assert done.returncode == 0, (args, tail(done))


DEBIAN_12, DEBIAN_13 = list(HOSTS)
host = VMS[DEBIAN_12]


def playbook(
    infra: Path, *extra: str, venv: Path = OLDEST, env: dict | None = None, limit: str = DEBIAN_12
) -> tuple[subprocess.CompletedProcess, dict[str, int]]:
    """`ansible-playbook site.yml -i inventories/staging --limit HOST ...` in an operator's
    repository."""
    return play(
        "site.yml",
        "inventories/staging",
        "--limit",
        limit,
        *extra,
        venv=venv,
        cwd=infra,
        env=env or {},
    )


def install_into_oldest(*requirements: str) -> subprocess.CompletedProcess:
    """Install into the oldest-ansible-core controller with uv (the test tools' installer,
    from its cache) rather than pip: this controller is the test's, not the README's, and pip
    resolved and unpacked it anew on every run."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    python = str(OLDEST / "bin" / "python")
    return run([uv, "pip", "install", "-q", "--python", python, *requirements])


def infra_repository(path: Path, roles_path: str) -> None:
    """A repository of the operator's: ansible.cfg, the inventory, the README's playbook."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()
    git("init", "-q", str(path))
    shutil.copytree(INVENTORY, path / "inventories" / "staging")
    (path / "ansible.cfg").write_text(
        ANSIBLE_CFG.format(roles_path=roles_path, collections=INFRA / "collections")
    )
    (path / "site.yml").write_text(readme_blocks("yaml")[1])


@pytest.fixture(scope="module", autouse=True)
def repositories() -> None:
    """This repository published with a release tag; the operator's two repositories; the
    controller with the oldest supported ansible-core and the README's requirements."""
    state["operator_outputs"] = len(state["outputs"])
    tag = f"v{version()}"
    if UPSTREAM.exists():
        shutil.rmtree(UPSTREAM)
    git("clone", "-q", "--bare", str(PROJECT), str(UPSTREAM))
    # -f: the release's own tag (v0.2.0 ...) comes along with the clone and may name an
    # earlier commit; in this private copy it names the code under test.
    git("tag", "-f", tag, "HEAD", cwd=UPSTREAM)
    url = f"file://{UPSTREAM}"

    if OLDEST.exists():
        shutil.rmtree(OLDEST)
    made = run(["python3", "-m", "venv", "--without-pip", str(OLDEST)])
    assert made.returncode == 0, made.stderr
    pip = install_into_oldest(f"ansible-core=={minimum_ansible_core()}.*", "docker>=7")
    assert pip.returncode == 0, tail(pip)

    # ansible-galaxy from the git URL; the app's source as a release tarball.
    roles_cfg = next(b for b in readme_blocks("ini") if "roles_path = roles\n" in b)
    infra_repository(INFRA, roles_cfg.split("[defaults]\n", 1)[1].strip())
    (INFRA / "requirements.yml").write_text(
        readme_blocks("yaml")[0].replace(EXAMPLE_URL, url).replace("v0.1.0", tag)
    )
    tarball = INFRA / "files" / f"regression-analyzer-{version()}.tar.gz"
    tarball.parent.mkdir()
    git(
        "archive",
        f"--prefix=regression-analyzer-{version()}/",
        "-o",
        str(tarball),
        tag,
        cwd=UPSTREAM,
    )
    source_line = re.search(
        r"`(regression_analyzer_source_dir: .*?)`", (ROLE / "README.md").read_text()
    )[1].replace("0.1.0", version())
    with (INFRA / "inventories/staging/group_vars/regression_analyzer/vars.yml").open("a") as f:
        f.write(source_line + "\n")
    install = next(b for b in readme_blocks("bash") if "ansible-galaxy role install" in b)
    with GalaxyServer(galaxy_artifacts(OPERATOR / "galaxy")) as galaxy:
        for line in install.strip().splitlines():
            done = run(
                ["bash", "-c", line],
                venv=OLDEST,
                cwd=INFRA,
                env={"ANSIBLE_GALAXY_SERVER": galaxy.url},
            )
            assert done.returncode == 0, (line, tail(done))

    # A checkout on roles_path (a submodule at the release tag): source_dir keeps its default.
    checkout_cfg = next(b for b in readme_blocks("ini") if "vendor/" in b)
    infra_repository(INFRA_CHECKOUT, checkout_cfg.split("[defaults]\n", 1)[1].strip())
    for line in readme_blocks("bash")[0].strip().splitlines():
        done = run(
            ["bash", "-c", line.replace(EXAMPLE_URL, url).replace("v0.1.0", tag)],
            cwd=INFRA_CHECKOUT,
            env=GIT_FILE_URLS,
        )
        assert done.returncode == 0, (line, tail(done))

    # The operator's deploys ran from this checkout, tagged as a release only when HEAD is one
    # (files/image_tag.py, tested in tests/deployment/test_role_image_tag.py); the private copy
    # above is always tagged. So that these tests ask what they are about (the same sources are
    # the same build: no change, the same container), both repositories name the tag that runs.
    for repository in (INFRA, INFRA_CHECKOUT):
        vars_file = repository / "inventories/staging/group_vars/regression_analyzer/vars.yml"
        with vars_file.open("a") as f:
            f.write(f'regression_analyzer_image_tag: "{running_tag()}"\n')


def running_tag() -> str:
    """The image tag the operator's last deploy named (`HOST runs NAME:TAG (version ...`)."""
    named = re.findall(r"runs regression-analyzer:(\S+) \(version", "".join(state["outputs"]))
    assert named, "no deploy summary in the operator's outputs"
    return named[-1]


def test_the_role_and_the_collections_install_from_the_readme():
    role = INFRA / "roles" / "regression_analyzer"
    assert (role / "tasks" / "main.yml").read_text() == (ROLE / "tasks" / "main.yml").read_text()
    info = yaml.safe_load((role / "meta" / ".galaxy_install_info").read_text())
    assert info["version"] == f"v{version()}"
    pinned = yaml.safe_load((PROJECT / "ansible" / "requirements.yml").read_text())
    for entry in pinned["collections"]:
        namespace, name = entry["name"].split(".")
        manifest = (
            INFRA / "collections" / "ansible_collections" / namespace / name / "MANIFEST.json"
        )
        assert json.loads(manifest.read_text())["collection_info"]["version"] == entry["version"]


def test_the_oldest_ansible_core_deploys_the_release_tarball_as_the_same_build():
    before = inspect(host)
    result, recap = playbook(INFRA)
    assert result.returncode == 0, tail(result)
    out = result.stdout
    assert f"[core {minimum_ansible_core()}." in run(["ansible", "--version"], venv=OLDEST).stdout
    # The tarball was unpacked on the controller and read as the source...
    unpacked = list(
        (OPERATOR / "home" / ".cache" / "regression-analyzer").glob("*/*/pyproject.toml")
    )
    assert len(unpacked) == 1, unpacked
    # ...and it is the same build as the checkout's: nothing to change, the same container,
    # also on the engine that test_operator_path.py remapped last (userns-remap on).
    assert recap["changed"] == 0 and recap["failed"] == 0, tail(result)
    assert inspect(host)["Id"] == before["Id"]
    assert "name=userns" in host.check_output("docker info --format '{{json .SecurityOptions}}'")
    labels = json.loads(
        host.check_output(
            f"docker image inspect -f '{{{{json .Config.Labels}}}}' {before['Image']}"
        )
    )
    assert (
        f"1 host(s) run source {labels['io.github.regression-analyzer.context-sha256'][:12]}" in out
    )
    wait_healthy(host)
    code, body = curl(host, f"/results/{state['jobs'][DEBIAN_12]}")
    assert code == 200 and json.loads(body)["status"] == "completed"


def test_a_checkout_on_roles_path_is_the_same_build_too():
    role = INFRA_CHECKOUT / "vendor" / "regression-analyzer" / "ansible" / "roles"
    assert (role / "regression_analyzer" / "meta" / "main.yml").is_file()
    result, recap = playbook(INFRA_CHECKOUT, "--check")
    assert result.returncode == 0, tail(result)
    assert recap["changed"] == 0 and recap["failed"] == 0, tail(result)


def test_a_key_rotation_by_the_oldest_ansible_core_restarts_the_same_container():
    """A deploy that changes something (secret file, restart handler) on the minimum too."""
    before = inspect(host)
    state["key"] = f"sk-ant-TEST-third-party-{secrets.token_hex(8)}"
    state["secrets"].add(state["key"])
    vault = INFRA / "inventories/staging/group_vars/regression_analyzer/vault.yml"
    edit_vault("vault_regression_analyzer_anthropic_api_key", state["key"], vault, OLDEST)
    result, recap = playbook(INFRA)
    assert result.returncode == 0, tail(result)
    assert recap["changed"] > 0, tail(result)
    assert_rotated(DEBIAN_12, before, state["key"])


def test_a_missing_collection_is_named_before_any_task_runs_on_a_host():
    empty = OPERATOR / "no-collections"
    empty.mkdir(exist_ok=True)
    result, _recap = playbook(INFRA, env={"ANSIBLE_COLLECTIONS_PATH": str(empty)})
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "community.docker >= 4.8.5 (not installed)" in out, tail(result)
    assert "ansible-galaxy collection install -r ansible/requirements.yml" in out
    assert "couldn't resolve module" not in out
    assert "Preflight" not in out  # stopped in the controller checks


def test_the_oldest_ansible_core_is_refused_on_debian_13_with_the_release_it_needs():
    result, _ = playbook(INFRA, "--check", limit=DEBIAN_13)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"which ansible-core {minimum_ansible_core()}." in out, tail(result)
    assert "use ansible-core 2.18 or later" in out


def test_an_older_ansible_core_is_refused_with_the_minimum():
    major, minor = minimum_ansible_core().split(".")[:2]
    older = f"{major}.{int(minor) - 1}"
    pip = install_into_oldest(f"ansible-core=={older}.*")
    assert pip.returncode == 0, tail(pip)
    result, _ = playbook(INFRA)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"needs ansible-core >= {minimum_ansible_core()}" in out, tail(result)
    assert f"this controller runs ansible-core {older}." in out


def test_no_secret_in_the_third_party_runs():
    third_party_runs = len(state["outputs"]) - state["operator_outputs"]
    assert third_party_runs >= 5
    assert_no_secret_in_outputs()
