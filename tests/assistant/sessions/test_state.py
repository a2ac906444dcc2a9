"""Folding events into session state: every slot, every mode, confirmations, counters."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from assistant.sessions.events import (
    AgentMessage,
    BotReply,
    ConfirmationRequested,
    ConfirmationResolved,
    Event,
    ModeChange,
    SlotSet,
    StoredEvent,
    ToolCall,
    ToolResult,
    UserMessage,
)
from assistant.sessions.shown import ShownProduct
from assistant.sessions.slots import (
    ActiveForm,
    ConfirmationOutcome,
    Mode,
    PendingConfirmation,
    SlotName,
    Slots,
)
from assistant.sessions.state import KEPT_KEYS, KEPT_PRODUCTS, SessionState, SnapshotCache, apply, fold
from core.errors import InvalidArgumentsError
from tests.assistant.conftest import T0

MUGS = (
    ShownProduct(product_id="p1", title="Mug", price=10, options={"color": ("red",)}),
    ShownProduct(product_id="p2", title="Mug", price=12, options={"color": ("blue",)}),
)
PENDING = PendingConfirmation(
    tool="cancel_order", args={"order_id": "#W1234567"}, summary="Cancel?", token="tok-1", expires_at=T0
)


def stored(*events: Event, session_id: str = "s1", first: int = 1) -> list[StoredEvent]:
    return [
        StoredEvent(
            session_id=session_id, seq=first + i, id=uuid.uuid4(), at=T0 + timedelta(seconds=i), event=e
        )
        for i, e in enumerate(events)
    ]


def run(*events: Event) -> SessionState:
    return fold(stored(*events))


def request(token: str = "tok-1") -> ConfirmationRequested:
    return ConfirmationRequested(
        tool="cancel_order", args={"order_id": "#W1234567"}, summary="Cancel?", token=token, expires_at=T0
    )


def test_no_events_is_a_fresh_bot_session() -> None:
    state = fold([])
    assert state == SessionState()
    assert state.mode is Mode.BOT and state.bot_active
    assert state.slots == Slots() and state.turns == 0 and state.last_seq == 0
    assert state.last_bot_reply is None and state.pending_confirmation is None and not state.authenticated


@pytest.mark.parametrize(
    ("slot", "value"),
    [
        (SlotName.CUSTOMER_ID, "cust-42"),
        (SlotName.CUSTOMER_NAME, "Ada Lovelace"),
        (SlotName.CURRENT_ORDER, "#W1234567"),
        (SlotName.LAST_PRODUCTS, MUGS),
        (SlotName.LAST_ORDER_IDS, ("#W1234567", "#W7654321")),
        (
            SlotName.ACTIVE_FORM,
            ActiveForm(name="return_item", slots={"order_id": "#W1"}, requested="item_ids"),
        ),
        (SlotName.PENDING_CONFIRMATION, PENDING),
        (SlotName.FAILED_TURNS, 3),
    ],
)
def test_each_slot_is_set_and_reset(slot: SlotName, value: Any) -> None:
    state = run(SlotSet(name=slot, value=value))
    assert getattr(state.slots, slot.value) == value
    assert state.slots.model_dump(exclude={slot.value}) == Slots().model_dump(exclude={slot.value})
    reset = fold(stored(SlotSet(name=slot, value=None), first=2), state)
    assert getattr(reset.slots, slot.value) == getattr(Slots(), slot.value)


def test_slot_shortcuts() -> None:
    state = run(
        SlotSet(name=SlotName.CUSTOMER_ID, value="cust-42"),
        SlotSet(name=SlotName.LAST_PRODUCTS, value=MUGS),
        SlotSet(name=SlotName.ACTIVE_FORM, value=ActiveForm(name="login")),
        SlotSet(name=SlotName.FAILED_TURNS, value=2),
        request(),
    )
    assert state.customer_id == "cust-42" and state.authenticated
    assert state.last_products[1].options["color"] == ("blue",)
    assert state.active_form == ActiveForm(name="login")
    assert state.failed_turns == 2
    assert state.pending_confirmation == PENDING


def test_later_slot_values_win() -> None:
    state = run(
        SlotSet(name=SlotName.CURRENT_ORDER, value="#W1111111"),
        SlotSet(name=SlotName.FAILED_TURNS, value=1),
        SlotSet(name=SlotName.CURRENT_ORDER, value="#W2222222"),
        SlotSet(name=SlotName.FAILED_TURNS, value=0),
    )
    assert state.slots.current_order == "#W2222222"
    assert state.failed_turns == 0


@pytest.mark.parametrize("mode", list(Mode))
def test_each_mode(mode: Mode) -> None:
    state = run(
        ModeChange(mode=Mode.AGENT, reason="asked for a person", by="customer"),
        ModeChange(mode=mode, reason=f"now {mode}", by="agent:alice"),
    )
    assert state.mode is mode
    assert state.mode_reason == f"now {mode}" and state.mode_by == "agent:alice"
    assert state.bot_active is (mode is Mode.BOT)


def test_messages_count_turns_and_the_last_ones_are_kept() -> None:
    replies = [BotReply(text="one"), BotReply(text="two", products=MUGS)]
    state = run(
        UserMessage(text="hi", channel="web"),
        replies[0],
        UserMessage(text="mugs?", channel="telegram"),
        ToolCall(tool="search_products", args={"query": "mug"}, call_id="c1"),
        ToolResult(tool="search_products", ok=True, result=[], call_id="c1"),
        replies[1],
        AgentMessage(agent="alice", text="Hello"),
    )
    assert state.turns == 2
    assert state.channel == "telegram"
    assert state.last_user_message == UserMessage(text="mugs?", channel="telegram")
    assert state.last_bot_reply == replies[1]
    assert state.last_agent_message == AgentMessage(agent="alice", text="Hello")
    assert state.last_tool_call is not None and state.last_tool_call.call_id == "c1"
    assert state.last_tool_result is not None and state.last_tool_result.ok
    assert state.last_seq == 7 and state.session_id == "s1"
    assert state.updated_at == T0 + timedelta(seconds=6)


def test_keyed_messages_remember_their_replies_up_to_a_bound() -> None:
    state = run(
        UserMessage(text="hi", channel="web", key="web:a"),
        BotReply(text="Hello!", in_reply_to="web:a"),
        UserMessage(text="no key", channel="web"),
        BotReply(text="unkeyed"),
        UserMessage(text="still there?", channel="web", key="web:b"),
    )
    a, b = state.answered("web:a"), state.answered("web:b")
    assert a is not None and a.reply is not None and a.reply.text == "Hello!"
    assert b is not None and b.reply is None, "not answered (yet, or an agent has the conversation)"
    assert state.answered("web:c") is None
    assert [t.key for t in state.keyed] == ["web:a", "web:b"], "messages without a key are not kept"
    # A reply to a key nobody sent changes nothing.
    assert apply(state, BotReply(text="stray", in_reply_to="web:zz")).keyed == state.keyed

    many = run(*(UserMessage(text=str(i), channel="web", key=f"k{i}") for i in range(KEPT_KEYS + 5)))
    assert len(many.keyed) == KEPT_KEYS
    assert many.answered("k0") is None and many.answered(f"k{KEPT_KEYS + 4}") is not None


def test_agent_messages_do_not_change_the_mode_and_do_not_count_as_turns() -> None:
    state = run(AgentMessage(agent="alice", text="Hello"))
    assert state.mode is Mode.BOT and state.turns == 0


@pytest.mark.parametrize("outcome", list(ConfirmationOutcome))
def test_a_resolved_confirmation_is_no_longer_pending(outcome: ConfirmationOutcome) -> None:
    asked = run(request())
    assert asked.pending_confirmation == PENDING
    assert run(request(), ConfirmationResolved(outcome=outcome, token="tok-1")).pending_confirmation is None
    assert run(request(), ConfirmationResolved(outcome=outcome)).pending_confirmation is None


def test_resolving_another_token_keeps_the_pending_confirmation() -> None:
    state = run(request("tok-1"), request("tok-2"), ConfirmationResolved(outcome="accepted", token="tok-1"))
    assert state.pending_confirmation is not None and state.pending_confirmation.token == "tok-2"
    assert run(ConfirmationResolved(outcome="expired")).pending_confirmation is None


def test_live_confirmation_expires_by_the_clock_given() -> None:
    state = run(request())
    assert state.live_confirmation(T0 - timedelta(seconds=1)) == PENDING
    assert state.live_confirmation(T0) is None
    assert state.pending_confirmation == PENDING  # folding itself reads no clock


def test_apply_is_pure() -> None:
    before = SessionState()
    after = apply(before, SlotSet(name=SlotName.CUSTOMER_ID, value="c1"))
    assert before.slots.customer_id is None and after.slots.customer_id == "c1"


def test_folding_continues_from_a_snapshot() -> None:
    events = stored(
        UserMessage(text="hi", channel="web"),
        SlotSet(name=SlotName.LAST_PRODUCTS, value=MUGS),
        request(),
        ModeChange(mode=Mode.AGENT, reason="r", by="bot"),
        UserMessage(text="again", channel="web"),
    )
    assert fold(events[2:], fold(events[:2])) == fold(events)


def test_fold_rejects_events_out_of_order_or_from_another_session() -> None:
    events = stored(UserMessage(text="a", channel="web"), UserMessage(text="b", channel="web"))
    with pytest.raises(InvalidArgumentsError):
        fold(list(reversed(events)))
    with pytest.raises(InvalidArgumentsError):
        fold(stored(UserMessage(text="c", channel="web"), session_id="s2", first=3), fold(events))


def test_snapshot_cache_is_bounded_and_keeps_the_newest_fold() -> None:
    cache = SnapshotCache(2)
    newer = SessionState(session_id="a", last_seq=5)
    cache.put(newer)
    cache.put(SessionState(session_id="a", last_seq=3))
    assert cache.get("a") == newer
    cache.put(SessionState(session_id="b", last_seq=1))
    cache.put(SessionState(session_id="c", last_seq=1))
    assert cache.get("a") is None and cache.get("c") is not None
    disabled = SnapshotCache(0)
    disabled.put(newer)
    assert disabled.get("a") is None


def _shown(*ids: str) -> SlotSet:
    return SlotSet(name=SlotName.LAST_PRODUCTS, value=[ShownProduct(product_id=i, title=i) for i in ids])


def test_every_list_shown_and_every_product_looked_at_is_remembered_most_recent_first() -> None:
    state = run(
        _shown("p1", "p2"),
        ToolCall(tool="product_details", args={"product_id": "p9"}),
        _shown("p3", "p1"),
        SlotSet(name=SlotName.LAST_PRODUCTS, value=None),  # a reset forgets the last list only
        ToolCall(tool="catalog_search", args={"query": "tents"}),
        ToolCall(tool="check_stock", args={"product_id": "p2"}),
    )
    assert state.last_products == ()
    assert state.shown_products == ("p3", "p1", "p2")
    assert state.viewed_products == ("p2", "p9")


def test_remembered_products_are_capped() -> None:
    many = [_shown(f"p{n}") for n in range(KEPT_PRODUCTS + 5)]
    state = run(*many)
    assert len(state.shown_products) == KEPT_PRODUCTS
    assert state.shown_products[0] == f"p{KEPT_PRODUCTS + 4}"
