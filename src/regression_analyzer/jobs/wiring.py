"""Opens the job store the settings describe: files in local mode, the queue engine in shared
mode (QUEUE_URL; redis is imported only then).

The one place that knows both kinds of store, so the base store (store.py) does not know its
subclass. The service (service.py) and the analysis child (child.py) both open theirs here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import JobStore

if TYPE_CHECKING:
    from ..settings import Settings
    from .shared.engine import QueueEngine


def open_job_store(settings: Settings) -> JobStore:
    """The job store the settings describe: files in local mode, the engine in shared mode.

    What the service and the analysis child both call; it never imports arq.
    """
    if settings.shared_mode:
        from .shared.engine import QueueEngine
        from .shared.store import SharedJobStore

        return SharedJobStore(settings.jobs_dir, QueueEngine.from_settings(settings))
    return JobStore(settings.jobs_dir)


def queue_engine_of(settings: Settings, store: JobStore) -> QueueEngine | None:
    """The queue engine the store keeps its state in (shared mode: the rate limits count
    there too); None in local mode."""
    if not settings.shared_mode:
        return None
    from .shared.store import SharedJobStore

    assert isinstance(store, SharedJobStore)
    return store.engine
