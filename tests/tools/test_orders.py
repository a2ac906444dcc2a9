"""Order tools against the fixture shop; expected values are written out from tests/shop_fixture.py."""

from decimal import Decimal as D

import pytest

from core.errors import (
    ActionRefusedError,
    AuthenticationRequiredError,
    ConfirmationRequiredError,
    InvalidArgumentsError,
    NotFoundError,
    PermissionDeniedError,
)
from store.models import Order, OrderItem, OrderStatus, PaymentMethod, PaymentSource, Variant
from tests.shop_fixture import ALICE

pytestmark = pytest.mark.databases

NEW_ADDRESS = dict(
    address1="2 Oak Ave", address2="Apt 3", city="Boston", state="MA", country="USA", zip="02110"
)


def return_args(items, method="credit_card_1001", order_id="#W0000002"):
    return {"order_id": order_id, "item_ids": items, "payment_method_id": method}


def exchange_args(new_item, method="credit_card_1001", order_id="#W0000002", item="V-SHOE-BL-9"):
    return return_args([item], method, order_id) | {"new_item_ids": [new_item]}


def order_state(database, order_id):
    """Everything a tool may change about an order, read straight from the store."""
    with database.session() as s:
        order = s.get(Order, order_id)
        return {
            "status": order.status.value,
            "cancel_reason": order.cancel_reason,
            "address": dict(order.shipping_address),
            "lines": {line.variant_id: line.disposition for line in order.items},
            "transactions": [(t.kind.value, t.amount, t.payment_method_id) for t in order.transactions],
        }


def stock(database, variant_id):
    with database.session() as s:
        return s.get(Variant, variant_id).stock


def balance(database, method_id):
    with database.session() as s:
        return s.get(PaymentMethod, method_id).balance


def set_status(database, order_id, status):
    with database.transaction() as s:
        s.get(Order, order_id).status = status


# Read-only tools ----------------------------------------------------------------------------
def test_get_order_status_reports_items_tracking_and_payments(executor, alice):
    out = executor.run("get_order_status", {"order_id": "#W0000002"}, ctx=alice).result
    assert out.order_id == "#W0000002" and out.status == "delivered"
    lines = {line.variant_id: line for line in out.items}
    assert lines["V-SHOE-BL-9"].price == D("79.99") and lines["V-SHOE-BL-9"].product_id == "P-SHOE"
    assert lines["V-SHOE-BL-9"].options == {"color": "blue", "size": "9"}
    assert lines["V-SOCK-M"].name == "Merino Running Socks" and lines["V-SOCK-M"].disposition is None
    assert out.total == D("91.99") and out.paid == D("91.99") and out.item_count == 2
    assert [(t.carrier, t.tracking_id, t.item_ids) for t in out.tracking] == [
        ("UPS", "1Z999AA10123456784", ["V-SHOE-BL-9", "V-SOCK-M"])
    ]
    assert [(t.kind, t.amount, t.payment_method_id, t.payment_method) for t in out.transactions] == [
        ("payment", D("91.99"), "credit_card_1001", "Visa ending 4242")
    ]
    assert out.shipping_address["zip"] == "10001" and out.created_at.year == 2026
    facts = {(f.kind.value, f.value) for f in out.facts()}
    assert {("status", "delivered"), ("amount", D("91.99")), ("id", "1Z999AA10123456784")} <= facts


def test_get_order_status_accepts_id_without_hash_and_shows_refunds(executor, alice):
    out = executor.run("get_order_status", {"order_id": "w0000004"}, ctx=alice).result
    assert (out.order_id, out.status, out.cancel_reason) == ("#W0000004", "cancelled", "no longer needed")
    assert [(t.kind, t.amount) for t in out.transactions] == [("payment", D("19.99")), ("refund", D("19.99"))]
    assert out.paid == D("0.00") and out.tracking == []


def test_get_order_status_unknown_and_malformed_ids(executor, alice):
    with pytest.raises(NotFoundError, match="W9999999"):
        executor.run("get_order_status", {"order_id": "#W9999999"}, ctx=alice)
    with pytest.raises(InvalidArgumentsError) as info:
        executor.run("get_order_status", {"order_id": "12345"}, ctx=alice)
    assert info.value.errors[0]["argument"] == "order_id"


def test_list_orders_newest_first_and_filters(executor, alice, bob):
    out = executor.run("list_orders", {}, ctx=alice).result
    assert [o.order_id for o in out.orders] == ["#W0000001", "#W0000003", "#W0000002", "#W0000004"]
    assert out.total == 4
    first = out.orders[0]  # 2 days before the fixture's NOW, 2026-11-01
    assert (first.status, first.total, first.item_count) == ("pending", D("44.49"), 2)
    assert str(first.created) == "2026-10-30"
    delivered = executor.run("list_orders", {"status": "delivered"}, ctx=alice).result
    assert [o.order_id for o in delivered.orders] == ["#W0000002"] and delivered.total == 1
    limited = executor.run("list_orders", {"limit": 2}, ctx=alice).result
    assert len(limited.orders) == 2 and limited.total == 4
    bobs = executor.run("list_orders", {}, ctx=bob).result
    assert [o.order_id for o in bobs.orders] == ["#W0000005", "#W0000006"]
    with pytest.raises(InvalidArgumentsError) as info:
        executor.run("list_orders", {"status": "shipped"}, ctx=alice)
    assert info.value.errors[0]["argument"] == "status"


def test_read_tools_need_authentication_and_ownership(executor, anonymous, alice):
    for tool, args in [("get_order_status", {"order_id": "#W0000005"}), ("list_orders", {})]:
        with pytest.raises(AuthenticationRequiredError):
            executor.run(tool, args, ctx=anonymous)
    with pytest.raises(PermissionDeniedError, match="#W0000005 does not belong"):
        executor.run("get_order_status", {"order_id": "#W0000005"}, ctx=alice)


# Policy on every side-effect tool ------------------------------------------------------------
# Each call would succeed for Bob on his own order; Alice may not make it.
BOB_CALLS = [
    ("cancel_order", {"order_id": "#W0000005", "reason": "no longer needed"}),
    ("change_shipping_address", {"order_id": "#W0000005", "address": NEW_ADDRESS}),
    ("return_items", return_args(["V-SOCK-M"], "paypal_2002", "#W0000006")),
    ("exchange_items", exchange_args("V-TEE-BL-M", "paypal_2002", "#W0000006", "V-TEE-BK-L")),
]


@pytest.mark.parametrize("tool,args", BOB_CALLS)
def test_side_effect_tools_need_authentication(confirm, database, anonymous, tool, args):
    before = order_state(database, args["order_id"])
    with pytest.raises(AuthenticationRequiredError):
        confirm(tool, args, anonymous)
    assert order_state(database, args["order_id"]) == before


@pytest.mark.parametrize("tool,args", BOB_CALLS)
def test_side_effect_tools_refuse_another_customers_order(confirm, database, alice, tool, args):
    before = order_state(database, args["order_id"])
    with pytest.raises(PermissionDeniedError, match="does not belong"):
        confirm(tool, args, alice)
    assert order_state(database, args["order_id"]) == before
    assert stock(database, "V-SOCK-M") == 30 and stock(database, "V-TEE-BK-L") == 12


@pytest.mark.parametrize("tool,args", BOB_CALLS)
def test_side_effect_tools_need_confirmation(executor, database, bob, tool, args):
    before = order_state(database, args["order_id"])
    with pytest.raises(ConfirmationRequiredError):
        executor.run(tool, args, ctx=bob)
    assert order_state(database, args["order_id"]) == before


@pytest.mark.parametrize("tool", ["return_items", "exchange_items"])
def test_refund_or_charge_to_another_customers_payment_method_is_denied(confirm, database, alice, tool):
    args = exchange_args("V-SHOE-BL-10", "paypal_2002")
    if tool == "return_items":
        del args["new_item_ids"]
    with pytest.raises(PermissionDeniedError, match="Payment method paypal_2002"):
        confirm(tool, args, alice)
    assert order_state(database, "#W0000002")["status"] == "delivered"


# Cancel ------------------------------------------------------------------------------------
def test_cancel_pending_order_refunds_card_and_restocks(executor, database, alice):
    args = {"order_id": "#W0000001", "reason": "no longer needed"}
    pending = executor.prepare("cancel_order", args, ctx=alice)
    assert pending.summary == (
        "Cancel order #W0000001 (2 items, 44.49 USD) because: no longer needed; "
        "44.49 USD will be refunded to Visa ending 4242."
    )
    assert order_state(database, "#W0000001")["status"] == "pending"  # prepare writes nothing
    out = executor.run("cancel_order", args, ctx=alice.confirmed(pending.token)).result
    assert (out.status, out.refunded_total, out.restocked_items) == ("cancelled", D("44.49"), 2)
    assert [(r.amount, r.payment_method_id) for r in out.refunds] == [(D("44.49"), "credit_card_1001")]
    state = order_state(database, "#W0000001")
    assert state["status"] == "cancelled" and state["cancel_reason"] == "no longer needed"
    assert state["transactions"] == [
        ("payment", D("44.49"), "credit_card_1001"),
        ("refund", D("44.49"), "credit_card_1001"),
    ]
    assert stock(database, "V-TEE-BL-M") == 41 and stock(database, "V-BOT-SL") == 101


def test_cancel_paid_by_gift_card_restores_balance_at_once(confirm, database, alice):
    set_status(database, "#W0000003", OrderStatus.PENDING)
    out = confirm("cancel_order", {"order_id": "#W0000003", "reason": " Ordered by MISTAKE "}, alice).result
    assert out.cancel_reason == "ordered by mistake" and out.refunded_total == D("45.00")
    assert balance(database, "gift_card_1001") == D("95.00")
    assert stock(database, "V-LAMP-BK") == 4
    assert order_state(database, "#W0000003")["cancel_reason"] == "ordered by mistake"


@pytest.mark.parametrize(
    "order_id,status", [("#W0000002", "delivered"), ("#W0000003", "processed"), ("#W0000004", "cancelled")]
)
def test_cancel_refuses_orders_that_are_not_pending(confirm, database, alice, order_id, status):
    before = order_state(database, order_id)
    with pytest.raises(ActionRefusedError, match=f"{order_id} is {status}; only pending"):
        confirm("cancel_order", {"order_id": order_id, "reason": "no longer needed"}, alice)
    assert order_state(database, order_id) == before
    assert balance(database, "gift_card_1001") == D("50.00")


@pytest.mark.parametrize(
    "args,argument",
    [
        ({"order_id": "#W0000001", "reason": "found it cheaper"}, "reason"),
        ({"order_id": "#W0000001"}, "reason"),
        ({"order_id": "order 1", "reason": "no longer needed"}, "order_id"),
    ],
)
def test_cancel_bad_arguments_name_the_argument(executor, alice, args, argument):
    with pytest.raises(InvalidArgumentsError) as info:
        executor.prepare("cancel_order", args, ctx=alice)
    assert [e["argument"] for e in info.value.errors] == [argument]


# Return ------------------------------------------------------------------------------------
def test_return_refunds_original_card_marks_lines_and_restocks(executor, database, alice):
    args = return_args(["V-SOCK-M"])
    pending = executor.prepare("return_items", args, ctx=alice)
    assert pending.summary == (
        "Return 1 item of order #W0000002 (Merino Running Socks (M)); "
        "12.00 USD will be refunded to Visa ending 4242."
    )
    out = executor.run("return_items", args, ctx=alice.confirmed(pending.token))
    assert not out.replayed
    result = out.result
    assert (result.status, result.refund_amount, result.gift_card_balance) == ("returned", D("12.00"), None)
    assert [line.variant_id for line in result.returned] == ["V-SOCK-M"]
    state = order_state(database, "#W0000002")
    assert state["status"] == "returned"
    assert state["lines"] == {"V-SHOE-BL-9": None, "V-SOCK-M": "returned"}
    assert state["transactions"][1:] == [("refund", D("12.00"), "credit_card_1001")]
    assert stock(database, "V-SOCK-M") == 31 and stock(database, "V-SHOE-BL-9") == 5


def test_return_to_own_gift_card_raises_its_balance(confirm, database, alice):
    out = confirm("return_items", return_args(["V-SHOE-BL-9", "V-SOCK-M"], "gift_card_1001"), alice).result
    assert out.refund_amount == D("91.99") and out.gift_card_balance == D("141.99")
    assert balance(database, "gift_card_1001") == D("141.99")
    assert order_state(database, "#W0000002")["lines"] == {"V-SHOE-BL-9": "returned", "V-SOCK-M": "returned"}
    assert stock(database, "V-SHOE-BL-9") == 6


@pytest.mark.parametrize(
    "order_id,items,match",
    [
        ("#W0000001", ["V-TEE-BL-M"], "#W0000001 is pending; only delivered"),
        ("#W0000003", ["V-LAMP-BK"], "#W0000003 is processed; only delivered"),
        ("#W0000002", ["V-LAMP-BK"], "Item V-LAMP-BK is not part of order #W0000002"),
    ],
)
def test_return_refusals_change_nothing(confirm, database, alice, order_id, items, match):
    before = order_state(database, order_id)
    with pytest.raises(ActionRefusedError, match=match):
        confirm("return_items", return_args(items, "gift_card_1001", order_id), alice)
    assert order_state(database, order_id) == before
    assert balance(database, "gift_card_1001") == D("50.00") and stock(database, "V-LAMP-BK") == 3


def test_return_of_an_already_returned_line_is_refused(confirm, database, alice):
    with database.transaction() as s:
        line = s.query(OrderItem).filter_by(order_id="#W0000002", variant_id="V-SOCK-M").one()
        line.disposition = "returned"
    with pytest.raises(ActionRefusedError, match="V-SOCK-M of order #W0000002 was already returned"):
        confirm("return_items", return_args(["V-SOCK-M"]), alice)
    assert order_state(database, "#W0000002")["status"] == "delivered"
    assert stock(database, "V-SOCK-M") == 30


def test_return_refund_only_to_original_method_or_gift_card(confirm, database, alice):
    with database.transaction() as s:
        card = PaymentMethod(id="credit_card_1002", customer_id=ALICE, source=PaymentSource.CREDIT_CARD)
        card.brand, card.last_four = "mastercard", "5555"
        s.add(card)
    with pytest.raises(ActionRefusedError, match=r"original payment method \(Visa ending 4242\).*Mastercard"):
        confirm("return_items", return_args(["V-SOCK-M"], "credit_card_1002"), alice)
    assert len(order_state(database, "#W0000002")["transactions"]) == 1


@pytest.mark.parametrize("items", [[], ["V-SOCK-M", "V-SOCK-M"]])
def test_return_item_list_must_be_non_empty_and_unique(executor, alice, items):
    with pytest.raises(InvalidArgumentsError) as info:
        executor.prepare("return_items", return_args(items), ctx=alice)
    assert info.value.errors[0]["argument"] == "item_ids"


def test_return_rechecks_at_run_time_after_confirmation(executor, database, alice):
    args = return_args(["V-SOCK-M"], "gift_card_1001")
    pending = executor.prepare("return_items", args, ctx=alice)
    set_status(database, "#W0000002", OrderStatus.CANCELLED)
    with pytest.raises(ActionRefusedError, match="is cancelled"):
        executor.run("return_items", args, ctx=alice.confirmed(pending.token))
    assert balance(database, "gift_card_1001") == D("50.00") and stock(database, "V-SOCK-M") == 30


def test_confirmed_return_run_twice_refunds_once(executor, database, alice):
    args = return_args(["V-SOCK-M"], "gift_card_1001")
    ctx = alice.confirmed(executor.prepare("return_items", args, ctx=alice).token)
    first = executor.run("return_items", args, ctx=ctx)
    second = executor.run("return_items", args, ctx=ctx)
    assert (first.replayed, second.replayed) == (False, True)
    assert second.result == first.result and second.result.gift_card_balance == D("62.00")
    refunds = [t for t in order_state(database, "#W0000002")["transactions"] if t[0] == "refund"]
    assert refunds == [("refund", D("12.00"), "gift_card_1001")]
    assert balance(database, "gift_card_1001") == D("62.00") and stock(database, "V-SOCK-M") == 31


# Exchange ----------------------------------------------------------------------------------


def test_exchange_for_dearer_size_charges_the_difference(executor, database, alice):
    args = exchange_args("V-SHOE-BL-10")
    pending = executor.prepare("exchange_items", args, ctx=alice)
    assert pending.summary == (
        "Exchange in order #W0000002: Trailblazer Running Shoe (blue, 9) for Trailblazer Running Shoe "
        "(blue, 10); the price difference of 5.00 USD will be charged to Visa ending 4242."
    )
    out = executor.run("exchange_items", args, ctx=alice.confirmed(pending.token)).result
    assert (out.status, out.price_difference) == ("exchanged", D("5.00"))
    assert (out.charged, out.refunded) == (D("5.00"), D("0.00"))
    assert [(e.item_id, e.new_item_id, e.new_price) for e in out.exchanges] == [
        ("V-SHOE-BL-9", "V-SHOE-BL-10", D("84.99"))
    ]
    state = order_state(database, "#W0000002")
    assert state["status"] == "exchanged"
    assert state["lines"] == {"V-SHOE-BL-9": "exchanged:V-SHOE-BL-10", "V-SOCK-M": None}
    assert state["transactions"][1:] == [("payment", D("5.00"), "credit_card_1001")]
    assert stock(database, "V-SHOE-BL-9") == 6 and stock(database, "V-SHOE-BL-10") == 1


def test_exchange_charged_to_gift_card_debits_it(confirm, database, alice):
    out = confirm("exchange_items", exchange_args("V-SHOE-BL-10", "gift_card_1001"), alice).result
    assert out.gift_card_balance == D("45.00") and balance(database, "gift_card_1001") == D("45.00")


def test_exchange_refused_when_gift_card_cannot_cover_difference(confirm, database, alice):
    with database.transaction() as s:
        s.get(PaymentMethod, "gift_card_1001").balance = D("1.00")
    before = order_state(database, "#W0000002")
    with pytest.raises(ActionRefusedError, match=r"has 1\.00 USD, not enough to pay 5\.00 USD"):
        confirm("exchange_items", exchange_args("V-SHOE-BL-10", "gift_card_1001"), alice)
    assert order_state(database, "#W0000002") == before
    assert balance(database, "gift_card_1001") == D("1.00") and stock(database, "V-SHOE-BL-10") == 2


def test_exchange_for_cheaper_variant_refunds_the_difference(confirm, database, bob):
    set_status(database, "#W0000005", OrderStatus.DELIVERED)
    args = exchange_args("V-SHOE-BL-9", "paypal_2002", "#W0000005", "V-SHOE-BL-10")
    out = confirm("exchange_items", args, bob).result
    assert (out.price_difference, out.charged, out.refunded) == (D("-5.00"), D("0.00"), D("5.00"))
    assert order_state(database, "#W0000005")["transactions"][1:] == [("refund", D("5.00"), "paypal_2002")]
    assert stock(database, "V-SHOE-BL-10") == 3 and stock(database, "V-SHOE-BL-9") == 4


def test_exchange_at_same_price_records_no_transaction(executor, database, bob):
    args = exchange_args("V-TEE-BL-M", "paypal_2002", "#W0000006", "V-TEE-BK-L")
    pending = executor.prepare("exchange_items", args, ctx=bob)
    assert pending.summary.endswith("(blue, M); there is no price difference to pay or refund.")
    out = executor.run("exchange_items", args, ctx=bob.confirmed(pending.token)).result
    assert out.transaction is None and out.price_difference == D("0.00")
    assert len(order_state(database, "#W0000006")["transactions"]) == 1
    assert stock(database, "V-TEE-BK-L") == 13 and stock(database, "V-TEE-BL-M") == 39


@pytest.mark.parametrize(
    "args,match",
    [
        (exchange_args("V-TEE-BL-M", item="V-SOCK-M"), "not a Merino Running Socks"),
        (exchange_args("V-SHOE-RD-9"), r"V-SHOE-RD-9 \(.*red, 9\)\) is out of stock"),
        (exchange_args("V-LAMP-BK", item="V-LAMP-BK"), "V-LAMP-BK is not part of order #W0000002"),
        (exchange_args("V-TEE-BK-L", order_id="#W0000001", item="V-TEE-BL-M"), "#W0000001 is pending"),
    ],
)
def test_exchange_refusals_change_nothing(confirm, database, alice, args, match):
    before = order_state(database, args["order_id"])
    with pytest.raises(ActionRefusedError, match=match):
        confirm("exchange_items", args, alice)
    assert order_state(database, args["order_id"]) == before
    assert stock(database, "V-SHOE-BL-9") == 5 and stock(database, "V-TEE-BL-M") == 40


def test_the_same_variant_again_is_a_replacement(confirm, database, alice):
    out = confirm("exchange_items", exchange_args("V-SHOE-BL-9"), alice).result
    assert out.price_difference == D("0.00") and out.transaction is None
    assert [(e.item_id, e.new_item_id) for e in out.exchanges] == [("V-SHOE-BL-9", "V-SHOE-BL-9")]
    assert stock(database, "V-SHOE-BL-9") == 5  # one back, one out


def test_exchange_to_unknown_variant_and_mismatched_lists(executor, alice):
    with pytest.raises(NotFoundError, match="no item V-NOPE"):
        executor.prepare("exchange_items", exchange_args("V-NOPE"), ctx=alice)
    args = exchange_args("V-SHOE-BL-10") | {"new_item_ids": ["V-SHOE-BL-10", "V-SOCK-M"]}
    with pytest.raises(InvalidArgumentsError) as info:
        executor.prepare("exchange_items", args, ctx=alice)
    assert info.value.errors[0]["argument"] == "new_item_ids"


# Shipping address --------------------------------------------------------------------------
def test_change_shipping_address_of_pending_order(executor, database, alice):
    args = {"order_id": "#W0000001", "address": NEW_ADDRESS}
    pending = executor.prepare("change_shipping_address", args, ctx=alice)
    assert pending.summary == (
        "Change the shipping address of order #W0000001 from 1 M*** St, Springfield, "
        "NY 10001, USA to 2 Oak Ave, Apt 3, Boston, MA 02110, USA."
    )
    out = executor.run("change_shipping_address", args, ctx=alice.confirmed(pending.token)).result
    assert out.status == "pending" and out.shipping_address["city"] == "Boston"
    assert order_state(database, "#W0000001")["address"] == NEW_ADDRESS


def test_changing_address_back_acts_again_instead_of_replaying(confirm, database, alice):
    other = NEW_ADDRESS | {"city": "Cambridge", "zip": "02139"}
    for address in (NEW_ADDRESS, other, NEW_ADDRESS):
        outcome = confirm("change_shipping_address", {"order_id": "#W0000001", "address": address}, alice)
        assert not outcome.replayed
    assert order_state(database, "#W0000001")["address"] == NEW_ADDRESS


def test_change_shipping_address_refusals(confirm, executor, database, alice):
    with pytest.raises(ActionRefusedError, match="#W0000002 is delivered; only pending"):
        confirm("change_shipping_address", {"order_id": "#W0000002", "address": NEW_ADDRESS}, alice)
    assert order_state(database, "#W0000002")["address"]["city"] == "Springfield"
    with pytest.raises(InvalidArgumentsError) as info:
        bad = {"order_id": "#W0000001", "address": NEW_ADDRESS | {"zip": "0!"}}
        executor.prepare("change_shipping_address", bad, ctx=alice)
    assert info.value.errors[0]["argument"] == "address.zip"
