"""Binding conversations to visitors: a signed session token, in an HttpOnly cookie or a header.

A visitor's first message creates a session and gets a token: ``<session id>.<HMAC>``, signed
with the policy secret (never stored, so any worker can check it). Every later request must
carry the token for the session it names, as the ``shopassist_session`` cookie (browsers) or an
``Authorization: Bearer`` / ``X-Session-Token`` header (apps, voice gateways); a request for a
session without its token is refused, so one visitor can never read or write another's
conversation, even knowing its id.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, WebSocket

from assistant.sessions.slots import validate_session_id
from core.errors import PermissionDeniedError

COOKIE = "shopassist_session"
HEADER = "x-session-token"
_PURPOSE = b"shopassist-web-session\x1f"


class SessionSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the session signing secret must be at least 16 bytes")
        self._key = hashlib.sha256(_PURPOSE + secret).digest()  # a key of its own, derived

    def token(self, session_id: str) -> str:
        sid = validate_session_id(session_id)
        mac = hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()[:40]
        return f"{sid}.{mac}"

    def session_of(self, token: str | None) -> str | None:
        """The session id a valid token names, else None."""
        if not token or "." not in token or len(token) > 300 or not token.isascii():
            return None
        sid, _, mac = token.rpartition(".")
        try:
            expected = self.token(sid)
        except Exception:
            return None
        return sid if hmac.compare_digest(expected, token) and mac else None


def presented_token(connection: Request | WebSocket) -> str | None:
    """The token a request carries: header first, then the cookie, then ``?token=`` (WebSocket)."""
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return (
        connection.headers.get(HEADER)
        or connection.cookies.get(COOKIE)
        or connection.query_params.get("token")
    )


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
