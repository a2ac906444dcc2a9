"""The shop's logged-in customer on the speech API: its signed token in ``X-Shop-Token`` on
``POST /api/v1/speech`` and in ``?shop_token=`` on the ``/ws/speech`` upgrade, through the real
app, engine, bundled Whisper model and fixture shop, with utterances spoken by espeak-ng.

A signed-in caller asking "where is my order?" hears their orders at once, with no question
about who they are; a refused token gets the chat's error and records nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.sessions.events import SlotSet, UserMessage
from speech.recognizer import WhisperRecognizer
from tests.connectors.web.conftest import WebShop, add_voice, shop_token
from tests.shop_fixture import ALICE, BOB
from tests.speech.voices import say

ASKED = "verify your identity"  # what an anonymous caller hears first
ORDERS = "W 0 0 0 0 0 0 1, pending"  # Alice's first order, read digit by digit
CHUNK = 4000


@pytest.fixture
def voice_shop(signed_shop: WebShop, recognizer: WhisperRecognizer) -> WebShop:
    """The shop with shop tokens configured (``signed_shop``) and its voice channel."""
    add_voice(signed_shop, recognizer)
    return signed_shop


@pytest.fixture
def client(voice_shop: WebShop) -> Iterator[TestClient]:
    with TestClient(voice_shop.app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def where_is_my_order() -> bytes:
    return say("Where is my order?")


def _post(client: TestClient, audio: bytes, **headers: str) -> Any:
    return client.post("/api/v1/speech", files={"audio": ("u.wav", audio, "audio/wav")}, headers=headers)


def _customer_slots(shop: WebShop, session_id: str) -> list[tuple[str, Any]]:
    store = shop.services.sessions
    assert store is not None
    return [
        (e.event.name.value, e.event.value)
        for e in store.events(session_id=session_id)
        if isinstance(e.event, SlotSet) and e.event.name.value.startswith("customer")
    ]


def _sessions(shop: WebShop) -> dict[str, int]:
    """Every conversation in the store, with its number of events."""
    store = shop.services.sessions
    assert store is not None
    return {s.session_id: s.last_seq for s in store.list_sessions(limit=10_000)}


def _said(shop: WebShop, session_id: str) -> list[str]:
    store = shop.services.sessions
    assert store is not None
    return [e.event.text for e in store.events(session_id=session_id) if isinstance(e.event, UserMessage)]


def test_rest_signed_in_caller_hears_their_orders_without_questions(
    client: TestClient, voice_shop: WebShop, where_is_my_order: bytes
) -> None:
    anonymous = TestClient(client.app)
    asked = _post(anonymous, where_is_my_order)
    assert asked.status_code == 200 and ASKED in asked.json()["reply_text"]

    caller = TestClient(client.app)
    first = _post(caller, where_is_my_order, **{"X-Shop-Token": shop_token(ALICE)})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["transcript"] == "Where is my order?"
    assert ASKED not in body["reply_text"]
    assert "Which order is it?" in body["reply_text"] and ORDERS in body["reply_text"], body["reply_text"]
    sid = body["session_id"]
    assert _customer_slots(voice_shop, sid) == [("customer_id", ALICE), ("customer_name", "Alice")]
    store = voice_shop.services.sessions
    assert store is not None and store.state(session_id=sid).channel == "voice"
    # The next utterance needs only the session token; the shop token again, as a voice gateway
    # would send it every time, records nothing new.
    again = _post(
        caller,
        where_is_my_order,
        **{"X-Shop-Token": shop_token(ALICE), "X-Session-Token": body["session_token"]},
    )
    assert again.status_code == 200 and again.json()["session_id"] == sid
    assert ORDERS in again.json()["reply_text"]
    assert len(_customer_slots(voice_shop, sid)) == 2
    assert _said(voice_shop, sid) == ["Where is my order?", "Where is my order?"]


def test_rest_refused_tokens_record_nothing(
    client: TestClient, voice_shop: WebShop, where_is_my_order: bytes
) -> None:
    cases = {
        "expired": shop_token(ALICE, expires_in=-120),
        "signature": shop_token(ALICE, key="not-the-shop-but-long-enough-0123456789"),
        "unknown_customer": shop_token("mallory_9999"),
    }
    for reason, token in cases.items():
        before = _sessions(voice_shop)
        refused = _post(TestClient(client.app), where_is_my_order, **{"X-Shop-Token": token})
        assert refused.status_code == 401, (reason, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "invalid_shop_token" and error["context"] == {"reason": reason}
        assert token not in refused.text and "session_token" not in refused.text
        # Nothing was said, signed in, held or even opened (the customer is checked first).
        assert _sessions(voice_shop) == before, reason

    # Another customer's conversation is not taken over: 403, the turn does not run.
    bobs = _post(TestClient(client.app), where_is_my_order, **{"X-Shop-Token": shop_token(BOB)})
    assert bobs.status_code == 200, bobs.text
    bob_sid, bob_token = bobs.json()["session_id"], bobs.json()["session_token"]
    taken = _post(
        TestClient(client.app),
        where_is_my_order,
        **{"X-Shop-Token": shop_token(ALICE), "X-Session-Token": bob_token},
    )
    assert taken.status_code == 403 and taken.json()["error"]["code"] == "permission_denied"
    assert _customer_slots(voice_shop, bob_sid) == [("customer_id", BOB), ("customer_name", "Bob")]
    assert _said(voice_shop, bob_sid) == ["Where is my order?"]


def test_rest_shop_token_in_the_query_is_not_read(client: TestClient, where_is_my_order: bytes) -> None:
    response = TestClient(client.app).post(
        f"/api/v1/speech?shop_token={shop_token(ALICE)}",
        files={"audio": ("u.wav", where_is_my_order, "audio/wav")},
    )
    assert response.status_code == 200, response.text
    assert ASKED in response.json()["reply_text"] and ORDERS not in response.json()["reply_text"]


def _opening(ws: Any) -> list[dict[str, Any]]:
    """What the socket said on opening: the events before the answer to a ``ping`` (so a socket
    that says nothing fails the test instead of blocking it)."""
    ws.send_json({"type": "ping"})
    events = []
    while (event := ws.receive_json())["type"] != "pong":
        events.append(event)
    return events


def _utterance(ws: Any, audio: bytes, **start: Any) -> list[dict[str, Any]]:
    ws.send_json({"type": "start", "format": "wav", **start})
    events = []
    while (event := ws.receive_json())["type"] != "ready":
        events.append(event)
    for offset in range(0, len(audio), CHUNK):
        ws.send_bytes(audio[offset : offset + CHUNK])
    ws.send_json({"type": "end"})
    for _ in range(200):
        message = ws.receive()
        if message.get("text") is None:
            continue  # a WAV frame
        event = json.loads(message["text"])
        events.append(event)
        if event["type"] in ("audio_end", "error"):
            return events
    raise AssertionError(f"no audio_end in {events}")


def test_websocket_signs_in_with_the_token_in_the_upgrade_url(
    client: TestClient, voice_shop: WebShop, where_is_my_order: bytes
) -> None:
    with client.websocket_connect(f"/ws/speech?shop_token={shop_token(ALICE)}") as ws:
        opening = _opening(ws)  # signed in before any utterance: the conversation is named
        assert [e["type"] for e in opening] == ["session"], opening
        session = opening[0]
        assert _customer_slots(voice_shop, session["session_id"])[0] == ("customer_id", ALICE)
        events = _utterance(ws, where_is_my_order)
    transcript = next(e for e in events if e["type"] == "transcript")
    assert transcript["text"] == "Where is my order?"
    reply = next(e for e in events if e["type"] == "reply")
    assert ASKED not in reply["text"] and ORDERS in reply["text"], reply["text"]
    assert "session" not in [e["type"] for e in events]  # the same conversation
    assert _said(voice_shop, session["session_id"]) == ["Where is my order?"]
    store = voice_shop.services.sessions
    assert store is not None and store.state(session_id=session["session_id"]).channel == "voice"

    with client.websocket_connect("/ws/speech") as ws:  # no shop token: asked who they are
        anonymous = next(e for e in _utterance(ws, where_is_my_order) if e["type"] == "reply")
    assert ASKED in anonymous["text"]


def test_websocket_refused_token_records_nothing_and_the_caller_goes_on_anonymously(
    client: TestClient, voice_shop: WebShop, where_is_my_order: bytes
) -> None:
    before = _sessions(voice_shop)
    expired = shop_token(ALICE, expires_in=-120)
    with client.websocket_connect(f"/ws/speech?shop_token={expired}") as ws:
        opening = _opening(ws)
        assert [e["type"] for e in opening] == ["error"], opening
        error = opening[0]
        assert error["code"] == "invalid_shop_token", error
        assert "expired" in error["message"] and expired not in error["message"]
        assert _sessions(voice_shop) == before  # nothing recorded
        events = _utterance(ws, where_is_my_order)
    reply = next(e for e in events if e["type"] == "reply")
    assert ASKED in reply["text"] and ORDERS not in reply["text"]
    new = next(e for e in events if e["type"] == "session")["session_id"]
    assert _customer_slots(voice_shop, new) == []


def test_websocket_start_into_another_customers_conversation_starts_a_new_one(
    client: TestClient, voice_shop: WebShop, where_is_my_order: bytes
) -> None:
    bobs = client.post("/api/v1/chat", json={"message": "hi"}, headers={"X-Shop-Token": shop_token(BOB)})
    bob_sid, bob_token = bobs.json()["session_id"], bobs.json()["session_token"]
    client.cookies.clear()
    with client.websocket_connect(f"/ws/speech?shop_token={shop_token(ALICE)}") as ws:
        opening = _opening(ws)
        assert [e["type"] for e in opening] == ["session"], opening
        opened = opening[0]
        events = _utterance(ws, where_is_my_order, session_token=bob_token)
    sessions = [e for e in events if e["type"] == "session"]
    assert len(sessions) == 1 and sessions[0]["session_id"] not in (bob_sid, opened["session_id"])
    assert events[0]["type"] == "session"  # announced before "ready", so before the turn
    reply = next(e for e in events if e["type"] == "reply")
    assert ORDERS in reply["text"], reply["text"]
    assert _customer_slots(voice_shop, bob_sid) == [("customer_id", BOB), ("customer_name", "Bob")]
    assert _said(voice_shop, bob_sid) == ["hi"]
    assert _customer_slots(voice_shop, sessions[0]["session_id"])[0] == ("customer_id", ALICE)
