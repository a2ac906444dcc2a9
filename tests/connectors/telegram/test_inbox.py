"""Updates recorded before Telegram is told they arrived, handled once, and picked up again
after a crash. The inbox is a table in a real SQLite database, and in a PostgreSQL one (two
worker processes claim the same updates); the connector runs the real python-telegram-bot
Application against the fake Bot API server on 127.0.0.1 (Telegram's servers cannot be reached
from the test machines).

A crash is played by leaving the rows a dead worker leaves behind (recorded and never claimed,
or claimed with a lease that ran out) and starting a fresh connector on the same database."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from assistant.sessions.events import BotReply, UserMessage
from connectors.telegram.inbox import DONE, FAILED, HANDLING, RECEIVED, UPDATES, UpdateInbox
from connectors.telegram.runner import build_connector
from eval.dialogue.runner import ScenarioHarness
from tests.connectors.telegram.claimer import claim_all
from tests.connectors.telegram.conftest import TelegramShop, message_update, telegram_settings
from tests.connectors.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.databases
CHAT = 6101


@pytest.fixture
def inbox(empty_db_url: str) -> Iterator[UpdateInbox]:
    engine = sa.create_engine(empty_db_url)
    yield UpdateInbox(engine, lease_seconds=60, unclaimed_seconds=30, max_attempts=3, keep_hours=48)
    engine.dispose()


def _force(inbox: UpdateInbox, update_id: int, **values: Any) -> None:
    """Put a row where a dead worker would have left it."""
    with inbox.engine.begin() as conn:
        conn.execute(sa.update(UPDATES).where(UPDATES.c.update_id == update_id).values(**values))


# The inbox on its own --------------------------------------------------------------------------
def test_an_update_is_recorded_once(inbox: UpdateInbox) -> None:
    update = message_update(CHAT, "hi")
    assert inbox.record(update["update_id"], update) is True
    assert inbox.record(update["update_id"], update) is False
    assert inbox.state(update["update_id"]) == (RECEIVED, 0)
    assert inbox.state(update["update_id"] + 1000) is None
    other_bot = UpdateInbox(inbox.engine, bot="999")  # update ids count per bot
    assert other_bot.record(update["update_id"], update) is True
    assert other_bot.key(update["update_id"]) != inbox.key(update["update_id"])


def test_only_one_worker_claims_an_update(inbox: UpdateInbox) -> None:
    update = message_update(CHAT, "hi")
    inbox.record(update["update_id"], update)
    results: list[bool] = []
    start = threading.Barrier(4)

    def grab() -> None:
        start.wait()
        results.append(inbox.claim(update["update_id"]))

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    inbox.finish(update["update_id"])
    assert inbox.claim(update["update_id"]) is False, "a finished update is never handled again"
    assert inbox.state(update["update_id"]) == (DONE, 1)


def test_what_a_crash_leaves_behind_is_due(inbox: UpdateInbox, caplog: pytest.LogCaptureFixture) -> None:
    fresh, stale, held, lapsed, spent, done = (message_update(CHAT, f"m{n}") for n in range(6))
    for update in (fresh, stale, held, lapsed, spent, done):
        inbox.record(update["update_id"], update)
    _force(inbox, stale["update_id"], updated_at_us=1)  # recorded long ago, never claimed
    inbox.claim(held["update_id"])  # a live worker holds it
    inbox.claim(lapsed["update_id"])
    _force(inbox, lapsed["update_id"], lease_until_us=1)  # its worker died
    _force(inbox, spent["update_id"], state=HANDLING, attempts=3, lease_until_us=1)
    inbox.claim(done["update_id"])
    inbox.finish(done["update_id"])
    with caplog.at_level(logging.ERROR, logger="connectors.telegram.inbox"):
        due = [d.update_id for d in inbox.due()]
    assert due == [stale["update_id"], lapsed["update_id"]]
    assert inbox.state(spent["update_id"]) == (FAILED, 3)
    assert any("given up" in r.getMessage() for r in caplog.records)
    # At start, an unclaimed update is due however recent it is.
    assert [d.update_id for d in inbox.due(at_start=True)] == [
        fresh["update_id"],
        stale["update_id"],
        lapsed["update_id"],
    ]
    assert next(d for d in inbox.due() if d.update_id == stale["update_id"]).payload == stale


def test_an_interrupted_update_is_given_back_and_old_ones_are_forgotten(empty_db_url: str) -> None:
    engine = sa.create_engine(empty_db_url)
    inbox = UpdateInbox(engine, keep_hours=0)
    first, second = message_update(CHAT, "a"), message_update(CHAT, "b")
    inbox.record(first["update_id"], first)
    inbox.record(second["update_id"], second)
    assert inbox.claim(first["update_id"])
    inbox.give_back(first["update_id"])
    assert inbox.state(first["update_id"]) == (RECEIVED, 0), "an interrupted attempt is not counted"
    inbox.claim(second["update_id"])
    inbox.finish(second["update_id"])
    inbox.due()
    assert inbox.state(second["update_id"]) is None, "finished rows past keep_hours are deleted"
    assert inbox.state(first["update_id"]) == (RECEIVED, 0)
    engine.dispose()


def test_two_processes_claiming_the_same_updates_handle_each_once(inbox: UpdateInbox) -> None:
    updates = [message_update(CHAT, f"m{n}") for n in range(120)]
    ids = [update["update_id"] for update in updates]
    for update in updates:
        inbox.record(update["update_id"], update)
    for update_id in ids[::2]:  # half left behind by a dead worker: claimed, lease run out
        _force(inbox, update_id, state=HANDLING, attempts=1, lease_until_us=1)
    context = multiprocessing.get_context("spawn")
    start, claimed = context.Barrier(2), context.Queue()
    url = inbox.engine.url.render_as_string(hide_password=False)
    workers = [context.Process(target=claim_all, args=(url, ids, start, claimed)) for _ in range(2)]
    for worker in workers:
        worker.start()
    handled = [claimed.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert sorted(handled[0] + handled[1]) == sorted(ids), "each update handled exactly once"
    assert {inbox.state(update_id)[0] for update_id in ids} == {DONE}  # type: ignore[index]


def test_a_backlog_is_not_queued_twice(inbox: UpdateInbox) -> None:
    from telegram import Bot

    from connectors.telegram.inbox import DueUpdate, InboxQueue
    from tests.connectors.telegram.fake_bot_api import TOKEN

    update = message_update(CHAT, "hi")

    async def play() -> list[bool]:
        queue = InboxQueue(inbox)
        bot = Bot(TOKEN)
        due = DueUpdate(update["update_id"], update)
        first = await queue.requeue(due, bot)
        second = await queue.requeue(due, bot)  # still waiting in the queue: a backlog
        return [first, second, queue.qsize() == 1]

    assert asyncio.run(play()) == [True, False, True]


# The connector ---------------------------------------------------------------------------------
@pytest.fixture
def fresh_connector(harness: ScenarioHarness, bot_api: FakeBotApi) -> Iterator[TelegramShop]:
    """A connector built but not started, so a test can leave a crash's rows before it starts."""
    bot_api.reset()
    loop = asyncio.new_event_loop()
    with harness.assistant() as (assistant, services):
        settings = telegram_settings(services.settings, bot_api, inbox_sweep_seconds=0.1)
        assistant.settings = settings
        connector = build_connector(settings, assistant, polling=False)
        shop = TelegramShop(connector, assistant, services, bot_api, loop, settings)
        try:
            yield shop
        finally:
            shop.run(connector.stop())
            loop.close()


def _until(shop: TelegramShop, check: Callable[[], bool], timeout: float = 30.0) -> None:
    async def wait() -> None:
        for _ in range(int(timeout / 0.05)):
            if check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("timed out waiting")

    shop.run(wait())


def _customer_texts(shop: TelegramShop, chat_id: int) -> list[str]:
    events = shop.assistant.store.events(session_id=shop.session_of(chat_id))
    return [e.event.text for e in events if isinstance(e.event, UserMessage)]


def test_an_update_acknowledged_just_before_a_crash_is_handled_at_start(
    fresh_connector: TelegramShop,
) -> None:
    shop = fresh_connector
    update = message_update(CHAT, "desk lamp")
    shop.connector.inbox.record(update["update_id"], update)  # the webhook said 200, then the worker died
    shop.run(shop.connector.start())
    _until(shop, lambda: shop.connector.inbox.state(update["update_id"]) == (DONE, 1))
    assert any("Arc Desk Lamp" in t for t in shop.api.texts(CHAT))
    assert _customer_texts(shop, CHAT) == ["desk lamp"]


def test_a_turn_recorded_before_a_crash_is_answered_without_running_again(
    fresh_connector: TelegramShop,
) -> None:
    shop = fresh_connector
    update = message_update(CHAT, "Add the Arc Desk Lamp to my cart")
    uid = update["update_id"]
    inbox = shop.connector.inbox
    inbox.record(uid, update)
    assert inbox.claim(uid)
    sid = shop.session_of(CHAT)
    first = shop.assistant.handle(
        sid, update["message"]["text"], channel="telegram", message_key=inbox.key(uid)
    )
    assert first.text and not shop.api.texts(CHAT), "the worker died before it sent the reply"
    _force(inbox, uid, lease_until_us=1)
    shop.run(shop.connector.start())
    _until(shop, lambda: inbox.state(uid) == (DONE, 2))
    assert first.text in shop.api.texts(CHAT), "the recorded reply was sent"
    assert _customer_texts(shop, CHAT) == [update["message"]["text"]], "the turn ran once"


def test_an_update_that_keeps_killing_its_worker_is_given_up(
    fresh_connector: TelegramShop, caplog: pytest.LogCaptureFixture
) -> None:
    shop = fresh_connector
    update = message_update(CHAT, "desk lamp")
    uid = update["update_id"]
    inbox = shop.connector.inbox
    inbox.record(uid, update)
    _force(inbox, uid, state=HANDLING, attempts=inbox.max_attempts, lease_until_us=1)
    with caplog.at_level(logging.ERROR, logger="connectors.telegram.inbox"):
        shop.run(shop.connector.start())
        _until(shop, lambda: inbox.state(uid) == (FAILED, inbox.max_attempts))
    assert shop.api.of("sendMessage", CHAT) == []
    assert any("given up" in r.getMessage() and r.__dict__.get("update_id") == uid for r in caplog.records)


def test_a_redelivered_update_is_handled_once(fresh_connector: TelegramShop) -> None:
    shop = fresh_connector
    shop.run(shop.connector.start())
    lamp, bottle = message_update(CHAT, "desk lamp"), message_update(CHAT, "water bottle")
    shop.run(shop.connector.enqueue(lamp))
    _until(shop, lambda: shop.connector.inbox.state(lamp["update_id"]) == (DONE, 1))
    shop.run(shop.connector.enqueue(lamp))  # Telegram sent it again (it missed our 200)
    shop.run(shop.connector.enqueue(bottle))
    _until(shop, lambda: shop.connector.inbox.state(bottle["update_id"]) == (DONE, 1))
    # One chat is handled in order: a second handling of the lamp would have come first.
    assert _customer_texts(shop, CHAT) == ["desk lamp", "water bottle"]
    events = shop.assistant.store.events(session_id=shop.session_of(CHAT))
    answer = next(e.event for e in events if isinstance(e.event, BotReply))
    assert shop.api.texts(CHAT).count(answer.text) == 1, "not even sent again"
    assert shop.connector.inbox.state(lamp["update_id"]) == (DONE, 1)


@pytest.mark.parametrize(
    ("token", "expected"),
    [("123456:ABC-def", "123456"), ("no-colon-secret", None), ("12ab:secret", None)],
)
def test_the_inbox_is_keyed_by_the_bots_public_id_never_its_token(token: str, expected: str | None) -> None:
    from pydantic import SecretStr

    from connectors.telegram.bot import bot_key

    key = bot_key(SecretStr(token))
    if expected is not None:
        assert key == expected
    else:
        assert token not in key and token.split(":")[0] not in key and len(key) == 17
