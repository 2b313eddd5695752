"""The image's SBOM: one CycloneDX 1.6 JSON document of every Python distribution in the
service's virtual environment and every Debian package in dpkg's database.

Runs in the Dockerfile's throw-away `sbom` stage with the tools of requirements-sbom.lock:
cyclonedx-py reads the Python side from the environment itself (the same versions as the lock,
which tests/container checks); the Debian side comes from `dpkg-query` over the runtime
stage's database. The result is validated against the CycloneDX schema before it is written.

The Debian packages are described as Trivy and Grype read third-party SBOMs: one
`operating-system` component (debian, /etc/debian_version) that depends on every package, and
for each package a `pkg:deb/debian/...` purl with arch, distro, epoch and upstream (source
package) qualifiers, and Trivy's SrcName/SrcVersion/SrcEpoch properties. Debian's security
advisories are per source package (libssl3 is fixed under `openssl`): without the source a
scanner looks up the wrong name.

    python container-sbom.py --venv /opt/venv --dpkg-admindir DIR --debian-version FILE \\
        [--version V] --out sbom.cdx.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

IMAGE_NAME = "regression-analyzer"
DPKG_FIELDS = "\t".join(
    ["${db:Status-Abbrev}", "${Package}", "${Version}", "${Architecture}", "${source:Package}",
     "${source:Version}"]
) + "\n"  # fmt: skip


@dataclass(frozen=True)
class DebianPackage:
    name: str
    version: str  # as dpkg has it, epoch included ("1:1.2.13.dfsg-1")
    arch: str
    source: str
    source_version: str


def split_epoch(version: str) -> tuple[str, str]:
    """("1", "1.2.13") for "1:1.2.13"; ("", v) for a version without an epoch."""
    epoch, sep, rest = version.partition(":")
    return (epoch, rest) if sep and epoch.isdigit() else ("", version)


def installed_debian_packages(admindir: Path) -> list[DebianPackage]:
    """Every package dpkg's database (at ADMINDIR) lists as installed."""
    out = subprocess.run(
        ["dpkg-query", f"--admindir={admindir}", "-W", f"-f={DPKG_FIELDS}"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    packages = []
    for line in out.splitlines():
        status, name, version, arch, source, source_version = line.split("\t")
        if status.strip() == "ii":
            packages.append(DebianPackage(name, version, arch, source or name, source_version))
    return packages


def debian_component(pkg: DebianPackage, distro: str) -> Component:
    epoch, version = split_epoch(pkg.version)
    src_epoch, src_version = split_epoch(pkg.source_version or pkg.version)
    qualifiers = {"arch": pkg.arch, "distro": distro}
    if epoch:
        qualifiers["epoch"] = epoch
    if pkg.source != pkg.name:
        qualifiers["upstream"] = pkg.source
    purl = PackageURL("deb", "debian", pkg.name, version, qualifiers)
    properties = [
        Property(name="aquasecurity:trivy:SrcName", value=pkg.source),
        Property(name="aquasecurity:trivy:SrcVersion", value=src_version),
    ]
    if src_epoch:
        properties.append(Property(name="aquasecurity:trivy:SrcEpoch", value=src_epoch))
    return Component(
        type=ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        purl=purl,
        bom_ref=purl.to_string(),
        properties=properties,
    )


def python_bom(venv: Path) -> Bom:
    """cyclonedx-py's SBOM of the environment, as a model to extend (validated once, whole,
    in main: the schema's URL checks are most of the run time)."""
    out = subprocess.run(
        [sys.executable, "-m", "cyclonedx_py", "environment", str(venv),
         "--output-reproducible", "--sv", "1.6", "--of", "JSON", "--no-validate", "-o", "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return Bom.from_json(json.loads(out))  # type: ignore[attr-defined]


def image_bom(venv: Path, admindir: Path, debian_version: str, version: str) -> Bom:
    bom = python_bom(venv)
    python_components = list(bom.components)
    if not version:  # the installed project's own version (pyproject.toml)
        version = next((c.version or "" for c in python_components if c.name == IMAGE_NAME), "")
    root = Component(
        type=ComponentType.CONTAINER, name=IMAGE_NAME, version=version, bom_ref=IMAGE_NAME
    )
    bom.metadata.component = root
    os_component = Component(
        type=ComponentType.OPERATING_SYSTEM,
        name="debian",
        version=debian_version,
        bom_ref=f"os:debian-{debian_version}",
    )
    distro = f"debian-{debian_version}"
    debs = [debian_component(p, distro) for p in installed_debian_packages(admindir)]
    bom.components.add(os_component)
    bom.components.update(debs)
    bom.register_dependency(root, [os_component, *python_components])
    bom.register_dependency(os_component, debs)
    # The same packages give the same serial number: two builds of one image are one BOM.
    refs = sorted(str(c.bom_ref) for c in bom.components)
    bom.serial_number = uuid.uuid5(uuid.NAMESPACE_URL, f"{IMAGE_NAME}:{version}:" + "\n".join(refs))
    return bom


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--dpkg-admindir", type=Path, required=True)
    parser.add_argument("--debian-version", type=Path, required=True, help="/etc/debian_version")
    parser.add_argument("--version", default="", help="the image's version (default: the app's)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    bom = image_bom(args.venv, args.dpkg_admindir, args.debian_version.read_text().strip(),
                    args.version)  # fmt: skip
    text = JsonV1Dot6(bom).output_as_string(indent=1)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        print(f"container-sbom: the SBOM is not valid CycloneDX 1.6: {error}", file=sys.stderr)
        return 1
    args.out.write_text(text + "\n")
    kinds = {"deb": 0, "pypi": 0}
    for component in bom.components:
        if component.purl is not None and component.purl.type in kinds:
            kinds[component.purl.type] += 1
    print(f"container-sbom: {kinds['pypi']} Python distributions, {kinds['deb']} Debian packages "
          f"-> {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
