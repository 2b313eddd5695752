"""The image refuses to start on what would otherwise be a silent restart loop: a /data or
/output that uid 1000 cannot write, or an invalid setting. Exit code 2 and one line that
names the folder or variable, the uid and the fix."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers.containers import APP_UID, docker, host_dir
from tests.helpers.startup import one_line

pytestmark = [pytest.mark.container]

# As docker-compose.yml and the Ansible role run it.
HARDENED = ["--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,nodev", "--cap-drop", "ALL"]


def start_once(image: str, *options: str) -> subprocess.CompletedProcess[str]:
    """`docker run` in the foreground: its exit code and what the container printed."""
    return docker("run", "--rm", *HARDENED, *options, image, check=False, timeout=90)


def test_root_owned_data_folder(image: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """What Docker does to a missing bind-mount source: creates it owned by root."""
    data = tmp_path_factory.mktemp("root-owned-data")
    os.chmod(data, 0o755)  # owned by the test's user (root in CI): not uid 1000
    output = host_dir(tmp_path_factory, "output")
    line = one_line(start_once(image, "-v", f"{data}:/data", "-v", f"{output}:/output"))
    assert line.startswith(
        f"error: DATA_DIR folder /data is not writable by uid {APP_UID} (gid {APP_UID}): "
        "Permission denied"
    )
    assert f"sudo chown -R {APP_UID}:{APP_UID} /data" in line
    assert "host folder mounted there" in line


def test_read_only_output(image: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    data, output = host_dir(tmp_path_factory, "data"), host_dir(tmp_path_factory, "output")
    line = one_line(start_once(image, "-v", f"{data}:/data", "-v", f"{output}:/output:ro"))
    assert line.startswith(
        f"error: OUTPUT_DIR folder /output is not writable by uid {APP_UID} (gid {APP_UID}): "
        "Read-only file system; mount it read-write"
    )
    # DATA_DIR passed (its uploads/ exists, no probe file left), nothing else was written.
    assert [p.name for p in data.iterdir()] == ["uploads"]
    assert not any((data / "uploads").iterdir())


def test_invalid_setting(image: str) -> None:
    line = one_line(start_once(image, "-e", "RATE_LIMIT=abc"))
    assert line.startswith("error: RATE_LIMIT='abc' is invalid: input should be a valid integer")
    assert "analyses per minute per client" in line
