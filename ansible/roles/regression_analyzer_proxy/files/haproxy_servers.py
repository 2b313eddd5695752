#!/usr/bin/env python3
"""Read or set the state of regression-analyzer's servers in HAProxy, over its runtime API.

Usage (on the proxy host, as root; Python's standard library only):
  haproxy_servers.py SOCKET BACKEND status
  haproxy_servers.py SOCKET BACKEND drain SERVER [TIMEOUT_S]
  haproxy_servers.py SOCKET BACKEND ready SERVER [TIMEOUT_S]

status: one JSON object {server: {"status": "UP"|"DOWN"|"DRAIN"|..., "sessions": N}}.
drain:  HAProxy sends the server no new requests; waits until its requests in flight are
        done (at most TIMEOUT_S, default 30: the service finishes the rest itself when it
        stops, within SHUTDOWN_GRACE_S).
ready:  the server takes requests again once its health check passes; waits until HAProxy
        reports it UP (at most TIMEOUT_S, default 60), exit 1 if it does not come up.
Prints one JSON line. A missing socket or an unknown server is no error ("skipped"): on the
first deploy the proxy is set up after the app hosts.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import sys
import time


def ask(path: str, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(path)
        conn.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def servers(path: str, backend: str) -> dict[str, dict[str, object]]:
    text = ask(path, "show stat").lstrip("# ")
    found = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND"):
            found[row["svname"]] = {"status": row["status"], "sessions": int(row["scur"] or 0)}
    return found


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[2] not in ("status", "drain", "ready"):
        print(__doc__, file=sys.stderr)
        return 2
    path, backend, action = argv[:3]
    if not os.path.exists(path):
        print(json.dumps({"skipped": f"no HAProxy runtime socket at {path}"}))
        return 0
    if action == "status":
        print(json.dumps(servers(path, backend)))
        return 0
    server = argv[3]
    timeout = float(argv[4]) if len(argv) > 4 else (30.0 if action == "drain" else 60.0)
    before = servers(path, backend)
    if server not in before:
        print(json.dumps({"skipped": f"{server} is not a server of {backend}"}))
        return 0
    answer = ask(path, f"set server {backend}/{server} state {action}").strip()
    if answer:
        print(json.dumps({"failed": answer}))
        return 1
    start = time.monotonic()
    while True:
        now = servers(path, backend)[server]
        done = now["sessions"] == 0 if action == "drain" else now["status"] == "UP"
        waited = round(time.monotonic() - start, 1)
        if done or waited >= timeout:
            break
        time.sleep(0.5)
    print(json.dumps({"server": server, "before": before[server], "now": now, "waited_s": waited}))
    return 0 if done or action == "drain" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
