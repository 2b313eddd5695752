#!/usr/bin/env python3
"""Decide the image tag of a build: the version for a release, a unique tag for anything else.

Usage: image_tag.py SOURCE SOURCE_ROOT [CONTEXT_PATH...]

SOURCE is regression_analyzer_source_dir as given (a folder or a release tarball), SOURCE_ROOT
the folder files/source_tree.py found (the tarball unpacked), CONTEXT_PATHs the role's
regression_analyzer_build_context_paths. Prints one JSON object:

  {"version": "0.3.0", "context_sha256": "<64 hex>", "lock_sha256": "<64 hex>",
   "release": true, "tag": "0.3.0", "reason": "..."}
(lock_sha256: of the dependency lock, requirements.lock, or "none" without one; the build
labels the image with it.)

The source is a release, and the tag the bare version, when it is
  * a release tarball (SOURCE is a .tar.gz/.tgz/.tar file: `git archive` of a release tag), or
  * a git checkout whose HEAD carries the tag v<version> (annotated or not) and whose build
    context has no uncommitted or untracked change (what `docker build` would send, and the
    CONTEXT_PATHs: a change anywhere else, docs/ or tests/, does not alter the image).
Anything else (an untagged commit, a change in src/, a plain folder that git cannot vouch for)
is tagged <version>-dev.<first 12 hex of the context's sha256>: the sha256 that
files/pack_context.py prints for the same source, so one source gives one tag, and a changed
source a new tag instead of overwriting the image a rollback would return to.
Errors are one line on stderr, exit 2.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pack_context import context_files, pack

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
VERSION_RE = re.compile(r'(?m)^version\s*=\s*"([^"]+)"')
DEV_HEX = 12
LOCK_FILE = "requirements.lock"


def read_version(root: Path) -> str:
    found = VERSION_RE.search((root / "pyproject.toml").read_text(encoding="utf-8"))
    if not found:
        raise ValueError(f"{root / 'pyproject.toml'} has no version")
    return found.group(1)


def git(root: Path, *args: str) -> str | None:
    """stdout of `git -C root ARGS`, or None when git fails (not a checkout, no git)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def changed_paths(root: Path) -> list[str] | None:
    """Paths (relative to root) with uncommitted or untracked changes; None: not a checkout."""
    prefix = git(root, "rev-parse", "--show-prefix")
    status = git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".")
    if prefix is None or status is None:
        return None
    prefix = prefix.strip()
    fields = status.split("\0")
    paths = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":  # a rename or copy: the next field is the original path
            paths.append(fields[i])
            i += 1
    return [p[len(prefix) :] for p in paths if p.startswith(prefix)]


def in_context(rel: str, files: set[str], context_paths: list[str]) -> bool:
    rel = rel.rstrip("/")
    if rel in files:
        return True
    return any(
        rel == path or rel.startswith(path + "/") or path.startswith(rel + "/")
        for path in (p.strip("/") for p in context_paths)
    )


def release_check(
    source: Path, root: Path, version: str, context_paths: list[str]
) -> tuple[bool, str]:
    """(is the source the release `version`?, why)."""
    if source.is_file() and source.name.endswith(ARCHIVE_SUFFIXES):
        return True, f"release tarball {source.name}"
    head = git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if head is None:
        return False, "not a git checkout (or git cannot read it)"
    tagged = git(root, "rev-parse", "--verify", "-q", f"refs/tags/v{version}^{{commit}}")
    if tagged is None or head.strip() != tagged.strip():
        return False, f"HEAD is not tagged v{version}"
    changed = changed_paths(root)
    if changed is None:
        return False, "git status failed"
    files = set(context_files(root, context_paths))
    dirty = sorted(rel for rel in changed if in_context(rel, files, context_paths))
    if dirty:
        more = f" (+{len(dirty) - 3} more)" if len(dirty) > 3 else ""
        listed = ", ".join(dirty[:3]) + more
        return False, f"v{version} at HEAD, but the build context has changes: {listed}"
    return True, f"git tag v{version} at HEAD, build context unchanged"


def decide(source: Path, root: Path, context_paths: list[str]) -> dict[str, object]:
    version = read_version(root)
    sha = hashlib.sha256(pack(root, context_paths)).hexdigest()
    release, reason = release_check(source, root, version, context_paths)
    lock = root / LOCK_FILE
    return {
        "version": version,
        "context_sha256": sha,
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else "none",
        "release": release,
        "tag": version if release else f"{version}-dev.{sha[:DEV_HEX]}",
        "reason": reason,
    }


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: image_tag.py SOURCE SOURCE_ROOT [CONTEXT_PATH...]", file=sys.stderr)
        return 2
    source = Path(sys.argv[1]).expanduser()
    root = Path(sys.argv[2]).expanduser().resolve()
    try:
        if not (root / "Dockerfile").is_file():
            raise ValueError(f"no Dockerfile in {root}")
        result = decide(source, root, sys.argv[3:])
    except (OSError, ValueError) as exc:
        print(f"image_tag.py: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
