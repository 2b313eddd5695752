"""The stored results of earlier releases (tests/fixtures/releases/, made by their own servers
with make_fixtures.py there): where they are and what their manifests say."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RELEASES = Path(__file__).resolve().parents[1] / "fixtures" / "releases"


@dataclass(frozen=True)
class ReleaseFixture:
    """One fixture folder: a release's DATA_DIR and OUTPUT_DIR (and dump.rdb, shared mode)."""

    path: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def completed(self) -> list[dict[str, str]]:
        return list(self.manifest["jobs"]["completed"])

    @property
    def failed(self) -> list[dict[str, str]]:
        return list(self.manifest["jobs"]["failed"])

    @property
    def unfinished(self) -> list[dict[str, str]]:
        return list(self.manifest["jobs"]["unfinished"])

    def stored_report(self, job_id: str) -> dict[str, Any]:
        text = (self.path / "output" / "jobs" / job_id / "report.json").read_text()
        return dict(json.loads(text))

    def copy_to(self, target: Path) -> Path:
        """The fixture copied (tests never touch the original); returns the copy's root."""
        shutil.copytree(self.path, target, dirs_exist_ok=True)
        # Folders git cannot keep (an empty job folder) are made by the job store as needed.
        return target

    def finished_files(self) -> dict[str, str]:
        """sha256 of every stored file except those of unfinished jobs (they run now)."""
        unfinished = {f"output/jobs/{job['job_id']}/" for job in self.unfinished}
        return {
            name: digest
            for name, digest in self.manifest["files"].items()
            if not name.startswith(tuple(unfinished)) and name != "dump.rdb"
        }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_fixtures(mode: str) -> list[ReleaseFixture]:
    """Every release's fixture of this mode ("local" or "shared"), oldest release first."""
    found = []
    for manifest in sorted(RELEASES.glob(f"*/{mode}/manifest.json")):
        found.append(ReleaseFixture(manifest.parent, json.loads(manifest.read_text())))
    return found
