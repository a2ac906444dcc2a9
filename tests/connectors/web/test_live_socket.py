"""The chat socket's two ways of learning about new events, in one process: news from the
notification bus (an append through the app's own store wakes it at once, though its timer is
set to a minute), and its safety timer (an append the bus never hears of, as from a process
that publishes nowhere, still arrives at the next read)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.sessions.events import AgentMessage
from assistant.sessions.sql_store import SqlSessionStore
from connectors.web.app import create_app
from eval.dialogue.runner import ScenarioHarness
from services import Services


@pytest.fixture
def shop(harness: ScenarioHarness) -> Iterator[Services]:
    with harness.assistant() as (_assistant, services):
        yield services


def _app_polling_every(services: Services, seconds: float) -> TestClient:
    web = services.settings.web.model_copy(update={"ws_safety_poll_seconds": seconds})
    return TestClient(create_app(services.settings.model_copy(update={"web": web}), services=services))


def _until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(30):
        event: dict[str, Any] = ws.receive_json()
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event")


def _open_conversation(ws: Any) -> str:
    ws.send_json({"type": "message", "text": "hi"})
    session_id: str = _until(ws, "session")["session_id"]
    _until(ws, "reply")
    return session_id


def test_news_from_the_bus_wakes_the_socket_long_before_its_timer(shop: Services) -> None:
    assert shop.sessions is not None and shop.events is not None and shop.events.backend == "in-process"
    with _app_polling_every(shop, 60) as client, client.websocket_connect("/ws/chat") as ws:
        sid = _open_conversation(ws)
        appended = time.monotonic()
        shop.sessions.append(session_id=sid, events=[AgentMessage(agent="sam", text="Sam here")])
        assert _until(ws, "agent_message")["text"] == "Sam here"
        assert time.monotonic() - appended < 30  # generous; the timer would have taken 60 s


def test_without_news_the_socket_still_reads_on_its_timer(shop: Services) -> None:
    with _app_polling_every(shop, 0.2) as client, client.websocket_connect("/ws/chat") as ws:
        sid = _open_conversation(ws)
        elsewhere = SqlSessionStore(shop.settings.sessions_url)  # publishes to no bus
        try:
            elsewhere.append(session_id=sid, events=[AgentMessage(agent="kim", text="Kim here")])
        finally:
            elsewhere.close()
        assert _until(ws, "agent_message")["text"] == "Kim here"
