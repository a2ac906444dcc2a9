"""The grounding check: phrased text may state only what the facts and the draft back."""

from __future__ import annotations

from decimal import Decimal

from assistant.reply.grounding import FactSheet, check_grounding, numbers_in
from core.facts import FactKind, FactValue

DRAFT = "Trailblazer Running Shoe by Stridewell costs $79.99 to $84.99. 7 in stock."
SHEET = FactSheet.build(
    draft=DRAFT,
    values=[FactValue(FactKind.PRICE, Decimal("79.99"), "min_price"), FactValue(FactKind.STOCK, 7, "stock")],
)


def test_numbers_are_normalised_and_ids_are_not_numbers() -> None:
    assert numbers_in("It costs $12.00, or 1,299.50 for two; order #W0000001") == {
        Decimal("12"),
        Decimal("1299.5"),
    }


def test_a_faithful_rewrite_passes() -> None:
    text = (
        "Great news! The Trailblazer Running Shoe by Stridewell costs $79.99 to $84.99, and 7 are in stock."
    )
    assert check_grounding(text, SHEET).ok


def test_a_changed_price_fails() -> None:
    result = check_grounding("The Trailblazer Running Shoe costs $69.99.", SHEET)
    assert not result.ok
    assert any("69.99" in p for p in result.problems)


def test_a_changed_stock_figure_fails() -> None:
    assert not check_grounding("We have 12 in stock.", SHEET).ok


def test_an_invented_discount_fails() -> None:
    result = check_grounding("It costs $79.99 and today you get a discount!", SHEET)
    assert {"promise 'discount' is not in the facts", "promise 'today' is not in the facts"} <= set(
        result.problems
    )


def test_an_invented_product_name_fails() -> None:
    result = check_grounding("You might also like the Cloud Runner Pro.", SHEET)
    assert any("Cloud Runner Pro" in p for p in result.problems)


def test_a_status_not_in_the_facts_fails() -> None:
    sheet = FactSheet.build(draft="Order #W0000001 is pending.")
    assert check_grounding("Your order #W0000001 is pending.", sheet).ok
    assert not check_grounding("Your order #W0000001 has been delivered.", sheet).ok
    assert not check_grounding("Your order #W0000009 is pending.", sheet).ok


def test_availability_claims_need_backing() -> None:
    sheet = FactSheet.build(draft="Sorry, the Arc Desk Lamp is not available in red right now.")
    assert not check_grounding("Good news, the Arc Desk Lamp is in stock!", sheet).ok


def test_empty_and_overlong_text_fail() -> None:
    assert not check_grounding("  ", SHEET).ok
    assert not check_grounding("Trailblazer Running Shoe. " * 40, SHEET, draft_length=len(DRAFT)).ok
