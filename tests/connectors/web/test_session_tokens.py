"""Session tokens expire, are renewed on use, count in ``?token=`` only on WebSocket upgrades,
and no query string (where tokens and emails could sit) reaches a log line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient

from connectors.web.session_auth import COOKIE, SessionSigner
from core.config import LoggingSettings
from core.logging import configure_logging
from services import load_secret
from tests.connectors.web.conftest import WebShop
from tests.servers import serve_in_thread

KEY = b"a-policy-secret-of-enough-bytes"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_token_names_its_session_until_it_expires() -> None:
    clock = Clock()
    signer = SessionSigner(KEY, ttl_seconds=3600, clock=clock)
    token = signer.token("web-1.a")  # session ids may hold dots
    sid, expiry, mac = token.rsplit(".", 2)
    assert sid == "web-1.a" and int(expiry) == int(clock.now) + 3600 and len(mac) == 40
    assert signer.session_of(token) == "web-1.a"
    clock.now += 3599
    assert signer.session_of(token) == "web-1.a"
    clock.now += 1
    assert signer.session_of(token) is None, "expired: refused like a wrong token"
    renewed = signer.token("web-1.a")
    assert signer.session_of(renewed) == "web-1.a"


def test_forged_and_stretched_tokens_are_refused() -> None:
    clock = Clock()
    signer = SessionSigner(KEY, ttl_seconds=3600, clock=clock)
    token = signer.token("web-1")
    sid, expiry, mac = token.rsplit(".", 2)
    stretched = f"{sid}.{int(expiry) + 10**6}.{mac}"
    other_session = f"web-2.{expiry}.{mac}"
    other_key = SessionSigner(b"another-secret-of-enough-bytes", ttl_seconds=3600, clock=clock).token("web-1")
    for bad in (
        stretched,
        other_session,
        other_key,
        f"{sid}.{mac}",
        "",
        "web-1",
        token + "0",
        f"{sid}.x.{mac}",
    ):
        assert signer.session_of(bad) is None, bad
    with pytest.raises(ValueError):
        SessionSigner(KEY, ttl_seconds=10)


def _expired_token(shop: WebShop, session_id: str) -> str:
    """A token for ``session_id`` signed with the app's key, valid until an hour ago."""
    past = SessionSigner(
        load_secret(shop.services.settings), ttl_seconds=3600, clock=Clock(time.time() - 7200)
    )
    return past.token(session_id)


def test_rest_refuses_expired_tokens_and_renews_live_ones(client: TestClient, web_shop: WebShop) -> None:
    first = client.post("/api/v1/chat", json={"message": "t-shirt"})
    sid, token = first.json()["session_id"], first.json()["session_token"]
    ttl = web_shop.services.settings.web.session_token_ttl_seconds
    assert f"max-age={ttl}" in first.headers["set-cookie"].lower()
    client.cookies.clear()
    expired = _expired_token(web_shop, sid)
    for headers in ({"Authorization": f"Bearer {expired}"}, {"X-Session-Token": expired}):
        refused = client.post(
            "/api/v1/chat", json={"session_id": sid, "message": "in black"}, headers=headers
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
        assert client.get(f"/api/v1/sessions/{sid}", headers=headers).status_code == 403
    client.cookies.set(COOKIE, expired)
    assert client.get(f"/api/v1/sessions/{sid}").status_code == 403
    client.cookies.clear()
    live = client.post(
        "/api/v1/chat", json={"session_id": sid, "message": "in black"}, headers={"X-Session-Token": token}
    )
    assert live.status_code == 200
    renewed = live.json()["session_token"]
    assert renewed.rsplit(".", 2)[0] == sid and int(renewed.rsplit(".", 2)[1]) >= int(token.rsplit(".", 2)[1])


def test_query_token_counts_on_websocket_only(client: TestClient, web_shop: WebShop) -> None:
    first = client.post("/api/v1/chat", json={"message": "t-shirt"})
    sid, token = first.json()["session_id"], first.json()["session_token"]
    client.cookies.clear()
    rest = client.post(f"/api/v1/chat?token={token}", json={"session_id": sid, "message": "in black"})
    assert rest.status_code == 403, "?token= on REST is as good as no token"
    assert client.get(f"/api/v1/sessions/{sid}?token={token}").status_code == 403
    fresh = client.post(f"/api/v1/chat?token={token}", json={"message": "hi"})
    assert fresh.status_code == 200 and fresh.json()["session_id"] != sid, (
        "a new conversation, not the token's"
    )
    client.cookies.clear()

    with client.websocket_connect(f"/ws/chat?token={token}") as ws:
        announced = ws.receive_json()
        assert announced["type"] == "session" and announced["session_id"] == sid
    with client.websocket_connect(f"/ws/chat?token={_expired_token(web_shop, sid)}") as ws:
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong", "an expired token resumes nothing"
        ws.send_json({"type": "hello", "session_token": _expired_token(web_shop, sid)})
        assert ws.receive_json()["code"] == "invalid_session"


def test_access_log_lines_have_no_query_string(web_shop: WebShop) -> None:
    """The app's logging config over a real uvicorn: access lines and WebSocket lines."""
    stream = io.StringIO()
    configure_logging(LoggingSettings(level="INFO", json_format=True), stream=stream)
    secret = "zz-session-token-secret"
    email = "alice@example.com"
    try:
        with serve_in_thread(web_shop.app, ws="websockets", log_level="info") as url:
            response = httpx.get(f"{url}/healthz?token={secret}&email={email}")
            assert response.status_code == 200

            async def connect() -> None:
                ws_url = url.replace("http", "ws") + f"/ws/chat?token={secret}&shop_token={secret}"
                async with websockets.connect(ws_url) as ws:
                    await ws.send(json.dumps({"type": "ping"}))
                    kinds = [json.loads(await ws.recv())["type"] for _ in range(2)]
                    assert kinds == ["error", "pong"]  # shop tokens are off in this shop

            asyncio.run(connect())
    finally:
        configure_logging(LoggingSettings(level="WARNING", json_format=False))
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any('"GET /healthz HTTP/1.1" 200' in line["message"] for line in access), access
    upgrades = [line for line in lines if "WebSocket /ws/chat" in line["message"]]
    assert upgrades and all('"WebSocket /ws/chat"' in line["message"] for line in upgrades), upgrades
    text = stream.getvalue()
    assert secret not in text and "token=" not in text and "alice" not in text and "?" not in text


def test_uvicorns_own_access_formatter_still_works_after_the_filter() -> None:
    """Another handler set-up (uvicorn's default log config) formats the same cleaned record."""
    from uvicorn.logging import AccessFormatter

    configure_logging(LoggingSettings(level="WARNING", json_format=False))
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/sessions/x?token=abc.def", "1.1", 200),
        None,
    )
    assert logging.getLogger("uvicorn.access").filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert line == '127.0.0.1:5000 - "GET /api/v1/sessions/x HTTP/1.1" 200 OK'
