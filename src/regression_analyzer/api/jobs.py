"""Analysis jobs: their state, where it is kept, and what every job queue offers.

State: in local mode ``OUTPUT_DIR/jobs/<job_id>/state.json``, always replaced atomically; in
shared mode a key in the queue engine (shared_queue.SharedJobStore). The job's files (report,
charts) are always in ``OUTPUT_DIR/jobs/<job_id>/``. The service writes queued/running and the
outcome of timeouts and crashes; the analysis process writes stage changes and
completed/failed. They never write at the same time: the service only writes before the
process starts or after it has exited.

Two queues decide which job runs when: local_queue.LocalJobQueue (one node, an in-process
queue) and shared_queue.SharedJobQueue (QUEUE_URL: several nodes, one queue in Redis).
job_processes.JobProcesses runs each job in its own process for both.

A job runs at most once at a time: its worker holds an exclusive lock on the job's claim file
for as long as it runs (the kernel drops it when the process dies). A worker that finds the
claim taken (an analysis of a killed server still running) exits with CLAIMED_ELSEWHERE, and
the dispatcher waits for that claim before looking at the job again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from ..atomic_files import write_atomic
from .schemas import JobStatus

if TYPE_CHECKING:
    from .settings import Settings

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
GENERIC_FAILURE = "The analysis failed because of an internal error; it has been logged."
MAX_ATTEMPTS = 3
CLAIM_FILE = "claim.lock"
CLAIMED_ELSEWHERE = 75  # a worker's exit code: another live process runs this job


def now() -> datetime:
    return datetime.now(UTC)


def node_name() -> str:
    """This service process, as the job state and the logs name it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
    node: str | None = Field(None, description="the service process that ran it last")

    @classmethod
    def new(cls, upload_id: str, upload_path: Path, options: dict[str, Any]) -> JobState:
        """A queued job with a fresh id."""
        return cls(
            job_id=uuid.uuid4().hex,
            upload_id=upload_id,
            upload_path=str(upload_path),
            options=options,
        )


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
    def alive(self) -> bool: ...
    async def engine_reachable(self) -> bool | None: ...
    def retry_after_s(self) -> int: ...
    async def retention_turn(self) -> bool: ...
    def cleanup_older_than(self, cutoff: datetime) -> int: ...


def retry_after_hint(waiting: int, workers: int) -> int:
    """Retry-After of a 429 for a full queue: waiting jobs per worker times a short analysis."""
    return max(1, min(60, 5 * (waiting // workers + 1)))


def interrupted_too_often(attempts: int) -> str:
    """The error of a job given up after MAX_ATTEMPTS interrupted runs."""
    return (
        f"The analysis was interrupted {attempts} times (server restarts or a node lost) "
        "and was given up."
    )


def remove_finished_before(store: JobStore, cutoff: datetime) -> int:
    """Retention: delete completed and failed jobs that finished before cutoff."""
    removed = 0
    for state in store.all():
        finished = state.finished_at or state.created_at
        if state.status in ("completed", "failed") and finished < cutoff:
            store.delete(state.job_id)
            removed += 1
    return removed


def open_job_store(settings: Settings) -> JobStore:
    """The job store the settings describe: files in local mode, the engine in shared mode."""
    if settings.shared_mode:
        from .queue_engine import QueueEngine
        from .shared_queue import SharedJobStore

        return SharedJobStore(settings.jobs_dir, QueueEngine.from_settings(settings))
    return JobStore(settings.jobs_dir)
