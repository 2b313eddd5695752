"""Container figures on the real Docker engine; prints them (docs/container.md quotes them).

    python benchmarks/container_bench.py [--image TAG] [--base BASE] [--no-cold] [--no-1m]

- image size and the biggest layers (docker history);
- build time cold (--no-cache) and after a code-only change in a copy of the build context,
  with the proof that the dependency layers came from the cache;
- time from `docker run` to the first health answer, and to Docker's `healthy` status with
  the image's own 30 s interval (Docker 20.10 probes first after one interval) and with
  `--health-interval 1s`;
- idle memory (docker stats --no-stream), peak memory while analysing 100k and 1M rows
  (cgroup v1 memory.max_usage_in_bytes, or docker stats polling), `docker stop` time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.container.conftest import csv_bytes  # noqa: E402

CONTEXT_FILES = [
    "Dockerfile", ".dockerignore", "pyproject.toml", "README.md", "src", "wheelhouse",
    "scripts/container-bytecode.py", "scripts/container-mplconfig.py",
]  # fmt: skip


def sh(*args: str, timeout: float = 3600, check: bool = True) -> str:
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout + r.stderr


def build(context: Path, tag: str, base: str, *extra: str) -> tuple[float, str]:
    start = time.monotonic()
    out = sh(
        "docker", "build", *extra, "--build-arg", f"BASE_IMAGE={base}",
        "--build-arg", "VERSION=0.1.0-bench", "-t", tag, str(context),
    )  # fmt: skip
    return time.monotonic() - start, out


def copy_context(dest: Path) -> None:
    for name in CONTEXT_FILES:
        src = ROOT / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, target)


def steps_cached(log: str) -> tuple[list[str], list[str]]:
    """(cached steps, rebuilt steps) from a classic-builder log."""
    cached, rebuilt = [], []
    for block in re.split(r"\nStep \d+/\d+ : ", "\n" + log)[1:]:
        first = block.splitlines()[0]
        (cached if "---> Using cache" in block else rebuilt).append(first)
    return cached, rebuilt


def mem_mb(name: str) -> float:
    usage = sh("docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", name).split("/")[0]
    value = float(re.match(r"[\d.]+", usage.strip()).group())
    unit = re.search(r"[KMG]i?B", usage).group()
    return value * {"K": 1 / 1024, "M": 1, "G": 1024}[unit[0]]


def cgroup_peak_mb(container_id: str) -> float | None:
    for path in (
        f"/sys/fs/cgroup/memory/docker/{container_id}/memory.max_usage_in_bytes",
        f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/memory.peak",
    ):
        if os.path.exists(path):
            return int(Path(path).read_text()) / 2**20
    return None


def wait_http(port: int, timeout: float = 120) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise SystemExit("no health answer")


def run(image: str, *opts: str) -> tuple[str, int, float]:
    """Start a container; returns (name, host port, seconds until the first health answer)."""
    name = f"ra-bench-{os.getpid()}-{int(time.time() * 1000) % 100000}"
    data = Path(tempfile.mkdtemp(prefix="ra-bench-"))
    for sub in ("data", "output"):
        (data / sub).mkdir()
        os.chown(data / sub, 1000, 1000)
    start = time.monotonic()
    sh(
        "docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8000",
        "-v", f"{data / 'data'}:/data", "-v", f"{data / 'output'}:/output", *opts, image,
    )  # fmt: skip
    port = int(sh("docker", "port", name, "8000/tcp").split()[0].rsplit(":", 1)[1])
    wait_http(port)
    return name, port, time.monotonic() - start


def wait_healthy(name: str, since: float, timeout: float = 120) -> float:
    while time.monotonic() - since < timeout:
        state = json.loads(sh("docker", "inspect", name))[0]["State"]
        if state["Health"]["Status"] == "healthy":
            return time.monotonic() - since
        time.sleep(0.1)
    raise SystemExit("never healthy")


def analyse_peak(name: str, port: int, rows: int) -> tuple[float, float, float | None]:
    """(seconds, max polled MB, cgroup peak MB) for one skip_llm analysis of `rows` rows."""
    cid = json.loads(sh("docker", "inspect", name))[0]["Id"]
    payload = csv_bytes(rows, seed=rows)
    url = f"http://127.0.0.1:{port}/api/v1"
    up = requests.post(f"{url}/upload", files={"file": ("b.csv", payload)}, timeout=600)
    up.raise_for_status()
    polled: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            polled.append(mem_mb(name))

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    start = time.monotonic()
    body = {"upload_id": up.json()["upload_id"], "target": "y", "skip_llm": True}
    job = requests.post(f"{url}/analyze", json=body, timeout=60).json()["job_id"]
    while True:
        status = requests.get(f"{url}/results/{job}", timeout=60).json()["status"]
        if status in ("completed", "failed"):
            break
        time.sleep(0.5)
    seconds = time.monotonic() - start
    stop.set()
    thread.join()
    if status != "completed":
        raise SystemExit(f"{rows} rows: job {status}")
    return seconds, max(polled, default=0.0), cgroup_peak_mb(cid)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", default="regression-analyzer:bench")
    ap.add_argument("--base", default=os.environ.get(
        "REGRESSION_ANALYZER_BASE_IMAGE", "regression-analyzer/python-base:3.11"))  # fmt: skip
    ap.add_argument("--no-cold", action="store_true", help="skip the --no-cache build")
    ap.add_argument("--no-1m", action="store_true", help="skip the 1M-row analysis")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}, cpus: {os.cpu_count()}")

    with tempfile.TemporaryDirectory(prefix="ra-bench-ctx-") as tmp:
        ctx = Path(tmp)
        copy_context(ctx)
        if not args.no_cold:
            seconds, _ = build(ctx, args.image, args.base, "--no-cache")
            print(f"build, cold (--no-cache):                 {seconds:6.1f} s")
        seconds, log = build(ctx, args.image, args.base)
        cached, rebuilt = steps_cached(log)
        print(f"build, nothing changed:                   {seconds:6.1f} s "
              f"({len(cached)} steps cached, {len(rebuilt)} rebuilt)")  # fmt: skip
        init = ctx / "src/regression_analyzer/__init__.py"
        init.write_text(init.read_text() + f"\n# bench {time.time()}\n")
        seconds, log = build(ctx, args.image, args.base)
        cached, rebuilt = steps_cached(log)
        deps_cached = any("pip install" in s and "requirements.txt" in s for s in cached)
        print(f"build, code-only change:                  {seconds:6.1f} s "
              f"({len(cached)} steps cached, {len(rebuilt)} rebuilt; "
              f"dependency install cached: {deps_cached})")  # fmt: skip
        for step in rebuilt:
            if not step.startswith(("ARG", "LABEL", "ENV", "USER", "WORKDIR", "VOLUME", "EXPOSE")):
                print(f"    rebuilt: {step[:100]}")

    size = json.loads(sh("docker", "image", "inspect", args.image))[0]["Size"]
    print(f"image size:                               {size / 1e6:6.0f} MB")
    history = sh("docker", "history", "--format", "{{.Size}}\t{{.CreatedBy}}", args.image)
    for line in history.splitlines():
        if line and not line.startswith("0B"):
            print(f"    layer {line[:110]}")

    name, port, to_http = run(args.image)
    started = time.monotonic() - to_http
    print(f"docker run -> first health answer:        {to_http:6.1f} s")
    print(f"docker run -> healthy (30 s interval):    {wait_healthy(name, started):6.1f} s")
    time.sleep(5)
    print(f"idle memory (docker stats):               {mem_mb(name):6.0f} MiB")
    start = time.monotonic()
    sh("docker", "stop", name)
    code = json.loads(sh("docker", "inspect", name))[0]["State"]["ExitCode"]
    print(f"docker stop:                              {time.monotonic() - start:6.1f} s "
          f"(exit code {code})")  # fmt: skip
    sh("docker", "rm", "-v", name)

    name, port, to_http = run(args.image, "--health-interval", "1s")
    started = time.monotonic() - to_http
    print(f"docker run -> healthy (--health-interval 1s): {wait_healthy(name, started):6.1f} s")
    sh("docker", "rm", "-f", "-v", name)

    hardened = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges"]  # fmt: skip
    sizes = [(100_000, ["--memory", "512m", "--cpus", "0.5"])]
    if not args.no_1m:
        sizes.append((1_000_000, ["--memory", "2g", "--cpus", "2", "-e", "MAX_UPLOAD_MB=200"]))
    for rows, limits in sizes:
        name, port, to_http = run(args.image, *hardened, *limits)
        print(f"read-only {' '.join(limits)}: run -> first health answer {to_http:.1f} s")
        idle = mem_mb(name)
        seconds, polled, peak = analyse_peak(name, port, rows)
        peak_text = f", cgroup peak {peak:.0f} MiB" if peak is not None else ""
        print(f"{rows:>9,} rows: {seconds:6.1f} s, idle {idle:.0f} MiB, "
              f"max polled {polled:.0f} MiB{peak_text}")  # fmt: skip
        sh("docker", "rm", "-f", "-v", name)


if __name__ == "__main__":
    main()
