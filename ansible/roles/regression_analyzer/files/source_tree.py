#!/usr/bin/env python3
"""Print the folder that holds the app's source: a checkout, or a release tarball unpacked.

Usage: source_tree.py SOURCE CACHE_DIR

SOURCE is a folder (a checkout: printed as it is) or a .tar.gz/.tgz/.tar archive of the
repository (`git archive`, a forge's "source code" download), which is unpacked once into
CACHE_DIR/<sha256 of the archive>/ (Python's "data" filter: no links or paths out of it) and
reused on later runs. Either way the printed folder holds pyproject.toml. Errors are one line
on stderr, exit 2.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class SourceError(Exception):
    """The source cannot be used; the message says why and what to point at instead."""


def project_root(folder: Path) -> Path:
    """The folder itself, or the single top folder of an unpacked archive, with pyproject.toml."""
    if (folder / "pyproject.toml").is_file():
        return folder
    children = [child for child in folder.iterdir() if child.is_dir()]
    if len(children) == 1 and (children[0] / "pyproject.toml").is_file():
        return children[0]
    raise SourceError(f"{folder} holds no pyproject.toml")


def unpack(archive: Path, cache_dir: Path) -> Path:
    digest = hashlib.sha256()
    with archive.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    target = cache_dir / digest.hexdigest()
    if not hasattr(tarfile, "data_filter"):
        raise SourceError(
            f"unpacking {archive} safely needs Python 3.9.17+/3.10.12+/3.11.4+ on the controller"
            f" (this is {sys.version.split()[0]}); unpack it yourself and point at the folder"
        )
    if not target.is_dir():
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Unpack beside the target and rename: a run stopped halfway leaves no partial tree
        # that a later run would take for the source.
        scratch = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache_dir))
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(scratch, filter="data")
            os.replace(scratch, target)
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            if target.is_dir():  # another controller process won the race: use its tree
                return project_root(target)
            raise SourceError(f"cannot unpack {archive}: {exc}") from exc
    return project_root(target)


def main() -> int:
    source = Path(sys.argv[1]).expanduser()
    cache_dir = Path(sys.argv[2]).expanduser()
    try:
        if source.is_dir():
            root = project_root(source)
        elif source.is_file() and source.name.endswith(ARCHIVE_SUFFIXES):
            root = unpack(source, cache_dir)
        elif source.exists():
            raise SourceError(f"{source} is neither a folder nor a .tar.gz/.tgz/.tar archive")
        else:
            raise SourceError(f"{source} does not exist on the controller")
    except SourceError as exc:
        print(
            f"regression_analyzer_source_dir: {exc}; point it at a checkout of regression-analyzer"
            " or a release tarball of it",
            file=sys.stderr,
        )
        return 2
    print(root.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
