"""A small sliding-window rate limiter, per client, in memory (one service process)."""

from __future__ import annotations

import math
import time
from collections import deque


class SlidingWindowLimiter:
    """At most `limit` events per `window_s` seconds per key; 0 disables it."""

    def __init__(self, limit: int, window_s: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float | None:
        """Record an event; None when allowed, else seconds until the next one is."""
        if self.limit <= 0:
            return None
        moment = time.monotonic()
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._prune(moment)  # bounded memory even with many distinct clients
            events = self._events[key] = deque()
        while events and events[0] <= moment - self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return max(0.0, events[0] + self.window_s - moment)
        events.append(moment)
        return None

    @staticmethod
    def retry_after_header(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))

    def _prune(self, moment: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= moment - self.window_s]:
            del self._events[key]
        if len(self._events) >= self.max_keys:
            self._events.clear()
