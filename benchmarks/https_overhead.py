"""What HTTPS in front of the service costs, measured against plain HTTP to the same server.

The service runs under uvicorn on loopback (benchmarks/api_common.Server); nginx runs in
front of it with the role's own site (ansible/roles/regression_analyzer/templates/
nginx-https.conf.j2, rendered here with the role's defaults) and a self-signed EC P-256
certificate made as the role makes staging's. Measured, as a client sees it (medians over
interleaved rounds):

1. a request on a kept-alive connection: `GET /api/v1/health` straight to uvicorn over HTTP,
   and through nginx over HTTPS;
2. a request on a new connection each time: TCP connect + request over HTTP, and TCP connect +
   TLS handshake (1.3, then 1.2 forced) + request over HTTPS; the handshake's own time is
   printed apart;
3. an upload of a 10 MB table (`POST /api/v1/upload`) both ways.

Needs nginx and openssl on the machine (Debian: `apt-get install nginx`; the benchmark stops
nginx's own service first, it runs its private copy on free ports).

    .venv/bin/python benchmarks/https_overhead.py [--rounds 15] [--requests 200]
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jinja2
import yaml
from api_common import ROOT, Server, write_linear_table

ROLE = ROOT / "ansible" / "roles" / "regression_analyzer"
HEALTH = "/api/v1/health"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """An EC P-256 certificate for `localhost`, as the role's self-signed one."""
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def nginx_site(service_port: int, https_port: int, cert: Path, key: Path) -> str:
    """The role's site template with its defaults and this machine's ports and files."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.filters["bool"] = lambda value: str(value).lower() in ("1", "true", "yes", "on")
    template = environment.from_string((ROLE / "templates" / "nginx-https.conf.j2").read_text())
    return template.render(
        ansible_managed="benchmarks/https_overhead.py",
        _regression_analyzer_probe_address="127.0.0.1",
        regression_analyzer_port=service_port,
        regression_analyzer_https_port=https_port,
        regression_analyzer_https_redirect_port=free_port(),
        regression_analyzer_https_server_name="localhost",
        regression_analyzer_https_hsts_max_age=defaults["regression_analyzer_https_hsts_max_age"],
        regression_analyzer_https_proxy_timeout=defaults["regression_analyzer_https_proxy_timeout"],
        regression_analyzer_max_upload_mb=defaults["regression_analyzer_max_upload_mb"],
        _regression_analyzer_tls_certificate_file=str(cert),
        _regression_analyzer_tls_key_file=str(key),
        _regression_analyzer_tls_ciphers=role_vars["_regression_analyzer_tls_ciphers"],
    )


class Nginx:
    """A private nginx (its own prefix, pid file and logs) serving one site."""

    def __init__(self, folder: Path, site: str) -> None:
        self.folder = folder
        (folder / "logs").mkdir()
        (folder / "nginx.conf").write_text(
            f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/logs/error.log;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
            f"  proxy_temp_path {folder}/proxy;\n{site}\n}}\n"
        )

    def __enter__(self) -> Nginx:
        subprocess.run(
            ["nginx", "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")], check=True
        )
        return self

    def __exit__(self, *exc: object) -> None:
        pid = int((self.folder / "nginx.pid").read_text())
        subprocess.run(["kill", "-QUIT", str(pid)], check=False)


def tls_context(cert: Path, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    if version is not None:
        context.minimum_version = context.maximum_version = version
    return context


def kept_alive(connection: http.client.HTTPConnection, requests: int) -> float:
    """Microseconds per GET /health on one kept-alive connection."""
    start = time.perf_counter()
    for _ in range(requests):
        connection.request("GET", HEALTH)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
    return (time.perf_counter() - start) / requests * 1e6


def new_connections(connect: Callable[[], http.client.HTTPConnection], requests: int) -> float:
    """Microseconds per connect (+ handshake) + GET /health + close."""
    start = time.perf_counter()
    for _ in range(requests):
        connection = connect()
        connection.request("GET", HEALTH)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        connection.close()
    return (time.perf_counter() - start) / requests * 1e6


def handshakes(port: int, context: ssl.SSLContext, requests: int) -> float:
    """Microseconds per TCP connect + TLS handshake alone."""
    start = time.perf_counter()
    for _ in range(requests):
        raw = socket.create_connection(("127.0.0.1", port))
        with raw, context.wrap_socket(raw, server_hostname="localhost"):
            pass
    return (time.perf_counter() - start) / requests * 1e6


def upload_seconds(connection: http.client.HTTPConnection, body: bytes, boundary: str) -> float:
    start = time.perf_counter()
    connection.request(
        "POST",
        "/api/v1/upload",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response = connection.getresponse()
    response.read()
    assert response.status in (200, 201), response.status
    return time.perf_counter() - start


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = "benchmark-boundary-7d1f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), boundary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if not shutil.which("nginx"):
        raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
    folder = Path(tempfile.mkdtemp(prefix="https-overhead-"))
    cert, key = self_signed(folder)
    table = folder / "upload.csv"
    write_linear_table(table, rows=150_000)
    body, boundary = multipart(table)
    # No rate limit on uploads here: the benchmark uploads a few dozen times.
    with Server(UPLOAD_RATE_LIMIT="100000", RATE_LIMIT="100000") as server:
        service_port = int(server.url.rsplit(":", 1)[1])
        https_port = free_port()
        site = nginx_site(service_port, https_port, cert, key)
        with Nginx(folder, site):
            time.sleep(0.5)
            tls13, tls12 = tls_context(cert), tls_context(cert, ssl.TLSVersion.TLSv1_2)
            plain = http.client.HTTPConnection("127.0.0.1", service_port)
            secure = http.client.HTTPSConnection("localhost", https_port, context=tls13)
            figures: dict[str, list[float]] = {}

            def record(name: str, value: float) -> None:
                figures.setdefault(name, []).append(value)

            for _ in range(args.rounds):
                record("kept-alive HTTP, us", kept_alive(plain, args.requests))
                record("kept-alive HTTPS via nginx, us", kept_alive(secure, args.requests))
                record(
                    "new connection HTTP, us",
                    new_connections(
                        lambda: http.client.HTTPConnection("127.0.0.1", service_port),
                        args.requests // 4,
                    ),
                )
                for label, context in (("1.3", tls13), ("1.2", tls12)):
                    record(
                        f"new connection HTTPS TLS {label}, us",
                        new_connections(
                            lambda c=context: http.client.HTTPSConnection(
                                "localhost", https_port, context=c
                            ),
                            args.requests // 4,
                        ),
                    )
                    record(
                        f"TCP + TLS {label} handshake alone, us",
                        handshakes(https_port, context, args.requests // 4),
                    )
                record("upload HTTP, ms", upload_seconds(plain, body, boundary) * 1e3)
                record("upload HTTPS, ms", upload_seconds(secure, body, boundary) * 1e3)
    print(f"upload body: {len(body) / 1e6:.1f} MB; rounds: {args.rounds}; medians:")
    for name, values in figures.items():
        print(f"  {name:40s} {statistics.median(values):10.0f}")
    medians = {name: statistics.median(values) for name, values in figures.items()}
    print("overhead of HTTPS through nginx:")
    print(
        "  kept-alive request          "
        f"{medians['kept-alive HTTPS via nginx, us'] - medians['kept-alive HTTP, us']:+.0f} us"
    )
    for label in ("1.3", "1.2"):
        plain_connection = medians["new connection HTTP, us"]
        extra = medians[f"new connection HTTPS TLS {label}, us"] - plain_connection
        print(f"  new connection, TLS {label}     {extra:+.0f} us")
    print(
        "  upload                      "
        f"{medians['upload HTTPS, ms'] - medians['upload HTTP, ms']:+.0f} ms"
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
