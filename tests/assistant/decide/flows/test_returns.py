"""Returns: the order's items and where the refund goes."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.returns import ReturnItemsFlow
from tests.assistant.decide.conftest import ALICE_STATE, MakeTurn
from tests.shop_fixture import SOCK


def test_return_reads_order_items_and_a_gift_card_refund(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("return the socks from #W0000002 to my gift card", state=ALICE_STATE)
    filled = ReturnItemsFlow().fill(turn, ctx, {}, None)
    assert filled.problem is None
    assert filled.values["items"] == [SOCK[1]]
    assert filled.values["refund_to"] == "gift_card_1001"  # the customer's gift card, by its id
    method = ReturnItemsFlow.payment_method(turn, ctx, {**filled.values})
    assert method == "gift_card_1001"
