"""The shared mode's queue: SharedJobQueue, this node's arq worker on the one queue in Redis
(QUEUE_URL), and submission to it. The only module that imports arq.

Every node runs an arq worker inside its own event loop, taking at most WORKERS jobs at a
time from the one queue; any node answers any request, because the job state is in Redis and
the files (uploads, reports, charts) are on a filesystem every node mounts at the same paths.

Exactly once, with a killed node:
- arq keeps a job in its queue until it has finished, and marks it taken with an
  "in progress" key that expires. The node running the job renews that key every
  QUEUE_LEASE_S / 3 seconds (its lease). A node killed mid-analysis stops renewing; its
  analysis processes die with it (jobs/isolation.py); QUEUE_LEASE_S later the key is gone and the
  next node that polls the queue takes the job over.
- arq counts the starts of a job. The start after MAX_ATTEMPTS interrupted ones marks the job
  failed with the reason instead of running it again, so a table that kills nodes cannot take
  them all down in turn.
- An analysis holds its job's claim lock in the job's folder (jobs/store.py) while it runs: should
  a node be only slow, not dead, and lose its lease, the node that takes the job over waits
  for that claim instead of running the job a second time at once.
- A job whose state is already completed or failed is never run again.

Across nodes, too: the queue limit (QUEUE_MAX waiting jobs, then 429), the rate limits
(api/ratelimit.py's SharedRateLimiter) and retention, which one node runs per RETENTION_CHECK_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from arq.worker import Retry, Worker, func

from ..constants import ARQ_FUNCTION, HEALTH_KEY, QUEUE_KEY, RETENTION_KEY
from ..events import JobEvents
from ..model import (
    GENERIC_FAILURE,
    MAX_ATTEMPTS,
    JobNotFound,
    JobState,
    QueueFull,
    interrupted_too_often,
    node_name,
)
from ..processes import JobProcesses
from ..queue import QueueDepth, retry_after_hint
from ..store import remove_finished_before
from .engine import ENGINE_ERRORS, QueueEngine, QueueUnavailable, engine_calls
from .store import SharedJobStore

log = logging.getLogger(__name__)

# Our own watch kills an analysis at JOB_TIMEOUT_S; arq's timeout is only a backstop.
ARQ_TIMEOUT_MARGIN_S = 60
ENGINE_RETRY_S = 1.0


class SharedJobQueue:
    """The arq worker of this node, and submission to the one queue."""

    def __init__(
        self,
        store: SharedJobStore,
        workers: int,
        queue_max: int,
        timeout_s: float,
        grace_s: float,
        memory_mb: int,
        lease_s: float,
        retention_check_s: float,
        uploads_dir: Path | None = None,
        events: JobEvents | None = None,
    ) -> None:
        self.store: SharedJobStore = store
        self.engine = store.engine
        self.workers = workers
        self.queue_max = queue_max
        self.grace_s = grace_s
        self.lease_s = lease_s
        self.retention_check_s = retention_check_s
        self.node = node_name()
        self.processes = JobProcesses(store, timeout_s, memory_mb, self.node, uploads_dir, events)
        self._queue_name = self.engine.key(QUEUE_KEY)
        self._timeout_s = timeout_s
        # Made in start(): arq's Worker binds to the event loop that exists when it is made.
        self._pool: ArqRedis | None = None
        self._worker: Worker | None = None
        self._main: asyncio.Task[None] | None = None
        self._warmup: asyncio.Task[None] | None = None
        self._stopping = False
        self._engine_down = False
        self._waiting_seen = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start this node's worker; nothing to recover: unfinished jobs are still in the queue,
        and the lease of a node that died hands them over."""
        self._pool = _arq_pool(self.engine)
        self._worker = Worker(
            functions=[
                func(
                    self._analyze,
                    name=ARQ_FUNCTION,
                    timeout=self._timeout_s + ARQ_TIMEOUT_MARGIN_S,
                    # One more than ours: the start after MAX_ATTEMPTS reaches _analyze,
                    # which records why the job is given up.
                    max_tries=MAX_ATTEMPTS + 1,
                )
            ],
            redis_pool=self._pool,
            queue_name=self._queue_name,
            max_jobs=self.workers,
            handle_signals=False,
            keep_result=0,
            # Each node asks the queue 5 times a second: a queued job waits 0.1 s on average.
            poll_delay=0.2,
            health_check_key=self.engine.key(HEALTH_KEY, self.node),
        )
        self._warmup = asyncio.create_task(
            asyncio.to_thread(self.processes.warm_up), name="warm-up"
        )
        self._main = asyncio.create_task(self._work(), name="queue-worker")
        await self._enqueue_lost_jobs()
        log.info("shared mode: node %s takes jobs from %s", self.node, self._queue_name)

    async def _enqueue_lost_jobs(self) -> None:
        """Put back in the queue every unfinished job whose arq job is gone.

        arq's job key expires a day after it was queued, and a Redis restored from an older
        dump (or a release's saved state, tests/fixtures/releases) may hold job states whose
        queue entries have expired: without this they would read "queued" for ever. arq
        refuses a job id it still holds (queued or in progress), so nodes starting together
        cannot queue a job twice, and a job that meanwhile finished is skipped when run.
        """
        assert self._pool is not None
        try:
            with engine_calls():
                states = self.store.all()
                for state in states:
                    if state.status not in ("queued", "running"):
                        continue
                    queued = await self._pool.enqueue_job(
                        ARQ_FUNCTION,
                        state.job_id,
                        _job_id=state.job_id,
                        _queue_name=self._queue_name,
                    )
                    if queued is not None:
                        log.warning("job %s was no longer in the queue; queued again", state.job_id)
        except QueueUnavailable:
            # The engine is away: the worker loop waits for it; the next start looks again.
            log.warning("the queue engine is unreachable; lost jobs are looked for at next start")

    async def _work(self) -> None:
        """arq's loop; while the engine is down, wait and try again (running analyses go on)."""
        assert self._worker is not None
        while True:
            try:
                await self._worker.main()
            except ENGINE_ERRORS as exc:
                if not self._engine_down:
                    log.error(
                        "the queue engine is unreachable (%s); no new jobs until it is back",
                        type(exc).__name__,
                    )
                self._engine_down = True
                await asyncio.sleep(ENGINE_RETRY_S)
            else:
                return

    async def shutdown(self) -> None:
        """Take no new jobs; let running ones finish within the grace period; hand the rest
        back to the queue at once (another node starts them, or this one after a restart)."""
        self._stopping = True
        if self._worker is None:
            return
        self._worker.allow_pick_jobs = False
        running = [t for t in self._worker.tasks.values() if not t.done()]
        if running:
            await asyncio.wait(running, timeout=self.grace_s)
        self.processes.stopping = True
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
        # Cancelling arq's tasks kills their analyses (processes.py); arq then deletes their
        # in-progress keys without finishing them, so they are taken again at once.
        with contextlib.suppress(*ENGINE_ERRORS):
            await asyncio.wait_for(self._worker.close(), timeout=10)
        self.engine.close()

    # ------------------------------------------------------------------ API side
    async def submit(self, upload_id: str, upload_path: Path, options: dict[str, Any]) -> JobState:
        state = JobState.new(upload_id, upload_path, options)
        assert self._pool is not None, "start() first"
        if not self.store.reserve_place(state.job_id, self.queue_max):
            raise QueueFull
        try:
            self.store.save(state)
            with engine_calls():
                await self._pool.enqueue_job(
                    ARQ_FUNCTION, state.job_id, _job_id=state.job_id, _queue_name=self._queue_name
                )
        except QueueUnavailable:
            with contextlib.suppress(QueueUnavailable):
                self.store.leave_waiting(state.job_id)
            raise
        self.processes.events.submitted()
        return state

    @property
    def queued(self) -> int:
        """Jobs waiting on all nodes (the last count read; 0 before the first)."""
        with contextlib.suppress(QueueUnavailable):
            self._waiting_seen = self.store.waiting()
        return self._waiting_seen

    @property
    def running(self) -> int:
        """Analyses running on this node."""
        return self.processes.running

    def depth(self) -> QueueDepth:
        """Jobs waiting and running on all nodes, read from the engine now (QueueUnavailable
        while it is away)."""
        return QueueDepth(waiting=self.store.waiting(), running=self.store.running())

    def alive(self) -> bool:
        return self._main is not None and not self._main.done() and not self._stopping

    async def engine_reachable(self) -> bool | None:
        """Whether the engine answers PING now (it is what /ready reports)."""
        if self._pool is None:
            return False
        try:
            with engine_calls():
                await asyncio.wait_for(self._pool.ping(), timeout=2)
        except (QueueUnavailable, TimeoutError):
            return False
        if self._engine_down:
            log.info("the queue engine is reachable again")
            self._engine_down = False
        return True

    def retry_after_s(self) -> int:
        # Counted now, not the last /ready's count; the last one only while the engine is away.
        return retry_after_hint(self.queued, self.workers)

    # ------------------------------------------------------------------ one job
    async def _analyze(self, ctx: dict[str, Any], job_id: str) -> None:
        """arq's job function: run the job on this node, holding its lease."""
        attempt = int(ctx["job_try"])
        lease = asyncio.create_task(self._hold_lease(job_id), name=f"lease-{job_id[:8]}")
        try:
            self.store.leave_waiting(job_id)
            if attempt > MAX_ATTEMPTS:
                state = self.store.get(job_id)
                if state.status not in ("completed", "failed"):
                    self.processes.fail(job_id, interrupted_too_often(attempt - 1), "interrupted")
                return
            if attempt > 1:
                log.warning("job %s: start %d, taken over by %s", job_id, attempt, self.node)
            while await self.processes.run(job_id, attempt) == "claimed_elsewhere":
                await self.processes.wait_for_claim(job_id)
        except JobNotFound:
            return
        except QueueUnavailable:
            # The job stays in the queue; arq runs it again once the engine answers.
            log.warning("job %s: the queue engine became unreachable; it will be retried", job_id)
            raise Retry(defer=ENGINE_RETRY_S * 5) from None
        except asyncio.CancelledError:
            if self._stopping:
                log.warning("job %s still running at shutdown; handed back to the queue", job_id)
                with contextlib.suppress(QueueUnavailable, JobNotFound):
                    self.store.update(
                        job_id,
                        status="queued",
                        stage=None,
                        started_at=None,
                        note="Re-queued: a server shut down while it was running.",
                    )
            raise
        except Exception:
            log.exception("job %s could not be run", job_id)
            with contextlib.suppress(QueueUnavailable):
                self.processes.fail(job_id, GENERIC_FAILURE, "internal")
        finally:
            lease.cancel()
            with contextlib.suppress(QueueUnavailable):
                self.store.leave_running(job_id)

    async def _hold_lease(self, job_id: str) -> None:
        """Keep arq's in-progress key alive for QUEUE_LEASE_S more, every third of that, and
        the job in the running set that every node's metrics count."""
        key = in_progress_key_prefix + job_id
        assert self._pool is not None
        while True:
            with contextlib.suppress(*ENGINE_ERRORS):
                await self._pool.pexpire(key, int(self.lease_s * 1000))
            with contextlib.suppress(QueueUnavailable):
                self.store.hold_running(job_id, self.lease_s)
            await asyncio.sleep(self.lease_s / 3)

    # ------------------------------------------------------------------ retention
    async def retention_turn(self) -> bool:
        """True for one node per RETENTION_CHECK_S: the one that set the lock first."""
        key = self.engine.key(RETENTION_KEY)
        period_ms = max(1, int(self.retention_check_s * 1000) - 100)
        if self._pool is None:
            return False
        try:
            with engine_calls():
                return bool(await self._pool.set(key, self.node, px=period_ms, nx=True))
        except QueueUnavailable:
            return False

    def cleanup_older_than(self, cutoff: datetime) -> int:
        return remove_finished_before(self.store, cutoff)


def _arq_pool(engine: QueueEngine) -> ArqRedis:
    """An asyncio client for arq; it connects on first use, so a service can start while
    the engine is down and become ready when it is back."""
    from redis.asyncio import ConnectionPool

    pool = ConnectionPool.from_url(engine.url, **engine.pool_options())
    return ArqRedis(connection_pool=pool)
