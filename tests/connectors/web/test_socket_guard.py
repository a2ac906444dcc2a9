"""The WebSockets against bad clients, with real `websockets` clients and uvicorn on 127.0.0.1:
out-of-range numbers, binary frames, sockets that never say hello, pages of other origins, one
address holding too many sockets, and a poll that breaks."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import sqlalchemy as sa
import websockets
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from connectors.web.app import create_app
from connectors.web.socket_events import MAX_SEQ
from support.accounts import AgentAccounts
from tests.connectors.web.conftest import WebShop
from tests.servers import serve_in_thread

PASSWORD = "a long test password"


def _app(shop: WebShop, **web: Any) -> FastAPI:
    """The shop's app with ``web`` settings changed."""
    settings = shop.services.settings
    return create_app(
        settings.model_copy(update={"web": settings.web.model_copy(update=web)}), services=shop.services
    )


async def _until(ws: Any, kind: str, limit: int = 30) -> dict[str, Any]:
    for _ in range(limit):
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
        if event["type"] == kind:
            return dict(event)
    raise AssertionError(f"no {kind} event")


async def _close_code(ws: Any) -> int | None:
    """Read until the server closes the socket; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), timeout=30)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


async def _pong(ws: Any) -> bool:
    await ws.send(json.dumps({"type": "ping"}))
    return (await _until(ws, "pong"))["type"] == "pong"


def test_out_of_range_sequence_numbers_are_refused_and_the_poll_stays_quiet(
    web_shop: WebShop, caplog: pytest.LogCaptureFixture
) -> None:
    """A last_seq past SQLite's 64-bit integers once made every poll (once a second) log an
    OverflowError; now the hello is refused with an error event and nothing is logged."""
    caplog.set_level(logging.WARNING)
    with serve_in_thread(web_shop.app, ws="websockets") as url:
        chat = url.replace("http://", "ws://") + "/ws/chat"

        async def talk() -> list[dict[str, Any]]:
            async with websockets.connect(chat) as ws:
                await ws.send(json.dumps({"type": "message", "text": "hi"}))
                token = (await _until(ws, "session"))["session_token"]
                await _until(ws, "reply")
            refusals = []
            async with websockets.connect(f"{chat}?token={token}") as ws:  # polls its conversation
                await _until(ws, "session")
                for bad in (MAX_SEQ + 1, 2**64, 10**30, -1, True, "5", 1.5):
                    await ws.send(json.dumps({"type": "hello", "session_token": token, "last_seq": bad}))
                    refusals.append(await _until(ws, "error"))
                await ws.send(json.dumps({"type": "ack", "seq": 2**70}))
                refusals.append(await _until(ws, "error"))
                await asyncio.sleep(3)  # three polls of the conversation's log
                await ws.send(json.dumps({"type": "hello", "session_token": token, "last_seq": MAX_SEQ}))
                assert (await _until(ws, "session"))["session_token"]
                await asyncio.sleep(2)  # the largest position is a valid one to poll after
                assert await _pong(ws)
            return refusals

        refusals = asyncio.run(talk())
    assert [r["code"] for r in refusals] == ["invalid_event"] * 8
    assert all("last_seq" in r["message"] for r in refusals[:-1]) and "seq" in refusals[-1]["message"]
    assert "9223372036854775807" in refusals[0]["message"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def test_binary_frames_are_answered_on_every_socket(web_shop: WebShop) -> None:
    accounts = AgentAccounts(web_shop.services.database)
    accounts.add("sam", PASSWORD)
    with serve_in_thread(web_shop.app, ws="websockets") as url:
        base = url.replace("http://", "ws://")

        async def talk() -> tuple[dict[str, Any], int | None, dict[str, Any], dict[str, Any]]:
            async with websockets.connect(f"{base}/ws/agent") as agent:  # binary instead of hello
                await agent.send(b"\x00\x01binary")
                refused = await _until(agent, "error")
                code = await _close_code(agent)
            async with websockets.connect(f"{base}/ws/chat") as chat:
                await chat.send(b"\x00\x01binary")
                on_chat = await _until(chat, "error")
                assert await _pong(chat)
            token = await asyncio.to_thread(_agent_token, url)
            async with websockets.connect(f"{base}/ws/agent") as agent:  # logged in, then binary
                await agent.send(json.dumps({"type": "hello", "token": token}))
                await _until(agent, "conversations")
                await agent.send(b"\xff")
                later = await _until(agent, "error")
                await agent.send(json.dumps({"type": "open", "session_id": "x", "after_seq": 2**63}))
                assert (await _until(agent, "error"))["code"] == "invalid_event"
                assert await _pong(agent)
            return refused, code, on_chat, later

        refused, code, on_chat, later = asyncio.run(talk())
    assert refused["code"] == "authentication_required" and code == 4401
    assert on_chat["code"] == "malformed_json"
    assert later["code"] == "malformed_json"


def _agent_token(url: str) -> str:
    import httpx

    response = httpx.post(f"{url}/api/v1/agent/login", json={"name": "sam", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_sockets_that_never_say_hello_are_closed(web_shop: WebShop) -> None:
    app = _app(web_shop, ws_hello_timeout_seconds=1.0, ws_max_per_client=100)
    with serve_in_thread(app, ws="websockets") as url:
        base = url.replace("http://", "ws://")

        async def crowd() -> tuple[list[int | None], bool]:
            async with websockets.connect(f"{base}/ws/chat") as talker:
                await talker.send(json.dumps({"type": "hello"}))
                silent = [await websockets.connect(f"{base}/ws/chat") for _ in range(50)]
                silent += [await websockets.connect(f"{base}/ws/agent") for _ in range(5)]
                try:
                    codes = await asyncio.gather(*(_close_code(ws) for ws in silent))
                finally:
                    for ws in silent:
                        await ws.close()
                return list(codes), await _pong(talker)  # the one that said hello stays

        codes, talker_open = asyncio.run(crowd())
    assert codes == [4408] * 55
    assert talker_open
    assert app.state.socket_slots.held("127.0.0.1") == 0


def test_only_allowed_origins_may_open_a_socket(web_shop: WebShop) -> None:
    app = _app(web_shop, allowed_origins=["https://shop.example.com"])
    with serve_in_thread(app, ws="websockets") as url:
        base = url.replace("http://", "ws://")

        async def refused(path: str, origin: str) -> int | None:
            async with websockets.connect(f"{base}{path}", origin=Origin(origin)) as ws:
                return await _close_code(ws)

        async def served(origin: str | None) -> bool:
            page = None if origin is None else Origin(origin)
            async with websockets.connect(f"{base}/ws/chat", origin=page) as ws:
                return await _pong(ws)

        async def check() -> tuple[list[int | None], list[bool]]:
            codes = [
                await refused("/ws/chat", "https://evil.example.net"),
                await refused("/ws/agent", "https://evil.example.net"),
                await refused("/ws/speech", "https://evil.example.net"),
                await refused("/ws/chat", "http://shop.example.com"),  # not the listed scheme
                await refused("/ws/chat", "null"),
            ]
            allowed = [
                await served(url),  # the server's own page (the demo page, the console)
                await served("https://shop.example.com"),
                await served("https://SHOP.example.com:443"),
                await served(None),  # not a browser
            ]
            return codes, allowed

        codes, allowed = asyncio.run(check())
    assert codes == [4403] * 5
    assert allowed == [True] * 4


def test_one_address_holds_only_so_many_sockets(web_shop: WebShop) -> None:
    app = _app(web_shop, ws_max_per_client=3)
    with serve_in_thread(app, ws="websockets") as url:
        chat = url.replace("http://", "ws://") + "/ws/chat"

        async def check() -> tuple[int | None, bool]:
            held = [await websockets.connect(chat) for _ in range(3)]
            for ws in held:
                assert await _pong(ws)
            async with websockets.connect(chat) as extra:
                code = await _close_code(extra)
            await held.pop().close()
            await asyncio.sleep(0.2)  # the server sees the close
            async with websockets.connect(chat) as again:
                ok = await _pong(again)
            for ws in held:
                await ws.close()
            return code, ok

        code, ok = asyncio.run(check())
    assert code == 4429
    assert ok, "a closed socket gives its place back"


def test_a_poll_that_breaks_closes_the_socket_once(
    web_shop: WebShop, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken conversation store: one logged error and a 1011 close the client can reconnect
    after, not a traceback every second."""
    caplog.set_level(logging.WARNING)
    sessions = web_shop.services.sessions
    assert sessions is not None
    with serve_in_thread(web_shop.app, ws="websockets") as url:
        chat = url.replace("http://", "ws://") + "/ws/chat"

        async def talk() -> int | None:
            async with websockets.connect(chat) as ws:
                await ws.send(json.dumps({"type": "message", "text": "hi"}))
                token = (await _until(ws, "session"))["session_token"]
                await _until(ws, "reply")
            with sessions.engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE conversation_events RENAME TO broken_events"))
            async with websockets.connect(f"{chat}?token={token}") as ws:
                await ws.send(json.dumps({"type": "ping"}))
                code = await _close_code(ws)
            await asyncio.sleep(2)
            return code

        code = asyncio.run(talk())
    assert code == 1011
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["ChatSocket poll failed"]
