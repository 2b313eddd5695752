"""The role's image tag decision (ansible/roles/regression_analyzer/files/image_tag.py).

A release (HEAD tagged v<version>, build context clean; or a release tarball) is tagged with
the bare version; anything else with <version>-dev.<12 hex of the context sha256>, the sha256
files/pack_context.py prints. Each case on a real temporary git repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "ansible" / "roles" / "regression_analyzer" / "files"
CONTEXT_PATHS = ["pyproject.toml", "README.md", "src", "Dockerfile", ".dockerignore"]
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout


def decide(source: Path, root: Path | None = None) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            str(FILES / "image_tag.py"),
            str(source),
            str(root or source),
            *CONTEXT_PATHS,
        ],
        capture_output=True,
        text=True,
        env=GIT_ENV,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def context_sha(root: Path, tmp_path: Path) -> str:
    done = subprocess.run(
        [
            sys.executable,
            str(FILES / "pack_context.py"),
            str(root),
            str(tmp_path / "c.tar.gz"),
            *CONTEXT_PATHS,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small checkout of version 0.3.0 with the release tag v0.3.0 (annotated) at HEAD."""
    repo = tmp_path / "app"
    (repo / "src" / "app").mkdir(parents=True)
    (repo / "docs").mkdir()
    (repo / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.3.0"\n')
    (repo / "README.md").write_text("app\n")
    (repo / "Dockerfile").write_text("FROM scratch\n")
    (repo / "src" / "app" / "__init__.py").write_text("VALUE = 1\n")
    (repo / "docs" / "notes.md").write_text("notes\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "release 0.3.0")
    git(repo, "tag", "-a", "v0.3.0", "-m", "0.3.0")
    return repo


def assert_dev_tag(found: dict, repo: Path, tmp_path: Path) -> None:
    sha = context_sha(repo, tmp_path)
    assert found["release"] is False
    assert found["context_sha256"] == sha
    assert found["tag"] == f"0.3.0-dev.{sha[:12]}"
    assert re.fullmatch(r"0\.3\.0-dev\.[0-9a-f]{12}", found["tag"])


def test_a_tagged_clean_checkout_is_the_release(repo: Path, tmp_path: Path):
    found = decide(repo)
    assert found["release"] is True, found["reason"]
    assert found["tag"] == "0.3.0" == found["version"]
    assert found["context_sha256"] == context_sha(repo, tmp_path)


def test_a_lightweight_tag_counts_too(repo: Path):
    git(repo, "tag", "-d", "v0.3.0")
    git(repo, "tag", "v0.3.0")
    assert decide(repo)["tag"] == "0.3.0"


def test_an_untagged_commit_gets_a_dev_tag(repo: Path, tmp_path: Path):
    (repo / "src" / "app" / "__init__.py").write_text("VALUE = 2\n")
    git(repo, "commit", "-q", "-am", "after the release")
    found = decide(repo)
    assert_dev_tag(found, repo, tmp_path)
    assert "not tagged v0.3.0" in found["reason"]


def test_a_tag_of_another_version_does_not_count(repo: Path, tmp_path: Path):
    git(repo, "tag", "-d", "v0.3.0")
    git(repo, "tag", "-a", "v0.2.0", "-m", "0.2.0")
    assert_dev_tag(decide(repo), repo, tmp_path)


def test_a_changed_file_in_src_gets_a_dev_tag(repo: Path, tmp_path: Path):
    (repo / "src" / "app" / "__init__.py").write_text("VALUE = 3\n")
    found = decide(repo)
    assert_dev_tag(found, repo, tmp_path)
    assert "src/app/__init__.py" in found["reason"]


def test_an_untracked_file_in_src_gets_a_dev_tag(repo: Path, tmp_path: Path):
    (repo / "src" / "app" / "extra.py").write_text("")
    assert_dev_tag(decide(repo), repo, tmp_path)


def test_a_staged_deletion_in_src_gets_a_dev_tag(repo: Path, tmp_path: Path):
    git(repo, "rm", "-q", "src/app/__init__.py")
    assert_dev_tag(decide(repo), repo, tmp_path)


def test_two_different_changes_get_two_different_tags(repo: Path):
    (repo / "src" / "app" / "__init__.py").write_text("VALUE = 4\n")
    first = decide(repo)["tag"]
    assert decide(repo)["tag"] == first  # the same source, the same tag
    (repo / "src" / "app" / "__init__.py").write_text("VALUE = 5\n")
    assert decide(repo)["tag"] != first


def test_a_change_outside_the_build_context_keeps_the_release(repo: Path):
    (repo / "docs" / "notes.md").write_text("edited\n")
    (repo / "CHANGELOG.md").write_text("untracked, not in the context\n")
    found = decide(repo)
    assert found["release"] is True and found["tag"] == "0.3.0"


def test_a_checkout_in_a_subfolder_of_a_repository(tmp_path: Path):
    outer = tmp_path / "infra"
    app = outer / "vendor" / "app"
    (app / "src").mkdir(parents=True)
    (app / "pyproject.toml").write_text('version = "0.3.0"\n')
    (app / "Dockerfile").write_text("FROM scratch\n")
    (app / "src" / "m.py").write_text("")
    git(outer, "init", "-q", "-b", "main")
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "vendored app")
    git(outer, "tag", "-a", "v0.3.0", "-m", "0.3.0")
    assert decide(app)["release"] is True
    (app / "src" / "new.py").write_text("")
    assert decide(app)["release"] is False


def test_a_release_tarball_is_the_release(repo: Path, tmp_path: Path):
    tarball = tmp_path / "app-0.3.0.tar.gz"
    git(repo, "archive", "--prefix=app-0.3.0/", "-o", str(tarball), "v0.3.0")
    unpacked = tmp_path / "cache"
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    found = decide(tarball, unpacked / "app-0.3.0")
    assert found["release"] is True and found["tag"] == "0.3.0"
    assert "tarball" in found["reason"]


def test_a_plain_folder_that_git_cannot_vouch_for_gets_a_dev_tag(repo: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ["pyproject.toml", "README.md", "Dockerfile"]:
        (copy / name).write_bytes((repo / name).read_bytes())
    (copy / "src").mkdir()
    assert decide(copy)["release"] is False


def test_a_source_without_a_dockerfile_is_refused_in_one_line(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('version = "1.0.0"\n')
    done = subprocess.run(
        [sys.executable, str(FILES / "image_tag.py"), str(tmp_path), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "no Dockerfile" in done.stderr and len(done.stderr.strip().splitlines()) == 1
