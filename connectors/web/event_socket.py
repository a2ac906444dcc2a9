"""What the customer sockets (chat, speech) share: the receive loop, typed JSON events both ways,
resuming a conversation from a session token, and failures turned into ``error`` events.

A subclass names its client events and answers them in :meth:`EventSocket.on_event`; binary
frames go to :meth:`EventSocket.on_bytes` (refused unless the socket takes audio); with
``idle_seconds`` set, :meth:`EventSocket.on_idle` runs whenever the client has been quiet that
long. Whatever an event's work raises becomes an ``error`` event and the connection stays open.

Both sockets sign a shop's logged-in customer in the same way (:meth:`EventSocket.sign_in`): the
shop's token from the upgrade URL (``?shop_token=<JWT>``), through
:func:`~connectors.web.session_auth.sign_in_shop_customer`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from connectors.web.metrics import WebMetrics
from connectors.web.ratelimit import RateLimits
from connectors.web.session_auth import (
    SessionSigner,
    presented_shop_token,
    presented_token,
    sign_in_shop_customer,
)
from core.errors import ShopassistError

if TYPE_CHECKING:
    from assistant.engine import Assistant

log = logging.getLogger(__name__)
INTERNAL_ERROR = "Something went wrong on our side. Please try again in a moment."


class EventSocket:
    client_events: ClassVar[tuple[str, ...]] = ()
    idle_seconds: ClassVar[float | None] = None
    """Call :meth:`on_idle` after this long without a client frame (None: never)."""
    channel: ClassVar[str] = "web"
    """The channel a conversation this socket starts is recorded with."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.metrics: WebMetrics = ws.app.state.metrics
        self.signer: SessionSigner = ws.app.state.signer
        self.limits: RateLimits = ws.app.state.rate_limits
        self.client = ws.client.host if ws.client else None
        self.session_id = self.signer.session_of(presented_token(ws))
        self.shop_token = presented_shop_token(ws)

    # The loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        await self.ws.accept()
        if not await self.opened():
            return
        self.metrics.active_sessions.inc()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(self.ws.receive(), timeout=self.idle_seconds)
                except TimeoutError:
                    await self.guarded(self.on_idle())
                    continue
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    await self.guarded(self.on_bytes(message["bytes"]))
                elif message.get("text") is not None:
                    await self.guarded(self.on_text(message["text"]))
        except WebSocketDisconnect:
            return
        finally:
            self.metrics.active_sessions.dec()

    async def guarded(self, work: Awaitable[None]) -> None:
        """Run one event's work; a failure becomes an error event, never a dropped connection."""
        try:
            await work
        except WebSocketDisconnect:
            raise
        except ShopassistError as exc:
            await self.failed(exc)
        except Exception:
            log.exception(f"{type(self).__name__} event failed", extra={"session_id": self.session_id})
            await self.failed(None)

    async def failed(self, exc: ShopassistError | None) -> None:
        """Tell the client an event failed (``exc`` None: an unexpected error, already logged)."""
        if exc is None:
            await self.error("internal_error", INTERNAL_ERROR)
        else:
            await self.error(exc.code, exc.message)

    # Hooks ----------------------------------------------------------------------------------
    async def opened(self) -> bool:
        """After accepting: False closes the socket at once."""
        return True

    async def on_idle(self) -> None:
        """The client has been quiet for ``idle_seconds``."""

    async def on_bytes(self, data: bytes) -> None:
        await self.error("malformed_json", "Events must be JSON text frames")

    async def on_event(self, kind: str, event: dict[str, Any]) -> None:
        raise NotImplementedError

    def max_event_chars(self) -> int:
        return 10_000

    # Events ---------------------------------------------------------------------------------
    async def on_text(self, raw: str) -> None:
        limit = self.max_event_chars()
        if len(raw) > limit:
            await self.error("message_too_long", f"Events are limited to about {limit} characters")
            return
        try:
            event = json.loads(raw)
        except ValueError:
            await self.error("malformed_json", "Events must be JSON objects")
            return
        kind = event.get("type") if isinstance(event, dict) else None
        if not isinstance(kind, str) or kind not in self.client_events:
            await self.error(
                "unknown_event", f"Unknown event type {kind!r}; use one of {', '.join(self.client_events)}"
            )
            return
        await self.on_event(kind, event)

    async def send(self, kind: str, **payload: Any) -> None:
        await self.ws.send_text(json.dumps({"type": kind, **payload}, default=str))

    async def error(self, code: str, message: str, **context: Any) -> None:
        """An ``error`` event (``context``: e.g. ``in_reply_to``); the connection stays open."""
        self.metrics.errors.labels(code=code).inc()
        await self.send("error", code=code, message=message, **context)

    # The conversation ---------------------------------------------------------------------
    async def resume(self, token: object) -> bool:
        """Continue the conversation a session token names; False (and an error) if it is not valid."""
        session_id = self.signer.session_of(str(token))
        if session_id is None:
            await self.error("invalid_session", "The session token is not valid; a new conversation starts")
            return False
        self.session_id = session_id
        return True

    async def sign_in(self, assistant: Assistant) -> bool:
        """Sign the conversation in as the shop's customer, if the upgrade URL carried a shop token
        (a new conversation if the current one is another customer's). True if the conversation
        changed. A token that does not verify gets an ``error`` event (the chat's codes) and is not
        tried again on this socket: the visitor goes on anonymously."""
        token = self.shop_token
        if token is None:
            return False
        before = self.session_id
        try:
            sid = await run_in_threadpool(
                sign_in_shop_customer, assistant, before, token, channel=self.channel, new_if_taken=True
            )
        except ShopassistError as exc:
            self.shop_token = None
            await self.error(exc.code, exc.message)
            return False
        self.session_id = sid  # (no message yet: the rate limit counts the messages that follow)
        return sid != before

    async def announce(self) -> None:
        """Tell the client which conversation it is in, with the token to come back to it."""
        if self.session_id is not None:
            await self.send(
                "session", session_id=self.session_id, session_token=self.signer.token(self.session_id)
            )
