"""What the customer sockets (chat, speech) share: the receive loop, typed JSON events both ways,
resuming a conversation from a session token, and failures turned into ``error`` events.

A subclass names its client events with their pydantic models
(:mod:`connectors.web.socket_events`) and answers them, validated, in
:meth:`EventSocket.on_event`; binary frames go to :meth:`EventSocket.on_bytes` (refused unless
the socket takes audio); with ``idle_seconds`` set, :meth:`EventSocket.on_idle` runs whenever the
client has been quiet that long, and at once when the notification bus has news of the
conversation :meth:`EventSocket.watched` names (:mod:`connectors.web.live`). Whatever an
event's work raises becomes an ``error`` event and the connection stays open. Before serving,
:func:`~connectors.web.socket_guard.admitted` checks the page's origin and the address's socket
count; a client that sends no first event within ``web.ws_hello_timeout_seconds`` is closed
(4408), and a read of the server's own that fails unexpectedly ends the socket (1011) after one
log line instead of failing again at every news.

Both sockets sign a shop's logged-in customer in the same way (:meth:`EventSocket.sign_in`): the
shop's token from the upgrade URL (``?shop_token=<JWT>``), through
:func:`~connectors.web.session_auth.sign_in_shop_customer`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from connectors.web.live import FrameOrNews
from connectors.web.metrics import WebMetrics
from connectors.web.ratelimit import RateLimits, client_address
from connectors.web.session_auth import (
    SessionSigner,
    presented_shop_token,
    presented_token,
    sign_in_shop_customer,
)
from connectors.web.socket_events import ClientEvent, Refusal, read_event
from connectors.web.socket_guard import CLOSE_HELLO_TIMEOUT, CLOSE_INTERNAL_ERROR, admitted
from core.errors import ShopassistError

if TYPE_CHECKING:
    from assistant.engine import Assistant
    from assistant.sessions.notify import EventBus

log = logging.getLogger(__name__)
INTERNAL_ERROR = "Something went wrong on our side. Please try again in a moment."


class EventSocket:
    client_events: ClassVar[dict[str, type[ClientEvent]]] = {}
    """Each event type the client may send, and the model it must validate against."""
    idle_seconds: float | None = None
    """Call :meth:`on_idle` after this long without a client frame or news (None: never)."""
    channel: ClassVar[str] = "web"
    """The channel a conversation this socket starts is recorded with."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.metrics: WebMetrics = ws.app.state.metrics
        self.signer: SessionSigner = ws.app.state.signer
        self.limits: RateLimits = ws.app.state.rate_limits
        self.client = client_address(ws)
        self.session_id = self.signer.session_of(presented_token(ws))
        self.shop_token = presented_shop_token(ws)
        self.hello_timeout: float = ws.app.state.settings.web.ws_hello_timeout_seconds

    # The loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        async with admitted(self.ws) as admit:
            if admit and await self.opened():
                self.metrics.active_sessions.inc()
                try:
                    await self.serve()
                except WebSocketDisconnect:
                    return
                finally:
                    self.metrics.active_sessions.dec()

    async def serve(self) -> None:
        """Receive frames until the client goes: the first one within ``hello_timeout``. News of
        the conversation shown (:meth:`watched`) runs :meth:`on_idle` at once."""
        hello_by: float | None = time.monotonic() + self.hello_timeout
        bus: EventBus | None = getattr(self.ws.app.state, "events", None)
        wants_news = bus is not None and self.watched() is not None
        frames = FrameOrNews(self.ws, bus.subscribe() if bus is not None and wants_news else None)
        try:
            while True:
                watched = self.watched()
                if frames.subscription is not None and watched is not None:
                    frames.subscription.watch(session_id=watched[0], seen_seq=watched[1])
                timeout = self.idle_seconds
                if hello_by is not None:
                    left = max(0.0, hello_by - time.monotonic())
                    timeout = left if timeout is None else min(timeout, left)
                message = await frames.next(timeout)
                if message is None and hello_by is not None and time.monotonic() >= hello_by:
                    await self.ws.close(CLOSE_HELLO_TIMEOUT, "no first event in time")
                    return
                if message is None or isinstance(message, str):  # quiet, or NEWS
                    if not await self.idle():
                        return
                    continue
                hello_by = None
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    await self.guarded(self.on_bytes(message["bytes"]))
                elif message.get("text") is not None:
                    await self.guarded(self.on_text(message["text"]))
        finally:
            frames.close()

    async def idle(self) -> bool:
        """Run :meth:`on_idle`; False (the socket closed, 1011) if it failed unexpectedly: the
        poll would fail again every second, so one log line and the client reconnects."""
        try:
            await self.on_idle()
        except WebSocketDisconnect:
            raise
        except ShopassistError as exc:
            await self.failed(exc)
        except Exception:
            log.exception(f"{type(self).__name__} poll failed", extra={"session_id": self.session_id})
            await self.ws.close(CLOSE_INTERNAL_ERROR, "internal error; reconnect")
            return False
        return True

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
        """The client has been quiet for ``idle_seconds``, or news of :meth:`watched` came."""

    def watched(self) -> tuple[str | None, int] | None:
        """The conversation whose news wakes this socket and the last ``seq`` it has sent (None:
        the socket wants no news; a None conversation: none yet)."""
        return None

    async def on_bytes(self, data: bytes) -> None:
        await self.error("malformed_json", "Events must be JSON text frames")

    async def on_event(self, kind: str, event: ClientEvent) -> None:
        raise NotImplementedError

    def max_event_chars(self) -> int:
        return 10_000

    # Events ---------------------------------------------------------------------------------
    async def on_text(self, raw: str) -> None:
        event = read_event(raw, self.client_events, max_chars=self.max_event_chars())
        if isinstance(event, Refusal):
            await self.error(event.code, event.message, **event.context)
            return
        await self.on_event(event.type, event)

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
