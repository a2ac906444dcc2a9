"""Returns and exchanges: which order lines the customer means, and the variant an exchange gets."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.returns import ExchangeItemsFlow, ReturnItemsFlow, pick_items
from assistant.sessions.slots import Slots
from assistant.sessions.state import SessionState
from tests.assistant.decide.conftest import MakeTurn
from tests.shop_fixture import ALICE, BOB, SHOE_BLUE_9, SOCK, TEE_BLACK
from tools.order_results import OrderLine

ALICE_STATE = SessionState(session_id="decide-1", slots=Slots(customer_id=ALICE, customer_name="Alice"))


def _line(variant_id: str, name: str, **options: str) -> OrderLine:
    return OrderLine(variant_id=variant_id, product_id="P", name=name, options=options, price=10, quantity=1)


LINES = [
    _line("V-1", "Trailblazer Running Shoe", color="blue", size="9"),
    _line("V-2", "Merino Running Socks", size="M"),
    _line("V-3", "Everyday Cotton T-Shirt", color="blue", size="M"),
]


def test_pick_items_by_name_all_or_none(ctx: Context) -> None:
    assert pick_items(ctx, "I want to return the socks", LINES, asked=False) == ["V-2"]
    assert pick_items(ctx, "all of them", LINES, asked=False) == ["V-1", "V-2", "V-3"]
    assert pick_items(ctx, "the blue one", LINES, asked=True) == []  # two blue lines: ask which
    assert pick_items(ctx, "that one", LINES[:1], asked=False) == ["V-1"]  # one line, not asked yet
    assert pick_items(ctx, "that one", LINES[:1], asked=True) == []


def test_return_reads_order_items_and_a_gift_card_refund(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("return the socks from #W0000002 to my gift card", state=ALICE_STATE)
    filled = ReturnItemsFlow().fill(turn, ctx, {}, None)
    assert filled.problem is None
    assert filled.values["items"] == [SOCK[1]]
    assert filled.values["refund_to"] == "gift_card_1001"  # the customer's gift card, by its id
    method = ReturnItemsFlow.payment_method(turn, ctx, {**filled.values})
    assert method == "gift_card_1001"


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
    assert filled.problem is not None and filled.problem.template == "ask_new_option"
    assert filled.problem_slot == "new_options"
    assert "color blue, size 10" in filled.problem.text  # red size 9 has no stock


TWO_LINES = [
    _line("V-M1", "Gaming Mouse", color="black", connectivity="wireless"),
    _line("V-M2", "Gaming Mouse", color="white", connectivity="wired"),
    _line("V-B", "Bookshelf", material="metal", height="4 ft"),
]


def test_several_products_named_in_one_message_are_all_picked(ctx: Context) -> None:
    text = "the gaming mouse in white and the bookshelf"
    assert pick_items(ctx, text, TWO_LINES, asked=True) == ["V-M2", "V-B"]
    # the two mice are not told apart: ask which
    assert pick_items(ctx, "the gaming mouse and the bookshelf", TWO_LINES, asked=True) == []


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


def test_the_words_about_each_item_are_told_apart(ctx: Context) -> None:
    from assistant.decide.flows.returns import _segments

    bike = _line("V-B1", "Bicycle", size="medium")
    purifier = _line("V-P1", "Air Purifier", size="medium", filter="HEPA")
    text = (
        "change the bicycle and the air purifier (room size medium, filter type HEPA) in my order: "
        "I'd like the bicycle in frame size large, color red and the same air purifier again"
    )
    about_bike, about_purifier = _segments(ctx, text, [bike, purifier])
    assert "large" in about_bike and "red" in about_bike and "same" not in about_bike
    assert "same air purifier again" in about_purifier and "HEPA" in about_purifier
    assert "red" not in about_purifier


def test_one_variant_on_two_lines_is_picked_once(ctx: Context) -> None:
    twice = [_line("V-W", "Water Bottle", capacity="500ml"), _line("V-W", "Water Bottle", capacity="500ml")]
    assert pick_items(ctx, "the water bottle (capacity 500ml)", [*twice, LINES[0]], asked=True) == ["V-W"]
