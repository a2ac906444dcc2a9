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

The shop's own sign-in token for its logged-in customer (a JWT, ``auth.shop_token``) comes the
same way: ``X-Shop-Token``, or ``?shop_token=`` on a WebSocket upgrade only.
:func:`sign_in_shop_customer` is the one place the chat and speech routes (REST and WebSocket)
sign a conversation in with it; :func:`authorize_reader` lets a signed-in customer read the
conversation their token signed into without its session token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import Request, WebSocket

from assistant.sessions.slots import validate_session_id
from core.errors import InvalidArgumentsError, NotFoundError, PermissionDeniedError

if TYPE_CHECKING:
    from assistant.engine import Assistant

log = logging.getLogger(__name__)

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
        raise _not_yours()
    return owned


def _not_yours() -> PermissionDeniedError:
    return PermissionDeniedError(
        "This conversation belongs to another visitor (or the session token is missing)",
        resource="session",
    )


def sign_in_shop_customer(
    assistant: Assistant,
    session_id: str | None,
    shop_token: str | None,
    *,
    channel: str,
    new_if_taken: bool = False,
) -> str | None:
    """Sign the conversation in as the shop's logged-in customer before its next turn (blocking:
    run it in a worker thread from async code); returns the session id to use.

    Without a shop token nothing happens and ``session_id`` comes back as given. Otherwise
    :meth:`Assistant.sign_in` verifies the token and records its customer, creating the session if
    ``session_id`` is None. Refusals propagate unchanged (``invalid_shop_token`` 401,
    ``shop_tokens_off`` 400, ``permission_denied`` 403 when the conversation is already another
    customer's); with ``new_if_taken`` (a socket holding a stored conversation, e.g. a shared
    browser's) that last case starts a new conversation for the token's customer instead.
    """
    if shop_token is None:
        return session_id
    try:
        return assistant.sign_in(session_id, shop_token=shop_token, channel=channel)
    except PermissionDeniedError:
        if not new_if_taken or session_id is None:
            raise
        log.info("stored conversation belongs to another customer; starting a new one")
        return assistant.sign_in(None, shop_token=shop_token, channel=channel)


def authorize_reader(
    signer: SessionSigner, assistant: Assistant, connection: Request | WebSocket, session_id: str
) -> None:
    """May the caller read ``session_id``? Its session token, as :func:`authorize` checks it; or,
    without that, a shop token (``X-Shop-Token``) whose customer is the conversation's verified
    customer. Anything else is refused as a wrong session token is (403); a shop token that does
    not verify is refused as in chat (401 ``invalid_shop_token``, 400 ``shop_tokens_off``)."""
    shop_token = presented_shop_token(connection)
    try:
        authorize(signer, presented_token(connection), session_id)
        return
    except PermissionDeniedError:
        if shop_token is None:
            raise
    customer_id = assistant.shop_sign_in.customer_of(shop_token)  # raises for a bad token
    try:
        verified = assistant.store.state(session_id=session_id).customer_id
    except (InvalidArgumentsError, NotFoundError):  # no such conversation: say no more than "not yours"
        raise _not_yours() from None
    if verified is None or verified != customer_id:
        raise _not_yours()
