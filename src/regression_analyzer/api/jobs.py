"""Analysis jobs: state on disk, a bounded queue, one worker process per running job.

State: ``OUTPUT_DIR/jobs/<job_id>/state.json``, always replaced atomically. The parent writes
queued/running and the outcome of timeouts and crashes; the child writes stage changes and
completed/failed. They never write at the same time: the parent only writes before the child
starts or after it has exited.

Why a process per job (not a ProcessPoolExecutor): a pool cannot kill one runaway task. A
semaphore of WORKERS processes gives the same bound, and a kill on timeout is clean. The
'forkserver' context pre-loads the pipeline once so each job starts in milliseconds, without
forking the threaded event loop process.

After a crash or restart, jobs found 'queued' or 'running' are re-queued: the upload is still
on disk and the analysis is deterministic, so running it again gives the same report. A job
interrupted MAX_ATTEMPTS times is marked failed instead, so a job that takes the server down
cannot do so forever.

A job runs at most once at a time: its worker holds an exclusive lock on the job's claim file
for as long as it runs (the kernel drops it when the process dies). A worker that finds the
claim taken (an analysis of a killed server still running) exits with CLAIMED_ELSEWHERE, and
the dispatcher waits for that claim before looking at the job again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import uuid
from collections import deque
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..atomic_files import write_atomic
from .isolation import enter_worker_process, worker_context
from .schemas import JobStatus

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
GENERIC_FAILURE = "The analysis failed because of an internal error; it has been logged."
MAX_ATTEMPTS = 3
POLL_S = 0.1
CLAIM_FILE = "claim.lock"
CLAIMED_ELSEWHERE = 75  # a worker's exit code: another live process runs this job


def now() -> datetime:
    return datetime.now(UTC)


class QueueFull(Exception):
    """QUEUE_MAX jobs are already waiting; mapped to 429 with Retry-After."""


class JobNotFound(Exception):
    """No job with this id; mapped to 404."""


class JobState(BaseModel):
    job_id: str
    upload_id: str
    upload_path: str
    options: dict[str, Any] = Field(default_factory=dict)
    status: JobStatus = "queued"
    stage: str | None = None
    created_at: datetime = Field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    note: str | None = None
    attempts: int = 0


class JobStore:
    """Read and write job state files; usable from the service and from worker processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def job_dir(self, job_id: str) -> Path:
        if not ID_PATTERN.match(job_id):
            raise JobNotFound(job_id)
        return self.root / job_id

    def get(self, job_id: str) -> JobState:
        try:
            text = (self.job_dir(job_id) / "state.json").read_text(encoding="utf-8")
            return JobState.model_validate_json(text)
        except (OSError, ValueError) as exc:
            raise JobNotFound(job_id) from exc

    def save(self, state: JobState) -> None:
        directory = self.job_dir(state.job_id)
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / "state.json", state.model_dump_json(indent=2))

    def update(self, job_id: str, **changes: Any) -> JobState:
        state = self.get(job_id).model_copy(update=changes)
        self.save(state)
        return state

    def all(self) -> list[JobState]:
        states = []
        for entry in self.root.iterdir():
            if ID_PATTERN.match(entry.name):
                with contextlib.suppress(JobNotFound):
                    states.append(self.get(entry.name))
        return states

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def claim_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / CLAIM_FILE

    def claimed(self, job_id: str) -> bool:
        """True while some process holds the job's claim (see the module docstring)."""
        import fcntl

        try:
            handle = self.claim_path(job_id).open("a")
        except OSError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False


class JobManager:
    """The bounded queue and the dispatcher that runs at most WORKERS jobs at a time."""

    def __init__(
        self,
        store: JobStore,
        workers: int,
        queue_max: int,
        timeout_s: float,
        grace_s: float,
        memory_mb: int = 1024,
    ) -> None:
        self.store = store
        self.workers = workers
        self.memory_mb = memory_mb
        self.queue_max = queue_max
        self.timeout_s = timeout_s
        self.grace_s = grace_s
        self._queue: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(workers)
        self._running: dict[str, BaseProcess] = {}
        self._monitors: set[asyncio.Task[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._warmup: asyncio.Task[None] | None = None
        self._stopping = False
        self._ctx = worker_context()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Recover jobs left by a previous run, then start dispatching."""
        self.recover()
        # Starting the forkserver imports the pipeline (seconds); do it in a thread, up front,
        # so neither the event loop nor the first job waits for it.
        self._warmup = asyncio.create_task(asyncio.to_thread(self._warm_up), name="warm-up")
        self._dispatcher = asyncio.create_task(self._dispatch(), name="job-dispatcher")

    def _warm_up(self) -> None:
        process = self._ctx.Process(target=_noop, name="warm-up", daemon=True)
        process.start()
        process.join(timeout=120)

    def recover(self) -> None:
        for state in sorted(self.store.all(), key=lambda s: s.created_at):
            if state.status not in ("queued", "running"):
                continue
            if state.status == "running":
                if state.attempts >= MAX_ATTEMPTS:
                    self._finish(
                        state.job_id,
                        f"The analysis was interrupted {state.attempts} times "
                        "(server restarts) and was given up.",
                    )
                    continue
                state = self.store.update(
                    state.job_id,
                    status="queued",
                    stage=None,
                    started_at=None,
                    note="Re-queued after a server restart interrupted it.",
                )
            self._queue.append(state.job_id)
        if self._queue:
            log.info("re-queued %d job(s) left by the previous run", len(self._queue))
            self._wakeup.set()

    async def shutdown(self) -> None:
        """Stop starting jobs; let running ones finish within the grace period; keep the rest
        'queued' on disk so the next start runs them."""
        self._stopping = True
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        if self._monitors:
            await asyncio.wait(set(self._monitors), timeout=self.grace_s)
        for job_id, process in list(self._running.items()):
            log.warning("job %s still running at shutdown; stopped and left queued", job_id)
            process.kill()
            process.join(timeout=2)
            self.store.update(
                job_id,
                status="queued",
                stage=None,
                started_at=None,
                note="Re-queued: the server shut down while it was running.",
            )
        for task in list(self._monitors):
            task.cancel()

    # ------------------------------------------------------------------ API side
    def submit(self, upload_id: str, upload_path: Path, options: dict[str, Any]) -> JobState:
        if len(self._queue) >= self.queue_max:
            raise QueueFull
        state = JobState(
            job_id=uuid.uuid4().hex,
            upload_id=upload_id,
            upload_path=str(upload_path),
            options=options,
        )
        self.store.save(state)
        self._queue.append(state.job_id)
        self._wakeup.set()
        return state

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def running(self) -> int:
        return len(self._running)

    def alive(self) -> bool:
        """The dispatcher runs and no job process is a zombie we forgot about."""
        return self._dispatcher is not None and not self._dispatcher.done() and not self._stopping

    def retry_after_s(self) -> int:
        """A rough hint for 429s: queued jobs per worker times a typical short analysis."""
        return max(1, min(60, 5 * (len(self._queue) // self.workers + 1)))

    # ------------------------------------------------------------------ dispatcher
    async def _dispatch(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._slots.acquire()
            if not self._queue:
                self._slots.release()
                continue
            job_id = self._queue.popleft()
            try:
                started = await self._start(job_id)
            except Exception:
                log.exception("job %s could not be started", job_id)
                self._finish(job_id, GENERIC_FAILURE)
                started = False
            if not started:
                self._slots.release()

    async def _start(self, job_id: str) -> bool:
        try:
            state = self.store.get(job_id)
        except JobNotFound:
            return False  # deleted by retention meanwhile
        if not Path(state.upload_path).is_file():
            self._finish(job_id, "The uploaded table no longer exists; upload it again.")
            return False
        state = self.store.update(
            job_id,
            status="running",
            stage="starting",
            started_at=now(),
            attempts=state.attempts + 1,
        )
        from . import worker  # noqa: F401  (make sure the target is importable in the child)

        process = self._ctx.Process(
            target=_child_entry,
            args=(
                str(self.store.root),
                job_id,
                state.upload_path,
                state.options,
                self.memory_mb,
                os.getpid(),
            ),
            name=f"job-{job_id[:8]}",
            daemon=True,
        )
        # start() talks to the forkserver (blocking); keep it off the event loop.
        await asyncio.to_thread(process.start)
        self._running[job_id] = process
        task = asyncio.create_task(self._monitor(job_id, process))
        self._monitors.add(task)
        task.add_done_callback(self._monitors.discard)
        return True

    async def _monitor(self, job_id: str, process: BaseProcess) -> None:
        """Wait for the process; kill it at JOB_TIMEOUT_S; record crashes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            while process.is_alive():
                if loop.time() > deadline:
                    process.kill()
                    process.join(timeout=5)
                    self._finish(
                        job_id,
                        f"The analysis took longer than {self.timeout_s:g} s and was stopped.",
                    )
                    log.warning("job %s killed after %g s", job_id, self.timeout_s)
                    return
                await asyncio.sleep(POLL_S)
            process.join(timeout=1)
            if self._stopping and process.exitcode not in (0, None):
                return  # killed by the shutdown; shutdown() re-queues it
            if process.exitcode == CLAIMED_ELSEWHERE:
                await self._wait_for_claim(job_id)
                return
            state = self.store.get(job_id)
            if state.status not in ("completed", "failed"):
                log.error("job %s process ended with exit code %s", job_id, process.exitcode)
                self._finish(
                    job_id,
                    "The analysis process ended unexpectedly; if the table is large, it may "
                    f"need more than the {self.memory_mb} MB of memory allowed "
                    "(WORKER_MEMORY_MB).",
                )
        except JobNotFound:
            pass
        finally:
            self._running.pop(job_id, None)
            self._slots.release()
            with contextlib.suppress(ValueError):
                process.close()

    async def _wait_for_claim(self, job_id: str) -> None:
        """A process of a previous server still runs this job: let it finish (or die), then
        keep its outcome, or queue the job again if it left none."""
        log.warning("job %s is still running in an earlier process; waiting for it", job_id)
        while self.store.claimed(job_id) and not self._stopping:
            await asyncio.sleep(POLL_S * 5)
        if self._stopping:
            return
        if self.store.get(job_id).status in ("completed", "failed"):
            return
        self.store.update(job_id, status="queued", stage=None, started_at=None)
        self._queue.append(job_id)
        self._wakeup.set()

    def _finish(self, job_id: str, error: str) -> None:
        with contextlib.suppress(JobNotFound):
            self.store.update(job_id, status="failed", stage=None, error=error, finished_at=now())

    # ------------------------------------------------------------------ retention
    def cleanup_older_than(self, cutoff: datetime) -> int:
        removed = 0
        for state in self.store.all():
            finished = state.finished_at or state.created_at
            if state.status in ("completed", "failed") and finished < cutoff:
                self.store.delete(state.job_id)
                removed += 1
        return removed


def _noop() -> None:
    """The warm-up process: its only job is to make the forkserver load the pipeline."""


def _child_entry(
    jobs_root: str,
    job_id: str,
    upload_path: str,
    options: dict[str, Any],
    memory_mb: int,
    service_pid: int,
) -> None:
    enter_worker_process(memory_mb, service_pid)
    from .worker import run_job

    run_job(jobs_root, job_id, upload_path, options, memory_mb)
