"""A web app over the fixture shop with the real dialogue engine (rules only: fast and
deterministic), and the same app served by uvicorn on 127.0.0.1 for real WebSocket clients and
the browser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from eval.dialogue.runner import ScenarioHarness
from retrieval.embeddings import SentenceTransformerEmbedder
from shopassist.services import Services
from tests.connectors.web.browser import browser  # noqa: F401  (the Chromium fixture)


@pytest.fixture(scope="module")
def harness(embedder: SentenceTransformerEmbedder) -> Iterator[ScenarioHarness]:
    built = ScenarioHarness(embedder=embedder, llm=None)
    yield built
    built.close()


@dataclass
class WebShop:
    app: FastAPI
    services: Services


@pytest.fixture
def web_shop(harness: ScenarioHarness) -> Iterator[WebShop]:
    with harness.assistant() as (_assistant, services):
        settings = services.settings.model_copy(
            update={"web": services.settings.web.model_copy(update={"rate_limit_per_session": "1000/minute"})}
        )
        yield WebShop(create_app(settings, services=services), services)


@pytest.fixture
def client(web_shop: WebShop) -> Iterator[TestClient]:
    with TestClient(web_shop.app) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(web_shop: WebShop) -> Iterator[str]:
    """The app on a real uvicorn server at http://127.0.0.1:<port>."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(web_shop.app, host="127.0.0.1", port=port, log_config=None, ws="websockets")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
