"""What the service needs of a job queue, local (local.LocalJobQueue) or shared
(shared.queue.SharedJobQueue): the JobQueue contract, and the Retry-After hint both give."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .model import JobState
from .store import JobStore


class QueueDepth(NamedTuple):
    """Jobs waiting for a worker and jobs running, on all nodes."""

    waiting: int
    running: int


class JobQueue(Protocol):
    """What the API needs of a job queue, local or shared."""

    @property
    def store(self) -> JobStore: ...

    async def start(self) -> None: ...
    async def shutdown(self) -> None: ...
    async def submit(
        self, upload_id: str, upload_path: Path, options: dict[str, Any]
    ) -> JobState: ...
    @property
    def queued(self) -> int: ...
    @property
    def running(self) -> int: ...
    def depth(self) -> QueueDepth: ...
    def alive(self) -> bool: ...
    async def engine_reachable(self) -> bool | None: ...
    def retry_after_s(self) -> int: ...
    async def retention_turn(self) -> bool: ...
    def cleanup_older_than(self, cutoff: datetime) -> int: ...


def retry_after_hint(waiting: int, workers: int) -> int:
    """Retry-After of a 429 for a full queue: waiting jobs per worker times a short analysis."""
    return max(1, min(60, 5 * (waiting // workers + 1)))
