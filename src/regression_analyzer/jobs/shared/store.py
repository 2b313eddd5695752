"""Job state in the queue engine (shared mode): SharedJobStore, a JobStore whose state lives
in Redis, so every node sees every job; the job's files stay in its folder under
OUTPUT_DIR/jobs (a filesystem every node mounts), as in local mode.

Also the set of waiting jobs, which the queue limit (QUEUE_MAX) counts across nodes, and the
set of running ones (any node's, while its lease lasts), which the metrics count. The analysis
child writes its progress through this store: it imports redis-py, never arq.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import cast

from ..constants import JOB_INDEX_KEY, JOB_KEY, RUNNING_KEY, WAITING_KEY
from ..model import JobNotFound, JobState
from ..store import JobStore
from .engine import QueueEngine, engine_calls

# Atomically: room in the queue? then reserve a place. KEYS[1] the waiting set.
_RESERVE = """
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""
# On the engine's clock (nodes' clocks may differ). KEYS[1] the running set; ARGV: job id,
# lease in ms. Entries whose lease ran out (a killed node's) are dropped on the way.
_HOLD_RUNNING = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""
# Read-only: the running jobs whose lease has not run out.
_COUNT_RUNNING = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""


class SharedJobStore(JobStore):
    """Job state as JSON under ``<prefix>:job:<id>``, indexed by creation time; the job's
    files stay in its folder under OUTPUT_DIR/jobs (a shared filesystem)."""

    def __init__(self, root: Path, engine: QueueEngine) -> None:
        super().__init__(root)
        self.engine = engine
        self._index = engine.key(JOB_INDEX_KEY)

    def _key(self, job_id: str) -> str:
        self.job_dir(job_id)  # validates the id
        return self.engine.key(JOB_KEY, job_id)

    def get(self, job_id: str) -> JobState:
        with engine_calls():
            text = cast(str | None, self.engine.client.get(self._key(job_id)))
        if text is None:
            raise JobNotFound(job_id)
        try:
            return JobState.model_validate_json(text)
        except ValueError as exc:
            raise JobNotFound(job_id) from exc

    def save(self, state: JobState) -> None:
        self.job_dir(state.job_id).mkdir(parents=True, exist_ok=True)
        with engine_calls():
            pipe = self.engine.client.pipeline(transaction=True)
            pipe.set(self._key(state.job_id), state.model_dump_json())
            pipe.zadd(self._index, {state.job_id: state.created_at.timestamp()})
            pipe.execute()

    def all(self) -> list[JobState]:
        with engine_calls():
            ids = cast(list[str], self.engine.client.zrange(self._index, 0, -1))
        states = []
        for job_id in ids:
            with contextlib.suppress(JobNotFound):
                states.append(self.get(str(job_id)))
        return states

    def delete(self, job_id: str) -> None:
        with engine_calls():
            pipe = self.engine.client.pipeline(transaction=True)
            pipe.delete(self._key(job_id))
            pipe.zrem(self._index, job_id)
            pipe.execute()
        super().delete(job_id)

    # -------------------------------------------------------------- the waiting set
    def reserve_place(self, job_id: str, queue_max: int) -> bool:
        """Count the job among the waiting ones unless QUEUE_MAX are waiting already."""
        with engine_calls():
            return bool(
                self.engine.client.eval(
                    _RESERVE, 1, self.engine.key(WAITING_KEY), job_id, str(queue_max)
                )
            )

    def leave_waiting(self, job_id: str) -> None:
        with engine_calls():
            self.engine.client.srem(self.engine.key(WAITING_KEY), job_id)

    def waiting(self) -> int:
        with engine_calls():
            return cast(int, self.engine.client.scard(self.engine.key(WAITING_KEY)))

    # -------------------------------------------------------------- the running set
    def hold_running(self, job_id: str, lease_s: float) -> None:
        """Count the job as running for `lease_s` more (renewed with the node's lease)."""
        with engine_calls():
            self.engine.client.eval(
                _HOLD_RUNNING, 1, self.engine.key(RUNNING_KEY), job_id, str(int(lease_s * 1000))
            )

    def leave_running(self, job_id: str) -> None:
        with engine_calls():
            self.engine.client.zrem(self.engine.key(RUNNING_KEY), job_id)

    def running(self) -> int:
        """Jobs running on all nodes (a killed node's count until its lease runs out)."""
        with engine_calls():
            return int(
                cast(str, self.engine.client.eval(_COUNT_RUNNING, 1, self.engine.key(RUNNING_KEY)))
            )
