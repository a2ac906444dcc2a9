"""Long polling against the fake Bot API server on 127.0.0.1 (Telegram's servers cannot be
reached from the test machines): the real Updater fetches the update with getUpdates."""

from __future__ import annotations

import asyncio
from typing import Any

from assistant.sessions.events import BotReply, UserMessage
from connectors.telegram.inbox import DONE
from connectors.telegram.runner import build_connector
from eval.dialogue.runner import ScenarioHarness
from tests.connectors.telegram.conftest import message_update, telegram_settings
from tests.connectors.telegram.fake_bot_api import FakeBotApi

CHAT = 9001


def test_long_polling_fetches_updates_and_answers(harness: ScenarioHarness, bot_api: FakeBotApi) -> None:
    bot_api.reset()
    lamp, bottle = message_update(CHAT, "desk lamp"), message_update(CHAT, "water bottle")
    with harness.assistant() as (assistant, services):
        settings = telegram_settings(services.settings, bot_api)

        async def poll(updates: list[dict[str, Any]]) -> None:
            """One worker's life: poll, handle ``updates``, stop."""
            connector = build_connector(settings, assistant, polling=True)
            app = connector.application
            await app.initialize()
            updater = app.updater
            assert updater is not None
            await updater.start_polling(poll_interval=0.05, timeout=1)
            await app.start()
            try:
                for update in updates:
                    bot_api.queue_update(update)
                for _ in range(400):
                    if connector.inbox.state(updates[-1]["update_id"]) == (DONE, 1):
                        break
                    await asyncio.sleep(0.05)
            finally:
                await updater.stop()
                await connector.stop()

        asyncio.run(poll([lamp]))
        assert any("Arc Desk Lamp" in t for t in bot_api.texts(CHAT))
        # A worker that died before confirming gets the same update again after its restart.
        asyncio.run(poll([lamp, bottle]))
        events = assistant.store.events(session_id=f"tg:{CHAT}")
        customer = [e.event.text for e in events if isinstance(e.event, UserMessage)]
        answer = next(e.event for e in events if isinstance(e.event, BotReply))
    assert customer == ["desk lamp", "water bottle"], "the repeated update was not handled again"
    assert bot_api.texts(CHAT).count(answer.text) == 1, "nor answered again"
    assert bot_api.of("deleteWebhook"), "polling removes a webhook first"
    offsets = [int(c.params.get("offset") or 0) for c in bot_api.of("getUpdates")]
    assert max(offsets) > 0, "the update was confirmed to Telegram"
    assert 0 in offsets[1:], "the restarted worker asked for unconfirmed updates"
