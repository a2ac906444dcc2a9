"""The shop's logged-in customer in the chat: its signed token over REST (``X-Shop-Token``) and
the WebSocket (``?shop_token=``), through the real app, engine and fixture shop.

A signed-in conversation sees its own order without a single question; every refusal (expired,
forged, unknown customer, another customer's conversation, tokens not configured) changes
nothing and shows nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.sessions.events import SlotSet
from tests.connectors.web.conftest import WebShop, shop_token
from tests.shop_fixture import ALICE, BOB

ORDER_QUESTION = "where is my order #W0000003?"
TRACKING = "1Z999AA10123456785"  # Alice's order #W0000003, processed and shipped with UPS


@pytest.fixture
def signed_client(signed_shop: WebShop) -> Iterator[TestClient]:
    with TestClient(signed_shop.app) as test_client:
        yield test_client


def _receive_until(ws: Any, kind: str, limit: int = 30) -> list[dict[str, Any]]:
    seen = []
    for _ in range(limit):
        event = ws.receive_json()
        seen.append(event)
        if event["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} event in {seen}")


def _customer_slots(shop: WebShop, session_id: str) -> list[tuple[str, Any]]:
    store = shop.services.sessions
    assert store is not None
    return [
        (e.event.name.value, e.event.value)
        for e in store.events(session_id=session_id)
        if isinstance(e.event, SlotSet) and e.event.name.value.startswith("customer")
    ]


def test_rest_signed_in_customer_sees_their_order_without_questions(
    signed_client: TestClient, signed_shop: WebShop
) -> None:
    anonymous = signed_client.post("/api/v1/chat", json={"message": ORDER_QUESTION})
    assert anonymous.status_code == 200
    assert TRACKING not in anonymous.json()["reply"] and "processed" not in anonymous.json()["reply"]

    visitor = TestClient(signed_client.app)
    first = visitor.post(
        "/api/v1/chat", json={"message": ORDER_QUESTION}, headers={"X-Shop-Token": shop_token(ALICE)}
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert TRACKING in body["reply"] and "processed" in body["reply"], body["reply"]
    sid = body["session_id"]
    assert _customer_slots(signed_shop, sid) == [("customer_id", ALICE), ("customer_name", "Alice")]
    # Later messages in the conversation need only the session token; the shop token again
    # (as a shop's backend would send it with every call) records nothing new.
    again = visitor.post(
        "/api/v1/chat",
        json={"session_id": sid, "message": "track order W0000002"},
        headers={"X-Shop-Token": shop_token(ALICE)},
    )
    assert again.status_code == 200 and "delivered" in again.json()["reply"]
    plain = visitor.post("/api/v1/chat", json={"session_id": sid, "message": ORDER_QUESTION})
    assert plain.status_code == 200 and TRACKING in plain.json()["reply"]
    assert len(_customer_slots(signed_shop, sid)) == 2


def test_rest_refused_tokens_change_nothing(signed_client: TestClient, signed_shop: WebShop) -> None:
    cases = {
        "expired": shop_token(ALICE, expires_in=-120),
        "signature": shop_token(ALICE, key="not-the-shop-but-long-enough-0123456789"),
        "unknown_customer": shop_token("mallory_9999"),
    }
    for reason, token in cases.items():
        visitor = TestClient(signed_client.app)
        refused = visitor.post(
            "/api/v1/chat", json={"message": ORDER_QUESTION}, headers={"X-Shop-Token": token}
        )
        assert refused.status_code == 401, (reason, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "invalid_shop_token" and token not in refused.text
        assert error["context"] == {"reason": reason}
        assert TRACKING not in refused.text and "session_token" not in refused.text
    # ?shop_token= is for WebSocket upgrades only: on REST it is not read.
    query = TestClient(signed_client.app).post(
        f"/api/v1/chat?shop_token={shop_token(ALICE)}", json={"message": ORDER_QUESTION}
    )
    assert query.status_code == 200 and TRACKING not in query.json()["reply"]


def test_rest_another_customer_cannot_take_over_a_signed_in_conversation(
    signed_client: TestClient, signed_shop: WebShop
) -> None:
    first = signed_client.post(
        "/api/v1/chat", json={"message": "hi"}, headers={"X-Shop-Token": shop_token(BOB)}
    )
    sid = first.json()["session_id"]
    taken = signed_client.post(
        "/api/v1/chat",
        json={"session_id": sid, "message": ORDER_QUESTION},
        headers={"X-Shop-Token": shop_token(ALICE)},
    )
    assert taken.status_code == 403 and taken.json()["error"]["code"] == "permission_denied"
    assert _customer_slots(signed_shop, sid) == [("customer_id", BOB), ("customer_name", "Bob")]


def test_shop_tokens_are_refused_when_not_configured(client: TestClient, web_shop: WebShop) -> None:
    refused = client.post(
        "/api/v1/chat", json={"message": ORDER_QUESTION}, headers={"X-Shop-Token": shop_token(ALICE)}
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "shop_tokens_off"
    assert "auth.shop_token" in refused.json()["error"]["message"]


def test_websocket_signs_in_with_the_token_in_the_upgrade_url(
    signed_client: TestClient, signed_shop: WebShop
) -> None:
    with signed_client.websocket_connect(f"/ws/chat?shop_token={shop_token(ALICE)}") as ws:
        session = ws.receive_json()
        assert session["type"] == "session", session
        ws.send_json({"type": "message", "text": ORDER_QUESTION, "message_id": "m-1"})
        events = _receive_until(ws, "received")
    reply = next(e for e in events if e["type"] == "reply")
    assert TRACKING in reply["text"] and "processed" in reply["text"], reply["text"]
    assert _customer_slots(signed_shop, session["session_id"])[0] == ("customer_id", ALICE)

    with signed_client.websocket_connect("/ws/chat") as ws:  # no shop token: asked who they are
        ws.send_json({"type": "message", "text": ORDER_QUESTION})
        anonymous = next(e for e in _receive_until(ws, "reply") if e["type"] == "reply")
    assert TRACKING not in anonymous["text"]


def test_websocket_refused_token_leaves_the_visitor_anonymous(signed_client: TestClient) -> None:
    expired = shop_token(ALICE, expires_in=-120)
    with signed_client.websocket_connect(f"/ws/chat?shop_token={expired}") as ws:
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "invalid_shop_token"
        assert "expired" in error["message"] and expired not in error["message"]
        ws.send_json({"type": "message", "text": ORDER_QUESTION})
        reply = next(e for e in _receive_until(ws, "reply") if e["type"] == "reply")
    assert TRACKING not in reply["text"]


def test_websocket_hello_into_another_customers_conversation_starts_a_new_one(
    signed_client: TestClient, signed_shop: WebShop
) -> None:
    """A shared browser: Bob's conversation is in sessionStorage, Alice is now logged in."""
    bobs = signed_client.post(
        "/api/v1/chat", json={"message": "hi"}, headers={"X-Shop-Token": shop_token(BOB)}
    )
    bob_sid, bob_token = bobs.json()["session_id"], bobs.json()["session_token"]
    signed_client.cookies.clear()
    with signed_client.websocket_connect(f"/ws/chat?shop_token={shop_token(ALICE)}") as ws:
        opened = ws.receive_json()
        ws.send_json({"type": "hello", "session_token": bob_token, "last_seq": 3})
        hello = ws.receive_json()
        assert hello["type"] == "session" and hello["session_id"] not in (bob_sid,)
        ws.send_json({"type": "message", "text": ORDER_QUESTION})
        events = _receive_until(ws, "reply")
    reply = next(e for e in events if e["type"] == "reply")
    assert TRACKING in reply["text"]
    assert opened["type"] == "session"
    assert _customer_slots(signed_shop, bob_sid) == [("customer_id", BOB), ("customer_name", "Bob")]
    assert _customer_slots(signed_shop, hello["session_id"])[0] == ("customer_id", ALICE)


def test_signed_in_customer_reads_their_conversation_with_the_shop_token(
    signed_client: TestClient, signed_shop: WebShop
) -> None:
    chat = signed_client.post(
        "/api/v1/chat", json={"message": ORDER_QUESTION}, headers={"X-Shop-Token": shop_token(ALICE)}
    )
    sid, session_token = chat.json()["session_id"], chat.json()["session_token"]
    wrong_session_token = TestClient(signed_client.app).get(
        f"/api/v1/sessions/{sid}", headers={"X-Session-Token": f"{sid}.9999999999.{'0' * 40}"}
    )
    assert wrong_session_token.status_code == 403

    # No cookie and no session token: the shop token of the conversation's customer reads it.
    other_device = TestClient(signed_client.app)
    read = other_device.get(f"/api/v1/sessions/{sid}", headers={"X-Shop-Token": shop_token(ALICE)})
    assert read.status_code == 200, read.text
    texts = [entry["text"] for entry in read.json()["entries"]]
    assert texts[0] == ORDER_QUESTION and TRACKING in texts[1]
    assert "set-cookie" not in read.headers

    # Another customer's token, a conversation nobody signed into, a session id that is no
    # session: refused exactly like a wrong session token, showing nothing.
    anonymous = TestClient(signed_client.app).post("/api/v1/chat", json={"message": "hi"}).json()
    assert anonymous["session_id"] != sid
    for session_id, token in (
        (sid, shop_token(BOB)),
        (anonymous["session_id"], shop_token(ALICE)),
        ("web-no-such-conversation", shop_token(ALICE)),
    ):
        refused = TestClient(signed_client.app).get(
            f"/api/v1/sessions/{session_id}", headers={"X-Shop-Token": token}
        )
        assert refused.status_code == 403, (session_id, refused.text)
        assert refused.json() == wrong_session_token.json()
        assert ORDER_QUESTION not in refused.text
    # Something that cannot be a session id at all fails the path's declared pattern (422): a
    # check of its spelling, which tells nothing about any conversation.
    malformed = TestClient(signed_client.app).get(
        "/api/v1/sessions/not a session id!", headers={"X-Shop-Token": shop_token(ALICE)}
    )
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "invalid_arguments"
    assert ORDER_QUESTION not in malformed.text
    # A token that does not verify: the chat's refusal.
    expired = TestClient(signed_client.app).get(
        f"/api/v1/sessions/{sid}", headers={"X-Shop-Token": shop_token(ALICE, expires_in=-120)}
    )
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "invalid_shop_token"
    # ?shop_token= is not read on REST.
    query = TestClient(signed_client.app).get(f"/api/v1/sessions/{sid}?shop_token={shop_token(ALICE)}")
    assert query.status_code == 403
    # The session token path is unchanged: it alone reads the conversation, with any shop token.
    for headers in ({}, {"X-Shop-Token": shop_token(BOB)}):
        owner = TestClient(signed_client.app).get(
            f"/api/v1/sessions/{sid}", headers={"X-Session-Token": session_token, **headers}
        )
        assert owner.status_code == 200 and owner.json()["entries"] == read.json()["entries"]


def test_session_read_with_a_shop_token_needs_shop_tokens_configured(
    client: TestClient, web_shop: WebShop
) -> None:
    sid = client.post("/api/v1/chat", json={"message": "hi"}).json()["session_id"]
    refused = TestClient(client.app).get(
        f"/api/v1/sessions/{sid}", headers={"X-Shop-Token": shop_token(ALICE)}
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "shop_tokens_off"
