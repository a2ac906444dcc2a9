"""How Shopassist connects to Redis (``redis.url``): connections that fail fast.

redis-py's own default retries a failed command three times with backoff (seconds); Shopassist
never waits on Redis like that: a rate-limit check falls back to the process's own window and
a notification is left to the sockets' slow timer, so every command gets ``redis.timeout_seconds``
to connect and to answer, once.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def _fail_fast(timeout: float, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
        **options,
    }


def fail_fast_pool(url: str, *, timeout: float, **options: Any) -> redis.ConnectionPool:
    """A connection pool for ``url`` whose commands get ``timeout`` seconds and no retry;
    ``options`` go to the connections (e.g. ``health_check_interval``)."""
    return redis.ConnectionPool.from_url(url, **_fail_fast(timeout, options))


def fail_fast_client(url: str, *, timeout: float, **options: Any) -> redis.Redis:
    """A client on a pool of its own like :func:`fail_fast_pool`'s (``close`` closes it)."""
    return redis.Redis.from_url(url, **_fail_fast(timeout, options))
