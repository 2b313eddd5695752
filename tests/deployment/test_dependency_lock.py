"""requirements.lock (and requirements-build.lock, requirements-sbom.lock) against pyproject.toml.

The image installs only from the locks (`pip install --require-hashes --no-deps`), so a lock
that misses a dependency, pins a version pyproject.toml refuses, lacks a hash or drags in a
development tool breaks the image or ships something untested. Refresh the locks with the
commands in docs/container.md ("Dependency lock").
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers.requirements_lock import Locked, parse_lock

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SELF = "regression-analyzer (pyproject.toml)"


def pinned_version(entry: Locked) -> str:
    (spec,) = entry.requirement.specifier
    assert spec.operator == "==", f"{entry.requirement}: not pinned with =="
    return spec.version


@pytest.fixture(scope="module")
def lock() -> list[Locked]:
    return parse_lock(ROOT / "requirements.lock")


@pytest.fixture(scope="module")
def build_lock() -> list[Locked]:
    return parse_lock(ROOT / "requirements-build.lock")


@pytest.fixture(scope="module")
def sbom_lock() -> list[Locked]:
    return parse_lock(ROOT / "requirements-sbom.lock")


def test_every_runtime_dependency_is_pinned_to_an_allowed_version(lock: list[Locked]) -> None:
    for text in PYPROJECT["project"]["dependencies"]:
        wanted = Requirement(text)
        name = canonicalize_name(wanted.name)
        entries = [e for e in lock if e.name == name]
        assert entries, f"{name} (pyproject.toml) is not in requirements.lock"
        for entry in entries:
            version = pinned_version(entry)
            assert wanted.specifier.contains(version, prereleases=True), (
                f"lock pins {name}=={version}, pyproject.toml wants {wanted.specifier}"
            )
        in_image = [e for e in entries if e.applies_in_image]
        assert len(in_image) == 1, f"{name}: {len(in_image)} entries apply on CPython 3.11"


def test_every_locked_requirement_is_pinned_and_hashed(
    lock: list[Locked], build_lock: list[Locked], sbom_lock: list[Locked]
) -> None:
    for entry in lock + build_lock + sbom_lock:
        pinned_version(entry)
        assert entry.hashes, f"{entry.requirement}: no --hash"
        for value in entry.hashes:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", value), (entry.requirement, value)


def test_no_dev_only_package_in_the_lock(lock: list[Locked]) -> None:
    runtime = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    dev = {
        canonicalize_name(Requirement(r).name)
        for extra in PYPROJECT["project"].get("optional-dependencies", {}).values()
        for r in extra
    }
    # A direct requirement of the project that is not a runtime dependency came from an extra.
    for entry in lock:
        if SELF in entry.via:
            assert entry.name in runtime, f"{entry.name} is locked as a direct dependency"
    # Extras' packages may only be there because a runtime dependency needs them
    # (markdown-it-py comes with rich): follow the `# via` chain down to pyproject.toml.
    by_name = {e.name: e for e in lock}
    needed = set(runtime)
    changed = True
    while changed:
        changed = False
        for entry in lock:
            vias = {canonicalize_name(v) for v in entry.via if v != SELF}
            if entry.name not in needed and vias & needed:
                needed.add(entry.name)
                changed = True
    assert set(by_name) <= needed, f"not needed at runtime: {sorted(set(by_name) - needed)}"
    assert not (dev - needed) & set(by_name), sorted((dev - needed) & set(by_name))
    for tool in ("pytest", "ruff", "mypy", "molecule", "ansible", "uv", "hypothesis"):
        assert tool not in by_name, tool


def test_build_lock_pins_the_build_system(build_lock: list[Locked]) -> None:
    names = {e.name: e for e in build_lock}
    for text in PYPROJECT["build-system"]["requires"]:
        wanted = Requirement(text)
        entry = names.get(canonicalize_name(wanted.name))
        assert entry is not None, f"{wanted.name} missing from requirements-build.lock"
        assert wanted.specifier.contains(pinned_version(entry), prereleases=True)


def test_sbom_lock_pins_the_sbom_group(sbom_lock: list[Locked]) -> None:
    """The SBOM stage installs exactly this lock; it must hold what pyproject.toml's `sbom`
    dependency group asks for, and each name once for the image's Python."""
    names = {e.name: e for e in sbom_lock if e.applies_in_image}
    assert len(names) == len([e for e in sbom_lock if e.applies_in_image])
    for text in PYPROJECT["dependency-groups"]["sbom"]:
        wanted = Requirement(text)
        entry = names.get(canonicalize_name(wanted.name))
        assert entry is not None, f"{wanted.name} missing from requirements-sbom.lock"
        assert wanted.specifier.contains(pinned_version(entry), prereleases=True)
