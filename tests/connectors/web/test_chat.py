"""REST chat, the chat WebSocket, sessions bound to visitors, limits, health and metrics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from fastapi.testclient import TestClient

from assistant.sessions.events import AgentMessage, ModeChange, UserMessage
from assistant.sessions.slots import Mode
from connectors.web.session_auth import COOKIE
from tests.connectors.web.conftest import WebShop


def _receive_until(ws: Any, kind: str, limit: int = 20) -> list[dict[str, Any]]:
    seen = []
    for _ in range(limit):
        event = ws.receive_json()
        seen.append(event)
        if event["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} event in {seen}")


def test_rest_chat_binds_the_session_to_the_visitor(client: TestClient) -> None:
    first = client.post("/api/v1/chat", json={"message": "t-shirt"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["products"][0]["product_id"] == "P-TEE" and "Everyday Cotton T-Shirt" in body["reply"]
    assert first.cookies.get(COOKIE) == body["session_token"]
    assert "httponly" in first.headers["set-cookie"].lower()
    again = client.post("/api/v1/chat", json={"session_id": body["session_id"], "message": "in black"})
    assert again.status_code == 200 and "color black" in again.json()["reply"]

    stranger = TestClient(client.app)
    refused = stranger.post("/api/v1/chat", json={"session_id": body["session_id"], "message": "hi"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert stranger.get(f"/api/v1/sessions/{body['session_id']}").status_code == 403
    forged = stranger.get(
        f"/api/v1/sessions/{body['session_id']}", headers={"Authorization": f"Bearer {body['session_id']}.00"}
    )
    assert forged.status_code == 403

    transcript = client.get(f"/api/v1/sessions/{body['session_id']}")
    assert transcript.status_code == 200
    roles = [e["role"] for e in transcript.json()["entries"]]
    assert roles == ["customer", "bot", "customer", "bot"]
    assert "tool" not in json.dumps(transcript.json())


def test_a_retried_message_id_is_answered_once(client: TestClient) -> None:
    """A client that lost the response sends the message again with the same message_id."""
    sid = client.post("/api/v1/chat", json={"message": "hi"}).json()["session_id"]
    first = client.post("/api/v1/chat", json={"session_id": sid, "message": "t-shirt", "message_id": "m-1"})
    retry = client.post("/api/v1/chat", json={"session_id": sid, "message": "t-shirt", "message_id": "m-1"})
    assert first.status_code == retry.status_code == 200
    assert first.json()["replayed"] is False and retry.json()["replayed"] is True
    assert retry.json()["reply"] == first.json()["reply"]
    assert retry.json()["products"] == first.json()["products"]
    other = client.post("/api/v1/chat", json={"session_id": sid, "message": "in black", "message_id": "m-2"})
    assert other.json()["replayed"] is False and "color black" in other.json()["reply"]
    roles = [e["role"] for e in client.get(f"/api/v1/sessions/{sid}").json()["entries"]]
    assert roles == ["customer", "bot"] * 3
    bad = client.post("/api/v1/chat", json={"session_id": sid, "message": "hi", "message_id": "no spaces!"})
    assert bad.status_code == 422 and "message_id" in bad.text


def test_rest_bad_input_gets_clear_errors(client: TestClient, web_shop: WebShop) -> None:
    limit = web_shop.services.settings.dialogue.max_message_chars
    long = client.post("/api/v1/chat", json={"message": "a" * (limit + 1)})
    assert long.status_code == 413 and str(limit) in long.json()["error"]["message"]
    assert (
        client.post(
            "/api/v1/chat", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert client.post("/api/v1/chat", json={"message": ""}).status_code == 422
    assert client.post("/api/v1/chat", json={"message": "hi", "admin": True}).status_code == 422
    assert client.post("/api/v1/chat", json={"session_id": "../x", "message": "hi"}).status_code in (403, 422)
    assert client.get("/healthz").status_code == 200


def test_websocket_streams_the_reply_and_product_cards(client: TestClient) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "message", "text": "desk lamp"})
        events = _receive_until(ws, "products")
    kinds = [e["type"] for e in events]
    assert kinds.index("typing") < kinds.index("token") < kinds.index("reply") < kinds.index("products")
    session = next(e for e in events if e["type"] == "session")
    assert session["session_token"].startswith(session["session_id"] + ".")
    reply = next(e for e in events if e["type"] == "reply")
    streamed = "".join(e["text"] for e in events if e["type"] == "token")
    assert streamed == reply["text"] and "Arc Desk Lamp" in reply["text"]
    products = next(e for e in events if e["type"] == "products")["products"]
    assert products[0]["product_id"] == "P-LAMP" and products[0]["price"] == 45.0


def test_a_card_button_means_its_product_even_when_no_longer_shown(client: TestClient) -> None:
    client.post("/api/v1/chat", json={"message": "desk lamp"})
    client.post("/api/v1/chat", json={"message": "running socks"})
    body = client.post("/api/v1/chat", json={"message": "Add this to my cart", "product_id": "P-LAMP"}).json()
    assert body["reply"].startswith("Added 1 x Arc Desk Lamp")
    client.cookies.clear()  # a new visitor on the socket
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json(
            {"type": "message", "text": "Tell me more", "action": {"kind": "details", "product_id": "P-SHOE"}}
        )
        reply = next(e for e in _receive_until(ws, "reply") if e["type"] == "reply")
        assert reply["text"].startswith("Trailblazer Running Shoe by Stridewell")
        ws.send_json({"type": "message", "text": "add it", "action": {"product_id": 42}})
        error = _receive_until(ws, "error")[-1]
        assert error["code"] == "invalid_message"
    refused = client.post("/api/v1/chat", json={"message": "add it", "product_id": ""})
    assert refused.status_code == 422


def test_websocket_bad_input_keeps_the_connection(client: TestClient, web_shop: WebShop) -> None:
    limit = web_shop.services.settings.dialogue.max_message_chars
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_text("{not json")
        assert ws.receive_json() == {
            "type": "error",
            "code": "malformed_json",
            "message": "Events must be JSON objects",
        }
        ws.send_json({"type": "sudo"})
        assert ws.receive_json()["code"] == "unknown_event"
        ws.send_json({"type": "message", "text": "x" * (limit + 1)})
        assert ws.receive_json()["code"] == "message_too_long"
        ws.send_json({"type": "message"})
        assert ws.receive_json()["code"] == "invalid_message"
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
        ws.send_json({"type": "message", "text": "hi"})
        assert next(e for e in _receive_until(ws, "reply") if e["type"] == "reply")["template"] == "greet"


def test_a_flood_is_rate_limited_and_the_socket_stays_up(harness, web_shop: WebShop) -> None:
    from connectors.web.app import create_app

    settings = web_shop.services.settings.model_copy(
        update={
            "web": web_shop.services.settings.web.model_copy(update={"rate_limit_per_session": "3/minute"})
        }
    )
    app = create_app(settings, services=web_shop.services)
    with TestClient(app) as client, client.websocket_connect("/ws/chat") as ws:
        codes = []
        for _ in range(5):
            ws.send_json({"type": "message", "text": "hi"})
            event = ws.receive_json()
            while event["type"] not in ("reply", "error"):
                event = ws.receive_json()
            codes.append(event.get("code", "ok"))
        assert codes == ["ok", "ok", "ok", "rate_limited", "rate_limited"]
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
        metrics = client.get("/metrics").text
    assert 'shopassist_errors_total{code="rate_limited"} 2.0' in metrics


def test_reconnect_replays_what_was_missed(client: TestClient, web_shop: WebShop) -> None:
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "message", "text": "I want to talk to a person"})
        events = _receive_until(ws, "reply")
        token = next(e for e in events if e["type"] == "session")["session_token"]
        last = max(e["seq"] for e in events if "seq" in e)
    session_id = token.rsplit(".", 2)[0]
    store = web_shop.services.sessions
    assert store is not None
    store.append(session_id=session_id, events=[AgentMessage(agent="sam", text="Hi, Sam from support here.")])
    store.append(
        session_id=session_id, events=[ModeChange(mode=Mode.BOT, reason="handed back", by="agent:sam")]
    )
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "session_token": token, "last_seq": last})
        replay = _receive_until(ws, "mode")
    kinds = [e["type"] for e in replay]
    assert kinds == ["session", "agent_message", "mode"]
    assert replay[1]["text"] == "Hi, Sam from support here." and replay[2]["mode"] == "bot"
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "session_token": token + "x", "last_seq": 0})
        assert ws.receive_json()["code"] == "invalid_session"


def test_a_message_sent_again_after_a_lost_connection_runs_once(
    client: TestClient, web_shop: WebShop
) -> None:
    """The widget sends its unanswered messages again after reconnecting; the ids make it safe."""
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "message", "text": "I want to talk to a person", "message_id": "m-1"})
        first = _receive_until(ws, "received")
    token = next(e for e in first if e["type"] == "session")["session_token"]
    reply = next(e for e in first if e["type"] == "reply")
    assert reply["in_reply_to"] == "m-1"
    assert first[-1] == {"type": "received", "message_id": "m-1", "replayed": False}
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "session_token": token, "last_seq": 0})
        ws.send_json({"type": "message", "text": "I want to talk to a person", "message_id": "m-1"})
        again = _receive_until(ws, "received")
        assert again[-1] == {"type": "received", "message_id": "m-1", "replayed": True}
        replies = [e for e in again if e["type"] == "reply"]
        assert [r["seq"] for r in replies] == [reply["seq"]], "the log brought the reply once, not a new one"
        assert not any(e["type"] == "token" for e in again), "nothing was generated again"

        ws.send_json({"type": "message", "text": "hi", "message_id": "no spaces!"})
        refused = ws.receive_json()
        assert refused["code"] == "invalid_message" and "message_id" in refused["message"]
        limit = web_shop.services.settings.dialogue.max_message_chars
        ws.send_json({"type": "message", "text": "x" * (limit + 1), "message_id": "m-2"})
        too_long = ws.receive_json()
        assert too_long["code"] == "message_too_long" and too_long["in_reply_to"] == "m-2"
    session_id = token.rsplit(".", 2)[0]
    store = web_shop.services.sessions
    assert store is not None
    messages = [e.event for e in store.events(session_id=session_id) if isinstance(e.event, UserMessage)]
    assert [m.key for m in messages] == ["web:m-1"], "one customer message, recorded once"
    # The same id over REST is the same message.
    client.cookies.clear()
    retry = client.post(
        "/api/v1/chat",
        json={"session_id": session_id, "message": "I want to talk to a person", "message_id": "m-1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert retry.status_code == 200 and retry.json()["replayed"] is True
    assert retry.json()["reply"] == reply["text"]


def test_health_readiness_metrics_and_openapi(client: TestClient) -> None:
    assert client.get("/readyz").json()["status"] == "ready"
    client.post("/api/v1/chat", json={"message": "socks"})
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'shopassist_turns_total{channel="web",mode="bot",source="template"}' in metrics.text
    assert 'shopassist_tool_calls_total{ok="true",tool="catalog_search"}' in metrics.text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/chat", "/api/v1/sessions/{session_id}", "/api/v1/catalog/search"} <= set(paths)


def test_widget_and_demo_page_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/widget.js"' in page.text
    widget = client.get("/widget.js")
    assert widget.headers["content-type"].startswith("text/javascript") and "/ws/chat" in widget.text
    assert client.get("/widget.css").headers["content-type"].startswith("text/css")


def test_a_real_websocket_client_over_loopback(live_server: str) -> None:
    async def talk() -> list[dict[str, Any]]:
        url = live_server.replace("http://", "ws://") + "/ws/chat"
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"type": "message", "text": "water bottle"}))
            seen: list[dict[str, Any]] = []
            while not seen or seen[-1]["type"] != "products":
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=30)))
            return seen

    events = asyncio.run(talk())
    assert events[-1]["products"][0]["product_id"] == "P-BOTTLE"


def test_odd_tokens_and_frames_are_refused_cleanly(client: TestClient) -> None:
    body = client.post("/api/v1/chat", json={"message": "hi"}).json()
    odd = TestClient(client.app).get(
        f"/api/v1/sessions/{body['session_id']}", params={"token": body["session_id"] + ".\u00e9"}
    )
    assert odd.status_code == 403
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_bytes(b"\x00\x01")
        assert _receive_until(ws, "error")[-1]["code"] == "malformed_json"
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
