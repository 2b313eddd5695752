"""What the job system tells whoever counts its jobs (the service's metrics): a job submitted,
started, finished. Always called in the service process, never in an analysis child: the
child records its outcome in the store, and the service process reports it when it sees the
child exit, so one process holds every count.
"""

from __future__ import annotations

from typing import Protocol

from .model import JobState


class JobEvents(Protocol):
    """Receives the job system's events; each call must be quick and must not raise."""

    def submitted(self) -> None:
        """A job was accepted into the queue (on this node)."""

    def started(self, state: JobState) -> None:
        """This node started the job's process; `state` has created_at and started_at."""

    def finished(self, state: JobState) -> None:
        """This node saw the job end: completed, or failed with `state.failure`."""


class NoEvents:
    """Nobody counts: the default where no metrics are kept (library use, tests)."""

    def submitted(self) -> None:
        """Nothing to record."""

    def started(self, state: JobState) -> None:
        """Nothing to record."""

    def finished(self, state: JobState) -> None:
        """Nothing to record."""
