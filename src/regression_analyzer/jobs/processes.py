"""One analysis process per running job: start it, watch it, stop it at JOB_TIMEOUT_S.

Both queues use it: the local one (local.LocalJobQueue) and the shared one
(shared.queue.SharedJobQueue). The queue decides which job runs when; this decides how; what
runs inside the process is child.py. It also tells the service's JobEvents (events.py) when a
job starts and how it ended, since only this side sees every ending (a timeout, a crash).

Why a process per job (not a ProcessPoolExecutor): a pool cannot kill one runaway task. The
'forkserver' context pre-loads the pipeline once so each job starts in milliseconds, without
forking the threaded event loop process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Literal

from ..upload_layout import UploadNotFound, stored_upload_path
from .child import child_main
from .constants import CLAIMED_ELSEWHERE
from .events import JobEvents, NoEvents
from .isolation import worker_context
from .model import FailureReason, JobNotFound, JobState, node_name, now
from .store import JobStore

log = logging.getLogger(__name__)

POLL_S = 0.1

# finished: the job has its outcome (completed or failed) in the store.
# claimed_elsewhere: another live process runs it (see store.py); the caller waits for it.
# stopped: the service is shutting down and killed it; the caller puts it back in the queue.
# skipped: nothing to do (deleted, or already finished by an earlier run).
RunOutcome = Literal["finished", "claimed_elsewhere", "stopped", "skipped"]


class JobProcesses:
    """Runs jobs of a store, each in its own capped process."""

    def __init__(
        self,
        store: JobStore,
        timeout_s: float,
        memory_mb: int,
        node: str | None = None,
        uploads_dir: Path | None = None,
        events: JobEvents | None = None,
    ) -> None:
        self.store = store
        self.events: JobEvents = events or NoEvents()
        self.uploads_dir = uploads_dir
        self.node = node or node_name()
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.stopping = False
        self._running: dict[str, BaseProcess] = {}
        self._ctx = worker_context()

    @property
    def running(self) -> int:
        return len(self._running)

    def warm_up(self) -> None:
        """Start the forkserver (it imports the pipeline: seconds). Blocking: run in a thread."""
        process = self._ctx.Process(target=_noop, name="warm-up", daemon=True)
        process.start()
        process.join(timeout=120)

    async def run(self, job_id: str, attempt: int | None = None) -> RunOutcome:
        """Run one job to its outcome. `attempt` is the queue's count of starts of this job
        (the shared queue knows it); by default the store's count plus one."""
        if self.stopping:
            return "stopped"
        try:
            state = self.store.get(job_id)
        except JobNotFound:
            return "skipped"  # deleted by retention meanwhile
        if state.status in ("completed", "failed"):
            return "skipped"
        upload = self.upload_file(state.upload_id, state.upload_path)
        if upload is None:
            self.fail(job_id, "The uploaded table no longer exists; upload it again.", "input")
            return "finished"
        state = self.store.update(
            job_id,
            upload_path=str(upload),
            status="running",
            stage="starting",
            started_at=now(),
            attempts=attempt if attempt is not None else state.attempts + 1,
            node=self.node,
        )
        self.events.started(state)
        process = self._ctx.Process(
            target=child_main,
            args=(job_id, state.upload_path, state.options, self.memory_mb, os.getpid()),
            name=f"job-{job_id[:8]}",
            daemon=True,
        )
        # start() talks to the forkserver (blocking); keep it off the event loop.
        await asyncio.to_thread(process.start)
        self._running[job_id] = process
        try:
            return await self._watch(job_id, process)
        finally:
            self._running.pop(job_id, None)
            with contextlib.suppress(ValueError):
                process.close()

    def upload_file(self, upload_id: str, recorded: str) -> Path | None:
        """The upload a job analyses: the path its state recorded or, when that is gone, the
        same file under today's DATA_DIR (a job queued before DATA_DIR moved, e.g. to another
        mount or host at an upgrade); None when neither exists."""
        path = Path(recorded)
        if path.is_file():
            return path
        if self.uploads_dir is None:
            return None
        try:
            moved = stored_upload_path(self.uploads_dir, upload_id, path.name)
        except UploadNotFound:
            return None
        return moved if moved.is_file() else None

    async def _watch(self, job_id: str, process: BaseProcess) -> RunOutcome:
        """Wait for the process; kill it at JOB_TIMEOUT_S or when cancelled; record crashes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            while process.is_alive():
                if loop.time() > deadline:
                    _kill(process)
                    self.fail(
                        job_id,
                        f"The analysis took longer than {self.timeout_s:g} s and was stopped.",
                        "timeout",
                    )
                    log.warning("job %s killed after %g s", job_id, self.timeout_s)
                    return "finished"
                await asyncio.sleep(POLL_S)
        except asyncio.CancelledError:
            _kill(process)
            raise
        process.join(timeout=1)
        if self.stopping and process.exitcode not in (0, None):
            return "stopped"
        if process.exitcode == CLAIMED_ELSEWHERE:
            return "claimed_elsewhere"
        state = self.store.get(job_id)
        if state.status in ("completed", "failed"):
            self.events.finished(state)  # the outcome the child recorded
            return "finished"
        log.error("job %s process ended with exit code %s", job_id, process.exitcode)
        self.fail(
            job_id,
            "The analysis process ended unexpectedly; if the table is large, it may "
            f"need more than the {self.memory_mb} MB of memory allowed "
            "(WORKER_MEMORY_MB).",
            "crashed",
        )
        return "finished"

    async def wait_for_claim(self, job_id: str) -> None:
        """Wait while another process (an earlier server's, or a node that lost its lease)
        still runs this job, so it never runs twice at once."""
        log.warning(
            "job %s is still running in an earlier process (of a restarted server, or of a "
            "node that lost its lease); waiting for it",
            job_id,
        )
        while self.store.claimed(job_id) and not self.stopping:
            await asyncio.sleep(POLL_S * 5)

    def kill_all(self) -> list[str]:
        """Kill every running analysis (shutdown after the grace period); their ids."""
        killed = []
        for job_id, process in list(self._running.items()):
            _kill(process)
            killed.append(job_id)
        return killed

    def fail(self, job_id: str, error: str, reason: FailureReason) -> JobState | None:
        """Record a failure the user will read (`error`) and its class (`reason`); a job
        deleted meanwhile stays deleted (None)."""
        try:
            state = self.store.update(
                job_id,
                status="failed",
                stage=None,
                error=error,
                failure=reason,
                finished_at=now(),
            )
        except JobNotFound:
            return None
        self.events.finished(state)
        return state


def _kill(process: BaseProcess) -> None:
    with contextlib.suppress(ValueError, OSError):
        process.kill()
        process.join(timeout=5)


def _noop() -> None:
    """The warm-up process: its only job is to make the forkserver load the pipeline."""
