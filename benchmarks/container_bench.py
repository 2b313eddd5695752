"""Container figures on the real Docker engine; prints them (docs/container.md quotes them).

    python benchmarks/container_bench.py [--image TAG] [--base BASE] [--no-cold] [--no-1m]

- image size and the biggest layers (docker history);
- build time cold (--no-cache), after a code-only change in a copy of the build context, and
  after a new OS_UPDATES_STAMP (what the role's weekly security-update rebuild costs a host),
  with the proof that the dependency layers came from the cache;
- time from `docker run` to the first health answer, and to Docker's `healthy` status with
  the image's own HEALTHCHECK (median of 3; Docker 20.10 probes first after one interval)
  and with `--health-interval 1s`;
- the CPU time (user + sys) of one run of the image's health probe, measured inside the
  container over 50 runs, and what it costs per minute at the image's interval
  (`--health-only` prints just these health figures for an existing `--image`);
- idle memory (docker stats --no-stream), peak memory while analysing 100k and 1M rows
  (cgroup v1 memory.max_usage_in_bytes, or docker stats polling), `docker stop` time;
- tasks (processes + threads, what `pids_limit` counts: the cgroup's pids.current) idle and
  at their peak during two uploads and two concurrent analyses, for WORKERS=2 and 8
  (`--pids-only` prints just these), to size compose's and the role's pids_limit.
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
from tests.helpers.containers import PROJECT_VERSION as VERSION  # noqa: E402
from tests.helpers.containers import csv_bytes  # noqa: E402

CONTEXT_FILES = [
    "Dockerfile", ".dockerignore", "pyproject.toml", "README.md", "src", "wheelhouse",
    "requirements.lock", "requirements-build.lock", "requirements-sbom.lock",
    "scripts/container-bytecode.py", "scripts/container-mplconfig.py",
    "scripts/container-healthcheck.py", "scripts/container-sbom.py", "scripts/os-updates.sh",
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
        "--build-arg", f"VERSION={VERSION}-bench", "-t", tag, str(context),
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


def incremental_build(what: str, ctx: Path, args: argparse.Namespace, *extra: str) -> None:
    """Build again after WHAT changed; print the time and which steps ran again."""
    seconds, log = build(ctx, args.image, args.base, *extra)
    cached, rebuilt = steps_cached(log)
    deps_cached = any("pip install" in s and "requirements.lock" in s for s in cached)
    print(f"build, {what:<35}{seconds:6.1f} s ({len(cached)} steps cached, {len(rebuilt)} "
          f"rebuilt; dependency install cached: {deps_cached})")  # fmt: skip
    for step in rebuilt:
        if not step.startswith(("ARG", "LABEL", "ENV", "USER", "WORKDIR", "VOLUME", "EXPOSE")):
            print(f"    rebuilt: {step[:100]}")


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


# Runs inside the container: the probe command N times, CPU from RUSAGE_CHILDREN (the probe
# processes only, not docker exec or this driver).
PROBE_DRIVER = """
import json, resource, subprocess, sys, time
cmd, n = json.loads(sys.argv[1]), int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.monotonic()
codes = [subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
         for _ in range(n)]
wall = time.monotonic() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"cpu_s": cpu / n, "wall_s": wall / n, "failures": sum(c != 0 for c in codes)}))
"""


def health_config(image: str) -> dict:
    return json.loads(sh("docker", "image", "inspect", image))[0]["Config"]["Healthcheck"]


def probe_command(config: dict) -> list[str]:
    kind, *rest = config["Test"]
    return rest if kind == "CMD" else ["/bin/sh", "-c", rest[0]]


def health_figures(image: str, runs: int = 3, probes: int = 50) -> None:
    """Time to `healthy` with the image's own HEALTHCHECK, and the CPU cost of its probe."""
    config = health_config(image)
    interval = config.get("Interval", 30 * 10**9) / 1e9
    print(f"HEALTHCHECK: {json.dumps(probe_command(config))}")
    print(f"    interval {interval:g} s, timeout {config.get('Timeout', 0) / 1e9:g} s, "
          f"start period {config.get('StartPeriod', 0) / 1e9:g} s, "
          f"retries {config.get('Retries')}")  # fmt: skip
    times = []
    for _ in range(runs):
        name, _port, to_http = run(image)
        times.append(wait_healthy(name, time.monotonic() - to_http))
        if len(times) < runs:
            sh("docker", "rm", "-f", "-v", name)
    print(f"docker run -> healthy, image's HEALTHCHECK: {sorted(times)[runs // 2]:6.1f} s "
          f"(median of {runs}: {', '.join(f'{t:.1f}' for t in times)})")  # fmt: skip
    out = sh(
        "docker", "exec", name, "python", "-I", "-S", "-c", PROBE_DRIVER,
        json.dumps(probe_command(config)), str(probes), timeout=600,
    )  # fmt: skip
    figures = json.loads(out.strip().splitlines()[-1])
    sh("docker", "rm", "-f", "-v", name)
    per_minute = figures["cpu_s"] * 60 / interval
    print(f"one probe: CPU {figures['cpu_s'] * 1000:.1f} ms (user+sys), "
          f"wall {figures['wall_s'] * 1000:.1f} ms (mean of {probes}, "
          f"{figures['failures']} failed)")  # fmt: skip
    print(f"probe CPU at a {interval:g} s interval: {per_minute * 1000:.0f} ms per minute "
          f"= {per_minute / 60 * 100:.2f} % of one core")  # fmt: skip


def cgroup_pids(container_id: str) -> int:
    for path in (
        f"/sys/fs/cgroup/pids/docker/{container_id}/pids.current",
        f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/pids.current",
    ):
        if os.path.exists(path):
            return int(Path(path).read_text())
    raise SystemExit("no pids cgroup found for the container")


def upload_id(url: str, rows: int, seed: int) -> str:
    files = {"file": (f"t{seed}.csv", csv_bytes(rows, seed=seed))}
    r = requests.post(f"{url}/upload", files=files, timeout=600)
    r.raise_for_status()
    return r.json()["upload_id"]


def wait_job(url: str, job: str) -> None:
    while requests.get(f"{url}/results/{job}", timeout=60).json()["status"] not in (
        "completed",
        "failed",
    ):
        time.sleep(0.2)


def peak_tasks(name: str, port: int, rows: int) -> tuple[int, int]:
    """(idle, peak) pids.current while two uploads are previewed and two analyses run."""
    cid = json.loads(sh("docker", "inspect", name))[0]["Id"]
    time.sleep(3)  # the forkserver warm-up runs right after the start
    idle = cgroup_pids(cid)
    peak = [idle]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peak.append(cgroup_pids(cid))
            time.sleep(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    url = f"http://127.0.0.1:{port}/api/v1"
    uploads: list[str] = []
    senders = [
        threading.Thread(target=lambda s=seed: uploads.append(upload_id(url, rows, s)))
        for seed in (1, 2)
    ]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    body = {"target": "y", "skip_llm": True}
    jobs = [
        requests.post(f"{url}/analyze", json={**body, "upload_id": u}, timeout=60).json()["job_id"]
        for u in uploads
    ]
    for job in jobs:
        wait_job(url, job)
    stop.set()
    poller.join()
    return idle, max(peak)


def pids_figures(image: str, rows: int = 200_000) -> None:
    """Tasks (what pids_limit counts) in a compose-like container, for two WORKERS values."""
    hardened = ["--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,nodev", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges", "--memory", "2g", "--cpus", "2"]  # fmt: skip
    for workers in (2, 8):
        name, port, _ = run(image, *hardened, "-e", f"WORKERS={workers}")
        idle, peak = peak_tasks(name, port, rows)
        print(f"tasks (pids.current), WORKERS={workers}: idle {idle}, peak {peak} during "
              f"2 uploads + 2 analyses of {rows:,} rows")  # fmt: skip
        print(f"    threads per process after: {docker_threads(name)}")
        sh("docker", "rm", "-f", "-v", name)


def docker_threads(name: str) -> str:
    script = "for p in /proc/[0-9]*; do echo $(cat $p/comm) $(ls $p/task | wc -l); done"
    out = sh("docker", "exec", name, "sh", "-c", script)
    return ", ".join(line for line in out.splitlines() if line.strip())


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
    ap.add_argument(
        "--health-only", action="store_true", help="only the health figures of --image, no build"
    )
    ap.add_argument(
        "--pids-only", action="store_true", help="only the task counts of --image, no build"
    )
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}, cpus: {os.cpu_count()}")
    if args.health_only or args.pids_only:
        if args.health_only:
            health_figures(args.image)
        if args.pids_only:
            pids_figures(args.image)
        return

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
        incremental_build("code-only change:", ctx, args)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        stamp_arg = f"OS_UPDATES_STAMP={stamp}"
        incremental_build("new OS_UPDATES_STAMP:", ctx, args, "--build-arg", stamp_arg)

    size = json.loads(sh("docker", "image", "inspect", args.image))[0]["Size"]
    print(f"image size:                               {size / 1e6:6.0f} MB")
    history = sh("docker", "history", "--format", "{{.Size}}\t{{.CreatedBy}}", args.image)
    for line in history.splitlines():
        if line and not line.startswith("0B"):
            print(f"    layer {line[:110]}")

    health_figures(args.image)
    name, port, to_http = run(args.image)
    print(f"docker run -> first health answer:        {to_http:6.1f} s")
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

    pids_figures(args.image)
    hardened = ["--read-only", "--tmpfs", "/tmp:rw,noexec,nosuid,nodev", "--cap-drop", "ALL",
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
