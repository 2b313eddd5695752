"""A small sliding-window rate limiter, per client, in memory (one service process)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque


class SlidingWindowLimiter:
    """At most `limit` events per `window_s` seconds per key; 0 disables it.

    Memory is bounded by `max_keys`: beyond it the least recently seen client is forgotten.
    Never a wholesale reset, which would hand a limited client fresh tokens.
    """

    def __init__(self, limit: int, window_s: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        """Record an event; None when allowed, else seconds until the next one is."""
        if self.limit <= 0:
            return None
        moment = time.monotonic()
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        while events and events[0] <= moment - self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return max(0.0, events[0] + self.window_s - moment)
        events.append(moment)
        return None

    @property
    def clients(self) -> int:
        """How many clients are remembered (bounded by max_keys)."""
        return len(self._events)

    @staticmethod
    def retry_after_header(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
