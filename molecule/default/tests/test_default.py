"""Testinfra checks of the regression-analyzer deployment on the Molecule host.

Run by `molecule verify` (after converge, idempotence and the key-rotation side effect).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

CONTAINER = "regression-analyzer"
UID = 1000
GROUP = "regression-analyzer"
PORT = 8000
BASE = f"http://127.0.0.1:{PORT}/api/v1"
SECRETS_DIR = "/etc/regression-analyzer/secrets"
ENV_FILE = "/etc/regression-analyzer/regression-analyzer.env"

SCENARIO_DIR = Path(
    os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1])
)
PROJECT_DIR = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", SCENARIO_DIR.parents[1]))
# The sources converge deployed (molecule.yml: RA_SOURCE_DIR, else this checkout).
SOURCE_DIR = Path(os.environ.get("RA_SOURCE_DIR") or PROJECT_DIR)
VERSION = tomllib.loads((SOURCE_DIR / "pyproject.toml").read_text())["project"]["version"]
ROLE_FILES = PROJECT_DIR / "ansible" / "roles" / "regression_analyzer" / "files"
CONTEXT_PATHS = yaml.safe_load(
    (ROLE_FILES.parent / "defaults" / "main.yml").read_text(encoding="utf-8")
)["regression_analyzer_build_context_paths"]


def _tag_decision() -> dict:
    """What the role's files/image_tag.py says about the sources (the default image tag)."""
    out = subprocess.run(
        [
            sys.executable,
            str(ROLE_FILES / "image_tag.py"),
            str(SOURCE_DIR),
            str(SOURCE_DIR),
            *CONTEXT_PATHS,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


# The default tag: the version for a release, <version>-dev.<12 hex of the context sha256>
# otherwise (a working tree or a copy: what these runs deploy). The side effect ends with the
# rollback to this image.
DECISION = _tag_decision()
IMAGE = f"regression-analyzer:{DECISION['tag']}"
IMAGES_KEPT = 3
EPHEMERAL_DIR = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
VAULT_PASSWORD_FILE = PROJECT_DIR / "molecule" / "vault-password.test-only.txt"
# The values molecule.yml's group_vars set.
EXPECTED = {"memory": 1024**3, "memory_reservation": 256 * 1024**2, "cpus": 1.5, "cpu_shares": 512}


def _vault(name: str) -> dict:
    out = subprocess.run(
        [
            "ansible-vault",
            "view",
            "--vault-password-file",
            str(VAULT_PASSWORD_FILE),
            str(SCENARIO_DIR / name),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return yaml.safe_load(out)


@pytest.fixture(scope="module")
def vaults() -> tuple[dict, dict]:
    return _vault("vault.yml"), _vault("vault-rotated.yml")


@pytest.fixture(scope="module")
def secret_values(vaults) -> set[str]:
    values = {v for vault in vaults for v in vault.values() if v}
    # The test-only TLS keys of side_effect.yml's certificate rotation (when it ran): no line
    # of the body of either PEM key in any output either.
    tls = Path(EPHEMERAL_DIR or "/nonexistent") / "tls"
    for key in sorted(tls.glob("*.key")):
        values.update(key.read_text().strip().splitlines()[1:-1])
    return values


@pytest.fixture(scope="module")
def inspect(host) -> dict:
    out = host.check_output(f"docker inspect {CONTAINER}")
    return json.loads(out)[0]


def test_container_running(inspect):
    assert inspect["State"]["Running"] is True
    assert inspect["Config"]["Image"] == IMAGE


def test_configured_user_is_1000_with_the_service_group(host, inspect):
    gid = host.group(GROUP).gid
    assert inspect["Config"]["User"] == f"{UID}:{gid}"


def test_main_process_runs_as_1000(host, inspect):
    pid = inspect["State"]["Pid"]
    uids = host.check_output(f"awk '/^Uid:/ {{print $2, $3}}' /proc/{pid}/status").split()
    assert uids == [str(UID), str(UID)]
    gids = host.check_output(f"awk '/^Gid:/ {{print $2, $3}}' /proc/{pid}/status").split()
    assert gids == [str(host.group(GROUP).gid)] * 2
    assert host.check_output(f"docker exec {CONTAINER} id -u").strip() == str(UID)


def test_docker_reports_healthy(host):
    for _ in range(30):
        status = host.check_output(
            f"docker inspect -f '{{{{.State.Health.Status}}}}' {CONTAINER}"
        ).strip()
        if status == "healthy":
            break
        time.sleep(2)
    assert status == "healthy"


def test_health_endpoint_answers_200(host):
    code = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' {BASE}/health")
    assert code == "200"


def test_limits_and_reservations(inspect):
    hc = inspect["HostConfig"]
    assert hc["Memory"] == EXPECTED["memory"]
    assert hc["MemoryReservation"] == EXPECTED["memory_reservation"]
    assert hc["NanoCpus"] == int(EXPECTED["cpus"] * 1e9)
    assert hc["CpuShares"] == EXPECTED["cpu_shares"]


def test_hardening(inspect):
    hc = inspect["HostConfig"]
    assert hc["ReadonlyRootfs"] is True
    assert {"noexec", "nosuid", "nodev"} <= set(hc["Tmpfs"]["/tmp"].split(","))
    assert hc["PidsLimit"] == 256
    assert hc["CapDrop"] == ["ALL"] or "ALL" in hc["CapDrop"]
    assert any(o.startswith("no-new-privileges") for o in hc["SecurityOpt"])
    assert hc["RestartPolicy"]["Name"] == "unless-stopped"
    assert hc["LogConfig"]["Type"] == "json-file"
    assert hc["LogConfig"]["Config"] == {"max-size": "5m", "max-file": "3"}
    assert hc["PortBindings"]["8000/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(PORT)}]


def test_volumes(inspect):
    mounts = {m["Destination"]: m for m in inspect["Mounts"]}
    assert mounts["/data"]["Source"] == "/data" and mounts["/data"]["RW"]
    assert mounts["/output"]["Source"] == "/output" and mounts["/output"]["RW"]
    assert mounts["/run/secrets"]["Source"] == SECRETS_DIR and not mounts["/run/secrets"]["RW"]


@pytest.mark.parametrize("path", ["/data", "/output"])
def test_host_dirs_belong_to_root_and_the_service_group(host, path):
    d = host.file(path)
    assert d.is_directory
    assert (d.user, d.group, d.mode) == ("root", GROUP, 0o2770)


def test_upload_lands_in_host_data_dir(host):
    marker = f"verify-{int(time.time())}"
    host.run_test("printf 'x,y\\n1,2\\n2,4\\n3,7\\n4,8\\n' > /tmp/%s.csv", marker)
    out = host.check_output(f"curl -sf -F file=@/tmp/{marker}.csv {BASE}/upload")
    info = json.loads(out)
    stored = host.file(f"/data/uploads/{info['upload_id']}/{info['filename']}")
    assert stored.exists
    assert (stored.uid, stored.group) == (UID, GROUP)
    assert stored.content_string.startswith("x,y")


def test_env_file_mode_and_no_secret(host, secret_values):
    f = host.file(ENV_FILE)
    assert (f.user, f.group, f.mode) == ("root", "root", 0o600)
    content = f.content_string
    assert "ANTHROPIC_API_KEY_FILE=/run/secrets/anthropic_api_key" in content
    assert "OPENAI_API_KEY_FILE=/run/secrets/openai_api_key" in content
    for value in secret_values:
        assert value not in content


def test_secret_files_hold_vaulted_keys(host, vaults):
    original, rotated = vaults
    d = host.file(SECRETS_DIR)
    assert (d.user, d.group, d.mode) == ("root", GROUP, 0o750)
    for name, key, allowed in [
        ("anthropic_api_key", "vault_regression_analyzer_anthropic_api_key", [original, rotated]),
        ("openai_api_key", "vault_regression_analyzer_openai_api_key", [original]),
    ]:
        f = host.file(f"{SECRETS_DIR}/{name}")
        assert (f.user, f.group, f.mode) == ("root", GROUP, 0o440)
        # after the side effect the Anthropic key is the rotated one; verify alone: the original
        assert f.content_string.strip() in {v[key] for v in allowed}
    # readable by uid 1000 inside the container (read-only mount)
    assert host.run(f"docker exec {CONTAINER} test -r /run/secrets/anthropic_api_key").rc == 0
    assert host.run(f"docker exec {CONTAINER} sh -c 'echo x > /run/secrets/x'").rc != 0
    assert not host.file(f"{SECRETS_DIR}/api_token").exists


def test_providers_configured(host):
    providers = json.loads(host.check_output(f"curl -sf {BASE}/providers"))
    configured = {p["name"]: p["configured"] for p in providers}
    assert configured.get("anthropic") and configured.get("openai")


def test_no_secret_in_docker_inspect_or_image_history(host, secret_values):
    dumps = [
        host.check_output(f"docker inspect {CONTAINER}"),
        host.check_output(f"docker image inspect {IMAGE}"),
        host.check_output(f"docker history --no-trunc {IMAGE}"),
    ]
    for value in secret_values:
        for dump in dumps:
            assert value not in dump


def test_no_secret_in_ansible_output(secret_values):
    assert EPHEMERAL_DIR, "run through molecule"
    log = Path(EPHEMERAL_DIR) / "ansible.log"
    assert log.exists(), f"{log}: ANSIBLE_LOG_PATH not set?"
    text = log.read_text(errors="replace")
    assert "Build regression-analyzer" in text or "regression_analyzer" in text
    for value in secret_values:
        assert value not in text, "a secret value appeared in ansible's output"


def test_image_rebuilt_only_for_new_source(host):
    label = host.check_output(
        "docker image inspect -f "
        + shlex.quote('{{ index .Config.Labels "io.github.regression-analyzer.context-sha256" }}')
        + f" {IMAGE}"
    ).strip()
    assert len(label) == 64


def test_image_tag_is_the_version_or_a_dev_tag_of_the_context(host, inspect):
    label = host.check_output(
        "docker image inspect -f "
        + shlex.quote('{{ index .Config.Labels "io.github.regression-analyzer.context-sha256" }}')
        + f" {IMAGE}"
    ).strip()
    assert label == DECISION["context_sha256"]
    if DECISION["release"]:
        assert DECISION["tag"] == VERSION
    else:
        assert re.fullmatch(rf"{re.escape(VERSION)}-dev\.[0-9a-f]{{12}}", DECISION["tag"])
        assert DECISION["tag"].endswith(label[:12])
    version = json.loads(host.check_output(f"curl -sf {BASE}/health"))["version"]
    assert version == DECISION["tag"]  # the image's VERSION build argument is its tag


def _our_images(host, *filters: str) -> list[dict]:
    args = " ".join(f"--filter {shlex.quote(f)}" for f in filters)
    out = host.check_output(f"docker images --no-trunc --format '{{{{json .}}}}' {args}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_images_beyond_the_kept_ones_were_removed(host, inspect):
    images = _our_images(host, "reference=regression-analyzer")
    ids = {image["ID"] for image in images}
    assert len(ids) == IMAGES_KEPT, images
    assert inspect["Image"] in ids  # never the one the container runs
    tags = {f"{image['Repository']}:{image['Tag']}" for image in images}
    # prepare made 0.0.1, 0.0.2 and 0.0.3: the oldest is gone after the first deploy
    assert "regression-analyzer:0.0.1" not in tags
    # no untagged image of ours is left behind by the rebuild under the same tag
    assert (
        _our_images(host, "dangling=true", "label=io.github.regression-analyzer.context-sha256")
        == []
    )
