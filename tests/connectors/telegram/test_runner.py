"""Long polling against the fake Bot API server on 127.0.0.1 (Telegram's servers cannot be
reached from the test machines): the real Updater fetches the update with getUpdates."""

from __future__ import annotations

import asyncio

from connectors.telegram.runner import build_connector
from eval.dialogue.runner import ScenarioHarness
from tests.connectors.telegram.conftest import message_update, telegram_settings
from tests.connectors.telegram.fake_bot_api import FakeBotApi


def test_long_polling_fetches_updates_and_answers(harness: ScenarioHarness, bot_api: FakeBotApi) -> None:
    bot_api.reset()
    with harness.assistant() as (assistant, services):
        settings = telegram_settings(services.settings, bot_api)
        connector = build_connector(settings, assistant, polling=True)
        app = connector.application

        async def session() -> None:
            await app.initialize()
            updater = app.updater
            assert updater is not None
            await updater.start_polling(poll_interval=0.05, timeout=1)
            await app.start()
            try:
                bot_api.queue_update(message_update(9001, "desk lamp"))
                for _ in range(400):
                    if any("Arc Desk Lamp" in t for t in bot_api.texts(9001)):
                        break
                    await asyncio.sleep(0.05)
            finally:
                await updater.stop()
                await connector.stop()

        asyncio.run(session())
    assert bot_api.of("deleteWebhook"), "polling removes a webhook first"
    assert any("Arc Desk Lamp" in t for t in bot_api.texts(9001))
    offsets = [int(c.params.get("offset") or 0) for c in bot_api.of("getUpdates")]
    assert max(offsets) > 0, "the update was confirmed to Telegram"
