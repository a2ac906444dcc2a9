"""The support desk on a real session store: one holder at a time, agent messages in the log."""

from __future__ import annotations

import pytest

from assistant.sessions.events import AgentMessage, ModeChange, UserMessage
from assistant.sessions.slots import Mode
from assistant.sessions.sql_store import SqlSessionStore
from core.errors import ActionRefusedError, InvalidArgumentsError
from support.desk import DeskState, SupportDesk, desk_state, holder_of


def _waiting(store: SqlSessionStore) -> str:
    sid = store.create(channel="web")
    store.append(
        session_id=sid,
        events=[
            UserMessage(text="I want a person", channel="web"),
            ModeChange(mode=Mode.AGENT, reason="customer_request", by="bot"),
        ],
    )
    return sid


def test_take_over_reply_and_hand_back(store: SqlSessionStore) -> None:
    desk = SupportDesk(store)
    sid = _waiting(store)
    assert desk_state(store.state(session_id=sid)) is DeskState.WAITING
    listed = desk.conversations()
    assert listed[0].summary.session_id == sid and listed[0].state is DeskState.WAITING
    assert listed[0].waiting_seconds is not None and listed[0].waiting_seconds >= 0
    state = desk.take_over(sid, "sam")
    assert holder_of(state) == "sam" and desk_state(state) is DeskState.WITH_AGENT
    desk.reply(sid, "sam", "Hi, Sam here.")
    with pytest.raises(ActionRefusedError, match="sam already has this conversation"):
        desk.take_over(sid, "kim")
    with pytest.raises(ActionRefusedError, match="sam has it"):
        desk.reply(sid, "kim", "me too")
    with pytest.raises(InvalidArgumentsError):
        desk.reply(sid, "sam", "   ")
    back = desk.hand_back(sid, "sam")
    assert back.mode is Mode.BOT and holder_of(back) is None
    messages = [e.event for e in store.events(session_id=sid) if isinstance(e.event, AgentMessage)]
    assert [(m.agent, m.text) for m in messages] == [("sam", "Hi, Sam here.")]
    with pytest.raises(ActionRefusedError, match="take it over first"):
        desk.close(sid, "sam")


def test_an_agent_can_pick_a_bot_conversation_and_close_it(store: SqlSessionStore) -> None:
    desk = SupportDesk(store)
    sid = store.create(channel="telegram")
    desk.take_over(sid, "kim")
    closed = desk.close(sid, "kim")
    assert closed.mode is Mode.CLOSED and desk_state(closed) is DeskState.CLOSED
