"""The Telegram connector over the fixture shop, its Bot pointed at the fake Bot API server,
driven with real Update JSON through python-telegram-bot's ``Application``."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from telegram import Update

from assistant.engine import Assistant
from connectors.telegram.bot import TelegramConnector
from connectors.telegram.runner import build_connector
from core.config import Settings, TelegramSettings
from eval.dialogue.runner import ScenarioHarness
from services import Services
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi, serve

T = TypeVar("T")
WEBHOOK_SECRET = "test-webhook-secret_1"
_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


@pytest.fixture(scope="module")
def bot_api() -> Iterator[FakeBotApi]:
    with serve() as api:
        yield api


def telegram_settings(settings: Settings, api: FakeBotApi, **extra: Any) -> Settings:
    tg = TelegramSettings(
        token=TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        api_url=api.url,
        delivery_poll_seconds=0.2,
        max_retry_wait_seconds=5,
        **extra,
    )
    return settings.model_copy(update={"telegram": tg})


def user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}


def message_update(chat_id: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
        "from": user(chat_id),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_update_ids), "message": message}


def callback_update(chat_id: int, data: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}",
            "from": user(chat_id),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": message,
        },
    }


@dataclass
class TelegramShop:
    connector: TelegramConnector
    assistant: Assistant
    services: Services
    api: FakeBotApi
    loop: asyncio.AbstractEventLoop
    settings: Settings
    sent: list[dict[str, Any]] = field(default_factory=list)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def feed(self, update: dict[str, Any]) -> None:
        """Hand one update to the Application, as the updater or the webhook would."""
        parsed = Update.de_json(update, self.connector.application.bot)
        self.run(self.connector.application.process_update(parsed))

    def say(self, chat_id: int, text: str) -> list[str]:
        """Send a customer message; returns the texts the bot sent to the chat for it."""
        before = len(self.api.texts(chat_id))
        self.feed(message_update(chat_id, text))
        return self.api.texts(chat_id)[before:]

    def session_of(self, chat_id: int) -> str:
        return self.connector.directory.session_for(chat_id)


@pytest.fixture
def telegram_shop(harness: ScenarioHarness, bot_api: FakeBotApi) -> Iterator[TelegramShop]:
    bot_api.reset()
    loop = asyncio.new_event_loop()
    with harness.assistant() as (assistant, services):
        settings = telegram_settings(services.settings, bot_api)
        assistant.settings = settings
        connector = build_connector(settings, assistant, polling=False)
        shop = TelegramShop(connector, assistant, services, bot_api, loop, settings)
        shop.run(connector.application.initialize())
        try:
            yield shop
        finally:
            shop.run(connector.stop())
            loop.close()
