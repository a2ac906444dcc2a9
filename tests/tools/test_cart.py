"""Cart tools and checkout, against the fixture shop.

Fixture values used below: V-SHOE-BL-9 79.99 (stock 5), V-SHOE-BL-10 84.99 (stock 2),
V-SHOE-RD-9 out of stock, V-SOCK-M 12.00 (stock 30), V-TEE-BL-M 19.99 (stock 40), V-BOT-SL 24.50
(stock 100). Alice: credit_card_1001 (Visa 4242), gift_card_1001 (balance 50.00), default address
Springfield 10001. Bob: paypal_2002.
"""

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.errors import (
    ActionRefusedError,
    AuthenticationRequiredError,
    ConfirmationRequiredError,
    NotFoundError,
    PermissionDeniedError,
)
from store.models import (
    Cart,
    CartStatus,
    Customer,
    Order,
    PaymentMethod,
    PaymentSource,
    TransactionKind,
    Variant,
)
from tools.base import ToolContext

pytestmark = pytest.mark.databases

CARD = {"payment_method_id": "credit_card_1001"}


def add(executor, ctx, variant_id, quantity=1):
    return executor.run("add_to_cart", {"variant_id": variant_id, "quantity": quantity}, ctx=ctx).result


def stock(database, variant_id):
    with database.session() as s:
        return s.get(Variant, variant_id).stock


def set_stock(database, variant_id, value):
    with database.transaction() as s:
        s.get(Variant, variant_id).stock = value


def order_count(database):
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Order))


def carts_of(database, session_id):
    with database.session() as s:
        return [(c.status, c.order_id) for c in s.scalars(select(Cart).where(Cart.session_id == session_id))]


# Cart --------------------------------------------------------------------------------------
def test_add_to_cart_creates_one_cart_and_accumulates(executor, anonymous, database):
    view = add(executor, anonymous, "V-TEE-BL-M", 2)
    assert [(i.variant_id, i.quantity) for i in view.items] == [("V-TEE-BL-M", 2)]
    assert view.quote.total == Decimal("39.98") and view.item_count == 2
    view = add(executor, anonymous, "V-TEE-BL-M")
    assert view.items[0].quantity == 3
    assert view.quote.lines[0].line_total == Decimal("56.97")  # 3+ units: 5% off 19.99
    assert view.items[0].unit_price == Decimal("19.99") and view.items[0].stock == 40
    assert carts_of(database, "sess-anon") == [(CartStatus.OPEN, None)]


def test_a_cart_write_run_again_for_the_same_request_replays(executor, anonymous, database):
    """A turn run again for the same message (a crash before it was recorded) makes the same
    calls with the same request names: the cart is changed once."""
    first = replace(anonymous, request="tg:1#0")
    ran = executor.run("add_to_cart", {"variant_id": "V-SOCK-M", "quantity": 2}, ctx=first)
    again = executor.run("add_to_cart", {"variant_id": "V-SOCK-M", "quantity": 2}, ctx=first)
    assert not ran.replayed and again.replayed
    assert again.result == ran.result
    assert executor.run("view_cart", {}, ctx=anonymous).result.item_count == 2
    # Another request, other arguments or no request at all: a new write.
    executor.run("add_to_cart", {"variant_id": "V-SOCK-M"}, ctx=replace(anonymous, request="tg:1#1"))
    executor.run("add_to_cart", {"variant_id": "V-SOCK-M", "quantity": 3}, ctx=first)
    executor.run("add_to_cart", {"variant_id": "V-SOCK-M"}, ctx=anonymous)
    assert executor.run("view_cart", {}, ctx=anonymous).result.item_count == 7
    removed = executor.run("remove_from_cart", {"variant_id": "V-SOCK-M", "quantity": 1}, ctx=first)
    again = executor.run("remove_from_cart", {"variant_id": "V-SOCK-M", "quantity": 1}, ctx=first)
    assert again.replayed and again.result == removed.result
    assert executor.run("view_cart", {}, ctx=anonymous).result.item_count == 6
    # The same request name in another conversation is another request.
    other = ToolContext(session_id="sess-other", request="tg:1#0")
    assert not executor.run("add_to_cart", {"variant_id": "V-SOCK-M", "quantity": 2}, ctx=other).replayed


def test_carts_belong_to_their_conversation(executor, alice, bob):
    add(executor, alice, "V-SOCK-M", 2)
    assert executor.run("view_cart", {}, ctx=bob).result.items == []
    assert executor.run("view_cart", {}, ctx=alice).result.item_count == 2


def test_cart_needs_a_session(executor):
    with pytest.raises(ActionRefusedError, match="no session id"):
        add(executor, ToolContext(), "V-SOCK-M")
    with pytest.raises(ActionRefusedError, match="no session id"):
        executor.run("view_cart", {}, ctx=ToolContext())


def test_add_out_of_stock_is_refused(executor, anonymous, database):
    with pytest.raises(ActionRefusedError, match=r"Trailblazer Running Shoe \(red, 9\) is out of stock"):
        add(executor, anonymous, "V-SHOE-RD-9")
    assert carts_of(database, "sess-anon") == []


def test_add_more_than_stock_is_refused(executor, anonymous):
    with pytest.raises(ActionRefusedError, match=r"Only 2 of .* in stock; that would make 3") as info:
        add(executor, anonymous, "V-SHOE-BL-10", 3)
    assert info.value.context["stock"] == 2
    add(executor, anonymous, "V-SHOE-BL-10", 2)
    with pytest.raises(ActionRefusedError, match="that would make 3"):
        add(executor, anonymous, "V-SHOE-BL-10", 1)
    assert executor.run("view_cart", {}, ctx=anonymous).result.items[0].quantity == 2


def test_add_more_than_cart_limit_is_refused(executor, anonymous):
    with pytest.raises(ActionRefusedError, match=r"At most 50 units .* that would make 51"):
        add(executor, anonymous, "V-BOT-SL", 51)


def test_add_unknown_variant(executor, anonymous):
    with pytest.raises(NotFoundError, match="V-NOPE"):
        add(executor, anonymous, "V-NOPE")


def test_remove_reduces_then_removes(executor, anonymous):
    add(executor, anonymous, "V-TEE-BL-M", 3)
    add(executor, anonymous, "V-SOCK-M", 1)
    view = executor.run("remove_from_cart", {"variant_id": "V-TEE-BL-M", "quantity": 2}, ctx=anonymous).result
    assert [(i.variant_id, i.quantity) for i in view.items] == [("V-TEE-BL-M", 1), ("V-SOCK-M", 1)]
    view = executor.run("remove_from_cart", {"variant_id": "V-TEE-BL-M"}, ctx=anonymous).result
    assert [i.variant_id for i in view.items] == ["V-SOCK-M"]
    view = executor.run("remove_from_cart", {"variant_id": "V-SOCK-M", "quantity": 5}, ctx=anonymous).result
    assert view.items == [] and view.quote is None


def test_remove_what_is_not_in_the_cart(executor, anonymous):
    with pytest.raises(NotFoundError, match="V-SOCK-M is not in the cart"):
        executor.run("remove_from_cart", {"variant_id": "V-SOCK-M"}, ctx=anonymous)
    add(executor, anonymous, "V-TEE-BL-M")
    with pytest.raises(NotFoundError, match="V-SOCK-M is not in the cart"):
        executor.run("remove_from_cart", {"variant_id": "V-SOCK-M"}, ctx=anonymous)


def test_view_empty_cart(executor, anonymous):
    view = executor.run("view_cart", {"promo_code": "SAVE10"}, ctx=anonymous).result
    assert view.cart_id is None and view.items == [] and view.quote is None
    assert view.problems == ["Promo code SAVE10 was not applied: the cart is empty"]


def test_view_cart_with_promo_and_stock_problems(executor, anonymous, database):
    add(executor, anonymous, "V-SHOE-BL-10", 2)
    view = executor.run("view_cart", {"promo_code": "SHOES15"}, ctx=anonymous).result
    assert view.quote.subtotal == Decimal("169.98")
    assert view.quote.promo_discount == Decimal("25.50")  # 15% of 169.98 = 25.497
    assert view.quote.total == Decimal("144.48")
    assert view.problems == [] and view.items[0].available
    set_stock(database, "V-SHOE-BL-10", 1)
    view = executor.run("view_cart", {}, ctx=anonymous).result
    assert not view.items[0].available and view.items[0].stock == 1
    assert view.problems == ["Only 1 of Trailblazer Running Shoe (blue, 10) in stock; the cart has 2"]
    with pytest.raises(ActionRefusedError, match="no promo code"):
        executor.run("view_cart", {"promo_code": "BOGUS"}, ctx=anonymous)


# Checkout ----------------------------------------------------------------------------------
def test_checkout_places_a_pending_order(executor, alice, database, confirm):
    add(executor, alice, "V-SHOE-BL-9", 2)
    add(executor, alice, "V-SOCK-M", 1)
    summary = executor.prepare("checkout", CARD, ctx=alice).summary
    for part in (
        "2 x Trailblazer Running Shoe (blue, 9)",
        "1 x Merino Running Socks (M)",
        "171.98 USD",
        "Visa ending 4242",
        "Springfield 10001",
    ):
        assert part in summary
    out = confirm("checkout", CARD, alice)
    result = out.result
    assert re.fullmatch(r"#W\d{7}", result.order_id) and result.status == "pending"
    assert result.total == Decimal("171.98") and not out.replayed
    assert (result.payment_method, result.ship_to) == ("Visa ending 4242", "Springfield 10001")
    assert stock(database, "V-SHOE-BL-9") == 3 and stock(database, "V-SOCK-M") == 29
    with database.session() as s:
        order = s.get(Order, result.order_id)
        assert order.customer_id == "alice_smith_1001" and order.status.value == "pending"
        assert [(i.variant_id, i.quantity, i.price) for i in order.items] == [
            ("V-SHOE-BL-9", 2, Decimal("79.99")),
            ("V-SOCK-M", 1, Decimal("12.00")),
        ]
        assert order.shipping_address["city"] == "Springfield" and order.shipping_address["zip"] == "10001"
        [payment] = order.transactions
        assert payment.kind is TransactionKind.PAYMENT and payment.amount == Decimal("171.98")
        assert payment.payment_method_id == "credit_card_1001"
    assert carts_of(database, "sess-alice") == [(CartStatus.CHECKED_OUT, result.order_id)]
    assert executor.run("view_cart", {}, ctx=alice).result.items == []


def test_checkout_with_promo_and_address_charges_the_quote(executor, alice, database, confirm):
    add(executor, alice, "V-SOCK-M", 3)
    add(executor, alice, "V-BOT-SL", 1)
    address = {"address1": "5 Elm St", "city": "Albany", "state": "NY", "country": "USA", "zip": "12207"}
    args = {**CARD, "promo_code": "fiveoff", "shipping_address": address}
    result = confirm("checkout", args, alice).result
    assert result.promo_code == "FIVEOFF" and result.promo_discount == Decimal("5.00")
    assert result.total == Decimal("53.70") and result.ship_to == "Albany 12207"  # 58.70 - 5.00
    with database.session() as s:
        order = s.get(Order, result.order_id)
        assert [i.price for i in order.items] == [Decimal("10.43"), Decimal("22.41")]
        assert order.total == Decimal("53.70") == order.transactions[0].amount
        assert order.shipping_address["city"] == "Albany"
        assert s.scalar(select(Cart.promo_code).where(Cart.order_id == result.order_id)) == "FIVEOFF"


def test_checkout_without_confirmation_changes_nothing(executor, alice, database):
    add(executor, alice, "V-SHOE-BL-9", 1)
    before = order_count(database)
    with pytest.raises(ConfirmationRequiredError):
        executor.run("checkout", CARD, ctx=alice)
    assert order_count(database) == before and stock(database, "V-SHOE-BL-9") == 5
    assert carts_of(database, "sess-alice") == [(CartStatus.OPEN, None)]


def test_checkout_needs_authentication(executor, anonymous):
    add(executor, anonymous, "V-SOCK-M")
    with pytest.raises(AuthenticationRequiredError):
        executor.prepare("checkout", CARD, ctx=anonymous)


def test_checkout_with_someone_elses_payment_method(executor, alice, database):
    add(executor, alice, "V-SOCK-M")
    with pytest.raises(PermissionDeniedError, match="paypal_2002"):
        executor.prepare("checkout", {"payment_method_id": "paypal_2002"}, ctx=alice)
    assert stock(database, "V-SOCK-M") == 30


def test_checkout_empty_cart_is_refused(executor, alice):
    with pytest.raises(ActionRefusedError, match="the cart is empty"):
        executor.prepare("checkout", CARD, ctx=alice)


def test_checkout_with_gift_card(executor, alice, database, confirm):
    gift = {"payment_method_id": "gift_card_1001"}
    add(executor, alice, "V-SOCK-M", 2)
    assert "Gift card (balance 50.00)" in executor.prepare("checkout", gift, ctx=alice).summary
    result = confirm("checkout", gift, alice).result
    assert result.total == Decimal("24.00")
    with database.session() as s:
        assert s.get(PaymentMethod, "gift_card_1001").balance == Decimal("26.00")


def test_gift_card_short_of_the_total_is_refused(executor, alice, database):
    gift = {"payment_method_id": "gift_card_1001"}
    add(executor, alice, "V-SHOE-BL-9")
    with pytest.raises(ActionRefusedError, match=r"balance 50\.00 USD does not cover the total 79\.99"):
        executor.prepare("checkout", gift, ctx=alice)
    executor.run("remove_from_cart", {"variant_id": "V-SHOE-BL-9"}, ctx=alice)
    add(executor, alice, "V-BOT-SL")
    token = executor.prepare("checkout", gift, ctx=alice).token
    with database.transaction() as s:
        s.get(PaymentMethod, "gift_card_1001").balance = Decimal("20.00")
    with pytest.raises(ActionRefusedError, match=r"does not cover the total 24\.50"):
        executor.run("checkout", gift, ctx=alice.confirmed(token))
    assert stock(database, "V-BOT-SL") == 100
    with database.session() as s:
        assert s.get(PaymentMethod, "gift_card_1001").balance == Decimal("20.00")


def test_checkout_refuses_all_when_one_line_lacks_stock(executor, alice, database):
    add(executor, alice, "V-SOCK-M", 2)
    add(executor, alice, "V-SHOE-BL-10", 2)
    token = executor.prepare("checkout", CARD, ctx=alice).token
    set_stock(database, "V-SHOE-BL-10", 1)
    before = order_count(database)
    with pytest.raises(ActionRefusedError, match=r"Only 1 of Trailblazer Running Shoe \(blue, 10\)") as info:
        executor.run("checkout", CARD, ctx=alice.confirmed(token))
    assert info.value.context["variant_id"] == "V-SHOE-BL-10"
    assert stock(database, "V-SOCK-M") == 30 and stock(database, "V-SHOE-BL-10") == 1
    assert order_count(database) == before
    assert carts_of(database, "sess-alice") == [(CartStatus.OPEN, None)]


def test_checkout_without_any_address(executor, database, confirm):
    with database.transaction() as s:
        carol = Customer(id="carol_3003", first_name="Carol", last_name="Diaz", email="carol@example.com")
        carol.payment_methods.append(PaymentMethod(id="paypal_3003", source=PaymentSource.PAYPAL))
        s.add(carol)
    carol_ctx = ToolContext(session_id="sess-carol", customer_id="carol_3003")
    add(executor, carol_ctx, "V-SOCK-M")
    with pytest.raises(ActionRefusedError, match="no shipping address"):
        executor.prepare("checkout", {"payment_method_id": "paypal_3003"}, ctx=carol_ctx)
    address = {"address1": "2 Oak Rd", "city": "Austin", "state": "TX", "country": "USA", "zip": "73301"}
    args = {"payment_method_id": "paypal_3003", "shipping_address": address}
    assert confirm("checkout", args, carol_ctx).result.ship_to == "Austin 73301"


def test_retried_checkout_replays_the_same_order(executor, alice, database):
    add(executor, alice, "V-SHOE-BL-9", 2)
    confirmed = alice.confirmed(executor.prepare("checkout", CARD, ctx=alice).token)
    first = executor.run("checkout", CARD, ctx=confirmed)
    second = executor.run("checkout", CARD, ctx=confirmed)
    assert second.replayed and not first.replayed
    assert second.result.order_id == first.result.order_id
    assert stock(database, "V-SHOE-BL-9") == 3
    with database.session() as s:
        mine = select(func.count()).select_from(Order).where(Order.customer_id == alice.customer_id)
        assert s.scalar(mine) == 5  # four fixture orders + this one


def test_a_new_cart_with_the_same_payment_method_is_a_new_order(executor, alice, database, confirm):
    add(executor, alice, "V-SOCK-M", 1)
    first = confirm("checkout", CARD, alice)
    add(executor, alice, "V-SOCK-M", 1)
    second = confirm("checkout", CARD, alice)
    assert not second.replayed and second.result.order_id != first.result.order_id
    assert stock(database, "V-SOCK-M") == 28


def test_tampered_confirmation_is_refused(executor, alice, database):
    add(executor, alice, "V-SHOE-BL-9", 1)
    token = executor.prepare("checkout", CARD, ctx=alice).token
    with pytest.raises(ConfirmationRequiredError, match="does not match"):
        executor.run("checkout", {**CARD, "promo_code": "FIVEOFF"}, ctx=alice.confirmed(token))
    assert stock(database, "V-SHOE-BL-9") == 5


def test_a_confirmation_is_not_valid_for_a_different_cart(executor, alice, database):
    add(executor, alice, "V-SOCK-M", 1)
    token = executor.prepare("checkout", CARD, ctx=alice).token
    first = executor.run("checkout", CARD, ctx=alice.confirmed(token))
    add(executor, alice, "V-SHOE-BL-9", 1)  # a new cart: the old "yes" must not buy it
    with pytest.raises(ConfirmationRequiredError, match="does not match"):
        executor.run("checkout", CARD, ctx=alice.confirmed(token))
    assert stock(database, "V-SHOE-BL-9") == 5
    with database.session() as s:
        mine = select(func.count()).select_from(Order).where(Order.customer_id == alice.customer_id)
        assert s.scalar(mine) == 5  # four fixture orders + the first checkout only
    assert first.result.order_id.startswith("#W")
