"""The security scan's gate: read Trivy's JSON reports and decide pass or fail.

    python3 scripts/scan-gate.py --ignore-file scripts/scan-ignore.toml REPORT.json [...]

A finding blocks when it is Critical, or High with a fixed version available, unless an entry
of the ignore file that has not expired lets it through. Everything else is listed but does
not block (a High without a fix cannot be acted on until Debian or the package ships one).

The ignore file (TOML) is checked before any report is read: every entry needs an `id`, a
`reason` and an `expires` date; an entry may name a `package` to let the finding through in
that package only. An expired entry lets nothing through and is reported, so that it is
reviewed rather than forgotten.

Exit codes: 0 nothing blocks; 1 something blocks; 2 the ignore file or a report is invalid.
The policy lives here rather than in Trivy's own flags so that it is one readable function,
tested without a vulnerability database (tests/deployment/test_scan_gate.py), and the same
for the image and its SBOM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
IGNORE_KEYS = {"id", "package", "reason", "expires"}


class InvalidInput(Exception):
    """The ignore file or a report cannot be used; the message says why."""


@dataclass(frozen=True)
class Finding:
    id: str
    package: str
    installed: str
    fixed: str
    severity: str
    target: str
    title: str

    @property
    def blocking(self) -> bool:
        return self.severity == "CRITICAL" or (self.severity == "HIGH" and bool(self.fixed))


@dataclass(frozen=True)
class IgnoreEntry:
    id: str
    package: str | None
    reason: str
    expires: dt.date

    def covers(self, finding: Finding) -> bool:
        return finding.id == self.id and self.package in (None, finding.package)


def read_ignore_file(path: Path) -> list[IgnoreEntry]:
    """The entries of PATH; InvalidInput naming every problem when one is incomplete."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path}: {exc}") from exc
    raw = data.get("ignore", [])
    if set(data) - {"ignore"} or not isinstance(raw, list):
        raise InvalidInput(f"{path}: only [[ignore]] entries are allowed")
    problems, entries = [], []
    for n, item in enumerate(raw, start=1):
        where = f"{path}: entry {n} ({item.get('id', 'no id')})"
        unknown = set(item) - IGNORE_KEYS
        missing = [k for k in ("id", "reason", "expires") if not item.get(k)]
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if missing:
            problems.append(
                f"{where}: needs {', '.join(missing)} (every entry has a reason and an expiry date)"
            )
        elif not isinstance(item["expires"], dt.date) or isinstance(item["expires"], dt.datetime):
            problems.append(
                f"{where}: expires must be a date such as 2027-03-31, not {item['expires']!r}"
            )
        else:
            entries.append(IgnoreEntry(str(item["id"]), item.get("package"), str(item["reason"]),
                                       item["expires"]))  # fmt: skip
    if problems:
        raise InvalidInput("\n".join(problems))
    return entries


def read_trivy_report(path: Path) -> list[Finding]:
    """The vulnerabilities of one `trivy ... --format json` report."""
    try:
        report = json.loads(path.read_text())
        results = report["Results"] if report.get("Results") is not None else []
        return [
            Finding(
                id=v["VulnerabilityID"],
                package=v["PkgName"],
                installed=v.get("InstalledVersion", ""),
                fixed=v.get("FixedVersion", ""),
                severity=v.get("Severity", "UNKNOWN").upper(),
                target=result.get("Target", ""),
                title=v.get("Title", ""),
            )
            for result in results
            for v in result.get("Vulnerabilities") or []
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"{path}: not a Trivy JSON report ({exc!r})") from exc


@dataclass
class Verdict:
    blocking: list[Finding]
    let_through: list[tuple[Finding, IgnoreEntry]]
    below_gate: list[Finding]
    expired: list[IgnoreEntry]


def severity_rank(severity: str) -> int:
    """0 for CRITICAL ... 4 for UNKNOWN; anything else after them."""
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def judge(findings: list[Finding], entries: list[IgnoreEntry], today: dt.date) -> Verdict:
    """Sort every finding into blocking, let through (by a live entry) or below the gate."""
    live = [e for e in entries if e.expires >= today]
    verdict = Verdict([], [], [], [e for e in entries if e.expires < today])
    # The image scan and the SBOM scan report most findings twice.
    unique = {(f.id, f.package, f.installed): f for f in findings}.values()
    for finding in sorted(unique, key=lambda f: (severity_rank(f.severity), f.id)):
        entry = next((e for e in live if e.covers(finding)), None)
        if not finding.blocking:
            verdict.below_gate.append(finding)
        elif entry is not None:
            verdict.let_through.append((finding, entry))
        else:
            verdict.blocking.append(finding)
    return verdict


def render(verdict: Verdict) -> str:
    lines = []
    for f in verdict.blocking:
        fix = f"fixed in {f.fixed}" if f.fixed else "no fix yet"
        lines.append(
            f"BLOCKS  {f.severity:<8} {f.id:<20} {f.package} {f.installed} ({fix})  {f.title}"
        )
    for f, e in verdict.let_through:
        what = f"{f.severity:<8} {f.id:<20} {f.package} {f.installed}"
        lines.append(f"ignored {what}: {e.reason} (until {e.expires})")
    for e in verdict.expired:
        lines.append(
            f"EXPIRED ignore entry {e.id} ({e.expires}): it lets nothing through; review it"
        )
    counts = {s: sum(f.severity == s for f in verdict.below_gate) for s in SEVERITY_ORDER}
    below = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n) or "none"
    lines.append(
        f"scan gate: {len(verdict.blocking)} blocking (critical, or high with a fix), "
        f"{len(verdict.let_through)} let through by the ignore file, below the gate: {below}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ignore-file", type=Path, required=True)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today(),
                        help="the date expiries are compared with (default: today)")  # fmt: skip
    parser.add_argument("reports", type=Path, nargs="*")
    args = parser.parse_args(argv)
    try:
        entries = read_ignore_file(args.ignore_file)
        findings = [f for path in args.reports for f in read_trivy_report(path)]
    except InvalidInput as exc:
        print(f"scan gate: {exc}", file=sys.stderr)
        return 2
    verdict = judge(findings, entries, args.today)
    print(render(verdict))
    return 1 if verdict.blocking else 0


if __name__ == "__main__":
    sys.exit(main())
