"""`regression-analyzer serve` refuses to start on what would break it later: an invalid
setting or a storage folder it cannot write. A real subprocess each time: exit code 2, one
line on stderr naming the variable, the folder, the uid and the fix, and no port bound."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from regression_analyzer.api.storage_dirs import check_storage_dirs
from regression_analyzer.settings import get_settings
from tests.helpers.ports import free_port
from tests.helpers.startup import one_line

# As root every folder is writable. Dropping the capabilities that bypass file permissions
# (root keeps its uid, so the venv's interpreter under /root stays readable) makes root meet
# the same "Permission denied" as any other user.
WITHOUT_DAC_BYPASS = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def serve(
    cwd: Path, env: dict[str, str], *, obey_permissions: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run `serve` until it exits (a server that starts instead fails the test by timeout)."""
    port = free_port()
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PORT": str(port)}
    prefix = WITHOUT_DAC_BYPASS if obey_permissions and os.geteuid() == 0 else []
    try:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "regression_analyzer.cli", "serve"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
            env={**base, **env},
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"serve did not exit on a bad start-up: {exc.stderr!r}") from None


@pytest.mark.parametrize(
    ("variable", "value", "expects"),
    [
        ("RATE_LIMIT", "abc", "valid integer"),
        ("PORT", "70000", "less than or equal to 65535"),
        ("LOG_LEVEL", "loud", "'DEBUG', 'INFO'"),
        ("WORKER_MEMORY_MB", "1", "greater than or equal to 64"),
    ],
)
def test_invalid_setting_names_the_variable(
    tmp_path: Path, variable: str, value: str, expects: str
) -> None:
    line = one_line(serve(tmp_path, {variable: value}))
    assert line.startswith(f"error: {variable}=")
    assert value.upper() in line.upper() and expects in line
    assert "ValidationError" not in line
    assert not (tmp_path / "data").exists()  # refused before anything was created


def test_unwritable_data_dir_names_folder_uid_and_fix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o555)
    os.chmod(data, 0o555)
    uid = os.geteuid()
    line = one_line(serve(tmp_path, {}, obey_permissions=True))
    assert line.startswith(f"error: DATA_DIR folder {data} is not writable by uid {uid}")
    assert "Permission denied" in line
    assert f"chown -R {uid}:" in line and str(data) in line


def test_unwritable_sub_folder_is_found_before_the_first_upload(tmp_path: Path) -> None:
    """A writable OUTPUT_DIR whose jobs/ folder another user owns (e.g. an earlier run as
    root) fails at start-up, not at the first analysis."""
    output = tmp_path / "output"
    (output / "jobs").mkdir(parents=True)
    os.chmod(output / "jobs", 0o555)
    line = one_line(serve(tmp_path, {}, obey_permissions=True))
    assert f"OUTPUT_DIR folder {output / 'jobs'} is not writable" in line


def test_file_in_place_of_folder(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("not a folder")
    line = one_line(serve(tmp_path, {"OUTPUT_DIR": str(tmp_path / "blocker" / "out")}))
    assert f"OUTPUT_DIR folder {tmp_path / 'blocker' / 'out'} cannot be created" in line
    assert "a file stands in its place" in line


def test_writable_folders_are_created_and_left_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("OUTPUT_DIR", str(tmp_path / "o"))
    get_settings.cache_clear()
    try:
        check_storage_dirs(get_settings())
    finally:
        get_settings.cache_clear()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "d",
        "d/uploads",
        "o",
        "o/jobs",
    ]  # the folders the stores use, and no probe file left behind
