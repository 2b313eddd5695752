"""The analysis child: what runs inside the process processes.JobProcesses starts for one job.

It logs as the service does (logs.configure_child_logging), enters the isolation rules
(isolation.py), takes the job's claim, runs the pipeline and records progress, each stage's
time and the outcome (with its FailureReason) through the same store as the service (files,
or the queue engine in shared mode: redis-py, never arq). The pipeline is imported here, in
the child (the forkserver pre-loads it), never in the service process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from ..logs import configure_child_logging
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
    """The process's target: the service's log format, the isolation rules, then the job."""
    configure_child_logging()
    enter_worker_process(memory_mb, service_pid)
    try:
        run_job(job_id, upload_path, options, memory_mb)
    except Exception:
        # e.g. the queue engine gone while the outcome is recorded: logged in the service's
        # format (multiprocessing would print a bare traceback); the service process sees
        # no outcome and records the job as crashed.
        log.exception("analysis %s could not record its outcome", job_id)
        sys.exit(1)


class StageClock:
    """How long each pipeline stage took: a stage ends when the next one starts."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = 0.0

    def enter(self, stage: str | None) -> None:
        """Close the current stage (if any) and start timing `stage` (None: stop)."""
        moment = time.monotonic()
        if self._stage is not None:
            self.seconds[self._stage] = round(moment - self._since, 6)
        self._stage, self._since = stage, moment


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
    # Analyses yield the CPU to the service process, so the API stays responsive under load.
    with contextlib.suppress(OSError):
        os.nice(10)
    # The same environment as the service: the same store (files, or the queue engine).
    store = open_job_store(settings)
    claim = _claim(store, job_id)
    if claim is None:
        sys.exit(CLAIMED_ELSEWHERE)

    clock = StageClock()

    def progress(stage: str) -> None:
        clock.enter(stage)
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
        store.update(job_id, status="failed", error=str(exc), failure="input", finished_at=now())
        return
    except MemoryError:
        log.warning("analysis %s hit the memory limit of %d MB", job_id, memory_mb)
        store.update(
            job_id,
            status="failed",
            error=memory_limit_message(memory_mb),
            failure="memory",
            finished_at=now(),
        )
        return
    except Exception:
        # The traceback stays in the server log; the user gets one generic line.
        log.exception("analysis %s failed unexpectedly", job_id)
        store.update(
            job_id, status="failed", error=GENERIC_FAILURE, failure="internal", finished_at=now()
        )
        return
    clock.enter(None)
    store.update(
        job_id, status="completed", stage=None, stage_seconds=clock.seconds, finished_at=now()
    )
    log.info("analysis %s completed", job_id)
