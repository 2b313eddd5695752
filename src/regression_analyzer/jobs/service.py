"""The job queue of this service process, as the settings describe it: open_job_queue.

Local mode: a bounded in-process queue (local.py). Shared mode (QUEUE_URL): this node's arq
worker on the one queue in Redis (shared/queue.py; redis and arq are imported only then).
Both run each job in its own process (processes.py) on the store wiring.py opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .wiring import open_job_store

if TYPE_CHECKING:
    from ..settings import Settings
    from .events import JobEvents
    from .queue import JobQueue


def open_job_queue(settings: Settings, events: JobEvents | None = None) -> JobQueue:
    """The job queue the settings describe, on the store open_job_store gives: this node's
    bounded in-process queue (local mode), or this node's arq worker on the one queue in the
    engine at QUEUE_URL (shared mode). `events` hears of every job this node takes."""
    store = open_job_store(settings)
    if not settings.shared_mode:
        from .local import LocalJobQueue

        return LocalJobQueue(
            store,
            workers=settings.workers,
            queue_max=settings.queue_max,
            timeout_s=settings.job_timeout_s,
            grace_s=settings.shutdown_grace_s,
            memory_mb=settings.worker_memory_mb,
            uploads_dir=settings.uploads_dir,
            events=events,
        )
    from .shared.queue import SharedJobQueue
    from .shared.store import SharedJobStore

    assert isinstance(store, SharedJobStore)
    return SharedJobQueue(
        store,
        workers=settings.workers,
        queue_max=settings.queue_max,
        timeout_s=settings.job_timeout_s,
        grace_s=settings.shutdown_grace_s,
        memory_mb=settings.worker_memory_mb,
        lease_s=settings.queue_lease_s,
        retention_check_s=settings.retention_check_s,
        uploads_dir=settings.uploads_dir,
        events=events,
    )
