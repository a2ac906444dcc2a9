"""Pricing: quantity tiers, promo codes and the quote tool, against the fixture shop.

Fixture prices used below: V-TEE-BL-M 19.99, V-SOCK-M 12.00, V-BOT-SL 24.50, V-SHOE-BL-10 84.99
(category Running Shoes). Default tiers: 3+ units 5% off, 10+ units 10% off.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.errors import ActionRefusedError, InvalidArgumentsError, NotFoundError
from store.models import Product, Promotion, Variant
from tests.shop_fixture import NOW
from tools.base import ToolContext, ToolEnv
from tools.pricing import load_variants, price_lines, spread_discount


def quote(executor, ctx, items, promo=None):
    args = {"items": [{"variant_id": v, "quantity": q} for v, q in items]}
    if promo is not None:
        args["promo_code"] = promo
    return executor.run("quote", args, ctx=ctx).result


def refusal(executor, ctx, items, promo):
    with pytest.raises(ActionRefusedError) as info:
        quote(executor, ctx, items, promo)
    return info.value


@pytest.mark.parametrize(
    ("quantity", "unit_after", "discount", "line_total"),
    [
        (1, "19.99", "0.00", "19.99"),
        (2, "19.99", "0.00", "39.98"),
        (3, "18.99", "3.00", "56.97"),  # 5%: 18.9905 -> 18.99
        (9, "18.99", "9.00", "170.91"),
        (10, "17.99", "20.00", "179.90"),  # 10%: 17.991 -> 17.99
    ],
)
def test_quantity_tiers(executor, anonymous, quantity, unit_after, discount, line_total):
    result = quote(executor, anonymous, [("V-TEE-BL-M", quantity)])
    line = result.lines[0]
    assert line.unit_price == Decimal("19.99")
    assert line.final_unit_price == Decimal(unit_after)
    assert line.quantity_discount == Decimal(discount)
    assert line.line_total == Decimal(line_total)
    assert result.subtotal == result.total == Decimal(line_total)
    assert result.promo_code is None and result.promo_discount == Decimal("0.00")
    assert result.currency == "USD"


def test_quantity_tier_applies_per_line(executor, anonymous):
    result = quote(executor, anonymous, [("V-SOCK-M", 3), ("V-BOT-SL", 1)])
    by_id = {line.variant_id: line for line in result.lines}
    assert by_id["V-SOCK-M"].line_total == Decimal("34.20")  # 12.00 -> 11.40
    assert by_id["V-BOT-SL"].line_total == Decimal("24.50")
    assert result.total == Decimal("58.70")


def test_quote_lines_are_facts_from_the_store(executor, anonymous):
    result = quote(executor, anonymous, [("V-SHOE-BL-10", 1)])
    line = result.lines[0]
    assert (line.product_id, line.title) == ("P-SHOE", "Trailblazer Running Shoe")
    assert line.options == {"color": "blue", "size": "10"}
    facts = {(f.kind.value, f.path) for f in result.facts()}
    assert ("amount", "total") in facts and ("price", "lines[0].unit_price") in facts
    assert ("name", "lines[0].title") in facts


def test_duplicate_items_are_merged_before_tiers(executor, anonymous):
    result = quote(executor, anonymous, [("V-SOCK-M", 2), ("V-SOCK-M", 1)])
    assert [(line.variant_id, line.quantity) for line in result.lines] == [("V-SOCK-M", 3)]
    assert result.total == Decimal("34.20")


def test_save10_percent_off(executor, anonymous):
    result = quote(executor, anonymous, [("V-SHOE-BL-10", 1)], "SAVE10")
    assert result.promo_code == "SAVE10"
    assert result.promo_discount == Decimal("8.50")  # 10% of 84.99 = 8.499
    assert result.total == Decimal("76.49")


def test_promo_code_is_case_insensitive(executor, anonymous):
    result = quote(executor, anonymous, [("V-SHOE-BL-10", 1)], " save10 ")
    assert result.promo_code == "SAVE10" and result.total == Decimal("76.49")


def test_save10_below_minimum_is_refused(executor, anonymous):
    error = refusal(executor, anonymous, [("V-BOT-SL", 1)], "SAVE10")
    assert error.context["reason"] == "minimum_not_met"
    assert "50.00" in error.message and "24.50" in error.message


def test_minimum_uses_subtotal_after_quantity_discounts(executor, anonymous, database):
    with database.transaction() as s:
        s.add(
            Variant(id="V-SOCK-L", product_id="P-SOCK", options={"size": "L"}, price=Decimal("17"), stock=9)
        )
    # 3 x 17.00 = 51.00 list price, but 3 x 16.15 = 48.45 after the 5% tier.
    error = refusal(executor, anonymous, [("V-SOCK-L", 3)], "SAVE10")
    assert error.context["reason"] == "minimum_not_met" and "48.45" in error.message


def test_fiveoff_amount_off(executor, anonymous):
    result = quote(executor, anonymous, [("V-BOT-SL", 1)], "fiveoff")
    assert result.promo_discount == Decimal("5.00")
    assert result.total == Decimal("19.50")


def test_amount_off_never_exceeds_what_is_bought(executor, anonymous, database):
    with database.transaction() as s:
        s.add(Product(id="P-PIN", title="Enamel Pin", category="Accessories", brand="X", description=""))
        s.add(Variant(id="V-PIN", product_id="P-PIN", options={}, price=Decimal("3.00"), stock=5))
    result = quote(executor, anonymous, [("V-PIN", 1)], "FIVEOFF")
    assert result.promo_discount == Decimal("3.00")
    assert result.total == Decimal("0.00")
    assert result.lines[0].final_unit_price == Decimal("0.00")


def test_shoes15_applies_only_to_running_shoes(executor, anonymous):
    result = quote(executor, anonymous, [("V-SHOE-BL-10", 1), ("V-SOCK-M", 1)], "SHOES15")
    by_id = {line.variant_id: line for line in result.lines}
    assert by_id["V-SHOE-BL-10"].promo_discount == Decimal("12.75")  # 15% of 84.99 = 12.7485
    assert by_id["V-SOCK-M"].promo_discount == Decimal("0.00")
    assert by_id["V-SOCK-M"].final_unit_price == Decimal("12.00")
    assert result.subtotal == Decimal("96.99")
    assert result.total == Decimal("84.24")


def test_shoes15_without_shoes_is_refused(executor, anonymous):
    error = refusal(executor, anonymous, [("V-SOCK-M", 1)], "SHOES15")
    assert error.context["reason"] == "no_eligible_items" and "Running Shoes" in error.message


@pytest.mark.parametrize(
    ("code", "reason", "words"),
    [
        ("EXPIRED", "expired", "expired on 2025-11-01"),
        ("INACTIVE", "not_active", "is not active"),
        ("NOPE", "unknown_code", "no promo code 'NOPE'"),
    ],
)
def test_unusable_promo_codes_are_refused(executor, anonymous, code, reason, words):
    error = refusal(executor, anonymous, [("V-SHOE-BL-10", 1)], code)
    assert error.context["reason"] == reason
    assert words in error.message


def test_promo_window_uses_the_clock(database, settings):
    with database.transaction() as s:
        s.add(Promotion(code="LATER", percent_off=Decimal("20"), starts_at=datetime(2027, 1, 1, tzinfo=UTC)))
    with database.session() as s:
        variant = load_variants(ToolEnv(db=s, shop=settings.shop), ["V-BOT-SL"])["V-BOT-SL"]
        early = ToolEnv(db=s, shop=settings.shop, now=lambda: NOW)
        with pytest.raises(ActionRefusedError, match="not active yet; it starts on 2027-01-01"):
            price_lines(early, [(variant, 1)], "LATER")
        late = ToolEnv(db=s, shop=settings.shop, now=lambda: datetime(2027, 2, 1, tzinfo=UTC))
        assert price_lines(late, [(variant, 1)], "LATER").total == Decimal("19.60")
        # EXPIRED ended 2025-11-01 (stored naive, read back as UTC): usable the day before.
        before = ToolEnv(db=s, shop=settings.shop, now=lambda: datetime(2025, 10, 31, tzinfo=UTC))
        assert price_lines(before, [(variant, 1)], "EXPIRED").total == Decimal("12.25")


def test_percent_promo_is_spread_over_lines_in_whole_cents(executor, anonymous):
    # 10% of 96.99 = 9.70, split 8.50 / 1.20 in proportion to the lines.
    result = quote(executor, anonymous, [("V-SHOE-BL-10", 1), ("V-SOCK-M", 1)], "SAVE10")
    assert [line.final_unit_price for line in result.lines] == [Decimal("76.49"), Decimal("10.80")]
    assert result.promo_discount == Decimal("9.70") and result.total == Decimal("87.29")


def test_amount_promo_spread_keeps_total_exact(executor, anonymous):
    # 5.00 off 34.20 (3 socks) + 24.50 (bottle): 0.97 per sock, 2.09 on the bottle.
    result = quote(executor, anonymous, [("V-SOCK-M", 3), ("V-BOT-SL", 1)], "FIVEOFF")
    assert [line.final_unit_price for line in result.lines] == [Decimal("10.43"), Decimal("22.41")]
    assert result.promo_discount == Decimal("5.00") and result.total == Decimal("53.70")


def test_uneven_cents_go_to_the_customer(executor, anonymous):
    # 5.00 cannot be split evenly over 3 units: each unit gets 1.67 off (5.01 in all).
    result = quote(executor, anonymous, [("V-SOCK-M", 3)], "FIVEOFF")
    assert result.lines[0].final_unit_price == Decimal("9.73")
    assert result.promo_discount == Decimal("5.01") and result.total == Decimal("29.19")


def test_spread_discount_edges():
    assert spread_discount(500, [(1140, 3), (2450, 1)]) == [97, 209]
    assert spread_discount(500, [(1140, 3)]) == [167]
    assert spread_discount(10_000, [(300, 1)]) == [300]
    assert spread_discount(0, [(300, 2)]) == [0]
    assert spread_discount(100, [(0, 1)]) == [0]


def test_quote_unknown_variant(executor, anonymous):
    with pytest.raises(NotFoundError, match="V-NOPE"):
        quote(executor, anonymous, [("V-BOT-SL", 1), ("V-NOPE", 1)])


def test_quote_quantity_above_cart_limit_is_a_bad_argument(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        quote(executor, anonymous, [("V-BOT-SL", 51)])
    assert info.value.errors[0]["argument"] == "items.0.quantity"
    with pytest.raises(InvalidArgumentsError, match="at most 50"):
        quote(executor, anonymous, [("V-SOCK-M", 30), ("V-SOCK-M", 30)])


def test_quote_rejects_zero_quantity_and_price_arguments(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        quote(executor, anonymous, [("V-BOT-SL", 0)])
    assert info.value.errors[0]["argument"] == "items.0.quantity"
    bad = {"items": [{"variant_id": "V-BOT-SL", "quantity": 1, "price": 1}]}
    with pytest.raises(InvalidArgumentsError, match="price"):
        executor.run("quote", bad, ctx=anonymous)


def test_quote_without_items_prices_the_cart(executor, anonymous):
    executor.run("add_to_cart", {"variant_id": "V-TEE-BL-M", "quantity": 3}, ctx=anonymous)
    result = executor.run("quote", {"promo_code": "SAVE10"}, ctx=anonymous).result
    assert result.subtotal == Decimal("56.97")
    assert result.promo_discount == Decimal("5.70")  # 10% of 56.97 = 5.697
    assert result.total == Decimal("51.27")


def test_quote_of_an_empty_or_sessionless_cart_is_refused(executor, anonymous):
    with pytest.raises(ActionRefusedError, match="the cart is empty"):
        executor.run("quote", {}, ctx=anonymous)
    with pytest.raises(ActionRefusedError, match="the cart is empty"):
        executor.run("quote", {}, ctx=ToolContext())
