"""Sliding-window rate limits per client: in memory (local mode) or in the queue engine
(shared mode, one count for all nodes)."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Protocol, cast

from ..jobs.constants import RATE_KEY

if TYPE_CHECKING:
    from ..jobs.shared.engine import QueueEngine

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def hit(self, key: str) -> float | None: ...


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


def retry_after_header(seconds: float) -> str:
    """The Retry-After value for a wait in seconds: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


# A sliding window in a sorted set, with the engine's clock (nodes' clocks may differ).
# KEYS[1] the client's set; ARGV: limit, window in microseconds, a unique member suffix.
# Returns nil when allowed, else the microseconds until the oldest event leaves the window.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return nil
"""


class SharedRateLimiter:
    """The same limit as SlidingWindowLimiter, counted in the queue engine for all nodes.

    Fails open: while the engine is unreachable requests are not limited (and analyses are
    refused anyway, with 503), so an upload is never lost to an outage of the engine.
    """

    def __init__(self, engine: QueueEngine, name: str, limit: int, window_s: float = 60.0) -> None:
        self.engine = engine
        self.name = name
        self.limit = limit
        self.window_s = window_s

    def hit(self, key: str) -> float | None:
        """Record an event; None when allowed, else seconds until the next one is."""
        if self.limit <= 0:
            return None
        from ..jobs.shared.engine import QueueUnavailable, engine_calls

        try:
            with engine_calls():
                wait_us = self.engine.client.eval(
                    _SLIDING_WINDOW,
                    1,
                    self.engine.key(RATE_KEY, self.name, key),
                    str(self.limit),
                    str(int(self.window_s * 1_000_000)),
                    uuid.uuid4().hex,
                )
        except QueueUnavailable:
            log.warning("rate limit %s not checked: the queue engine is unreachable", self.name)
            return None
        return None if wait_us is None else max(0.0, int(cast(str, wait_us)) / 1_000_000)


def open_rate_limiter(engine: QueueEngine | None, name: str, limit: int) -> RateLimiter:
    """The limit `name` (per minute per client): counted in this process (local mode), or in
    the queue engine for all nodes (shared mode)."""
    if engine is None:
        return SlidingWindowLimiter(limit)
    return SharedRateLimiter(engine, name, limit)
