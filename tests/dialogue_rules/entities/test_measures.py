"""Tables for the quantity and size extractors (dialogue_rules/extractors_measures.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialogue_rules.entities.extractors import EntityExtractor
from dialogue_rules.entities.values import SizeValue
from dialogue_rules.registry import RuleRegistry

QUANTITIES: list[tuple[str, list[int]]] = [
    ("2 of them please", [2]),
    ("three", [3]),
    ("I'll take three", [3]),
    ("a pair of socks", [2]),
    ("x3", [3]),
    ("3x the blue bottle", [3]),
    ("qty: 4", [4]),
    ("add 5 to my cart", [5]),
    ("two pairs of running socks", [2]),
    ("half a dozen bottles", [6]),
    ("make it twenty-five", [25]),
    ("just one please", [1]),
    ("I want 3 of the $20 socks", [3]),
    ("2 for $30", [2]),
    # negatives: a price, a size, an order id, a zip, a reference, a duration, a capacity
    ("under $20", []),
    ("size 10 please", []),
    ("order W1234567", []),
    ("my zip is 10001", []),
    ("the first two", []),
    ("option 2", []),
    ("it arrived in 3 days", []),
    ("a 2 person tent", []),
    ("the 750ml one", []),
    ("32x30 jeans", []),
    ("I want the blue one", []),
    ("I'm 30 years old", []),
]

S = SizeValue
SIZES: list[tuple[str, list[SizeValue]]] = [
    ("size M", [S("M", "size")]),
    ("do you have it in medium?", [S("M", "size")]),
    ("XL please", [S("XL", "size")]),
    ("a 2XL shirt", [S("XXL", "size")]),
    ("in extra large", [S("XL", "size")]),
    ("size 10", [S("10", "size", Decimal(10))]),
    ("10.5 in black", [S("10.5", "size", Decimal("10.5"))]),
    ("US 9", [S("9", "size", Decimal(9))]),
    ("the 750ml bottle", [S("750ml", "capacity", Decimal(750), "ml")]),
    ("a 1L bottle", [S("1L", "capacity", Decimal(1000), "ml")]),
    ("1.5 liters", [S("1.5L", "capacity", Decimal("1500.0"), "ml")]),
    ("2 person tent", [S("2-person", "capacity", Decimal(2), "person")]),
    ("a tent for three people", [S("3-person", "capacity", Decimal(3), "person")]),
    ("12 cup coffee maker", [S("12 cups", "capacity", Decimal(12), "cup")]),
    ("32GB", [S("32GB", "storage", Decimal(32), "gb")]),
    ("an 8 inch pan", [S("8 inch", "length", Decimal(8), "inch")]),
    ("waist 32", [S("32", "waist", Decimal(32))]),
    ("32x30", [S("32", "waist", Decimal(32)), S("30", "inseam", Decimal(30))]),
    # negatives
    ("I have a small question", []),
    ("medium wash jeans", []),
    ("I'm looking for shoes", []),
    ("under $10.50", []),
    ("it's 10 am", []),
    ("M&M candy", []),
    ("a large order", []),
]


def _values(extractor: EntityExtractor, text: str) -> list[object]:
    return [entity.value for entity in extractor.extract(text)]


@pytest.mark.parametrize(("text", "expected"), QUANTITIES)
def test_quantities(text: str, expected: list[int], extractors: RuleRegistry[EntityExtractor]) -> None:
    assert _values(extractors.get("quantity"), text) == expected


@pytest.mark.parametrize(("text", "expected"), SIZES)
def test_sizes(text: str, expected: list[SizeValue], extractors: RuleRegistry[EntityExtractor]) -> None:
    assert _values(extractors.get("size"), text) == expected


def test_tables_have_ten_cases_and_negatives() -> None:
    for table in (QUANTITIES, SIZES):
        assert len(table) >= 10
        assert sum(1 for _, expected in table if expected == []) >= 5


@pytest.mark.parametrize(
    ("size", "option", "matches"),
    [
        (S("1L", "capacity"), "1000ml", True),
        (S("750ml", "capacity"), "750ml", True),
        (S("750ml", "capacity"), "1000ml", False),
        (S("M", "size"), "m", True),
        (S("10.5", "size"), "10.5", True),
        (S("10", "size"), "10.5", False),
        (S("2-person", "capacity"), "2-person", True),
        (S("8 inch", "length"), '8"', True),
        (S("12 cups", "capacity"), "12 cups", True),
    ],
)
def test_size_matches_catalog_option_values(size: SizeValue, option: str, matches: bool) -> None:
    assert size.matches(option) is matches


def test_quantity_confidence_is_lower_for_a_bare_number(extractors: RuleRegistry[EntityExtractor]) -> None:
    quantity = extractors.get("quantity")
    assert quantity.extract("2 of them")[0].confidence > quantity.extract("2")[0].confidence
