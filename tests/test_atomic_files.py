"""write_atomic must be durable: the data is on disk before the rename, the rename after."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from regression_analyzer.atomic_files import write_atomic


def _record_syncs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every fsync and rename as ("file"|"dir", inode) / ("replace", inode)."""
    events: list[tuple[str, int]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        events.append(("dir" if stat.S_ISDIR(info.st_mode) else "file", info.st_ino))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(("replace", os.stat(src).st_ino))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_write_atomic_fsyncs_the_data_before_the_rename_and_the_directory_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")
    events = _record_syncs(monkeypatch)

    write_atomic(target, "new")

    assert target.read_text(encoding="utf-8") == "new"
    file_inode, dir_inode = target.stat().st_ino, tmp_path.stat().st_ino
    assert events == [("file", file_inode), ("replace", file_inode), ("dir", dir_inode)]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")

    with pytest.raises(TypeError):
        write_atomic(target, 123)  # type: ignore[arg-type]

    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
