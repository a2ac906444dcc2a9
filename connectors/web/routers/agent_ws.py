"""The agent console's WebSocket: live updates without reloads.

Authenticated like the agent APIs (the ``shopassist_agent`` cookie, ``?token=`` or a first
``hello {token}`` event). The server sends ``conversations {rows}`` whenever the list changes
and, for the conversation the agent opened with ``open {session_id, after_seq?}``, every new
event of its log as ``event {...}``; actions (take over, reply...) go through the REST APIs.
The login is checked again every few seconds: a disabled account or a changed password ends
the socket too (``error {authentication_required}``, close code 4401).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from connectors.web.agent_auth import LOGIN_ENDED, AgentSigner, agent_token
from core.errors import ShopassistError
from support.desk import SupportDesk

router = APIRouter()
POLL_SECONDS = 1.0
RECHECK_SECONDS = 5.0


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

    async def run(self) -> None:
        await self.ws.accept()
        self.agent = self.signer.agent_of(self.token, self.accounts)
        self.checked = time.monotonic()
        try:
            while True:
                if self.agent is None or self.desk is None:
                    if not await self.log_in():
                        return
                    continue
                if not await self.still_logged_in():
                    return
                await self.push(self.desk)
                await self.receive()
        except WebSocketDisconnect:
            return

    async def log_in(self) -> bool:
        """Read a ``hello {token}``; False (the socket closed) if it does not log an agent in."""
        try:
            first = json.loads(await self.ws.receive_text())
        except ValueError:
            first = {}
        given = first.get("token") if isinstance(first, dict) else None
        self.token = given if isinstance(given, str) else None
        self.agent = self.signer.agent_of(self.token, self.accounts)
        self.checked = time.monotonic()
        if self.agent is None or self.desk is None:
            await self.ws.send_json(
                {"type": "error", "code": "authentication_required", "message": "Log in first"}
            )
            await self.ws.close(code=4401)
            return False
        return True

    async def still_logged_in(self) -> bool:
        """Every RECHECK_SECONDS: a new password or a disabled account ends the login."""
        if time.monotonic() - self.checked <= RECHECK_SECONDS:
            return True
        self.checked = time.monotonic()
        if await run_in_threadpool(self.signer.agent_of, self.token, self.accounts) is not None:
            return True
        await self.ws.send_json({"type": "error", "code": "authentication_required", "message": LOGIN_ENDED})
        await self.ws.close(code=4401)
        return False

    async def push(self, desk: SupportDesk) -> None:
        """The conversation list when it changed, and the open conversation's new events."""
        rows = await run_in_threadpool(_rows, desk)
        if rows != self.last_rows:
            await self.ws.send_json({"type": "conversations", "rows": rows, "agent": self.agent})
            self.last_rows = rows
        if self.opened is None:
            return
        opened = self.opened
        try:
            events = await run_in_threadpool(desk.events, opened)
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
        """One client event, waiting at most POLL_SECONDS: ``open {session_id, after_seq}``."""
        try:
            message = json.loads(await asyncio.wait_for(self.ws.receive_text(), timeout=POLL_SECONDS))
        except TimeoutError:
            return
        except ValueError:
            await self.ws.send_json(
                {"type": "error", "code": "malformed_json", "message": "Events must be JSON"}
            )
            return
        if (
            isinstance(message, dict)
            and message.get("type") == "open"
            and isinstance(message.get("session_id"), str)
        ):
            self.opened = message["session_id"]
            seq = message.get("after_seq", 0)
            self.after = seq if isinstance(seq, int) and seq >= 0 else 0
        elif not (isinstance(message, dict) and message.get("type") in ("hello", "ping")):
            await self.ws.send_json(
                {"type": "error", "code": "unknown_event", "message": "Use open {session_id}"}
            )


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    await AgentSocket(ws).run()
