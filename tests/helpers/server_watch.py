"""`ServerWatch` samples, for a whole module, a server process's RSS (psutil) and how fast
/health answers, so each module can assert that the service stayed small and responsive
while everything else was thrown at it."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx
import psutil

from tests.helpers.servers import LiveServer

RSS_BOUND_MB = 300  # the service process only: previews and analyses run in children
HEALTH_BOUND_MS = 100


@dataclass
class ServerWatch:
    """Background sampling of one server: peak RSS and /health latencies."""

    server: LiveServer
    peak_rss_mb: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for target in (self._sample_rss, self._probe_health):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _sample_rss(self) -> None:
        assert self.server.process is not None
        process = psutil.Process(self.server.process.pid)
        while not self._stop.is_set():
            try:
                rss = process.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                self.failures.append("the server process is gone")
                return
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            time.sleep(0.02)

    def _probe_health(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=5) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    status = client.get("/api/v1/health").status_code
                except httpx.HTTPError as exc:
                    self.failures.append(f"/health: {type(exc).__name__}")
                else:
                    self.latencies_ms.append((time.perf_counter() - started) * 1000)
                    if status != 200:
                        self.failures.append(f"/health answered {status}")
                time.sleep(0.05)

    def summary(self) -> str:
        lat = sorted(self.latencies_ms) or [0.0]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (
            f"peak RSS {self.peak_rss_mb:.0f} MB; /health {len(lat)} probes, median "
            f"{statistics.median(lat):.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms; "
            f"failures {self.failures[:5]}"
        )

    def p99_ms(self) -> float:
        lat = sorted(self.latencies_ms)
        return lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("inf")
