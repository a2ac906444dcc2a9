"""Exchanges and item changes: the variant each item gets, read per item and across messages."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.exchange import ExchangeItemsFlow
from assistant.sessions.slots import Slots
from assistant.sessions.state import SessionState
from tests.assistant.decide.conftest import ALICE_STATE, MakeTurn
from tests.shop_fixture import BOB, SHOE_BLUE_9, TEE_BLACK


def test_an_exchange_finds_the_variant_with_the_wanted_options(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("exchange the running shoe from #W0000002 for size 10", state=ALICE_STATE)
    filled = ExchangeItemsFlow().fill(turn, ctx, {}, None)
    assert filled.problem is None
    assert filled.values["items"] == [SHOE_BLUE_9[1]]
    assert filled.values["new_options"] == ["V-SHOE-BL-10"]  # same color, the size asked for, in stock


def test_an_exchange_to_a_variant_out_of_stock_asks_again_with_what_is_there(
    ctx: Context, make_turn: MakeTurn
) -> None:
    turn = make_turn("exchange the running shoe from #W0000002 for a red one", state=ALICE_STATE)
    filled = ExchangeItemsFlow().fill(turn, ctx, {}, None)
    assert filled.problem is not None and filled.problem.template == "exchange_sold_out"
    assert filled.problem_slot == "new_options"
    assert "color blue, size 10" in filled.problem.text  # red size 9 has no stock


def test_an_exchange_of_two_items_gets_a_variant_for_each(ctx: Context, make_turn: MakeTurn) -> None:
    bob = SessionState(session_id="decide-1", slots=Slots(customer_id=BOB, customer_name="Bob"))
    text = (
        "exchange the everyday cotton t-shirt and the trailblazer running shoe from #W0000006: "
        "the everyday cotton t-shirt in blue size M and the trailblazer running shoe in size 10"
    )
    filled = ExchangeItemsFlow().fill(make_turn(text, state=bob), ctx, {}, None)
    assert filled.problem is None
    assert filled.values["items"] == [TEE_BLACK[1], SHOE_BLUE_9[1]]
    assert filled.values["new_options"] == ["V-TEE-BL-M", "V-SHOE-BL-10"]
