"""Where a job's state and files are kept: JobStore (local mode: files), and the claim lock.

State: in local mode ``OUTPUT_DIR/jobs/<job_id>/state.json``, always replaced atomically; in
shared mode a key in the queue engine (shared.store.SharedJobStore, a JobStore). The job's
files (report, charts) are always in ``OUTPUT_DIR/jobs/<job_id>/``. The service writes
queued/running and the outcome of timeouts and crashes; the analysis process writes stage
changes and completed/failed. They never write at the same time: the service only writes
before the process starts or after it has exited.

Two queues decide which job runs when: local.LocalJobQueue (one node, an in-process queue)
and shared.queue.SharedJobQueue (QUEUE_URL: several nodes, one queue in Redis).
processes.JobProcesses runs each job in its own process for both.

A job runs at most once at a time: its analysis child holds an exclusive lock on the job's
claim file for as long as it runs (the kernel drops it when the process dies). A child that
finds the claim taken (an analysis of a killed server still running) exits with
constants.CLAIMED_ELSEWHERE, and the dispatcher waits for that claim before looking at the
job again.
"""

from __future__ import annotations

import contextlib
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from ..atomic_files import write_atomic
from .model import ID_PATTERN, JobNotFound, JobState

CLAIM_FILE = "claim.lock"


class JobStore:
    """Read and write job state files; usable from the service and from analysis processes."""

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


def remove_finished_before(store: JobStore, cutoff: datetime) -> int:
    """Retention: delete completed and failed jobs that finished before cutoff."""
    removed = 0
    for state in store.all():
        finished = state.finished_at or state.created_at
        if state.status in ("completed", "failed") and finished < cutoff:
            store.delete(state.job_id)
            removed += 1
    return removed
