"""The rules every process that touches a user's table lives by.

Only short-lived child processes parse tables (previews and analyses); the service process
never does. Each child, first thing:
- dies with its parent: the kernel kills it when the forkserver exits (PR_SET_PDEATHSIG), and
  a watchdog thread ends it when the service process is gone, so a killed server never leaves
  an analysis running that a restarted one would run a second time;
- gets a hard memory cap (RLIMIT_AS): what the loaded code already maps plus WORKER_MEMORY_MB,
  so a hostile or huge table raises MemoryError in that child instead of growing until the
  kernel's OOM killer picks a victim, possibly the service.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_WATCH_INTERVAL_S = 0.5

WorkerContext = multiprocessing.context.ForkServerContext | multiprocessing.context.SpawnContext


def worker_context() -> WorkerContext:
    """forkserver with the pipeline pre-imported (fast child start); spawn where unavailable."""
    # One BLAS/OpenMP thread per child: WORKERS processes already use the cores, and more
    # threads would only starve the service process (and /health) of CPU. Set before the
    # forkserver starts so every child inherits it; an operator's explicit value wins.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    # Where pyarrow is installed (pandas then keeps text in Arrow arrays), its default
    # allocator reserves address space in large arenas up front, which the children's
    # RLIMIT_AS cap counts: previews failed with "malloc of size 64 failed". malloc reserves
    # only what is used.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:
        return multiprocessing.get_context("spawn")
    # openpyxl too: imported lazily by pandas in threads it raced ("partially initialized
    # module"); loaded once here, every child starts with it complete.
    preload = [
        # The two kinds of child: an analysis (the job system's) and an upload's preview
        # (the service's; named, not imported, so this package stays below the API).
        "regression_analyzer.jobs.child",
        "regression_analyzer.api.previews",
        "regression_analyzer.pipeline",
        # The pipeline imports matplotlib only when charts are drawn: load it here once,
        # not in every analysis.
        "regression_analyzer.charts.drawing",
        "openpyxl",
    ]
    if os.environ.get("QUEUE_URL", "").strip():
        # Shared mode: each analysis writes its job's state to Redis (redis-py, ~0.2 s to
        # import); local mode never loads it. The store only: arq stays out of the children.
        preload.append("regression_analyzer.jobs.shared.store")
    ctx.set_forkserver_preload(preload)
    return ctx


def memory_limit_message(memory_mb: int) -> str:
    """What a user reads when their table hit the memory cap."""
    return (
        f"the table needs more than {memory_mb} MB of memory to process; the limit is "
        f"{memory_mb} MB (WORKER_MEMORY_MB): use a smaller table or ask the operator to "
        "raise the limit"
    )


def enter_worker_process(memory_mb: int, service_pid: int) -> None:
    """Call first in a child that will read a user's table (see the module docstring)."""
    _die_with_parent()
    _watch_service(service_pid)
    _cap_memory(memory_mb)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _watch_service(service_pid: int) -> None:
    """A daemon thread that ends this process once the service process is gone."""

    def watch() -> None:
        while process_alive(service_pid):
            time.sleep(_WATCH_INTERVAL_S)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="service-watchdog", daemon=True).start()


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (killed, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: signal 0 is all we can know
    return state not in (b"Z", b"X")


def _cap_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX
        return
    mapped = _mapped_bytes()
    if mapped is None:
        return
    limit = mapped + memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _mapped_bytes() -> int | None:
    """This process's address space now (VmSize): the code and libraries already loaded."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
