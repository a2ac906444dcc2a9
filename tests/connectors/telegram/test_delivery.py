"""Agent-message delivery from the conversation log (the Bot is not needed: sends are recorded)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from telegram.error import Forbidden, NetworkError

from assistant.sessions.events import ModeChange, UserMessage
from assistant.sessions.slots import Mode
from assistant.sessions.sql_store import SqlSessionStore
from connectors.telegram.chats import ChatDirectory
from connectors.telegram.delivery import AgentDelivery
from connectors.telegram.texts import default_texts
from support.desk import SupportDesk


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.fail: list[Exception] = []

    async def __call__(self, chat_id: int, text: str) -> None:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((chat_id, text))


@pytest.fixture
def parts(tmp_path: Path) -> tuple[SqlSessionStore, ChatDirectory, SupportDesk]:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    store = SqlSessionStore(url)
    return store, ChatDirectory.from_url(url), SupportDesk(store)


def _handed_over(store: SqlSessionStore, directory: ChatDirectory, chat_id: int) -> str:
    sid = directory.session_for(chat_id)
    store.create(channel="telegram", session_id=sid)
    store.append(
        session_id=sid,
        events=[
            UserMessage(text="a person please", channel="telegram"),
            ModeChange(mode=Mode.AGENT, reason="customer asked", by="customer"),
        ],
    )
    return sid


def test_each_agent_message_is_delivered_once_in_order(
    parts: tuple[SqlSessionStore, ChatDirectory, SupportDesk],
) -> None:
    store, directory, desk = parts
    sid = _handed_over(store, directory, 1)
    desk.take_over(sid, "sam")
    desk.reply(sid, "sam", "first")
    desk.reply(sid, "sam", "second")
    send = Recorder()
    delivery = AgentDelivery(store=store, directory=directory, send=send, texts=default_texts())
    assert asyncio.run(delivery.poll_once()) == 3
    assert [t for _, t in send.sent] == [
        "sam from our team has joined the conversation.",
        "sam: first",
        "sam: second",
    ]
    # A second worker (its own delivery over the same database) sends nothing again.
    other = AgentDelivery(store=store, directory=directory, send=send, texts=default_texts())
    assert asyncio.run(other.poll_once()) == 0
    desk.close(sid, "sam")
    assert asyncio.run(delivery.poll_once()) == 1
    assert send.sent[-1] == (1, "This conversation was closed. Write any time to start again.")


def test_a_failed_send_is_tried_again_next_round_and_other_chats_still_get_theirs(
    parts: tuple[SqlSessionStore, ChatDirectory, SupportDesk],
) -> None:
    store, directory, desk = parts
    first, second = _handed_over(store, directory, 1), _handed_over(store, directory, 2)
    for sid in (first, second):
        desk.take_over(sid, "sam")
        desk.reply(sid, "sam", f"hello {sid}")
    send = Recorder()
    send.fail = [NetworkError("down")]  # the first chat's first send fails (after the bot's retries)
    delivery = AgentDelivery(store=store, directory=directory, send=send, texts=default_texts())
    asyncio.run(delivery.poll_once())
    assert {c for c, _ in send.sent} == {2}, "the other chat was served"
    asyncio.run(delivery.poll_once())
    assert [t for c, t in send.sent if c == 1] == [
        "sam from our team has joined the conversation.",
        f"sam: hello {first}",
    ]


def test_a_chat_that_blocked_the_bot_is_skipped(
    parts: tuple[SqlSessionStore, ChatDirectory, SupportDesk],
) -> None:
    store, directory, desk = parts
    sid = _handed_over(store, directory, 1)
    desk.take_over(sid, "sam")
    send = Recorder()
    send.fail = [Forbidden("bot was blocked by the user")]
    delivery = AgentDelivery(store=store, directory=directory, send=send, texts=default_texts())
    asyncio.run(delivery.poll_once())
    asyncio.run(delivery.poll_once())
    assert send.sent == [], "not retried forever"


def test_customer_and_bot_events_are_not_echoed(
    parts: tuple[SqlSessionStore, ChatDirectory, SupportDesk],
) -> None:
    store, directory, _desk = parts
    _handed_over(store, directory, 1)
    send = Recorder()
    delivery = AgentDelivery(store=store, directory=directory, send=send, texts=default_texts())
    assert asyncio.run(delivery.poll_once()) == 0 and send.sent == []
