"""What a deploy controller needs, declared once each and kept in step.

The collection pins of ansible/requirements.yml, the versions CI runs (the `ansible` package of
the dev extra), and the minimums the role checks on the controller; the deploy extra and the
deploy group of pyproject.toml with the role's minimum ansible-core; the role README's
variables table against argument_specs and defaults; and the two controller-side scripts the
role runs (collections found, source tree found), on real files.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "ansible" / "roles" / "regression_analyzer"
INSTALLED = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"


def load_script(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem.replace("-", "_"), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pinned() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "ansible" / "requirements.yml").read_text())
    return {entry["name"]: entry["version"] for entry in data["collections"]}


def test_the_pins_are_the_collections_ci_runs():
    for name, version in pinned().items():
        namespace, collection = name.split(".")
        manifest = json.loads((INSTALLED / namespace / collection / "MANIFEST.json").read_text())
        assert manifest["collection_info"]["version"] == version, name


def test_every_collection_the_role_and_playbooks_use_is_pinned_and_checked():
    used = set()
    for path in (ROOT / "ansible").rglob("*.yml"):
        for word in path.read_text().split():
            parts = word.rstrip(":").split(".")
            fqcn = len(parts) == 3 and parts[0] != "ansible" and parts[0].isidentifier()
            if fqcn and (INSTALLED / parts[0] / parts[1]).is_dir():
                used.add(f"{parts[0]}.{parts[1]}")
    assert used == {"community.docker"}
    checked = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())[
        "_regression_analyzer_collections"
    ]
    assert used <= set(checked) <= set(pinned())
    for name, minimum in checked.items():
        assert minimum == pinned()[name]


def test_the_role_readmes_requirements_example_pins_the_same_collections():
    readme = (ROLE / "README.md").read_text()
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "roles:" in b)
    collections = yaml.safe_load(example)["collections"]
    assert {entry["name"]: entry["version"] for entry in collections} == pinned()


def test_the_deploy_extra_and_group_ask_for_the_roles_minimum_ansible_core():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = project["project"]["optional-dependencies"]["deploy"]
    group = project["dependency-groups"]["deploy"]
    assert extra == group
    meta = yaml.safe_load((ROLE / "meta" / "main.yml").read_text())
    assert f"ansible-core>={meta['galaxy_info']['min_ansible_version']}" in extra
    assert any(req.startswith("docker") for req in extra)


def test_the_role_readme_lists_every_variable_as_argument_specs_says():
    render = load_script(ROOT / "scripts" / "render-role-readme.py")
    current, fresh = render.rendered_readme(ROLE)
    assert current == fresh, "run python scripts/render-role-readme.py"
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    for name in specs["argument_specs"]["main"]["options"]:
        assert f"| `{name}` |" in current


@pytest.fixture
def role_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "role"
    shutil.copytree(ROLE, copy)
    return copy


def test_the_readme_check_fails_on_a_stale_table_and_on_spec_drift(role_copy: Path):
    render = ROOT / "scripts" / "render-role-readme.py"

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(render), "--check", str(role_copy)],
            capture_output=True,
            text=True,
        )

    assert check().returncode == 0
    specs = role_copy / "meta" / "argument_specs.yml"
    original = specs.read_text()
    specs.write_text(original.replace("Container name.", "The container's name."))
    stale = check()
    assert stale.returncode == 1 and "out of date" in stale.stderr
    specs.write_text(original.replace("default: regression-analyzer\n", "default: other\n", 1))
    drift = check()
    assert drift.returncode == 1
    assert "regression_analyzer_image_name: argument_specs default 'other'" in drift.stderr
    specs.write_text(original)
    defaults = role_copy / "defaults" / "main.yml"
    defaults.write_text(defaults.read_text() + "regression_analyzer_undocumented: 1\n")
    missing = check()
    assert missing.returncode == 1
    assert "not argument_specs: regression_analyzer_undocumented" in missing.stderr


def run_role_script(name: str, *args: str, python: str = sys.executable):
    return subprocess.run(
        [python, str(ROLE / "files" / name), *args], capture_output=True, text=True
    )


def test_the_collection_lookup_follows_ansibles_search_order(tmp_path: Path):
    configured = tmp_path / "collections" / "ansible_collections" / "community" / "docker"
    configured.mkdir(parents=True)
    (configured / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "9.9.9"}}))
    names = ["community.docker", "community.absent"]
    first = run_role_script(
        "installed_collections.py", json.dumps([str(tmp_path / "collections")]), "True", *names
    )
    assert json.loads(first.stdout) == {"community.docker": "9.9.9", "community.absent": None}
    # Without the configured path, the copy in this venv's site-packages (sys.path) is found,
    # unless sys.path scanning is off.
    fallback = run_role_script("installed_collections.py", "[]", "True", *names)
    assert json.loads(fallback.stdout)["community.docker"] == pinned()["community.docker"]
    off = run_role_script("installed_collections.py", "[]", "False", *names)
    assert json.loads(off.stdout)["community.docker"] is None


def make_tarball(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)


def test_a_release_tarball_is_unpacked_once_and_its_top_folder_is_the_source(tmp_path: Path):
    tarball = tmp_path / "regression-analyzer-0.1.0.tar.gz"
    make_tarball(
        tarball,
        {
            "regression-analyzer-0.1.0/pyproject.toml": b'version = "0.1.0"\n',
            "regression-analyzer-0.1.0/src/x.py": b"",
        },
    )
    cache = tmp_path / "cache"
    first = run_role_script("source_tree.py", str(tarball), str(cache))
    assert first.returncode == 0, first.stderr
    root = Path(first.stdout.strip())
    assert root.name == "regression-analyzer-0.1.0" and (root / "src" / "x.py").is_file()
    (root / "marker").write_text("kept")
    again = run_role_script("source_tree.py", str(tarball), str(cache))
    assert Path(again.stdout.strip()) == root and (root / "marker").is_file()
    assert [p.name for p in cache.iterdir()] == [root.parent.name]  # no leftover scratch


def test_a_checkout_is_used_where_it_is():
    found = run_role_script("source_tree.py", str(ROOT), "/nonexistent-cache")
    assert found.returncode == 0 and Path(found.stdout.strip()) == ROOT


@pytest.mark.parametrize(
    ("members", "links", "expected"),
    [
        ({"../evil/pyproject.toml": b""}, None, "cannot unpack"),
        ({"top/pyproject.toml": b""}, {"top/link": "/etc/passwd"}, "cannot unpack"),
        ({"top/README.md": b""}, None, "holds no pyproject.toml"),
    ],
)
def test_a_hostile_or_wrong_tarball_is_refused_in_one_line(tmp_path, members, links, expected):
    tarball = tmp_path / "source.tar.gz"
    make_tarball(tarball, members, links)
    refused = run_role_script("source_tree.py", str(tarball), str(tmp_path / "cache"))
    assert refused.returncode == 2
    assert expected in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert "point it at a checkout of regression-analyzer" in refused.stderr
    assert not (tmp_path / "evil").exists()


def test_a_missing_source_is_named(tmp_path: Path):
    missing = run_role_script("source_tree.py", str(tmp_path / "nope"), str(tmp_path / "c"))
    assert missing.returncode == 2
    assert f"{tmp_path / 'nope'} does not exist on the controller" in missing.stderr
