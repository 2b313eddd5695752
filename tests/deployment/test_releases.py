"""Releases: one version, written once (pyproject.toml), a CHANGELOG entry and a git tag each.

An operator upgrading reads the CHANGELOG's upgrade notes and checks out the tag; a rollback
names an earlier tag. These tests keep the three in step.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
ENTRY = re.compile(r"(?m)^## \[(?P<version>[^\]]+)\] - (?P<date>\d{4}-\d\d-\d\d)$")


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def changelog_entries() -> list[tuple[str, str, str]]:
    """(version, date, body) of each CHANGELOG entry, newest first as written."""
    text = (ROOT / "CHANGELOG.md").read_text()
    matches = list(ENTRY.finditer(text))
    ends = [m.start() for m in matches[1:]] + [len(text)]
    return [
        (m["version"], m["date"], text[m.end() : end]) for m, end in zip(matches, ends, strict=True)
    ]


def semver(text: str) -> tuple[int, ...]:
    match = SEMVER.match(text)
    assert match, f"{text!r} is not MAJOR.MINOR.PATCH"
    return tuple(int(part) for part in match.groups())


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def test_the_version_is_semantic_and_has_the_newest_changelog_entry():
    entries = changelog_entries()
    assert entries, "CHANGELOG.md has no entry"
    assert entries[0][0] == version(), "the newest CHANGELOG entry is not pyproject's version"
    versions = [semver(v) for v, _, _ in entries]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    dates = [d for _, d, _ in entries]
    assert dates == sorted(dates, reverse=True)


def test_every_release_after_the_first_has_upgrade_notes():
    for release, _, body in changelog_entries()[:-1]:
        notes = body.split("### Upgrade notes", 1)
        assert len(notes) == 2 and notes[1].strip(), f"{release}: no upgrade notes"


def test_the_kubernetes_overlay_deploys_this_version():
    kustomization = (
        ROOT / "deploy" / "kubernetes" / "overlays" / "production" / "kustomization.yaml"
    )
    images = yaml.safe_load(kustomization.read_text())["images"]
    tags = {image["name"]: image["newTag"] for image in images}
    assert tags["regression-analyzer"] == version()


def release_tags() -> list[str]:
    listed = git("tag", "--list", "v*")
    if listed.returncode != 0:
        pytest.skip("not a git checkout (a release tarball): no tags to compare")
    return listed.stdout.split()


def test_every_release_tag_is_annotated_has_an_entry_and_its_own_version():
    entries = {v for v, _, _ in changelog_entries()}
    for tag in release_tags():
        assert tag.startswith("v") and tag[1:] in entries, f"{tag}: no CHANGELOG entry"
        assert git("cat-file", "-t", tag).stdout.strip() == "tag", f"{tag} is not annotated"
        at_tag = git("show", f"{tag}:pyproject.toml").stdout
        assert tomllib.loads(at_tag)["project"]["version"] == tag[1:], f"{tag}: other version"
