"""Tables for the identifier and money extractors (dialogue_rules/extractors.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialogue_rules.entities.extractors import EntityExtractor, pick_longest
from dialogue_rules.entities.values import Entity, PriceRange
from dialogue_rules.registry import RuleRegistry

ORDER_IDS: list[tuple[str, list[str]]] = [
    ("where is my order #W1234567?", ["#W1234567"]),
    ("order W7654321 please", ["#W7654321"]),
    ("lowercase w2611340 works too", ["#W2611340"]),
    ("order number W 123 4567", ["#W1234567"]),
    ("it's # W4817420", ["#W4817420"]),
    ("W-6304490 and #W5199551", ["#W6304490", "#W5199551"]),
    ("my order number is 2378156", ["#W2378156"]),
    ("order#W1000001 arrived broken", ["#W1000001"]),
    # negatives
    ("W12345678 has eight digits", []),
    ("W123456 has six", []),
    ("product 6086499569 is a product id", []),
    ("call 555 1234567", []),
    ("MW1234567X is a part number", []),
]

EMAILS: list[tuple[str, list[str]]] = [
    ("my email is alice@example.com", ["alice@example.com"]),
    ("Noah.Brown7922@Example.COM", ["noah.brown7922@example.com"]),
    ("it's bob+shop@mail.co.uk.", ["bob+shop@mail.co.uk"]),
    ("email: jo_o'neil@example.org", ["jo_o'neil@example.org"]),
    ("a@b.co and c.d@e-f.com", ["a@b.co", "c.d@e-f.com"]),
    ("(anya.garcia3271@example.com)", ["anya.garcia3271@example.com"]),
    ("alice dot smith at example dot com", ["alice.smith@example.com"]),
    ("reach me at sam underscore lee at mail dot com", ["sam_lee@mail.com"]),
    # negatives
    ("alice@example", []),
    ("@example.com", []),
    ("meet me at the store at noon", []),
    ("alice@@example.com", []),
]

ZIPS: list[tuple[str, list[str]]] = [
    ("my zip is 10001", ["10001"]),
    ("I'm Alice Smith, 19122", ["19122"]),
    ("zip code: 80279-1234", ["80279-1234"]),
    ("ZIP 02134", ["02134"]),
    ("postal code 75277 please", ["75277"]),
    ("#W1234567 and zip 12345", ["12345"]),
    # negatives: inside an order id, a price, a longer number, a quantity
    ("order W1234567", []),
    ("order W 12345 67", []),
    ("it cost $10001", []),
    ("10001 dollars is too much", []),
    ("product id 6086499569", []),
    ("I want 12000 of these", []),
    ("1,000.50", []),
    ("version 10001.5", []),
]

P = PriceRange
PRICES: list[tuple[str, list[PriceRange]]] = [
    ("running shoes under $80", [P(max_price=Decimal(80))]),
    ("less than 80 dollars", [P(max_price=Decimal(80))]),
    ("cheaper than 50", [P(max_price=Decimal(50))]),
    ("max 80", [P(max_price=Decimal(80))]),
    ("$80 or less", [P(max_price=Decimal(80))]),
    ("no more than 40 bucks", [P(max_price=Decimal(40))]),
    ("between 20 and 50", [P(min_price=Decimal(20), max_price=Decimal(50))]),
    ("$30-$60", [P(min_price=Decimal(30), max_price=Decimal(60))]),
    ("from 60 to 30 dollars", [P(min_price=Decimal(30), max_price=Decimal(60))]),
    ("at least $100", [P(min_price=Decimal(100))]),
    ("$150+", [P(min_price=Decimal(150))]),
    (
        "around 100",
        [P(min_price=Decimal("80.00"), max_price=Decimal("120.00"), target=Decimal(100), approximate=True)],
    ),
    ("is it $1,299.99?", [P(target=Decimal("1299.99"))]),
    ("under 2k", [P(max_price=Decimal(2000))]),
    ("2 for $30", [P(target=Decimal(30))]),
    # negatives: durations, quantities, bare numbers, sizes, weak comparators without money
    ("under 3 days", []),
    ("more than 2 of them", []),
    ("I want 3", []),
    ("size 10.5", []),
    ("up to 4", []),
    ("from 9 to 5", []),
    ("sizes from 8 to 10", []),
    ("between 2 and 3 weeks", []),
    ("order W1234567", []),
]

CASES = {"order_id": ORDER_IDS, "email": EMAILS, "zip_code": ZIPS}


def _values(extractor: EntityExtractor, text: str) -> list[object]:
    return [entity.value for entity in extractor.extract(text)]


@pytest.mark.parametrize(("text", "expected"), ORDER_IDS)
def test_order_ids(text: str, expected: list[str], extractors: RuleRegistry[EntityExtractor]) -> None:
    assert _values(extractors.get("order_id"), text) == expected


@pytest.mark.parametrize(("text", "expected"), EMAILS)
def test_emails(text: str, expected: list[str], extractors: RuleRegistry[EntityExtractor]) -> None:
    assert _values(extractors.get("email"), text) == expected


@pytest.mark.parametrize(("text", "expected"), ZIPS)
def test_zip_codes(text: str, expected: list[str], extractors: RuleRegistry[EntityExtractor]) -> None:
    assert _values(extractors.get("zip_code"), text) == expected


@pytest.mark.parametrize(("text", "expected"), PRICES)
def test_prices(text: str, expected: list[PriceRange], extractors: RuleRegistry[EntityExtractor]) -> None:
    assert _values(extractors.get("price"), text) == expected


def test_every_table_has_ten_cases_and_negatives() -> None:
    for table in (ORDER_IDS, EMAILS, ZIPS, PRICES):
        assert len(table) >= 10
        assert any(expected == [] for _, expected in table)


def test_spans_and_text_point_into_the_input(extractors: RuleRegistry[EntityExtractor]) -> None:
    text = "Hi, order #W1234567 under $80 to 10001"
    for name in ("order_id", "price", "zip_code"):
        for entity in extractors.get(name).extract(text):
            start, end = entity.span
            assert text[start:end] == entity.text
            assert 0 < entity.confidence <= 1


def test_confidence_reflects_how_explicit_the_value_is(extractors: RuleRegistry[EntityExtractor]) -> None:
    order = extractors.get("order_id")
    assert order.extract("#W1234567")[0].confidence > order.extract("W 123 4567")[0].confidence
    zips = extractors.get("zip_code")
    assert zips.extract("zip 10001")[0].confidence > zips.extract("10001")[0].confidence
    price = extractors.get("price")
    assert price.extract("under $80")[0].confidence > price.extract("under 80")[0].confidence


def test_price_range_contains() -> None:
    assert P(max_price=Decimal(80)).contains(Decimal("79.99"))
    assert not P(max_price=Decimal(80)).contains(Decimal("80.01"))
    assert P(min_price=Decimal(20), max_price=Decimal(50)).contains(Decimal(20))
    assert P(target=Decimal(45)).contains(Decimal(45))
    assert not P(target=Decimal(45)).contains(Decimal(44))


def test_pick_longest_prefers_the_longer_overlapping_entity() -> None:
    short = Entity("price", P(target=Decimal(5)), (0, 2), "$5", 0.9)
    long = Entity("price", P(max_price=Decimal(5)), (0, 8), "under $5", 0.8)
    apart = Entity("price", P(target=Decimal(7)), (10, 12), "$7", 0.9)
    assert pick_longest([short, apart, long]) == [long, apart]
