"""The deploy's refusals that need no host: ansible-playbook ansible/deploy.yml on localhost,
running only the tasks that run under any --tags (the secret checks of the role's preflight).

The whole operator path, over SSH, is molecule/operator; these are the quick, exact checks of
what the preflight accepts and refuses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "ansible/inventories/production/group_vars/regression_analyzer/vault.yml.example"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")

pytestmark = pytest.mark.skipif(
    not ANSIBLE_PLAYBOOK.exists() and shutil.which("ansible-playbook") is None,
    reason="ansible-playbook is not installed (pip install -e '.[dev]')",
)


def preflight(tmp_path: Path, **settings: object) -> subprocess.CompletedProcess:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "regression_analyzer": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            # As root already; the play's `become` would need sudo here.
                            "ansible_become": False,
                        }
                    }
                }
            }
        )
    )
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps(settings))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{ANSIBLE_PLAYBOOK.parent}:{env.get('PATH', '')}"
    return subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK) if ANSIBLE_PLAYBOOK.exists() else "ansible-playbook",
            "ansible/deploy.yml",
            "-i",
            str(inventory),
            "--tags",
            "always",
            "--check",
            "-e",
            f"@{extra}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def example_vault() -> dict[str, str]:
    """The role's secret variables set as vars.yml maps them from vault.yml.example."""
    vault = yaml.safe_load(EXAMPLE.read_text())
    return {name.removeprefix("vault_"): value for name, value in vault.items()}


def test_the_example_vault_placeholders_are_refused_by_name(tmp_path):
    result = preflight(tmp_path, **example_vault())
    assert result.returncode != 0
    for name in example_vault():
        assert name in result.stdout
    assert "vault.yml.example" in result.stdout
    # names only: the placeholder values are not echoed back as values of anything
    assert "sk-ant-REPLACE-ME" not in result.stdout


def test_one_placeholder_left_is_refused(tmp_path):
    settings = {
        "regression_analyzer_anthropic_api_key": "sk-ant-real-looking",
        "regression_analyzer_openai_api_key": "",
        "regression_analyzer_api_token": "REPLACE-ME",
    }
    result = preflight(tmp_path, **settings)
    assert result.returncode != 0
    assert "regression_analyzer_api_token still hold" in result.stdout.replace("\n", " ")


def test_no_api_token_is_refused_unless_meant(tmp_path):
    result = preflight(tmp_path, regression_analyzer_api_token="")
    assert result.returncode != 0
    assert "regression_analyzer_api_token is empty" in result.stdout
    assert "regression_analyzer_allow_no_token" in result.stdout

    meant = preflight(
        tmp_path, regression_analyzer_api_token="", regression_analyzer_allow_no_token=True
    )
    assert meant.returncode == 0, meant.stdout[-2000:]


def test_a_filled_in_vault_passes(tmp_path):
    result = preflight(
        tmp_path,
        regression_analyzer_anthropic_api_key="sk-ant-not-a-placeholder",
        regression_analyzer_api_token="0123456789abcdef",
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "failed=0" in result.stdout
