"""A local Galaxy server (TEST-ONLY) for `ansible-galaxy collection install`, as operators use
a private Automation Hub or galaxy_ng when galaxy.ansible.com is out of reach.

Galaxy is not reachable from this machine. This serves the Galaxy v3 API endpoints that
ansible-galaxy calls (the API root, a collection, its versions, one version's metadata, the
artifact download), with collection artifacts that `ansible-galaxy collection build` makes from
the collections of the test venv's `ansible` package: the exact versions CI tests. Clients point
at it with ANSIBLE_GALAXY_SERVER, so the README's command runs unchanged. Every request is
recorded, so a test can tell what was fetched from here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

INSTALLED = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
GALAXY_FIELDS = (
    "namespace",
    "name",
    "version",
    "readme",
    "authors",
    "description",
    "license",
    "license_file",
    "tags",
    "dependencies",
    "repository",
    "documentation",
    "homepage",
    "issues",
)


@dataclass(frozen=True)
class Artifact:
    namespace: str
    name: str
    version: str
    dependencies: dict[str, str]
    path: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def build_artifact(fqcn: str, out_dir: Path) -> Artifact:
    """Build `namespace-name-version.tar.gz` from the collection installed in this venv."""
    namespace, name = fqcn.split(".")
    installed = INSTALLED / namespace / name
    info = json.loads((installed / "MANIFEST.json").read_text())["collection_info"]
    source = out_dir / "src" / fqcn
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(
        installed,
        source,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "MANIFEST.json", "FILES.json"),
    )
    galaxy = {key: info[key] for key in GALAXY_FIELDS if info.get(key) is not None}
    (source / "galaxy.yml").write_text(yaml.safe_dump(galaxy))
    built = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-galaxy")),
            "collection",
            "build",
            "--force",
            "--output-path",
            str(out_dir),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    path = out_dir / f"{namespace}-{name}-{info['version']}.tar.gz"
    return Artifact(namespace, name, info["version"], info.get("dependencies") or {}, path)


class GalaxyServer:
    """Serve artifacts on 127.0.0.1 in a thread; `url` is what ANSIBLE_GALAXY_SERVER takes."""

    def __init__(self, artifacts: list[Artifact]):
        self.artifacts = {(a.namespace, a.name): a for a in artifacts}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, body, kind = server.answer(self.path.split("?", 1)[0])
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> GalaxyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, path: str) -> tuple[int, bytes, str]:
        if path.rstrip("/") == "/api":
            return self.json({"available_versions": {"v3": "v3/"}})
        if path.startswith("/download/"):
            for artifact in self.artifacts.values():
                if path == f"/download/{artifact.path.name}":
                    return 200, artifact.path.read_bytes(), "application/gzip"
        parts = path.strip("/").split("/")
        # api/v3/collections/<ns>/<name>/[versions/[<version>/]]
        if parts[:3] == ["api", "v3", "collections"] and len(parts) >= 5:
            artifact = self.artifacts.get((parts[3], parts[4]))
            if artifact is not None:
                return self.collection_answer(artifact, parts[5:])
        return self.json({"errors": [{"code": "not_found", "detail": "Not found."}]}, 404)

    def collection_answer(self, artifact: Artifact, rest: list[str]) -> tuple[int, bytes, str]:
        href = f"/api/v3/collections/{artifact.namespace}/{artifact.name}/"
        version_href = f"{href}versions/{artifact.version}/"
        if not rest:
            return self.json(
                {
                    "href": href,
                    "namespace": artifact.namespace,
                    "name": artifact.name,
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                    "highest_version": {"version": artifact.version, "href": version_href},
                }
            )
        if rest == ["versions"]:
            return self.json(
                {
                    "meta": {"count": 1},
                    "links": {"first": None, "previous": None, "next": None, "last": None},
                    "data": [{"version": artifact.version, "href": version_href}],
                }
            )
        if rest == ["versions", artifact.version]:
            return self.json(
                {
                    "href": version_href,
                    "namespace": {"name": artifact.namespace},
                    "collection": {"name": artifact.name},
                    "version": artifact.version,
                    "download_url": f"{self.url}download/{artifact.path.name}",
                    "artifact": {
                        "filename": artifact.path.name,
                        "sha256": artifact.sha256,
                        "size": artifact.path.stat().st_size,
                    },
                    "metadata": {"dependencies": artifact.dependencies},
                    "signatures": [],
                }
            )
        return self.json({"errors": [{"code": "not_found", "detail": "Not found."}]}, 404)

    @staticmethod
    def json(data: object, status: int = 200) -> tuple[int, bytes, str]:
        return status, json.dumps(data).encode(), "application/json"


def requirements_collections(path: Path) -> list[str]:
    """The collection names a requirements.yml lists."""
    return [entry["name"] for entry in yaml.safe_load(path.read_text())["collections"]]
