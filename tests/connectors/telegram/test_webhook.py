"""The webhook route in the web app, with the connector started by the app's lifespan. The
connector's Bot talks to the fake Bot API server on 127.0.0.1 (Telegram's servers cannot be
reached from the test machines)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.sessions.events import BotReply, UserMessage
from connectors.telegram.webhook import SECRET_HEADER
from connectors.web.app import create_app
from eval.dialogue.runner import ScenarioHarness
from tests.connectors.telegram.conftest import WEBHOOK_SECRET, message_update, telegram_settings
from tests.connectors.telegram.fake_bot_api import FakeBotApi

CHAT = 7001
PATH = "/api/v1/telegram/webhook"


@pytest.fixture
def webhook_client(harness: ScenarioHarness, bot_api: FakeBotApi) -> Iterator[TestClient]:
    bot_api.reset()
    with harness.assistant() as (_assistant, services):
        settings = telegram_settings(services.settings, bot_api, webhook_url="https://shop.example/tg")
        with TestClient(create_app(settings, services=services)) as client:
            yield client


def test_updates_with_the_secret_are_handled(webhook_client: TestClient, bot_api: FakeBotApi) -> None:
    # Start-up registered the command menu and the webhook with its secret.
    hook = bot_api.of("setWebhook")
    assert hook and hook[0].params["url"] == "https://shop.example/tg"
    assert hook[0].params["secret_token"] == WEBHOOK_SECRET
    assert bot_api.of("setMyCommands")
    response = webhook_client.post(
        PATH, json=message_update(CHAT, "desk lamp"), headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    bot_api.wait_for(lambda: any("Arc Desk Lamp" in t for t in bot_api.texts(CHAT)))


def test_an_update_sent_twice_is_answered_once(harness: ScenarioHarness, bot_api: FakeBotApi) -> None:
    """Telegram sends an update again when it misses the 200; the second copy changes nothing."""
    bot_api.reset()
    headers = {SECRET_HEADER: WEBHOOK_SECRET}
    lamp, bottle = message_update(CHAT, "desk lamp"), message_update(CHAT, "water bottle")
    with harness.assistant() as (assistant, services):
        settings = telegram_settings(services.settings, bot_api)
        with TestClient(create_app(settings, services=services)) as client:
            for update in (lamp, lamp, bottle):
                assert client.post(PATH, json=update, headers=headers).json() == {"ok": True}

            def said() -> list[UserMessage | BotReply]:
                if not assistant.store.exists(session_id=f"tg:{CHAT}"):
                    return []
                events = assistant.store.events(session_id=f"tg:{CHAT}")
                return [e.event for e in events if isinstance(e.event, UserMessage | BotReply)]

            bot_api.wait_for(lambda: len(said()) >= 4)
            # One chat is answered in order: a second run of the lamp would come before the bottle.
            turns = said()
    assert [type(e).__name__ for e in turns] == ["UserMessage", "BotReply"] * 2
    assert [e.text for e in turns if isinstance(e, UserMessage)] == ["desk lamp", "water bottle"]
    assert bot_api.texts(CHAT).count(turns[1].text) == 1, "the answer was not even sent again"


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}])
def test_updates_without_the_right_secret_are_rejected(
    webhook_client: TestClient, bot_api: FakeBotApi, headers: dict[str, str]
) -> None:
    response = webhook_client.post(PATH, json=message_update(CHAT, "desk lamp"), headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_webhook_secret"
    assert bot_api.of("sendMessage", CHAT) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "integer update_id"),
        (b'{"update_id": "x"}', "integer update_id"),
    ],
)
def test_malformed_updates_get_a_clear_error(webhook_client: TestClient, body: bytes, reason: str) -> None:
    response = webhook_client.post(
        PATH, content=body, headers={SECRET_HEADER: WEBHOOK_SECRET, "content-type": "application/json"}
    )
    assert response.status_code == 422 and reason in response.json()["error"]["message"]


def test_without_a_token_the_app_runs_without_the_connector_and_says_so(
    harness: ScenarioHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        harness.assistant() as (_assistant, services),
        caplog.at_level(logging.INFO),
        TestClient(create_app(services.settings, services=services)) as client,
    ):
        assert client.get("/healthz").status_code == 200
        response = client.post(PATH, json=message_update(CHAT, "hi"), headers={SECRET_HEADER: "x"})
        assert response.status_code == 404
        assert "SHOPASSIST_TELEGRAM__TOKEN" in response.json()["error"]["message"]
        paths = client.get("/openapi.json").json()["paths"]
        assert PATH in paths and "telegram" in PATH
    assert any("Telegram connector off: no bot token" in r.getMessage() for r in caplog.records)
