"""A web app over the fixture shop with the real dialogue engine (rules only: fast and
deterministic), and the same app served by uvicorn on 127.0.0.1 for real WebSocket clients and
the browser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.engine import Assistant
from connectors.web.app import create_app
from core.config import Settings, SpeechSettings
from core.config.identity import AuthSettings
from eval.dialogue.runner import ScenarioHarness
from services import Services
from speech.recognizer import WhisperRecognizer
from speech.turns import build_voice
from tests.connectors.web.browser import browser  # noqa: F401  (the Chromium fixture)
from tests.servers import serve_in_thread


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


SHOP_SECRET = "the-shop-signs-its-customers-with-this-0123456789"
"""The HS256 key ``signed_shop`` shares with the (pretend) shop's website."""


def shop_token(customer: str, *, expires_in: int = 300, key: str = SHOP_SECRET) -> str:
    """A sign-in token as a shop's website would make it for its logged-in ``customer``."""
    return jwt.encode({"sub": customer, "exp": int(time.time()) + expires_in}, key, algorithm="HS256")


@pytest.fixture
def signed_shop(harness: ScenarioHarness) -> Iterator[WebShop]:
    """The fixture shop's web app with ``auth.shop_token`` configured (HS256, ``SHOP_SECRET``)."""
    with harness.assistant() as (assistant, services):
        settings: Settings = services.settings.model_copy(
            update={
                "auth": AuthSettings(shop_token={"secret": SHOP_SECRET}),
                "web": services.settings.web.model_copy(update={"rate_limit_per_session": "1000/minute"}),
            }
        )
        services.settings = settings
        services.assistant = Assistant(
            settings=settings, store=assistant.store, executor=assistant.executor, matcher=assistant.matcher
        )
        yield WebShop(create_app(settings, services=services), services)


def add_voice(shop: WebShop, recognizer: WhisperRecognizer, speech: SpeechSettings | None = None) -> Settings:
    """Give the shop's services a voice channel (on the session's Whisper model), built on its
    settings with ``speech`` if given; returns those settings for ``create_app``."""
    services = shop.services
    settings = (
        services.settings if speech is None else services.settings.model_copy(update={"speech": speech})
    )
    assert services.sessions is not None
    services.voice = build_voice(
        services.require_assistant(),
        settings=settings,
        engine=services.sessions.engine,
        database=services.database,
        recognizer=recognizer,
    )
    return settings


@pytest.fixture
def client(web_shop: WebShop) -> Iterator[TestClient]:
    with TestClient(web_shop.app) as test_client:
        yield test_client


@pytest.fixture
def live_server(web_shop: WebShop) -> Iterator[str]:
    """The app on a real uvicorn server at http://127.0.0.1:<port>."""
    with serve_in_thread(web_shop.app, name="web app", ws="websockets") as url:
        yield url
