"""Binding conversations to visitors: a signed, expiring session token, in an HttpOnly cookie or
a header.

A visitor's first message creates a session and gets a token: ``<session id>.<expiry>.<HMAC>``,
signed with the policy secret (never stored, so any worker can check it); ``expiry`` is a Unix
time ``web.session_token_ttl_seconds`` ahead. Every later request must carry the token for the
session it names, as the ``shopassist_session`` cookie (browsers) or an ``Authorization:
Bearer`` / ``X-Session-Token`` header (apps, voice gateways); a request for a session without
its token is refused, so one visitor can never read or write another's conversation, even
knowing its id. An expired token is refused exactly like a wrong one (a leaked token stops
working); each answer carries a fresh token, so a visitor who keeps chatting is never logged out.

``?token=`` in the URL is read only on a WebSocket upgrade (a browser's WebSocket cannot send
headers); on REST it is ignored, so tokens are not invited into URLs, histories and logs.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from fastapi import Request, WebSocket

from assistant.sessions.slots import validate_session_id
from core.errors import PermissionDeniedError

COOKIE = "shopassist_session"
HEADER = "x-session-token"
SHOP_TOKEN_HEADER = "x-shop-token"
SHOP_TOKEN_QUERY = "shop_token"
_PURPOSE = b"shopassist-web-session\x1f"
_MAX_TOKEN = 300


class SessionSigner:
    def __init__(
        self, secret: bytes, *, ttl_seconds: int = 7 * 86400, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the session signing secret must be at least 16 bytes")
        if ttl_seconds < 60:
            raise ValueError("session tokens must live at least 60 seconds")
        self._key = hashlib.sha256(_PURPOSE + secret).digest()  # a key of its own, derived
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def token(self, session_id: str) -> str:
        """A token for ``session_id`` valid for ``ttl_seconds`` from now."""
        sid = validate_session_id(session_id)
        return self._signed(sid, int(self._clock()) + self.ttl_seconds)

    def _signed(self, sid: str, expiry: int) -> str:
        body = f"{sid}.{expiry}"
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:40]
        return f"{body}.{mac}"

    def session_of(self, token: str | None) -> str | None:
        """The session id a valid, unexpired token names, else None."""
        if not token or len(token) > _MAX_TOKEN or not token.isascii():
            return None
        body, _, mac = token.rpartition(".")
        sid, _, expiry = body.rpartition(".")
        if not mac or not sid or not expiry.isdigit() or len(expiry) > 12:
            return None
        try:
            expected = self._signed(validate_session_id(sid), int(expiry))
        except Exception:
            return None
        if not hmac.compare_digest(expected, token):
            return None
        return sid if int(expiry) > self._clock() else None


def presented_token(connection: Request | WebSocket) -> str | None:
    """The token a request carries: header first, then the cookie; ``?token=`` only on a
    WebSocket upgrade (a REST request with ``?token=`` counts as carrying none)."""
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    token = connection.headers.get(HEADER) or connection.cookies.get(COOKIE)
    if token is None and connection.scope.get("type") == "websocket":
        token = connection.query_params.get("token")
    return token


def presented_shop_token(connection: Request | WebSocket) -> str | None:
    """The shop's sign-in token (a JWT for its logged-in customer): the ``X-Shop-Token`` header,
    or ``?shop_token=`` on a WebSocket upgrade only."""
    token = connection.headers.get(SHOP_TOKEN_HEADER)
    if token is None and connection.scope.get("type") == "websocket":
        token = connection.query_params.get(SHOP_TOKEN_QUERY)
    return token or None


def authorize(signer: SessionSigner, token: str | None, session_id: str | None) -> str | None:
    """The session the caller may use: the one its token names, checked against ``session_id``.

    None: a new session should be created (no token and no id given).
    """
    owned = signer.session_of(token)
    if session_id is None:
        return owned
    if owned != session_id:
        raise PermissionDeniedError(
            "This conversation belongs to another visitor (or the session token is missing)",
            resource="session",
        )
    return owned
