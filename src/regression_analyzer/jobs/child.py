"""The analysis child: what runs inside the process processes.JobProcesses starts for one job.

It enters the isolation rules (isolation.py), takes the job's claim, runs the pipeline and
records progress and the outcome through the same store as the service (files, or the queue
engine in shared mode: redis-py, never arq). The pipeline is imported here, in the child (the
forkserver pre-loads it), never in the service process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import IO, Any

from ..logs import quiet_vendor_loggers
from .constants import CLAIMED_ELSEWHERE
from .isolation import enter_worker_process, memory_limit_message
from .model import GENERIC_FAILURE, now
from .store import JobStore
from .wiring import open_job_store

log = logging.getLogger(__name__)


def child_main(
    job_id: str,
    upload_path: str,
    options: dict[str, Any],
    memory_mb: int,
    service_pid: int,
) -> None:
    """The process's target: the isolation rules first, then the job."""
    enter_worker_process(memory_mb, service_pid)
    run_job(job_id, upload_path, options, memory_mb)


def _claim(store: JobStore, job_id: str) -> IO[str] | None:
    """Hold the job's claim for this process's lifetime; None when another process has it."""
    import fcntl

    handle = store.claim_path(job_id).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    # Who holds it, for an operator reading the folder; the lock itself is what counts.
    handle.truncate(0)
    handle.write(f"pid {os.getpid()} boot {_boot_id()}\n")
    handle.flush()
    return handle


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return "unknown"


def run_job(job_id: str, upload_path: str, options: dict[str, Any], memory_mb: int) -> None:
    """Run the pipeline for one job; record progress and the outcome in its state file."""
    # The pipeline is imported here, in the analysis process (and pre-loaded by the forkserver).
    from ..errors import InputError
    from ..pipeline import AnalysisOptions, run_analysis
    from ..settings import Settings

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    quiet_vendor_loggers(settings.log_vendor_sdks)
    # Analyses yield the CPU to the service process, so the API stays responsive under load.
    with contextlib.suppress(OSError):
        os.nice(10)
    # The same environment as the service: the same store (files, or the queue engine).
    store = open_job_store(settings)
    claim = _claim(store, job_id)
    if claim is None:
        sys.exit(CLAIMED_ELSEWHERE)

    def progress(stage: str) -> None:
        store.update(job_id, stage=stage)

    opts = AnalysisOptions(
        target=options.get("target"),
        features=options.get("features"),
        context=options.get("context"),
        sheet=options.get("sheet"),
        transpose=options.get("transpose"),
        robust=bool(options.get("robust")),
        event=options.get("event"),
        use_llm=not options.get("skip_llm"),
    )
    try:
        run_analysis(Path(upload_path), opts, store.job_dir(job_id), progress=progress)
    except InputError as exc:
        store.update(job_id, status="failed", error=str(exc), finished_at=now())
        return
    except MemoryError:
        log.warning("analysis %s hit the memory limit of %d MB", job_id, memory_mb)
        store.update(
            job_id, status="failed", error=memory_limit_message(memory_mb), finished_at=now()
        )
        return
    except Exception:
        # The traceback stays in the server log; the user gets one generic line.
        log.exception("analysis %s failed unexpectedly", job_id)
        store.update(job_id, status="failed", error=GENERIC_FAILURE, finished_at=now())
        return
    store.update(job_id, status="completed", stage=None, finished_at=now())
    log.info("analysis %s completed", job_id)
