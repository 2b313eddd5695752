"""deploy/prometheus/: the alert rules are valid and do what their unit tests say (promtool, from
Debian's prometheus package), the scrape example is a valid configuration, and every metric the
rules read is one the service exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"
SERVICE_METRICS = (ROOT / "src" / "regression_analyzer" / "metrics").glob("*.py")


def promtool() -> str:
    """promtool (scripts/install-system-deps.sh installs it); missing: a skip on a developer's
    machine, a failure in CI."""
    if exe := shutil.which("promtool"):
        return exe
    message = "promtool not found: run scripts/install-system-deps.sh (as root)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], cwd=RULES, capture_output=True, text=True, timeout=120
    )


def test_the_rules_are_valid() -> None:
    checked = run("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_each_alert_fires_and_stays_quiet_as_its_unit_tests_say() -> None:
    tested = run("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_firing_case() -> None:
    rules = yaml.safe_load((RULES / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((RULES / "alerts.test.yml").read_text(encoding="utf-8"))
    cases = [case for test in tests["tests"] for case in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert firing == alerts
    assert quiet == alerts


def test_the_scrape_example_is_a_valid_configuration() -> None:
    # --syntax-only: the token and CA files it names exist on a Prometheus host, not here.
    checked = run("check", "config", "--syntax-only", "scrape.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load((RULES / "scrape.yml").read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["scheme"] == "https"
    assert job["authorization"]["type"] == "Bearer" and job["authorization"]["credentials_file"]
    assert config["rule_files"] == ["alerts.yml"]


def test_the_rules_read_only_metrics_the_service_exports() -> None:
    source = "\n".join(path.read_text(encoding="utf-8") for path in SERVICE_METRICS)
    defined = set(re.findall(r'PREFIX \+ "([a-z_]+)"', source))
    read = set(re.findall(r"regression_analyzer_([a-z_]+)", (RULES / "alerts.yml").read_text()))
    # Counters are defined without prometheus_client's "_total".
    missing = {name for name in read if name.removesuffix("_total") not in defined}
    assert not missing, missing
