"""The per-client limiter: bounded memory without ever handing a limited client new tokens."""

from __future__ import annotations

from regression_analyzer.api.ratelimit import SlidingWindowLimiter


def test_a_limited_client_stays_limited_when_the_table_of_clients_fills() -> None:
    limiter = SlidingWindowLimiter(limit=2, max_keys=100)
    assert limiter.hit("attacker") is None
    assert limiter.hit("attacker") is None
    assert limiter.hit("attacker") is not None
    # 99 other clients fill the table to its bound (the old code cleared it all here).
    for i in range(99):
        limiter.hit(f"10.0.0.{i}")
    assert limiter.clients == 100
    assert limiter.hit("attacker") is not None


def test_memory_stays_bounded_by_forgetting_the_least_recent_client() -> None:
    limiter = SlidingWindowLimiter(limit=1, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.hit(key)
    limiter.hit("a")  # refused, but "a" is now the most recently seen
    limiter.hit("d")  # evicts "b", the least recently seen
    assert limiter.clients == 3
    assert limiter.hit("a") is not None  # still remembered, still limited
    assert limiter.hit("b") is None  # forgotten: a fresh client again


def test_zero_disables_the_limit() -> None:
    limiter = SlidingWindowLimiter(limit=0)
    assert all(limiter.hit("x") is None for _ in range(1000))
