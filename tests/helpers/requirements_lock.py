"""The entries of the requirements*.lock files (`uv pip compile --generate-hashes`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# What the image runs: Debian 12's CPython 3.11 (or python:3.11-slim) on Linux x86_64.
IMAGE_ENV = {
    **default_environment(),
    "python_version": "3.11",
    "python_full_version": "3.11.2",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


@dataclass
class Locked:
    requirement: Requirement
    hashes: list[str]
    via: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def applies_in_image(self) -> bool:
        marker = self.requirement.marker
        return marker is None or marker.evaluate(IMAGE_ENV)


def parse_lock(path: Path) -> list[Locked]:
    """Entries of a `uv pip compile --generate-hashes` file, with their `# via` annotations."""
    entries: list[Locked] = []
    logical = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#"):
            text = line.lstrip("#").strip()
            if entries and not logical and text != "via":
                entries[-1].via.append(text.removeprefix("via ").strip())
            continue
        logical += " " + line.removesuffix("\\")
        if line.endswith("\\"):
            continue
        if logical.strip():
            spec, *hash_parts = logical.split("--hash=")
            hashes = [h.strip() for h in hash_parts]
            entries.append(Locked(Requirement(spec.strip()), hashes))
        logical = ""
    return entries
