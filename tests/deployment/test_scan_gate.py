"""The security scan's gate (scripts/scan-gate.py): which findings block, the ignore file.

No vulnerability database can be reached here, so the gate reads reports written in Trivy's
JSON report format (SchemaVersion 2: Results[].Vulnerabilities[] with VulnerabilityID,
PkgName, InstalledVersion, FixedVersion, Severity), built per test. The wrapper,
scripts/scan-image.sh, runs against the built image in tests/container/test_supply_chain.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "scripts" / "scan-gate.py"
TODAY = "2026-12-07"


def finding(vid: str, severity: str, fixed: str = "", pkg: str = "libssl3") -> dict:
    return {
        "VulnerabilityID": vid,
        "PkgName": pkg,
        "PkgIdentifier": {"PURL": f"pkg:deb/debian/{pkg}@3.0.22-1~deb12u2?arch=amd64"},
        "InstalledVersion": "3.0.22-1~deb12u2",
        "FixedVersion": fixed,
        "Status": "fixed" if fixed else "affected",
        "Severity": severity,
        "Title": f"{pkg}: a test finding",
    }


def report(tmp_path: Path, *vulns: dict, name: str = "image.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({
        "SchemaVersion": 2,
        "ArtifactName": "regression-analyzer:test",
        "ArtifactType": "container_image",
        "Results": [
            {"Target": "regression-analyzer:test (debian 12.15)", "Class": "os-pkgs",
             "Type": "debian", "Vulnerabilities": list(vulns)},
            {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg"},
        ],
    }))  # fmt: skip
    return path


def ignore_file(tmp_path: Path, text: str = "ignore = []\n") -> Path:
    path = tmp_path / "ignore.toml"
    path.write_text(text)
    return path


def gate(ignore: Path, *reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GATE), "--ignore-file", str(ignore), "--today", TODAY,
         *map(str, reports)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("severity", "fixed", "blocks"),
    [
        ("CRITICAL", "", True),  # a Critical blocks, fix or not
        ("CRITICAL", "3.0.23", True),
        ("HIGH", "3.0.23", True),  # a High blocks once a fix exists
        ("HIGH", "", False),
        ("MEDIUM", "3.0.23", False),
        ("LOW", "", False),
    ],
)
def test_gate_blocks_critical_and_high_with_a_fix(
    tmp_path: Path, severity: str, fixed: str, blocks: bool
) -> None:
    result = gate(
        ignore_file(tmp_path), report(tmp_path, finding("CVE-2026-0001", severity, fixed))
    )
    assert result.returncode == (1 if blocks else 0), result.stdout + result.stderr
    assert ("BLOCKS" in result.stdout) == blocks
    assert "CVE-2026-0001" in result.stdout if blocks else "1 blocking" not in result.stdout


def test_findings_reported_by_image_and_sbom_scans_count_once(tmp_path: Path) -> None:
    vuln = finding("CVE-2026-0002", "CRITICAL", "3.0.23")
    result = gate(
        ignore_file(tmp_path), report(tmp_path, vuln), report(tmp_path, vuln, name="sbom.json")
    )
    assert result.returncode == 1
    assert result.stdout.count("BLOCKS") == 1 and "1 blocking" in result.stdout


def test_a_live_entry_lets_its_finding_through_and_says_why(tmp_path: Path) -> None:
    ignore = ignore_file(tmp_path, """
[[ignore]]
id = "CVE-2026-0003"
package = "libssl3"
reason = "the service never loads the legacy provider"
expires = 2027-01-31
""")  # fmt: skip
    other = finding("CVE-2026-0004", "HIGH", "3.0.23")
    result = gate(ignore, report(tmp_path, finding("CVE-2026-0003", "CRITICAL"), other))
    assert result.returncode == 1  # the entry covers only its own finding
    assert "ignored CRITICAL CVE-2026-0003" in result.stdout
    assert "the service never loads the legacy provider" in result.stdout
    assert "BLOCKS  HIGH     CVE-2026-0004" in result.stdout
    alone = gate(ignore, report(tmp_path, finding("CVE-2026-0003", "CRITICAL")))
    assert alone.returncode == 0, alone.stdout


def test_an_entry_for_another_package_does_not_apply(tmp_path: Path) -> None:
    ignore = ignore_file(tmp_path, """
[[ignore]]
id = "CVE-2026-0005"
package = "zlib1g"
reason = "not used"
expires = 2027-01-31
""")  # fmt: skip
    result = gate(ignore, report(tmp_path, finding("CVE-2026-0005", "CRITICAL", pkg="libssl3")))
    assert result.returncode == 1


def test_an_expired_entry_lets_nothing_through_and_is_reported(tmp_path: Path) -> None:
    ignore = ignore_file(tmp_path, """
[[ignore]]
id = "CVE-2026-0006"
reason = "waiting for Debian's fix"
expires = 2026-12-06
""")  # fmt: skip
    result = gate(ignore, report(tmp_path, finding("CVE-2026-0006", "CRITICAL")))
    assert result.returncode == 1
    assert "EXPIRED ignore entry CVE-2026-0006 (2026-12-06)" in result.stdout


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('id = "CVE-1"\nexpires = 2027-01-01', "needs reason"),
        ('id = "CVE-1"\nreason = "r"', "needs expires"),
        ('id = "CVE-1"\nreason = ""\nexpires = 2027-01-01', "needs reason"),
        ('id = "CVE-1"\nreason = "r"\nexpires = "soon"', "expires must be a date"),
        ('id = "CVE-1"\nreason = "r"\nexpires = 2027-01-01\nseverity = "low"', "unknown key"),
    ],
)
def test_an_incomplete_entry_stops_the_gate(tmp_path: Path, entry: str, message: str) -> None:
    ignore = ignore_file(tmp_path, f"[[ignore]]\n{entry}\n")
    result = gate(ignore, report(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr and "entry 1 (CVE-1)" in result.stderr


def test_a_file_that_is_not_a_trivy_report_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Results": [{"Vulnerabilities": [{"Severity": "HIGH"}]}]}')
    result = gate(ignore_file(tmp_path), bad)
    assert result.returncode == 2 and "not a Trivy JSON report" in result.stderr


def test_the_shipped_ignore_file_is_valid() -> None:
    result = gate(ROOT / "scripts" / "scan-ignore.toml")
    assert result.returncode == 0, result.stderr
