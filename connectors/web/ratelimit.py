"""Rate limits per session and per client address, with the maintained ``limits`` library
(moving window).

Where the windows live: in the process's memory by default (several workers each keep their
own), or, with ``redis.url`` set, in Redis (``limits``' ``RedisStorage``, keys under
``<redis.key_prefix>limits:``), so every process counts into one window. When Redis does not
answer (``redis.timeout_seconds``), a check fails open to the process's own in-memory window,
not to a refusal: chat keeps working, each process still limits what it sees, and the
``redis`` component of ``/readyz`` is degraded; one log line per outage, every such check
counted (``shopassist_rate_limit_fallbacks_total``), and Redis is tried again after
:data:`RETRY_SECONDS`.

The client address is the connection's peer. Only with ``server.proxy_headers`` on, and only
when the peer is one of ``server.forwarded_allow_ips``, does uvicorn replace it with the client
named in ``X-Forwarded-For``; anyone else's header changes nothing, so rotating it does not buy
a fresh budget (see :func:`connectors.web.app.uvicorn_options`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection

from core.config import RedisSettings
from core.errors import ShopassistError
from core.health import ComponentHealth
from core.redis_client import fail_fast_pool

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
"""After Redis failed a check, the in-memory window serves this long before Redis is tried again."""


def client_address(connection: HTTPConnection) -> str | None:
    """The address limits count for a request or socket: the peer's, or the client a trusted
    proxy named (uvicorn has already put it in the ASGI scope)."""
    return connection.client.host if connection.client else None


def shared_storage(redis: RedisSettings) -> Storage | None:
    """The Redis storage every process shares, or None without ``redis.url`` (nothing is
    connected yet: the first check does)."""
    if redis.url is None:
        return None
    pool = fail_fast_pool(redis.url, timeout=redis.timeout_seconds)
    return RedisStorage(
        redis.url, connection_pool=pool, key_prefix=f"{redis.key_prefix}limits", wrap_exceptions=True
    )


class RateLimitedError(ShopassistError):
    code = "rate_limited"
    http_status = 429


class RateLimits:
    """One set of limits (``scope``: e.g. chat messages or agent log-ins), in ``shared`` storage
    when given, else in memory."""

    def __init__(
        self,
        *,
        per_session: str,
        per_ip: str,
        scope: str = "chat",
        shared: Storage | None = None,
        health: ComponentHealth | None = None,
        on_fallback: Callable[[str], None] | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        """``health``: the shared storage's component, degraded while it fails; ``on_fallback``:
        called with ``scope`` for every check the in-memory window took over (metrics);
        ``retry_seconds``: how long the in-memory window serves after a failure."""
        self.scope = scope
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared = None if shared is None else MovingWindowRateLimiter(shared)
        self._health = health
        self._on_fallback = on_fallback
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._retry_seconds = retry_seconds
        self._failing = False
        self._session: RateLimitItem = parse(per_session)
        self._ip: RateLimitItem = parse(per_ip)

    def check(self, *, ip: str | None, session_id: str | None) -> None:
        """Count one message; :class:`RateLimitedError` once a window is full (nothing counted)."""
        self._run(lambda limiter: self._check(limiter, ip, session_id))

    def count_first(self, session_id: str) -> None:
        """Count the message that created ``session_id`` (it had no session when checked)."""
        self._run(lambda limiter: limiter.hit(self._session, self.scope, "session", session_id))

    def _check(self, limiter: MovingWindowRateLimiter, ip: str | None, session_id: str | None) -> None:
        if ip and not limiter.test(self._ip, self.scope, "ip", ip):
            raise RateLimitedError(
                f"Too many messages from this address (limit {self._ip})", limit=str(self._ip)
            )
        if session_id and not limiter.test(self._session, self.scope, "session", session_id):
            raise RateLimitedError(
                f"Too many messages in this conversation (limit {self._session}); wait a moment",
                limit=str(self._session),
            )
        if ip:
            limiter.hit(self._ip, self.scope, "ip", ip)
        if session_id:
            limiter.hit(self._session, self.scope, "session", session_id)

    def _run(self, work: Callable[[MovingWindowRateLimiter], object]) -> None:
        """``work`` on the shared windows; on this process's own while they fail (fail open)."""
        if self._shared is not None and time.monotonic() >= self._retry_at:
            try:
                work(self._shared)
            except StorageError as exc:
                self._failed(exc.storage_error)
            except RateLimitedError:
                self._recovered()
                raise
            else:
                self._recovered()
                return
        if self._shared is not None and self._on_fallback is not None:
            self._on_fallback(self.scope)
        work(self._local)

    def _failed(self, error: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + self._retry_seconds
            first, self._failing = not self._failing, True
        if first:
            log.warning(
                "rate limits: Redis failed (%s); each process counts on its own until it is back",
                error,
                extra={"scope": self.scope},
            )
        if self._health is not None:
            self._health.degraded(f"rate limits fall back to each process's memory: {error}")

    def _recovered(self) -> None:
        if not self._failing:
            return
        with self._lock:
            self._failing = False
        log.info("rate limits: shared in Redis again", extra={"scope": self.scope})
        if self._health is not None:
            self._health.ok("connected")
