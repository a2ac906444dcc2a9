"""Order flows read their slots from the customer's words and check every order id with a tool."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.orders import CancelOrderFlow, ChangeAddressFlow, TrackOrderFlow, order_of
from assistant.sessions.slots import Slots
from assistant.sessions.state import SessionState
from tests.assistant.decide.conftest import MakeTurn
from tests.shop_fixture import ALICE

ALICE_STATE = SessionState(session_id="decide-1", slots=Slots(customer_id=ALICE, customer_name="Alice"))


def test_cancel_reads_the_order_and_the_reason_from_one_message(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("please cancel #W0000001, I ordered it by mistake", state=ALICE_STATE)
    filled = CancelOrderFlow().fill(turn, ctx, {}, None)
    assert filled.problem is None
    assert filled.values["order_id"] == "#W0000001"
    assert filled.values["reason"] == "ordered by mistake"
    assert order_of(filled.values).status == "pending"  # the order as get_order_status gave it
    assert turn.state.slots.current_order == "#W0000001"


def test_a_reason_alone_fills_only_the_reason(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("I no longer need it", state=ALICE_STATE)
    filled = CancelOrderFlow().fill(turn, ctx, {"order_id": "#W0000001"}, "reason")
    assert filled.values == {"reason": "no longer needed"}


def test_change_address_reads_the_new_address(ctx: Context, make_turn: MakeTurn) -> None:
    text = "send #W0000001 to 77 Pine Ave, Austin, TX 73301 instead"
    filled = ChangeAddressFlow().fill(make_turn(text, state=ALICE_STATE), ctx, {}, None)
    assert filled.values["order_id"] == "#W0000001"
    assert filled.values["address"]["city"] == "Austin" and filled.values["address"]["zip"] == "73301"


def test_another_customers_order_is_not_found_and_lists_only_hers(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("cancel #W0000005", state=ALICE_STATE)  # Bob's order
    filled = CancelOrderFlow().fill(turn, ctx, {}, None)
    assert filled.problem is not None and filled.problem.template == "order_not_found"
    assert "order_id" not in filled.values
    offered = [button.value for button in filled.problem.buttons()]
    assert offered == ["#W0000001"]  # Alice's pending orders only: nothing of Bob's


def test_tracking_states_the_orders_own_figures(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("where is my order #W0000002", state=ALICE_STATE)
    draft = TrackOrderFlow().act(turn, ctx, {"order_id": "#W0000002"})
    assert draft.template == "order_status"
    assert "delivered" in draft.text and "1Z999AA10123456784" in draft.text
    assert {fact.path for fact in draft.values} >= {"order_id", "status", "total"}
