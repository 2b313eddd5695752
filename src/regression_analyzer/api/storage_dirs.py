"""Start-up check that the service can write where it keeps uploads and results.

Without it, a folder the service's uid cannot write (a bind mount Docker created as root, a
checkout owned by another user, a read-only mount) surfaces as a PermissionError deep in the
first store that touches it, and in a container as a restart loop with no hint. Checked
once, before the server binds its port, so the message names the variable, the folder, the
uid and the fix.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from ..errors import ConfigurationError
from ..settings import Settings


def check_storage_dirs(settings: Settings) -> None:
    """Create DATA_DIR, OUTPUT_DIR and their sub-folders if missing and prove each writable.

    Raises ConfigurationError with one line naming the first folder that fails.
    """
    for variable, folder in (
        ("DATA_DIR", settings.data_dir),
        ("DATA_DIR", settings.uploads_dir),
        ("OUTPUT_DIR", settings.output_dir),
        ("OUTPUT_DIR", settings.jobs_dir),
    ):
        _check_writable(variable, folder)


def _check_writable(variable: str, folder: Path) -> None:
    # Creating a file is the only reliable test: os.access ignores read-only mounts on some
    # kernels, ACLs and user-namespace mappings.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigurationError(_explain(variable, folder, exc)) from None


def _explain(variable: str, folder: Path, error: OSError) -> str:
    uid, gid = os.geteuid(), os.getegid()
    where = Path(os.path.abspath(folder))
    reason = error.strerror or type(error).__name__
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return (
            f"{variable} folder {where} cannot be created: a file stands in its place "
            f"({reason}); move the file, or set {variable} to another folder"
        )
    head = f"{variable} folder {where} is not writable by uid {uid} (gid {gid}): {reason}"
    if error.errno == errno.EROFS:
        return f"{head}; mount it read-write, or set {variable} to a writable folder"
    owner = _nearest_existing(where)
    try:
        info = owner.stat()
        mode = info.st_mode & 0o7777
        found = f"; {owner} belongs to uid {info.st_uid}:{info.st_gid}, mode {mode:o}"
    except OSError:
        found = ""
    return (
        f"{head}{found}. Fix: `sudo chown -R {uid}:{gid} {owner}` (in a container: the host "
        f"folder mounted there, or use a named volume), or set {variable} to a folder "
        f"uid {uid} can write"
    )


def _nearest_existing(path: Path) -> Path:
    """The path itself or its closest ancestor that exists (whose owner decides)."""
    for candidate in (path, *path.parents):
        try:
            candidate.stat()
        except OSError:
            continue
        return candidate
    return path
