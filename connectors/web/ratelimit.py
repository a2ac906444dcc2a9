"""Rate limits per session and per client address, with the maintained ``limits`` library
(moving window, in memory: one process; several workers each keep their own window).

The client address is the connection's peer. Only with ``server.proxy_headers`` on, and only
when the peer is one of ``server.forwarded_allow_ips``, does uvicorn replace it with the client
named in ``X-Forwarded-For``; anyone else's header changes nothing, so rotating it does not buy
a fresh budget (see :func:`connectors.web.app.uvicorn_options`).
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection

from core.errors import ShopassistError


def client_address(connection: HTTPConnection) -> str | None:
    """The address limits count for a request or socket: the peer's, or the client a trusted
    proxy named (uvicorn has already put it in the ASGI scope)."""
    return connection.client.host if connection.client else None


class RateLimitedError(ShopassistError):
    code = "rate_limited"
    http_status = 429


class RateLimits:
    def __init__(self, *, per_session: str, per_ip: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._session: RateLimitItem = parse(per_session)
        self._ip: RateLimitItem = parse(per_ip)

    def check(self, *, ip: str | None, session_id: str | None) -> None:
        """Count one message; :class:`RateLimitedError` once a window is full (nothing counted)."""
        if ip and not self._limiter.test(self._ip, "ip", ip):
            raise RateLimitedError(
                f"Too many messages from this address (limit {self._ip})", limit=str(self._ip)
            )
        if session_id and not self._limiter.test(self._session, "session", session_id):
            raise RateLimitedError(
                f"Too many messages in this conversation (limit {self._session}); wait a moment",
                limit=str(self._session),
            )
        if ip:
            self._limiter.hit(self._ip, "ip", ip)
        if session_id:
            self._limiter.hit(self._session, "session", session_id)

    def count_first(self, session_id: str) -> None:
        """Count the message that created ``session_id`` (it had no session when checked)."""
        self._limiter.hit(self._session, "session", session_id)
