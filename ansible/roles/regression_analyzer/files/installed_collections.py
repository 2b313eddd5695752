#!/usr/bin/env python3
"""Print, as JSON, the version of each named collection that ansible-playbook would load.

Usage: installed_collections.py PATHS_JSON SCAN_SYS_PATH NAME...

PATHS_JSON is the controller's COLLECTIONS_PATHS (a JSON list), SCAN_SYS_PATH its
COLLECTIONS_SCAN_SYS_PATH. Run with ansible-playbook's own Python (ansible_playbook_python),
so that sys.path is the one the `ansible` PyPI package installs its collections into. The
search order is Ansible's: the configured paths first, then sys.path; the first folder that
holds namespace/name wins. A missing collection maps to null; one without a version to "*".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def collection_roots(paths: list[str], scan_sys_path: bool) -> list[Path]:
    roots = []
    for entry in [*paths, *(sys.path if scan_sys_path else [])]:
        path = Path(entry or ".").expanduser()
        roots.append(path if path.name == "ansible_collections" else path / "ansible_collections")
    return roots


def version_in(folder: Path) -> str | None:
    manifest = folder / "MANIFEST.json"
    if manifest.is_file():
        info = json.loads(manifest.read_text(encoding="utf-8")).get("collection_info", {})
        return str(info.get("version") or "*")
    galaxy = folder / "galaxy.yml"
    if galaxy.is_file():  # a source checkout: read `version:` without needing PyYAML
        for line in galaxy.read_text(encoding="utf-8").splitlines():
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip().strip("'\"") or "*"
        return "*"
    return None


def main() -> int:
    paths = json.loads(sys.argv[1])
    scan = sys.argv[2].strip().lower() in ("true", "yes", "1", "on")
    found: dict[str, str | None] = {}
    for name in sys.argv[3:]:
        namespace, _, collection = name.partition(".")
        found[name] = None
        for root in collection_roots(paths, scan):
            folder = root / namespace / collection
            if folder.is_dir():
                found[name] = version_in(folder) or "*"
                break
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
