"""What is read when Prometheus scrapes, not counted as it happens: the queue's depth (in
shared mode from Redis, so every node reports the whole queue), the free space of DATA_DIR and
OUTPUT_DIR, and the limits the alert rules compare them with (deploy/prometheus/alerts.yml).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..jobs.queue import QueueDepth
from .service import PREFIX

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The settings the alert rules compare with, exported as gauges so the rules need no
    copy of them: QUEUE_MAX, WORKERS, READY_MIN_FREE_MB."""

    queue_max: int
    workers: int
    ready_min_free_mb: float


class ServiceState(Collector):
    """Gauges computed at each scrape. `depth` reads the queue (it may raise while the queue
    engine is away: then the queue gauges are left out of that scrape, the rest is served)."""

    def __init__(
        self,
        depth: Callable[[], QueueDepth],
        directories: dict[str, Path],
        limits: Limits,
    ) -> None:
        self.depth = depth
        self.directories = directories
        self.limits = limits

    def register(self, registry: CollectorRegistry) -> ServiceState:
        """Add to `registry`; returns self."""
        registry.register(self)
        return self

    def collect(self) -> Iterator[Metric]:
        """The gauges of this moment."""
        yield from self._queue()
        yield self._free_space()
        yield GaugeMetricFamily(
            PREFIX + "queue_max", "QUEUE_MAX: jobs that may wait", value=self.limits.queue_max
        )
        yield GaugeMetricFamily(
            PREFIX + "workers", "WORKERS: analyses this node runs at once", self.limits.workers
        )
        yield GaugeMetricFamily(
            PREFIX + "ready_min_free_bytes",
            "READY_MIN_FREE_MB in bytes: /ready answers 503 below it",
            value=self.limits.ready_min_free_mb * MB,
        )

    def _queue(self) -> Iterator[Metric]:
        try:
            depth = self.depth()
        except Exception as exc:  # the queue engine away: QueueUnavailable (shared mode)
            log.warning("queue gauges left out of this scrape: %s", type(exc).__name__)
            return
        yield GaugeMetricFamily(
            PREFIX + "jobs_waiting", "Jobs waiting for a worker, on all nodes", depth.waiting
        )
        yield GaugeMetricFamily(
            PREFIX + "jobs_running", "Jobs running, on all nodes", depth.running
        )

    def _free_space(self) -> Metric:
        gauge = GaugeMetricFamily(
            PREFIX + "storage_free_bytes",
            "Free space where the service keeps files (data: DATA_DIR, output: OUTPUT_DIR)",
            labels=["directory"],
        )
        for name, path in self.directories.items():
            gauge.add_metric([name], _free_bytes(path))
        return gauge


def _free_bytes(path: Path) -> float:
    """Free bytes where `path` lives; 0 when it cannot be read, as /ready counts it."""
    try:
        return float(shutil.disk_usage(path).free)
    except OSError:
        return 0.0
