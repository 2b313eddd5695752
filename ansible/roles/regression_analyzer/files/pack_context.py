#!/usr/bin/env python3
"""Pack a Docker build context into a reproducible tar.gz and print its sha256.

Usage: pack_context.py SOURCE_DIR OUTPUT [FALLBACK_PATH...]

The file list is what `docker build SOURCE_DIR` would send: everything not excluded by
SOURCE_DIR/.dockerignore (docker SDK's own matcher, docker.utils.build.exclude_paths), plus
the Dockerfile. Without the docker SDK on the controller, the FALLBACK_PATHs (relative to
SOURCE_DIR) are packed instead. Entries are sorted, owned by 0:0, mtime 0, gzip without a
timestamp: the same sources always give the same bytes, so the sha256 identifies them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path

SKIP_PARTS = {"__pycache__", ".git"}


def context_files(root: Path, fallback: list[str]) -> list[str]:
    try:
        from docker.utils.build import exclude_paths
    except ImportError:
        exclude_paths = None
    ignore = root / ".dockerignore"
    if exclude_paths is not None and ignore.is_file():
        patterns = [
            line.strip()
            for line in ignore.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        files = set(exclude_paths(str(root), patterns, dockerfile="Dockerfile"))
        files.add("Dockerfile")
        files.add(".dockerignore")
    else:
        files = set()
        for rel in fallback:
            path = root / rel
            if path.is_dir():
                files.update(str(p.relative_to(root)) for p in path.rglob("*"))
            elif path.exists():
                files.add(rel)
    keep = []
    for rel in files:
        path = root / rel
        if SKIP_PARTS.intersection(Path(rel).parts) or rel.endswith((".pyc", ".pyo")):
            continue
        if path.is_file() or path.is_dir():
            keep.append(rel)
    return sorted(keep)


def pack(root: Path, fallback: list[str]) -> bytes:
    """The context of ROOT as reproducible tar.gz bytes (their sha256 identifies the source).

    files/image_tag.py hashes the same bytes to name a build that is not a release."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in context_files(root, fallback):
            path = root / rel
            info = tar.gettarinfo(str(path), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if (path.is_dir() or os.access(path, os.X_OK)) else 0o644
            if path.is_file() and not path.is_symlink():
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


def main() -> int:
    root, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    if not (root / "Dockerfile").is_file():
        print(f"no Dockerfile in {root}", file=sys.stderr)
        return 1
    data = pack(root, sys.argv[3:])
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    print(hashlib.sha256(data).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
