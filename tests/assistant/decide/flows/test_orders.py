"""Order flows read their slots from the customer's words and check every order id with a tool."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled
from assistant.decide.flows.orders import (
    CancelOrderFlow,
    ChangeAddressFlow,
    OrderFlow,
    TrackOrderFlow,
    order_of,
)
from assistant.decide.flows.returns import ReturnItemsFlow
from tests.assistant.decide.conftest import ALICE_STATE, MakeTurn
from tests.shop_fixture import SOCK


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


def _order_found(ctx: Context, make_turn: MakeTurn, flow: OrderFlow, text: str) -> Filled:
    return flow.fill(make_turn(text, state=ALICE_STATE), ctx, {}, None)


def test_an_order_is_found_by_what_is_in_it(ctx: Context, make_turn: MakeTurn) -> None:
    filled = _order_found(ctx, make_turn, TrackOrderFlow(), "where is my order with the desk lamp?")
    assert filled.problem is None and filled.values["order_id"] == "#W0000003"
    # the socks are in one of Alice's orders only
    filled = _order_found(ctx, make_turn, ReturnItemsFlow(), "I want to return the socks")
    assert filled.values["order_id"] == "#W0000002" and filled.values["items"] == [SOCK[1]]


def test_an_order_is_found_by_status_by_last_digits_or_as_the_newest(
    ctx: Context, make_turn: MakeTurn
) -> None:
    filled = _order_found(ctx, make_turn, CancelOrderFlow(), "cancel my pending order please")
    assert filled.values["order_id"] == "#W0000001"
    filled = _order_found(ctx, make_turn, TrackOrderFlow(), "the order that ends in 3")
    assert filled.values["order_id"] == "#W0000003"
    filled = _order_found(ctx, make_turn, TrackOrderFlow(), "what's the status of my most recent order?")
    assert filled.values["order_id"] == "#W0000001"  # placed 2 days ago, the newest


def test_several_orders_fitting_a_description_are_offered_with_their_items(
    ctx: Context, make_turn: MakeTurn
) -> None:
    filled = _order_found(ctx, make_turn, TrackOrderFlow(), "where is my order with the t-shirt?")
    # the blue t-shirt's order and the cancelled black one's
    assert filled.problem is not None and filled.problem.template == "which_order"
    assert "#W0000001 (pending: Everyday Cotton T-Shirt" in filled.problem.text
    assert "#W0000004 (cancelled" in filled.problem.text
    assert [b.label for b in filled.problem.buttons()] == ["#W0000001", "#W0000004"]


def test_a_message_without_a_description_finds_no_order(ctx: Context, make_turn: MakeTurn) -> None:
    filled = _order_found(ctx, make_turn, CancelOrderFlow(), "I want to cancel an order")
    assert filled.problem is None and "order_id" not in filled.values
