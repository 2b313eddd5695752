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
from dataclasses import dataclass
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


def check_deploy(
    inventory: Path, extra: Path, tags: str, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """deploy.yml in check mode with these tags and extra vars, by the venv's ansible-playbook,
    free of the caller's ANSIBLE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{ANSIBLE_PLAYBOOK.parent}:{env.get('PATH', '')}"
    env.update(env_extra or {})
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


# This machine as an inventory host (the app's, once per case, and the front's). The app's
# cases are one inventory host each (each its own settings), all checked by one run: an
# ansible-playbook run costs ~2.5 CPU-seconds, and these cases were twelve runs.
LOCAL = {
    "ansible_connection": "local",
    "ansible_python_interpreter": sys.executable,
    # As root already; the play's `become` would need sudo here.
    "ansible_become": False,
}


@dataclass(frozen=True)
class Outcome:
    """One case's part of the run: whether the preflight refused it, and what it said."""

    refused: bool
    said: str  # the messages of its failed tasks, whitespace collapsed


@dataclass(frozen=True)
class Preflight:
    """The run over all cases: each case's outcome, and everything the run printed."""

    outcomes: dict[str, Outcome]
    output: str

    def __getitem__(self, case: str) -> Outcome:
        return self.outcomes[case]


def preflight_each(tmp_path: Path, cases: dict[str, dict[str, object]]) -> Preflight:
    """The app play's preflight (the tasks that run under any --tags) for every case at once;
    the play goes through all of them (serial 100%, no failure percentage stops it)."""
    inventory = tmp_path / "hosts.yml"
    hosts = {name: {**LOCAL, **settings} for name, settings in cases.items()}
    inventory.write_text(yaml.safe_dump({"regression_analyzer": {"hosts": hosts}}))
    extra = tmp_path / "extra.json"
    extra.write_text(
        json.dumps(
            {"regression_analyzer_serial": "100%", "regression_analyzer_max_fail_percentage": 100}
        )
    )
    result = check_deploy(
        inventory, extra, "always", env_extra={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    )
    assert result.stdout.strip(), result.stderr[-2000:]
    run = json.loads(result.stdout)
    said: dict[str, list[str]] = {name: [] for name in cases}
    for play in run["plays"]:
        for task in play["tasks"]:
            for name, outcome in task["hosts"].items():
                if outcome.get("failed") and name in said:
                    said[name].append(" ".join(str(outcome.get("msg", "")).split()))
    outcomes = {
        name: Outcome(refused=run["stats"][name]["failures"] > 0, said=" ".join(said[name]))
        for name in cases
    }
    return Preflight(outcomes, result.stdout)


def example_vault() -> dict[str, str]:
    """The role's secret variables set as vars.yml maps them from vault.yml.example."""
    vault = yaml.safe_load(EXAMPLE.read_text())
    return {name.removeprefix("vault_"): value for name, value in vault.items()}


# --- HTTPS (docs/operations.md, "HTTPS") ----------------------------------------------------
INVENTORIES = ROOT / "ansible" / "inventories"
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHnot-a-real-key\n-----END PRIVATE KEY-----\n"
HTTPS_ON = {"regression_analyzer_api_token": "0123456789abcdef", "regression_analyzer_https": True}
# Settings the preflight must refuse, each with what it must say.
CERTIFICATE_CASES = [
    (
        "-----BEGIN CERTIFICATE-----\nREPLACE-ME\n-----END CERTIFICATE-----",
        PEM_KEY,
        "still hold the placeholder of vault.yml.example",
    ),
    (PEM_CERTIFICATE, "", "go together: the vault has one without the other"),
    ("/etc/ssl/certs/analyzer.pem", PEM_KEY, "regression_analyzer_tls_certificate is not a PEM"),
    (PEM_CERTIFICATE, "MIGHnot-a-key", "regression_analyzer_tls_key is not a PEM private key"),
]

APP_CASES: dict[str, dict[str, object]] = {
    "example-vault": example_vault(),
    "one-placeholder": {
        "regression_analyzer_anthropic_api_key": "sk-ant-real-looking",
        "regression_analyzer_openai_api_key": "",
        "regression_analyzer_api_token": "REPLACE-ME",
    },
    "no-token": {"regression_analyzer_api_token": ""},
    "no-token-meant": {
        "regression_analyzer_api_token": "",
        "regression_analyzer_allow_no_token": True,
    },
    "filled-in": {
        "regression_analyzer_anthropic_api_key": "sk-ant-not-a-placeholder",
        "regression_analyzer_api_token": "0123456789abcdef",
    },
    "https-no-certificate": HTTPS_ON,
    "https-self-signed": {**HTTPS_ON, "regression_analyzer_tls_self_signed": True},
    "https-certificate-given": {
        **HTTPS_ON,
        "regression_analyzer_tls_certificate": PEM_CERTIFICATE,
        "regression_analyzer_tls_key": PEM_KEY,
    },
} | {
    f"certificate-{i}": {
        **HTTPS_ON,
        "regression_analyzer_tls_self_signed": True,
        "regression_analyzer_tls_certificate": certificate,
        "regression_analyzer_tls_key": key,
    }
    for i, (certificate, key, _) in enumerate(CERTIFICATE_CASES)
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Preflight:
    return preflight_each(tmp_path_factory.mktemp("app-preflight"), APP_CASES)


def test_the_example_vault_placeholders_are_refused_by_name(app):
    assert app["example-vault"].refused
    for name in example_vault():
        assert name in app["example-vault"].said
    assert "vault.yml.example" in app["example-vault"].said
    # names only: the placeholder values are not echoed back as values of anything
    assert "sk-ant-REPLACE-ME" not in app.output


def test_one_placeholder_left_is_refused(app):
    assert app["one-placeholder"].refused
    assert "regression_analyzer_api_token still hold" in app["one-placeholder"].said


def test_no_api_token_is_refused_unless_meant(app):
    assert app["no-token"].refused
    assert "regression_analyzer_api_token is empty" in app["no-token"].said
    assert "regression_analyzer_allow_no_token" in app["no-token"].said
    assert not app["no-token-meant"].refused, app["no-token-meant"].said


def test_a_filled_in_vault_passes(app):
    assert not app["filled-in"].refused, app["filled-in"].said


def test_https_without_a_certificate_is_refused_unless_a_self_signed_one_is_allowed(app):
    assert app["https-no-certificate"].refused
    said = app["https-no-certificate"].said
    assert "holds no certificate" in said
    for name in (
        "vault_regression_analyzer_tls_certificate",
        "regression_analyzer_tls_self_signed",
    ):
        assert name in said
    assert not app["https-self-signed"].refused, app["https-self-signed"].said
    assert not app["https-certificate-given"].refused, app["https-certificate-given"].said


@pytest.mark.parametrize("case", range(len(CERTIFICATE_CASES)))
def test_the_certificate_settings_are_checked_and_named(app, case):
    _certificate, key, said = CERTIFICATE_CASES[case]
    outcome = app[f"certificate-{case}"]
    assert outcome.refused
    assert said in outcome.said
    if key:
        assert key.splitlines()[1 if "\n" in key else 0] not in app.output  # names, not values


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
        yaml.safe_dump({"regression_analyzer_proxy": {"hosts": {"localhost": LOCAL}}})
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
