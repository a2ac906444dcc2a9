"""Which address the per-address limits count, over uvicorn served with the options
``shopassist serve`` gives it (:func:`connectors.web.app.uvicorn_options`).

A local process once picked a fresh budget by rotating ``X-Forwarded-For``, because uvicorn's
default trusts the header from 127.0.0.1. With the defaults the header counts for nothing; with
``server.proxy_headers`` on and the proxy in ``server.forwarded_allow_ips``, each forwarded
client gets its own budget."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import websockets

from connectors.web.app import create_app, uvicorn_options
from core.config import ServerSettings
from tests.connectors.web.conftest import WebShop
from tests.servers import serve_in_thread

BEHIND_LOCAL_PROXY = ServerSettings(proxy_headers=True, forwarded_allow_ips=["127.0.0.1"])


@contextmanager
def _served(shop: WebShop, server: ServerSettings) -> Iterator[str]:
    """The shop with 3 messages a minute per address, served as ``shopassist serve`` would."""
    settings = shop.services.settings
    web = settings.web.model_copy(update={"rate_limit_per_ip": "3/minute"})
    app = create_app(settings.model_copy(update={"web": web, "server": server}), services=shop.services)
    with serve_in_thread(app, ws="websockets", **uvicorn_options(server)) as url:
        yield url


def _chat(url: str, forwarded_for: str) -> int:
    """One new conversation's first message (no session: only the address limit applies)."""
    response = httpx.post(
        f"{url}/api/v1/chat", json={"message": "hi"}, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status_code


def _log_in(url: str, forwarded_for: str) -> int:
    response = httpx.post(
        f"{url}/api/v1/agent/login",
        json={"name": "nobody", "password": "not the password"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def test_by_default_a_rotated_forwarded_for_buys_no_fresh_budget(
    web_shop: WebShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own variable is not read
    with _served(web_shop, ServerSettings()) as url:
        chats = [_chat(url, f"203.0.113.{n}") for n in range(4)]
        logins = [_log_in(url, f"198.51.100.{n}") for n in range(11)]

        async def socket_messages() -> list[str]:
            codes = []
            for n in range(2):  # the REST chats above already spent 3 of this address's 3
                headers = {"X-Forwarded-For": f"192.0.2.{n}"}
                ws_url = url.replace("http://", "ws://") + "/ws/chat"
                async with websockets.connect(ws_url, additional_headers=headers) as ws:
                    await ws.send(json.dumps({"type": "message", "text": "hi"}))
                    event = {"type": "session"}
                    while event["type"] not in ("error", "reply"):
                        event = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
                    codes.append(event.get("code", event["type"]))
            return codes

        on_socket = asyncio.run(socket_messages())
    assert chats == [200, 200, 200, 429]
    assert logins == [401] * 10 + [429]
    assert on_socket == ["rate_limited", "rate_limited"]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(web_shop: WebShop) -> None:
    with _served(web_shop, BEHIND_LOCAL_PROXY) as url:
        distinct = [_chat(url, f"203.0.113.{n}") for n in range(6)]
        same = [_chat(url, "198.51.100.7") for _ in range(4)]
        # the proxy appends the peer it saw: a client's own header in front of it is not believed
        chained = [_chat(url, f"10.9.9.{n}, 198.51.100.8") for n in range(4)]
        logins = [_log_in(url, f"192.0.2.{n}") for n in range(12)]
    assert distinct == [200] * 6
    assert same == [200, 200, 200, 429]
    assert chained == [200, 200, 200, 429]
    assert logins == [401] * 12


def test_uvicorn_is_told_about_proxies_explicitly() -> None:
    assert uvicorn_options(ServerSettings()) == {
        "proxy_headers": False,
        "forwarded_allow_ips": [],
        "log_config": None,
    }
    assert uvicorn_options(BEHIND_LOCAL_PROXY)["forwarded_allow_ips"] == ["127.0.0.1"]
