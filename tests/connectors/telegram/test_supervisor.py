"""The Telegram connector inside the web app when the Bot API cannot be reached: the server
starts anyway, the web chat answers, ``/readyz`` says why Telegram is degraded, and the
connector starts by itself once the Bot API is there (the fake Bot API server on 127.0.0.1,
first absent, then listening on the port ``telegram.api_url`` names)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from connectors.telegram.webhook import SECRET_HEADER
from connectors.web.app import create_app
from core.config import Settings
from eval.dialogue.runner import ScenarioHarness
from tests.connectors.telegram.conftest import WEBHOOK_SECRET, message_update, telegram_settings
from tests.connectors.telegram.fake_bot_api import FakeBotApi, serve
from tests.servers import free_port

CHAT = 7301
PATH = "/api/v1/telegram/webhook"
HEADERS = {SECRET_HEADER: WEBHOOK_SECRET}


def _settings(base: Settings, api_url: str, **extra: Any) -> Settings:
    """Telegram against ``api_url``, trying again quickly (the test waits for the outcome)."""
    stand_in = FakeBotApi(url=api_url)
    return telegram_settings(base, stand_in, start_retry_seconds=0.1, start_retry_max_seconds=0.5, **extra)


def _telegram(client: TestClient) -> dict[str, Any]:
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    component: dict[str, Any] = ready.json()["components"]["telegram"]
    return component


def _wait_for_state(client: TestClient, state: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (telegram := _telegram(client))["state"] != state:
        if time.monotonic() > deadline:
            raise AssertionError(f"telegram stayed {telegram}")
        time.sleep(0.05)
    return telegram


def test_an_absent_bot_api_leaves_the_web_chat_serving_until_it_comes_up(harness: ScenarioHarness) -> None:
    port = free_port()
    with harness.assistant() as (_assistant, services):
        settings = _settings(services.settings, f"http://127.0.0.1:{port}")
        with TestClient(create_app(settings, services=services)) as client:
            telegram = _telegram(client)
            assert telegram["state"] == "degraded" and "unreachable" in telegram["reason"]
            answer = client.post("/api/v1/chat", json={"message": "desk lamp"})
            assert answer.status_code == 200 and "Arc Desk Lamp" in answer.json()["reply"]
            refused = client.post(PATH, json=message_update(CHAT, "desk lamp"), headers=HEADERS)
            assert refused.status_code == 503, "Telegram sends the update again later"
            assert refused.json()["error"]["code"] == "connector_unavailable"
            with serve(port=port) as api:
                assert _wait_for_state(client, "ok")["reason"] == ""
                assert api.of("getMe") and api.of("setMyCommands")
                taken = client.post(PATH, json=message_update(CHAT, "desk lamp"), headers=HEADERS)
                assert taken.status_code == 200
                api.wait_for(lambda: any("Arc Desk Lamp" in t for t in api.texts(CHAT)))


def test_an_unresolvable_api_url_is_degraded_and_the_web_chat_answers(harness: ScenarioHarness) -> None:
    with harness.assistant() as (_assistant, services):
        settings = _settings(services.settings, "http://bot-api.invalid")
        with TestClient(create_app(settings, services=services)) as client:
            assert _wait_for_state(client, "degraded")["reason"]
            answer = client.post("/api/v1/chat", json={"message": "water bottle"})
            assert answer.status_code == 200 and answer.json()["reply"]


def test_a_rejected_token_is_degraded_logged_and_not_tried_again(
    harness: ScenarioHarness, bot_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    bot_api.reset()
    wrong = "654321:not-the-real-token"
    with harness.assistant() as (_assistant, services):
        settings = _settings(services.settings, bot_api.url)
        settings = settings.model_copy(
            update={"telegram": settings.telegram.model_copy(update={"token": SecretStr(wrong)})}
        )
        with caplog.at_level(logging.INFO), TestClient(create_app(settings, services=services)) as client:
            telegram = _wait_for_state(client, "degraded")
            assert "rejected the bot token" in telegram["reason"]
            time.sleep(1.0)  # ten retry periods: a retrying connector would have asked again
            assert _telegram(client)["reason"] == telegram["reason"]
            assert client.post("/api/v1/chat", json={"message": "desk lamp"}).status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("connectors")]
    assert any("fix telegram.token" in r.getMessage() for r in errors)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "not-the-real-token" not in ours and "not-the-real-token" not in telegram["reason"]
    assert bot_api.rejected == ["getMe"], "asked once, not again"


def test_stopping_while_the_start_is_retried_is_clean(
    harness: ScenarioHarness, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    with harness.assistant() as (_assistant, services):
        settings = _settings(services.settings, f"http://127.0.0.1:{port}")
        with caplog.at_level(logging.WARNING), TestClient(create_app(settings, services=services)) as client:
            supervisor = client.app.state.telegram
            _wait_for_state(client, "degraded")
            assert supervisor.retrying
        assert not supervisor.retrying and not supervisor.running
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
