"""The queue engine of the shared mode: Redis at QUEUE_URL, reached by redis-py (and by arq,
in queue.py, with the same connection options).

Imported only when QUEUE_URL is set, so local mode never loads redis. Every call that can
fail because the engine is down or refuses us goes through `engine_calls()`, which turns
redis-py's errors into QueueUnavailable: the API maps it once, to 503 with Retry-After.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING

import redis
from redis import exceptions as redis_errors

if TYPE_CHECKING:
    from ...settings import Settings

log = logging.getLogger(__name__)

# Short: a request that needs the engine waits at most this long for it, then gets a 503.
SOCKET_TIMEOUT_S = 3.0
CONNECT_TIMEOUT_S = 2.0
RETRY_AFTER_S = 5

# What "the engine cannot do this now" looks like in redis-py: down, slow, still loading its
# AOF after a restart, read-only replica, or our password refused.
ENGINE_ERRORS = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ReadOnlyError,
    redis_errors.AuthenticationError,
    redis_errors.AuthorizationError,
    OSError,
)


class QueueUnavailable(Exception):
    """The queue engine cannot be reached or refused us; mapped to 503 with Retry-After."""


@contextlib.contextmanager
def engine_calls() -> Iterator[None]:
    """Run Redis calls; their connection-level failures become QueueUnavailable."""
    try:
        yield
    except ENGINE_ERRORS as exc:
        # The exception text names host and port at most, never the password.
        raise QueueUnavailable(f"{type(exc).__name__}: {exc}") from exc


class QueueEngine:
    """Where the engine is and how to reach it; clients are made on first use."""

    def __init__(self, url: str, password: str | None, prefix: str) -> None:
        self.url = url
        self._password = password
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> QueueEngine:
        return cls(settings.queue_url, settings.queue_password(), settings.queue_prefix)

    def key(self, *parts: str) -> str:
        """A key of this service's, e.g. key("job", job_id) -> "regression-analyzer:job:<id>"."""
        return ":".join((self.prefix, *parts))

    def pool_options(self) -> dict[str, object]:
        """Connection options of every client of the engine: short timeouts, the password."""
        options: dict[str, object] = {
            "socket_timeout": SOCKET_TIMEOUT_S,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
            "health_check_interval": 10,
        }
        if self._password is not None:
            options["password"] = self._password
        return options

    @cached_property
    def client(self) -> redis.Redis:
        """A synchronous client (job state, rate limits): calls take well under a millisecond
        on a healthy engine, and SOCKET_TIMEOUT_S bounds them on a sick one."""
        return redis.Redis.from_url(self.url, decode_responses=True, **self.pool_options())

    def close(self) -> None:
        if "client" in self.__dict__:
            with contextlib.suppress(*ENGINE_ERRORS):
                self.client.close()
