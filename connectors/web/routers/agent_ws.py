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


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    signer: AgentSigner = ws.app.state.agent_signer
    desk: SupportDesk | None = ws.app.state.desk
    await ws.accept()
    accounts = ws.app.state.agent_accounts
    token = agent_token(ws) or ws.query_params.get("token")
    agent = signer.agent_of(token, accounts)
    checked = time.monotonic()
    opened: str | None = None
    after = 0
    last_rows: list[dict[str, Any]] | None = None
    try:
        while True:
            if agent is None or desk is None:
                try:
                    first = json.loads(await ws.receive_text())
                except ValueError:
                    first = {}
                given = first.get("token") if isinstance(first, dict) else None
                token = given if isinstance(given, str) else None
                agent = signer.agent_of(token, accounts)
                checked = time.monotonic()
                if agent is None or desk is None:
                    await ws.send_json(
                        {"type": "error", "code": "authentication_required", "message": "Log in first"}
                    )
                    await ws.close(code=4401)
                    return
                continue
            if time.monotonic() - checked > RECHECK_SECONDS:
                checked = time.monotonic()
                if await run_in_threadpool(signer.agent_of, token, accounts) is None:
                    ended = {"type": "error", "code": "authentication_required", "message": LOGIN_ENDED}
                    await ws.send_json(ended)
                    await ws.close(code=4401)
                    return
            rows = await run_in_threadpool(_rows, desk)
            if rows != last_rows:
                await ws.send_json({"type": "conversations", "rows": rows, "agent": agent})
                last_rows = rows
            if opened is not None:
                try:
                    events = await run_in_threadpool(desk.events, opened)
                except ShopassistError as exc:
                    await ws.send_json({"type": "error", "code": exc.code, "message": exc.message})
                    opened, events = None, []
                for stored in events:
                    if stored.seq > after:
                        payload = {
                            "seq": stored.seq,
                            "at": stored.at.isoformat(),
                            **stored.event.model_dump(mode="json"),
                        }
                        await ws.send_json({"type": "event", "session_id": opened, "event": payload})
                        after = stored.seq
            try:
                message = json.loads(await asyncio.wait_for(ws.receive_text(), timeout=POLL_SECONDS))
            except TimeoutError:
                continue
            except ValueError:
                await ws.send_json(
                    {"type": "error", "code": "malformed_json", "message": "Events must be JSON"}
                )
                continue
            if (
                isinstance(message, dict)
                and message.get("type") == "open"
                and isinstance(message.get("session_id"), str)
            ):
                opened = message["session_id"]
                seq = message.get("after_seq", 0)
                after = seq if isinstance(seq, int) and seq >= 0 else 0
            elif not (isinstance(message, dict) and message.get("type") in ("hello", "ping")):
                await ws.send_json(
                    {"type": "error", "code": "unknown_event", "message": "Use open {session_id}"}
                )
    except WebSocketDisconnect:
        return
