"""Adding to the cart picks the variant the customer names; checkout picks the payment method."""

from __future__ import annotations

from decimal import Decimal

from assistant.decide.context import Context
from assistant.decide.flows.shopping import AddToCartFlow, CheckoutFlow
from assistant.sessions.shown import ShownProduct
from assistant.sessions.slots import Slots
from assistant.sessions.state import SessionState
from tests.assistant.decide.conftest import MakeTurn
from tests.shop_fixture import ALICE, TEE_BLACK

SHOWN = SessionState(
    session_id="decide-1",
    slots=Slots(
        last_products=(
            ShownProduct(product_id="P-TEE", title="Everyday Cotton T-Shirt", price=Decimal("17.99")),
        )
    ),
)


def test_add_to_cart_picks_the_named_variant_of_the_product_shown(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("add 2 of the black one in size L to my cart", state=SHOWN)
    filled = AddToCartFlow().fill(turn, ctx, {}, None)
    assert filled.problem is None
    assert filled.values["product"] == "P-TEE"
    assert filled.values["quantity"] == 2
    assert filled.values["variant"] == TEE_BLACK[1]


def test_without_a_variant_the_flow_asks_with_the_ones_in_stock(ctx: Context, make_turn: MakeTurn) -> None:
    turn = make_turn("add the t-shirt to my cart", state=SHOWN)
    flow = AddToCartFlow()
    filled = flow.fill(turn, ctx, {}, None)
    assert "variant" not in filled.values
    asked = flow.ask(turn, ctx, filled.values, "variant")
    assert asked.template == "ask_variant"
    assert {b.value for b in asked.buttons()} == {
        "color blue, size M",
        "color black, size L",
    }  # no red S left


def test_checkout_takes_the_payment_method_named(ctx: Context, make_turn: MakeTurn) -> None:
    state = SessionState(session_id="decide-1", slots=Slots(customer_id=ALICE))
    turn = make_turn("pay with my gift card", state=state)
    filled = CheckoutFlow().fill(turn, ctx, {"cart_checked": True}, "payment_method")
    assert filled.values["payment_method"] == "gift_card_1001"
