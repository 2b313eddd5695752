"""The local mode's queue: one node, a bounded in-process queue, at most WORKERS jobs at once.

After a crash or restart, jobs found 'queued' or 'running' are re-queued: the upload is still
on disk and the analysis is deterministic, so running it again gives the same report. A job
interrupted MAX_ATTEMPTS times is marked failed instead, so a job that takes the server down
cannot do so forever. (Two services sharing one OUTPUT_DIR would re-queue each other's jobs:
that is what the shared mode is for.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

from .events import JobEvents
from .model import (
    GENERIC_FAILURE,
    MAX_ATTEMPTS,
    JobNotFound,
    JobState,
    QueueFull,
    interrupted_too_often,
)
from .processes import JobProcesses
from .queue import QueueDepth, retry_after_hint
from .store import JobStore, remove_finished_before

log = logging.getLogger(__name__)


class LocalJobQueue:
    """The bounded queue and the dispatcher that runs at most WORKERS jobs at a time."""

    def __init__(
        self,
        store: JobStore,
        workers: int,
        queue_max: int,
        timeout_s: float,
        grace_s: float,
        memory_mb: int = 1024,
        uploads_dir: Path | None = None,
        events: JobEvents | None = None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.queue_max = queue_max
        self.grace_s = grace_s
        self.processes = JobProcesses(
            store, timeout_s, memory_mb, uploads_dir=uploads_dir, events=events
        )
        self._queue: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(workers)
        self._tasks: set[asyncio.Task[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._warmup: asyncio.Task[None] | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Recover jobs left by a previous run, then start dispatching."""
        self.recover()
        # The forkserver imports the pipeline (seconds): start it in a thread, up front, so
        # neither the event loop nor the first job waits for it.
        self._warmup = asyncio.create_task(
            asyncio.to_thread(self.processes.warm_up), name="warm-up"
        )
        self._dispatcher = asyncio.create_task(self._dispatch(), name="job-dispatcher")

    def recover(self) -> None:
        for state in sorted(self.store.all(), key=lambda s: s.created_at):
            if state.status not in ("queued", "running"):
                continue
            if state.status == "running":
                if state.attempts >= MAX_ATTEMPTS:
                    self.processes.fail(
                        state.job_id, interrupted_too_often(state.attempts), "interrupted"
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
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.grace_s)
        self.processes.stopping = True
        for job_id in self.processes.kill_all():
            log.warning("job %s still running at shutdown; stopped and left queued", job_id)
            self.store.update(
                job_id,
                status="queued",
                stage=None,
                started_at=None,
                note="Re-queued: the server shut down while it was running.",
            )
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ API side
    async def submit(self, upload_id: str, upload_path: Path, options: dict[str, Any]) -> JobState:
        if len(self._queue) >= self.queue_max:
            raise QueueFull
        state = JobState.new(upload_id, upload_path, options)
        self.store.save(state)
        self._queue.append(state.job_id)
        self._wakeup.set()
        self.processes.events.submitted()
        return state

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def running(self) -> int:
        return self.processes.running

    def depth(self) -> QueueDepth:
        """Jobs waiting and running: this node is all nodes."""
        return QueueDepth(waiting=len(self._queue), running=self.processes.running)

    def alive(self) -> bool:
        """The dispatcher runs and the service is not shutting down."""
        return self._dispatcher is not None and not self._dispatcher.done() and not self._stopping

    async def engine_reachable(self) -> bool | None:
        """No engine in local mode."""
        return None

    def retry_after_s(self) -> int:
        return retry_after_hint(len(self._queue), self.workers)

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
            task = asyncio.create_task(self._run(self._queue.popleft()))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, job_id: str) -> None:
        try:
            if await self.processes.run(job_id) == "claimed_elsewhere":
                await self._wait_for_claim(job_id)
        except JobNotFound:
            pass
        except Exception:
            log.exception("job %s could not be run", job_id)
            self.processes.fail(job_id, GENERIC_FAILURE, "internal")
        finally:
            self._slots.release()

    async def _wait_for_claim(self, job_id: str) -> None:
        """A process of a previous server still runs this job: let it finish (or die), then
        keep its outcome, or queue the job again if it left none."""
        await self.processes.wait_for_claim(job_id)
        if self._stopping:
            return
        if self.store.get(job_id).status in ("completed", "failed"):
            return
        self.store.update(job_id, status="queued", stage=None, started_at=None)
        self._queue.append(job_id)
        self._wakeup.set()

    # ------------------------------------------------------------------ retention
    async def retention_turn(self) -> bool:
        """One node: always this one's turn."""
        return True

    def cleanup_older_than(self, cutoff: datetime) -> int:
        return remove_finished_before(self.store, cutoff)
