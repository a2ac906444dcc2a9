"""The agent console's WebSocket: live updates without reloads.

Authenticated like the agent APIs (the ``shopassist_agent`` cookie, ``?token=`` or a first
``hello {token}`` event). The server sends ``conversations {rows}`` whenever the list changes
and, for the conversation the agent opened with ``open {session_id, after_seq?}``, every new
event of its log as ``event {...}``; ``ping`` gets ``pong``; actions (take over, reply...) go
through the REST APIs.
The socket reads again when the notification bus has news of any conversation: the open
conversation's new events at once, the list at most every :data:`MIN_LIST_GAP` seconds however
busy the shop; and on a slow timer besides (:func:`~connectors.web.live.safety_poll_seconds`).
The login is checked again every few seconds: a disabled account or a changed password ends
the socket too (``error {authentication_required}``, close code 4401).

Events are validated against :mod:`connectors.web.socket_events` (``after_seq`` 0 to
2**63-1); a bad one gets an ``error`` event and the socket stays open. Before the log-in, the
first frame must be a ``hello`` text frame arriving within ``web.ws_hello_timeout_seconds``:
anything else (a binary frame, no log-in) closes the socket with 4401, silence with 4408. Only
allowed origins may open it (:mod:`connectors.web.socket_guard`): its cookie is what a page
elsewhere would otherwise borrow.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from connectors.web.agent_auth import LOGIN_ENDED, AgentSigner, agent_token
from connectors.web.live import FrameOrNews, safety_poll_seconds
from connectors.web.socket_events import (
    AGENT_EVENTS,
    AgentHello,
    AgentOpen,
    ClientEvent,
    Ping,
    Refusal,
    frame_text,
    read_event,
)
from connectors.web.socket_guard import CLOSE_HELLO_TIMEOUT, CLOSE_LOGIN_REQUIRED, admitted
from core.errors import ShopassistError
from support.desk import SupportDesk

if TYPE_CHECKING:
    from assistant.sessions.notify import EventBus

router = APIRouter()
RECHECK_SECONDS = 5.0
MIN_LIST_GAP = 0.5
MAX_EVENT_CHARS = 10_000


def _rows(desk: SupportDesk) -> list[dict[str, Any]]:
    return [
        {
            "session_id": c.summary.session_id,
            "channel": c.summary.channel,
            "state": c.state.value,
            "holder": c.holder,
            "waiting_seconds": None if c.waiting_seconds is None else int(c.waiting_seconds),
            "customer_id": c.summary.customer_id,
            "updated_at": c.summary.updated_at.isoformat(),
        }
        for c in desk.conversations(limit=200)
    ]


class AgentSocket:
    """One agent's console connection: log in, then conversations and the open one's events."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.signer: AgentSigner = ws.app.state.agent_signer
        self.desk: SupportDesk | None = ws.app.state.desk
        self.accounts = ws.app.state.agent_accounts
        self.token = agent_token(ws) or ws.query_params.get("token")
        self.agent: str | None = None
        self.checked = time.monotonic()
        self.opened: str | None = None
        self.after = 0
        self.last_rows: list[dict[str, Any]] | None = None
        self.hello_timeout: float = ws.app.state.settings.web.ws_hello_timeout_seconds
        bus: EventBus | None = getattr(ws.app.state, "events", None)
        self.poll_seconds = safety_poll_seconds(ws.app.state.settings.web, bus)
        self.frames = FrameOrNews(ws, None if bus is None else bus.subscribe())
        self.listed_at = 0.0
        self.list_due = False

    async def run(self) -> None:
        async with admitted(self.ws) as admit:
            if not admit:
                return
            self.agent = self.signer.agent_of(self.token, self.accounts)
            self.checked = time.monotonic()
            try:
                await self.serve()
            except WebSocketDisconnect:
                return
            finally:
                self.frames.close()

    async def serve(self) -> None:
        while True:
            if self.agent is None or self.desk is None:
                if not await self.log_in():
                    return
                continue
            if not await self.still_logged_in():
                return
            self.logged_in()
            await self.push(self.desk)
            await self.receive()

    async def next_frame(self, timeout: float) -> Mapping[str, Any] | None:
        """The next frame, or None after ``timeout`` seconds of silence or on news."""
        message = await self.frames.next(timeout)
        if message is None or isinstance(message, str):
            return None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    async def log_in(self) -> bool:
        """Read a ``hello {token}``; False (the socket closed) if it does not log an agent in."""
        message = await self.next_frame(self.hello_timeout)
        if message is None:
            await self.ws.close(CLOSE_HELLO_TIMEOUT, "no log-in in time")
            return False
        text = frame_text(message)
        hello = None if text is None else read_event(text, AGENT_EVENTS, max_chars=MAX_EVENT_CHARS)
        self.token = hello.token if isinstance(hello, AgentHello) else None
        self.agent = await run_in_threadpool(self.signer.agent_of, self.token, self.accounts)
        self.checked = time.monotonic()
        if self.agent is None or self.desk is None:
            await self.ws.send_json(
                {
                    "type": "error",
                    "code": "authentication_required",
                    "message": "Log in first: send hello {token} as a JSON text frame",
                }
            )
            await self.ws.close(code=CLOSE_LOGIN_REQUIRED)
            return False
        return True

    def logged_in(self) -> None:
        """From now on news of every conversation wakes the socket (the list shows them all)."""
        if self.frames.subscription is not None:
            self.frames.subscription.watch_everything()

    async def still_logged_in(self) -> bool:
        """Every RECHECK_SECONDS: a new password or a disabled account ends the login."""
        if time.monotonic() - self.checked <= RECHECK_SECONDS:
            return True
        self.checked = time.monotonic()
        if await run_in_threadpool(self.signer.agent_of, self.token, self.accounts) is not None:
            return True
        await self.ws.send_json({"type": "error", "code": "authentication_required", "message": LOGIN_ENDED})
        await self.ws.close(code=CLOSE_LOGIN_REQUIRED)
        return False

    async def push(self, desk: SupportDesk) -> None:
        """The conversation list when it changed, and the open conversation's new events."""
        self.list_due = time.monotonic() - self.listed_at < MIN_LIST_GAP  # (then soon: receive)
        if not self.list_due:
            self.listed_at = time.monotonic()
            rows = await run_in_threadpool(_rows, desk)
            if rows != self.last_rows:
                await self.ws.send_json({"type": "conversations", "rows": rows, "agent": self.agent})
                self.last_rows = rows
        if self.opened is None:
            return
        opened = self.opened
        try:
            events = await run_in_threadpool(desk.events, opened, self.after)
        except ShopassistError as exc:
            await self.ws.send_json({"type": "error", "code": exc.code, "message": exc.message})
            self.opened, events = None, []
        for stored in events:
            if stored.seq > self.after:
                payload = {
                    "seq": stored.seq,
                    "at": stored.at.isoformat(),
                    **stored.event.model_dump(mode="json"),
                }
                await self.ws.send_json({"type": "event", "session_id": opened, "event": payload})
                self.after = stored.seq

    async def receive(self) -> None:
        """One client event (``open {session_id, after_seq}``), news, or ``poll_seconds`` of quiet."""
        timeout = self.poll_seconds
        if self.list_due:
            timeout = min(timeout, max(0.0, self.listed_at + MIN_LIST_GAP - time.monotonic()))
        message = await self.next_frame(timeout)
        if message is None:
            return
        text = frame_text(message)
        event: ClientEvent | Refusal = (
            Refusal("malformed_json", "Events must be JSON text frames")
            if text is None
            else read_event(text, AGENT_EVENTS, max_chars=MAX_EVENT_CHARS)
        )
        if isinstance(event, Refusal):
            await self.ws.send_json({"type": "error", "code": event.code, "message": event.message})
        elif isinstance(event, AgentOpen):
            self.opened, self.after = event.session_id, event.after_seq
        elif isinstance(event, Ping):
            await self.ws.send_json({"type": "pong"})


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    await AgentSocket(ws).run()
