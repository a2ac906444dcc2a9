"""Changing a pending order's items: other variants of the same products, once, paid or refunded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import ActionRefusedError
from store.db import Database
from store.models import Order, Variant
from tests.shop_fixture import TEE_BLUE
from tools.base import ToolContext

pytestmark = pytest.mark.databases

# #W0000001 (Alice, pending): Everyday Cotton T-Shirt blue M (19.99) and a water bottle.
TEE_BLACK_L = "V-TEE-BK-L"


def _stock(database: Database, variant_id: str) -> int:
    with database.session() as session:
        return session.get(Variant, variant_id).stock


def _order(database: Database, order_id: str) -> Order:
    with database.session() as session:
        order = session.scalars(select(Order).where(Order.id == order_id)).one()
        _ = order.items, order.transactions
        return order


def test_a_pending_orders_item_becomes_another_variant(
    confirm: Any, database: Database, alice: ToolContext
) -> None:
    before_blue, before_black = _stock(database, TEE_BLUE[1]), _stock(database, TEE_BLACK_L)
    args = {
        "order_id": "#W0000001",
        "item_ids": [TEE_BLUE[1]],
        "new_item_ids": [TEE_BLACK_L],
        "payment_method_id": "credit_card_1001",
    }
    outcome = confirm("modify_order_items", args, alice)
    result = outcome.result
    assert result.status == "pending" and result.price_difference == Decimal("0.00")
    assert [(c.item_id, c.new_item_id) for c in result.changes] == [(TEE_BLUE[1], TEE_BLACK_L)]
    order = _order(database, "#W0000001")
    assert TEE_BLACK_L in [line.variant_id for line in order.items]
    assert TEE_BLUE[1] not in [line.variant_id for line in order.items]
    assert order.items_modified_at is not None
    assert (
        _stock(database, TEE_BLUE[1]) == before_blue + 1 and _stock(database, TEE_BLACK_L) == before_black - 1
    )
    with pytest.raises(ActionRefusedError, match="only once"):
        again = {**args, "item_ids": [TEE_BLACK_L], "new_item_ids": [TEE_BLUE[1]]}
        confirm("modify_order_items", again, alice)


def test_a_delivered_order_is_refused_and_nothing_changes(
    confirm: Any, database: Database, alice: ToolContext
) -> None:
    args = {
        "order_id": "#W0000002",  # delivered
        "item_ids": ["V-SHOE-BL-9"],
        "new_item_ids": ["V-SHOE-BL-10"],
        "payment_method_id": "credit_card_1001",
    }
    with pytest.raises(ActionRefusedError, match="pending"):
        confirm("modify_order_items", args, alice)
    assert _order(database, "#W0000002").items_modified_at is None


def test_a_lower_price_is_refunded_to_the_method_named(
    confirm: Any, database: Database, bob: ToolContext
) -> None:
    # #W0000005 (Bob, pending): the running shoe blue 10 at 84.99; blue 9 costs 79.99
    args = {
        "order_id": "#W0000005",
        "item_ids": ["V-SHOE-BL-10"],
        "new_item_ids": ["V-SHOE-BL-9"],
        "payment_method_id": "paypal_2002",
    }
    result = confirm("modify_order_items", args, bob).result
    assert result.price_difference == Decimal("-5.00")
    assert (result.charged, result.refunded) == (Decimal("0.00"), Decimal("5.00"))
    refunds = [
        (t.kind.value, t.amount, t.payment_method_id) for t in _order(database, "#W0000005").transactions
    ]
    assert ("refund", Decimal("5.00"), "paypal_2002") in refunds


def test_a_pending_order_is_paid_with_another_method_and_the_old_one_refunded(
    confirm: Any, database: Database, alice: ToolContext
) -> None:
    # #W0000001 (Alice, pending) was paid by credit_card_1001; her gift card holds 50.00
    total = sum((line.price * line.quantity for line in _order(database, "#W0000001").items), Decimal(0))
    assert total == Decimal("44.49")  # 19.99 + 24.50: the gift card covers it
    result = confirm(
        "change_order_payment", {"order_id": "#W0000001", "payment_method_id": "gift_card_1001"}, alice
    )
    assert result.result.amount == total
    moves = sorted((t.kind.value, t.payment_method_id) for t in _order(database, "#W0000001").transactions)
    assert ("payment", "gift_card_1001") in moves and ("refund", "credit_card_1001") in moves


def test_the_same_method_again_is_refused(confirm: Any, alice: ToolContext) -> None:
    with pytest.raises(ActionRefusedError, match="already paid with that method"):
        confirm(
            "change_order_payment", {"order_id": "#W0000001", "payment_method_id": "credit_card_1001"}, alice
        )
