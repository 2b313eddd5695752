"""Retention: every RETENTION_CHECK_S, remove finished jobs and uploads older than
RETENTION_DAYS; in shared mode on one node per period (the queue decides whose turn it is).

Started by the service's lifespan (api/main.py) when RETENTION_DAYS is above 0.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from .model import now

if TYPE_CHECKING:
    from ..settings import Settings
    from .queue import JobQueue

log = logging.getLogger(__name__)


class Expiring(Protocol):
    """What else retention cleans up (the upload store): whatever was created before cutoff."""

    def cleanup_older_than(self, cutoff: datetime) -> int: ...


async def retention_loop(jobs: JobQueue, uploads: Expiring, settings: Settings) -> None:
    """Every RETENTION_CHECK_S, remove uploads and finished jobs older than RETENTION_DAYS
    (in shared mode on one node per period: the queue decides whose turn it is)."""
    while True:
        try:
            if not await jobs.retention_turn():
                await asyncio.sleep(settings.retention_check_s)
                continue
            cutoff = now() - timedelta(days=settings.retention_days)
            gone_jobs = jobs.cleanup_older_than(cutoff)
            gone_uploads = uploads.cleanup_older_than(cutoff)
            # Every run is logged (hourly by default): in shared mode it says which node ran it.
            log.info("retention run: removed %d job(s), %d upload(s)", gone_jobs, gone_uploads)
        except Exception:
            log.exception("retention run failed; will retry")
        await asyncio.sleep(settings.retention_check_s)
