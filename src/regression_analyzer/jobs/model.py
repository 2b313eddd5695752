"""A job as every part of the job system sees it: its state (JobState), its statuses, why a
failed one failed (FailureReason), the errors a queue raises and the messages a user reads when
a job could not be run."""

from __future__ import annotations

import os
import re
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "completed", "failed"]
# Why a job failed, as a class an operator can count (the metrics label failures with it); the
# user reads the job's `error`. input: the table or the options (errors.InputError, or the
# upload gone); memory: the child hit WORKER_MEMORY_MB (MemoryError); timeout: killed at
# JOB_TIMEOUT_S; crashed: the child died without an outcome (a signal, the OOM killer);
# interrupted: given up after MAX_ATTEMPTS interrupted runs; internal: a bug, logged.
FailureReason = Literal["input", "memory", "timeout", "crashed", "interrupted", "internal"]
FAILURE_REASONS: tuple[FailureReason, ...] = get_args(FailureReason)

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
GENERIC_FAILURE = "The analysis failed because of an internal error; it has been logged."
MAX_ATTEMPTS = 3


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
    failure: FailureReason | None = Field(None, description="why it failed, as a class")
    stage_seconds: dict[str, float] = Field(
        default_factory=dict, description="how long each pipeline stage of a completed run took"
    )
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


def interrupted_too_often(attempts: int) -> str:
    """The error of a job given up after MAX_ATTEMPTS interrupted runs."""
    return (
        f"The analysis was interrupted {attempts} times (server restarts or a node lost) "
        "and was given up."
    )
