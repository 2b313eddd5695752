"""HTTPS of the role (nginx on the host), tested over the network from outside the host.

Run by `molecule verify` after test_default.py. The host's 443 and 80 are published on this
machine's loopback (molecule.yml's `published_ports`); every request here goes there, as a
user's would, with the certificate the host serves trusted by `curl --cacert` (the self-signed
one made on the host, or, after side_effect.yml's rotation, the test-only one of the vault).
The rate-limit test comes last: it uses up this machine's allowance of analyses for a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# molecule/terminal.py, shared by the scenarios' tests (appended: the stdlib stays first).
sys.path.append(str(Path(__file__).resolve().parents[2]))
from terminal import runbook_lines

SCENARIO_DIR = Path(
    os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1])
)
PLATFORM = yaml.safe_load((SCENARIO_DIR / "molecule.yml").read_text())["platforms"][0]
NAME = PLATFORM["name"]  # the inventory host name: the role's default server name
PUBLISHED = {
    int(inside): int(outside)
    for outside, inside in (
        re.fullmatch(r"127\.0\.0\.1:(\d+):(\d+)/tcp", p).groups()
        for p in PLATFORM["published_ports"]
    )
}
HTTPS_PORT, HTTP_PORT = PUBLISHED[443], PUBLISHED[80]
SITE = "/etc/nginx/conf.d/regression-analyzer.conf"
TLS_DIR = "/etc/regression-analyzer/tls"
ENV_FILE = "/etc/regression-analyzer/regression-analyzer.env"
CONTAINER = "regression-analyzer"
# curl as a user on this machine: the host's name resolved to the published port.
RESOLVE = f"{NAME}:{HTTPS_PORT}:127.0.0.1"
URL = f"https://{NAME}:{HTTPS_PORT}"


def run(*argv: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def served_certificate(host, tmp_path_factory) -> Path:
    """The certificate nginx serves (its ssl_certificate), copied here: what a user trusts."""
    path = re.search(r"(?m)^\s*ssl_certificate (\S+);", host.file(SITE).content_string).group(1)
    local = tmp_path_factory.mktemp("tls") / "served.crt"
    local.write_text(host.file(path).content_string)
    return local


def curl(cacert: Path, *args: str) -> subprocess.CompletedProcess:
    return run("curl", "-sS", "--cacert", str(cacert), "--resolve", RESOLVE, *args)


def s_client(*args: str) -> subprocess.CompletedProcess:
    return run(
        "openssl",
        "s_client",
        "-connect",
        f"127.0.0.1:{HTTPS_PORT}",
        "-servername",
        NAME,
        *args,
        input="",
    )


def test_curl_trusting_the_served_certificate_gets_the_service(served_certificate):
    answer = curl(served_certificate, "-f", f"{URL}/api/v1/health")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["status"] == "ok"
    # Not trusted without it: the certificate is really checked.
    untrusted = run("curl", "-sS", "--resolve", RESOLVE, f"{URL}/api/v1/health")
    assert untrusted.returncode == 60, untrusted.stderr  # CURLE_PEER_FAILED_VERIFICATION


def test_the_certificate_names_the_host(served_certificate):
    text = run(
        "openssl", "x509", "-in", str(served_certificate), "-noout", "-ext", "subjectAltName"
    )
    assert f"DNS:{NAME}" in text.stdout, text.stdout


def test_plain_http_is_redirected_to_https():
    answer = run(
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{redirect_url}",
        f"http://127.0.0.1:{HTTP_PORT}/api/v1/health?from=http",
    )
    assert answer.stdout == "301 https://127.0.0.1/api/v1/health?from=http", answer


def test_tls_1_1_is_refused_by_the_server_and_tls_1_2_and_1_3_are_served():
    # The client offers TLS 1.1 with every cipher it has (SECLEVEL=0 lifts its own floor): the
    # server answers with the protocol_version alert (70).
    old = s_client("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert old.returncode != 0
    assert "alert protocol version" in old.stdout + old.stderr, old.stdout + old.stderr
    for version, option in (("TLSv1.2", "-tls1_2"), ("TLSv1.3", "-tls1_3")):
        new = s_client(option, "-cipher", "DEFAULT:@SECLEVEL=0")
        assert new.returncode == 0, new.stderr
        assert f"New, {version}, Cipher is" in new.stdout, new.stdout[-2000:]


def test_hsts_once_and_the_services_own_security_headers_once(served_certificate):
    answer = curl(served_certificate, "-f", "-D", "-", "-o", "/dev/null", f"{URL}/api/v1/health")
    assert answer.returncode == 0, answer.stderr
    names = [line.split(":", 1)[0].lower() for line in answer.stdout.splitlines() if ":" in line]
    headers = {
        line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
        for line in answer.stdout.splitlines()
        if ":" in line
    }
    assert headers["strict-transport-security"] == "max-age=31536000"
    for name in (
        "strict-transport-security",
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ):
        assert names.count(name) == 1, (name, answer.stdout)
    # The redirect carries no HSTS (it is meaningless over plain HTTP).
    redirect = run("curl", "-sS", "-D", "-", "-o", "/dev/null", f"http://127.0.0.1:{HTTP_PORT}/")
    assert "strict-transport-security" not in redirect.stdout.lower()


def test_the_runbooks_check_lines_show_the_served_certificate(host, tmp_path):
    """docs/operations.md's lines to fetch a host's certificate over SSH (here `docker exec`)
    and check the host with it, HOST being this one as reached from here (its 443 published
    on this machine's loopback). After side_effect.yml the host serves the vault's
    certificate, not the self-signed one: then that file is fetched."""
    fetch, ask, show = runbook_lines("**Staging's self-signed certificate.**", 3)
    in_use = re.search(r"(?m)^\s*ssl_certificate (\S+);", host.file(SITE).content_string).group(1)
    fetch = fetch.replace(f"{TLS_DIR}/self-signed.crt", in_use)
    fetch = fetch.replace("ssh deploy@HOST", f"docker exec {NAME}").replace("HOST", NAME)
    ask = ask.replace("curl ", f"curl --connect-to {NAME}:443:127.0.0.1:{HTTPS_PORT} ", 1)
    show = show.replace("-connect HOST:443", f"-connect 127.0.0.1:{HTTPS_PORT}")
    outputs = []
    for line in (fetch, ask.replace("HOST", NAME), show.replace("HOST", NAME)):
        done = run("bash", "-o", "pipefail", "-c", line, cwd=tmp_path)
        assert done.returncode == 0, (line, done.stderr)
        outputs.append(done.stdout)
    assert json.loads(outputs[1])["status"] == "ok"
    fetched = run(
        "openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", f"{tmp_path}/{NAME}.crt"
    )
    assert fetched.stdout.strip() in outputs[2], outputs[2]
    assert f"subject=CN = {NAME}" in outputs[2], outputs[2]


def test_a_40_mb_upload_passes_through_nginx(served_certificate, tmp_path):
    table = tmp_path / "forty.csv"
    row = b"1234567.5,2469135.25,alpha\n"
    with table.open("wb") as out:
        out.write(b"x,y,label\n")
        out.write(row * (40 * 1024 * 1024 // len(row)))
    assert table.stat().st_size >= 40 * 1024 * 1024 - len(row)
    answer = curl(
        served_certificate,
        "-f",
        "-F",
        f"file=@{table};type=text/csv",
        f"{URL}/api/v1/upload",
        "--max-time",
        "120",
    )
    assert answer.returncode == 0, (answer.stderr, answer.stdout[-500:])
    stored = json.loads(answer.stdout)
    assert stored["size"] == table.stat().st_size, stored
    assert stored["sha256"] == hashlib.sha256(table.read_bytes()).hexdigest()
    deleted = curl(
        served_certificate, "-f", "-X", "DELETE", f"{URL}/api/v1/uploads/{stored['upload_id']}"
    )
    assert deleted.returncode == 0, deleted.stderr


def test_nginx_settings_follow_the_services(host):
    site = host.file(SITE).content_string
    env = host.file(ENV_FILE).content_string
    max_upload = int(re.search(r"(?m)^MAX_UPLOAD_MB=(\d+)$", env).group(1))
    assert f"client_max_body_size {max_upload + 1}m;" in site
    for line in (
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_read_timeout 300s;",
        "proxy_request_buffering off;",
        "proxy_pass http://127.0.0.1:8000;",
    ):
        assert line in site, line
    # Debian's default site is off; the whole configuration is valid.
    assert not host.file("/etc/nginx/sites-enabled/default").exists
    assert host.run("nginx -t -q").rc == 0


def test_keys_are_roots_alone_and_the_self_signed_certificate_stays(host):
    private = host.file(f"{TLS_DIR}/private")
    assert (private.user, private.group, private.mode) == ("root", "root", 0o700)
    keys = host.check_output(f"find {TLS_DIR}/private -type f -printf '%u:%g:%m %f\\n'").split("\n")
    assert keys and all(line.startswith("root:root:600 ") for line in keys), keys
    # Made on the first deploy and kept (idempotence ran in between): one year and more left.
    made = host.file(f"{TLS_DIR}/self-signed.crt")
    assert made.exists
    assert host.run(f"openssl x509 -in {TLS_DIR}/self-signed.crt -noout -checkend 31536000").rc == 0


def test_the_service_believes_x_forwarded_for_only_from_the_bridge_gateway(host):
    """The address the container sees the host's nginx connect from: with the port published
    on 127.0.0.1, Docker's proxy connects from the gateway of the container's network."""
    env = host.file(ENV_FILE).content_string
    trusted = re.search(r"(?m)^FORWARDED_ALLOW_IPS=(.*)$", env).group(1)
    inspect = json.loads(host.check_output(f"docker inspect {CONTAINER}"))[0]
    gateway = inspect["NetworkSettings"]["Networks"]["bridge"]["Gateway"]
    assert trusted == gateway, (trusted, gateway)
    # And it is what the service sees: a connection to the published port from the host (as
    # nginx makes them) arrives in the container's network from that address.
    seen = host.check_output(
        "python3 -c \"import socket, time; s = socket.create_connection(('127.0.0.1', 8000)); "
        'time.sleep(3)" & sleep 1; '
        f"nsenter -t {inspect['State']['Pid']} -n "
        "ss -Htn state established '( sport = :8000 )'; wait"
    )
    peers = {line.split()[-1].rsplit(":", 1)[0] for line in seen.splitlines() if line.strip()}
    assert peers - {"127.0.0.1"} == {gateway}, seen  # (the health probe connects from inside)


def test_rate_limits_count_each_client_and_a_spoofed_header_changes_nothing(
    host, served_certificate
):
    """RATE_LIMIT (10 analyses a minute per client). This machine uses up its allowance through
    nginx; then a spoofed X-Forwarded-For (the address of another client) is still refused,
    while another client (a user on the host itself, through nginx) is not. Unknown upload ids
    are enough: the limit is counted before the upload is looked up."""
    body = json.dumps({"upload_id": "0" * 32, "skip_llm": True})

    def analyze(*headers: str) -> int:
        answer = curl(
            served_certificate,
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            *headers,
            "--data",
            body,
            f"{URL}/api/v1/analyze",
        )
        return int(answer.stdout)

    codes = []
    while 429 not in codes:
        codes.append(analyze())
        assert len(codes) <= 11, codes
    assert set(codes[:-1]) <= {404}, codes
    assert analyze("-H", "X-Forwarded-For: 127.0.0.1") == 429
    assert analyze("-H", "X-Forwarded-For: 203.0.113.7") == 429
    # Another user: a client on the host itself (nginx sees 127.0.0.1).
    other = host.run(
        "curl -s -k -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' "
        f"--data '{body}' https://127.0.0.1:443/api/v1/analyze"
    )
    assert other.stdout == "404", other.stdout
