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


def check_deploy(inventory: Path, extra: Path, tags: str) -> subprocess.CompletedProcess:
    """deploy.yml in check mode with these tags and extra vars, by the venv's ansible-playbook,
    free of the caller's ANSIBLE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{ANSIBLE_PLAYBOOK.parent}:{env.get('PATH', '')}"
    return subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK) if ANSIBLE_PLAYBOOK.exists() else "ansible-playbook",
            "ansible/deploy.yml",
            "-i",
            str(inventory),
            "--tags",
            tags,
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
    return check_deploy(inventory, extra, "always")


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


# --- HTTPS (docs/operations.md, "HTTPS") ----------------------------------------------------
INVENTORIES = ROOT / "ansible" / "inventories"
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHnot-a-real-key\n-----END PRIVATE KEY-----\n"
HTTPS_ON = {"regression_analyzer_api_token": "0123456789abcdef", "regression_analyzer_https": True}


def test_https_without_a_certificate_is_refused_unless_a_self_signed_one_is_allowed(tmp_path):
    result = preflight(tmp_path, **HTTPS_ON)
    assert result.returncode != 0
    said = " ".join(result.stdout.split())
    assert "holds no certificate" in said
    for name in (
        "vault_regression_analyzer_tls_certificate",
        "regression_analyzer_tls_self_signed",
    ):
        assert name in said

    staging = preflight(tmp_path, **HTTPS_ON, regression_analyzer_tls_self_signed=True)
    assert staging.returncode == 0, staging.stdout[-2000:]
    given = preflight(
        tmp_path,
        **HTTPS_ON,
        regression_analyzer_tls_certificate=PEM_CERTIFICATE,
        regression_analyzer_tls_key=PEM_KEY,
    )
    assert given.returncode == 0, given.stdout[-2000:]


@pytest.mark.parametrize(
    ("certificate", "key", "said"),
    [
        (
            "-----BEGIN CERTIFICATE-----\nREPLACE-ME\n-----END CERTIFICATE-----",
            PEM_KEY,
            "still hold the placeholder of vault.yml.example",
        ),
        (PEM_CERTIFICATE, "", "go together: the vault has one without the other"),
        (
            "/etc/ssl/certs/analyzer.pem",
            PEM_KEY,
            "regression_analyzer_tls_certificate is not a PEM",
        ),
        (PEM_CERTIFICATE, "MIGHnot-a-key", "regression_analyzer_tls_key is not a PEM private key"),
    ],
)
def test_the_certificate_settings_are_checked_and_named(tmp_path, certificate, key, said):
    result = preflight(
        tmp_path,
        **HTTPS_ON,
        regression_analyzer_tls_self_signed=True,
        regression_analyzer_tls_certificate=certificate,
        regression_analyzer_tls_key=key,
    )
    assert result.returncode != 0
    assert said in " ".join(result.stdout.split())
    if key:
        assert key.splitlines()[1 if "\n" in key else 0] not in result.stdout  # names, not values


def test_staging_has_https_with_a_self_signed_certificate_until_the_vault_has_one():
    group = INVENTORIES / "staging" / "group_vars" / "regression_analyzer"
    settings = yaml.safe_load((group / "vars.yml").read_text())
    assert settings["regression_analyzer_https"] is True
    assert settings["regression_analyzer_tls_self_signed"] is True
    vault = yaml.safe_load((group / "vault.yml.example").read_text())
    assert vault["vault_regression_analyzer_tls_certificate"] == ""
    assert vault["vault_regression_analyzer_tls_key"] == ""
    for name in ("certificate", "key"):
        assert (
            f"vault_regression_analyzer_tls_{name}" in settings[f"regression_analyzer_tls_{name}"]
        )


def proxy_preflight(tmp_path: Path, **settings: object) -> subprocess.CompletedProcess:
    """The proxy play's preflight (ansible/deploy.yml --tags regression_analyzer_proxy_preflight)
    on this machine as the production inventory's front, its servers given."""
    inventory = tmp_path / "proxy-hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "regression_analyzer_proxy": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            "ansible_become": False,
                        }
                    }
                }
            }
        )
    )
    front = INVENTORIES / "production" / "group_vars" / "regression_analyzer_proxy"
    values = {k: v for k, v in yaml.safe_load((front / "vars.yml").read_text()).items()}
    values["regression_analyzer_proxy_servers"] = [
        {"name": "ra-prod-1", "address": "10.0.0.11", "port": 8000}
    ]
    values.update(settings)
    extra = tmp_path / "proxy-extra.json"
    extra.write_text(json.dumps(values))
    return check_deploy(inventory, extra, "regression_analyzer_proxy_preflight")


def test_the_production_front_refuses_the_example_vault_and_a_missing_certificate(tmp_path):
    front = INVENTORIES / "production" / "group_vars" / "regression_analyzer_proxy"
    example = yaml.safe_load((front / "vault.yml.example").read_text())
    mapped = {name.removeprefix("vault_"): value for name, value in example.items()}
    placeholders = proxy_preflight(tmp_path, **mapped)
    assert placeholders.returncode != 0
    assert "still hold the placeholder" in " ".join(placeholders.stdout.split())

    missing = proxy_preflight(tmp_path)  # no vault: the vars.yml defaults give ""
    assert missing.returncode != 0
    said = " ".join(missing.stdout.split())
    assert (
        "HTTPS is on at the front" in said
        and "vault_regression_analyzer_proxy_tls_certificate" in said
    )

    # The variable held a path before this release: the message says what it holds now.
    a_path = proxy_preflight(
        tmp_path,
        regression_analyzer_proxy_tls_certificate="/etc/haproxy/certs/analyzer.example.org.pem",
    )
    assert a_path.returncode != 0
    assert "it now holds the certificate chain itself" in " ".join(a_path.stdout.split())

    given = proxy_preflight(
        tmp_path,
        regression_analyzer_proxy_tls_certificate=PEM_CERTIFICATE,
        regression_analyzer_proxy_tls_key=PEM_KEY,
    )
    assert given.returncode == 0, given.stdout[-2000:]
