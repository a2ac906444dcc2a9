"""Agent APIs: only logged-in agents get in; a scripted customer on the chat socket and a
scripted agent go through handoff, take over, two agent replies, hand back, and the bot again."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from support.accounts import AgentAccounts
from tests.connectors.web.conftest import WebShop

PASSWORD = "a long test password"


@pytest.fixture
def agents(web_shop: WebShop) -> AgentAccounts:
    accounts = AgentAccounts(web_shop.services.database)
    accounts.add("sam", PASSWORD, display_name="Sam")
    accounts.add("kim", PASSWORD)
    return accounts


def _login(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/api/v1/agent/login", json={"name": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _until(ws: Any, kind: str, limit: int = 30) -> dict[str, Any]:
    for _ in range(limit):
        event = ws.receive_json()
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event")


def test_customers_and_anonymous_callers_cannot_reach_agent_apis(
    client: TestClient, agents: AgentAccounts
) -> None:
    chat = client.post("/api/v1/chat", json={"message": "hi"}).json()
    customer = {"Authorization": f"Bearer {chat['session_token']}"}
    for headers in ({}, customer, {"Authorization": "Bearer sam.9999999999.forged"}):
        listed = TestClient(client.app).get("/api/v1/agent/conversations", headers=headers)
        assert listed.status_code == 401, headers
    wrong = client.post("/api/v1/agent/login", json={"name": "sam", "password": "not the password"})
    assert wrong.status_code == 401
    took = TestClient(client.app).post(
        f"/api/v1/agent/conversations/{chat['session_id']}/take-over", headers=customer
    )
    assert took.status_code == 401
    spec = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/agent/conversations/{session_id}/take-over" in spec


def test_a_new_password_or_a_disabled_account_ends_open_logins(
    client: TestClient, agents: AgentAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.web.routers import agent_ws

    monkeypatch.setattr(agent_ws, "RECHECK_SECONDS", 0.0)
    sam, kim = _login(client, "sam"), _login(client, "kim")
    assert client.get("/api/v1/agent/conversations", headers=sam).status_code == 200
    with TestClient(client.app).websocket_connect("/ws/agent") as live:  # (no cookie: kim's)
        live.send_json({"type": "hello", "token": sam["Authorization"].removeprefix("Bearer ")})
        assert _until(live, "conversations")["agent"] == "sam"
        agents.set_password("sam", "a brand new password")
        ended = _until(live, "error")
        assert ended["code"] == "authentication_required" and "log in again" in ended["message"]
    refused = TestClient(client.app).get("/api/v1/agent/conversations", headers=sam)
    assert refused.status_code == 401 and "has ended" in refused.json()["error"]["message"]
    old = client.post("/api/v1/agent/login", json={"name": "sam", "password": PASSWORD})
    assert old.status_code == 401, "the old password no longer logs in"
    fresh = client.post("/api/v1/agent/login", json={"name": "sam", "password": "a brand new password"})
    assert fresh.status_code == 200
    new_sam = {"Authorization": f"Bearer {fresh.json()['token']}"}
    assert client.get("/api/v1/agent/conversations", headers=new_sam).status_code == 200
    assert client.get("/api/v1/agent/conversations", headers=kim).status_code == 200, "others stay in"

    agents.set_active("kim", False)
    assert TestClient(client.app).get("/api/v1/agent/conversations", headers=kim).status_code == 401
    assert client.post("/api/v1/agent/login", json={"name": "kim", "password": PASSWORD}).status_code == 401
    agents.set_active("kim", True)
    assert client.post("/api/v1/agent/login", json={"name": "kim", "password": PASSWORD}).status_code == 200


def test_handoff_take_over_two_replies_hand_back(client: TestClient, agents: AgentAccounts) -> None:
    sam = _login(client, "sam")
    kim = _login(client, "kim")
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "message", "text": "I want to talk to a real person"})
        session = _until(ws, "session")
        assert _until(ws, "reply")["template"] == "handoff_started"
        sid = session["session_id"]

        rows = client.get("/api/v1/agent/conversations", headers=sam).json()
        assert rows[0]["session_id"] == sid and rows[0]["state"] == "waiting"
        taken = client.post(f"/api/v1/agent/conversations/{sid}/take-over", headers=sam)
        assert taken.json()["state"] == "with_agent" and taken.json()["holder"] == "sam"
        assert _until(ws, "mode")["mode"] == "agent"
        second = client.post(f"/api/v1/agent/conversations/{sid}/take-over", headers=kim)
        assert second.status_code == 409 and "sam already has" in second.json()["error"]["message"]

        for text in ("Hi, Sam here. How can I help?", "I have refunded the shipping."):
            assert (
                client.post(
                    f"/api/v1/agent/conversations/{sid}/reply", headers=sam, json={"text": text}
                ).status_code
                == 200
            )
        first, again = _until(ws, "agent_message"), _until(ws, "agent_message")
        assert [first["text"], again["text"]] == [
            "Hi, Sam here. How can I help?",
            "I have refunded the shipping.",
        ]
        assert (
            client.post(
                f"/api/v1/agent/conversations/{sid}/reply", headers=kim, json={"text": "x"}
            ).status_code
            == 409
        )

        ws.send_json({"type": "message", "text": "thanks Sam"})  # the bot stays silent with an agent
        back = client.post(f"/api/v1/agent/conversations/{sid}/hand-back", headers=sam)
        assert back.json()["state"] == "bot"
        assert _until(ws, "mode")["mode"] == "bot"
        ws.send_json({"type": "message", "text": "desk lamp"})
        reply = _until(ws, "reply")
        assert "Arc Desk Lamp" in reply["text"]

    detail = client.get(f"/api/v1/agent/conversations/{sid}", headers=kim).json()
    types = [e["type"] for e in detail["events"]]
    assert types.count("agent_message") == 2 and "tool_call" in types
    customer_texts = [e["text"] for e in detail["events"] if e["type"] == "user_message"]
    assert customer_texts == ["I want to talk to a real person", "thanks Sam", "desk lamp"]
    bot_texts = [e["text"] for e in detail["events"] if e["type"] == "bot_reply"]
    assert len(bot_texts) == 2  # handoff notice and the lamp: nothing while Sam had it
    exported = client.get(f"/api/v1/agent/conversations/{sid}/export", headers=sam)
    assert exported.headers["content-disposition"].startswith("attachment;")
    assert exported.json()["session_id"] == sid


def test_drafts_are_grounded_write_nothing_and_edits_become_feedback(
    client: TestClient, agents: AgentAccounts, web_shop: WebShop
) -> None:
    sam = _login(client, "sam")
    first = client.post("/api/v1/chat", json={"message": "desk lamp"}).json()
    sid = first["session_id"]
    client.post("/api/v1/chat", json={"session_id": sid, "message": "I want to talk to a person"})
    client.post("/api/v1/agent/conversations/" + sid + "/take-over", headers=sam)
    client.post("/api/v1/chat", json={"session_id": sid, "message": "how much is it?"})
    suggestion = client.post(f"/api/v1/agent/conversations/{sid}/suggest", headers=sam).json()
    assert suggestion["template"] == "price_answer" and "$45.00" in suggestion["text"]

    client.post("/api/v1/chat", json={"session_id": sid, "message": "add it to my cart"})
    blocked = client.post(f"/api/v1/agent/conversations/{sid}/suggest", headers=sam).json()
    assert "does not run in a draft" in blocked["text"]
    store = web_shop.services.sessions
    assert store is not None
    before = len(store.events(session_id=sid))
    client.post(f"/api/v1/agent/conversations/{sid}/suggest", headers=sam)
    assert len(store.events(session_id=sid)) == before  # a suggestion records nothing
    cart = client.post("/api/v1/chat", json={"session_id": sid, "message": "what's in my cart?"})
    assert cart.json()["reply"] == ""  # still with the agent: the bot stays silent

    sent = "The Arc Desk Lamp is $45.00; I've added it to your cart for you."
    reply = client.post(
        f"/api/v1/agent/conversations/{sid}/reply",
        headers=sam,
        json={"text": sent, "draft": suggestion["text"]},
    )
    assert reply.status_code == 200
    client.post(
        f"/api/v1/agent/conversations/{sid}/reply",
        headers=sam,
        json={"text": "unedited", "draft": "unedited"},
    )
    examples = client.get("/api/v1/agent/feedback", headers=sam).json()
    assert [(e["draft"], e["sent"], e["customer"]) for e in examples] == [
        (suggestion["text"], sent, "what's in my cart?")
    ]
    assert TestClient(client.app).get("/api/v1/agent/feedback").status_code == 401


def test_agent_socket_pushes_the_queue_and_events_and_replays_after_reconnect(
    client: TestClient, agents: AgentAccounts
) -> None:
    sam = _login(client, "sam")
    token = sam["Authorization"].removeprefix("Bearer ")
    with TestClient(client.app).websocket_connect("/ws/agent") as anonymous:  # no agent cookie
        anonymous.send_json({"type": "hello", "token": "forged.1.2"})
        assert anonymous.receive_json()["code"] == "authentication_required"
    with client.websocket_connect("/ws/chat") as customer:
        customer.send_json({"type": "message", "text": "get me a real person"})
        sid = _until(customer, "session")["session_id"]
        _until(customer, "reply")
        with client.websocket_connect("/ws/agent") as agent_ws:
            agent_ws.send_json({"type": "hello", "token": token})
            queue = _until(agent_ws, "conversations")
            assert queue["rows"][0]["session_id"] == sid and queue["rows"][0]["state"] == "waiting"
            agent_ws.send_json({"type": "open", "session_id": sid})
            seen = [_until(agent_ws, "event")["event"] for _ in range(3)]
            assert [e["type"] for e in seen] == ["user_message", "mode_change", "bot_reply"]
            client.post(f"/api/v1/agent/conversations/{sid}/take-over", headers=sam)
            client.post(f"/api/v1/agent/conversations/{sid}/reply", headers=sam, json={"text": "Sam here."})
            pushed = [_until(agent_ws, "event")["event"] for _ in range(2)]
            assert [e["type"] for e in pushed] == ["mode_change", "agent_message"]
            last = pushed[-1]["seq"]
        customer.send_json({"type": "message", "text": "my parcel is late"})  # while the agent is away
        assert _until(customer, "mode")["mode"] == "agent"
        assert _until(customer, "agent_message")["text"] == "Sam here."
        with client.websocket_connect("/ws/agent") as again:
            again.send_json({"type": "hello", "token": token})
            again.send_json({"type": "open", "session_id": sid, "after_seq": last})
            missed = _until(again, "event")["event"]
            assert missed["type"] == "user_message" and missed["text"] == "my parcel is late"
            client.post(
                f"/api/v1/agent/conversations/{sid}/reply", headers=sam, json={"text": "Checking it."}
            )
            nxt = _until(again, "event")["event"]
            assert nxt["type"] == "agent_message" and nxt["seq"] == missed["seq"] + 1  # no gap, no repeat
        assert _until(customer, "agent_message")["text"] == "Checking it."


def test_agent_socket_reports_an_unknown_conversation_and_stays_open(
    client: TestClient, agents: AgentAccounts
) -> None:
    token = _login(client, "sam")["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect("/ws/agent") as agent_ws:
        agent_ws.send_json({"type": "hello", "token": token})
        _until(agent_ws, "conversations")
        agent_ws.send_json({"type": "open", "session_id": "no-such-conversation"})
        assert _until(agent_ws, "error")["code"] == "not_found"
        agent_ws.send_text("{bad json")
        assert _until(agent_ws, "error")["code"] == "malformed_json"
