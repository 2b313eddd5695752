"""Docker HEALTHCHECK probe: exit 0 only when GET /api/v1/health on $PORT answers HTTP 200.

Installed in the image as /usr/local/lib/regression-analyzer/healthcheck.py and run as
`python -I -S /usr/local/lib/regression-analyzer/healthcheck.py`; the Dockerfile, compose and
the Ansible role use that exact command. No curl in the image, and no shell.

It runs every few seconds for the life of every container, so it costs as little as a Python
process can (benchmarks/container_bench.py measures it): `-S` skips site and the venv's
matplotlib .pth hook, and the C module `_socket` is all it imports. `socket` (enum, re,
selectors), http.client (the email package) or urllib would each double the CPU of a probe;
a bytes host skips the idna codec that a str host loads.
"""

import _socket
import os
import sys
import time

TIMEOUT_S = 2.0  # under the HEALTHCHECK --timeout (3 s), so the probe reports its own error
PATH = "/api/v1/health"


def probe(port: int) -> str | None:
    """None when healthy, else why not (Docker keeps the probe's output in State.Health)."""
    deadline = time.monotonic() + TIMEOUT_S
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT_S)
        sock.connect((b"127.0.0.1", port))
        sock.sendall(
            f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n" not in head:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            chunk = sock.recv(1024)
            if not chunk:
                break
            head += chunk
    finally:
        sock.close()
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1] == "200":
        return None
    return f"GET {PATH}: {status_line or 'no answer'}"


def main() -> int:
    try:
        problem = probe(int(os.environ.get("PORT") or "8000"))
    except (OSError, ValueError) as exc:
        problem = f"GET {PATH}: {exc.__class__.__name__}: {exc}"
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
