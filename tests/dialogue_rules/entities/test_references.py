from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidArgumentsError
from dialogue_rules.entities.extract import extract_all
from dialogue_rules.entities.references import resolve_reference
from dialogue_rules.entities.values import Entity, LastProduct, ProductRef, RefKind

SHOE, BOTTLE, SHELL = "1000000001", "1000000002", "1000000003"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the first one", [SHOE]),
        ("the second one", [BOTTLE]),
        ("the last one", [SHELL]),
        ("the second to last", [BOTTLE]),
        ("option 3", [SHELL]),
        ("the fifth one", []),
        ("the first two", [SHOE, BOTTLE]),
        ("the last two", [BOTTLE, SHELL]),
        ("all of them", [SHOE, BOTTLE, SHELL]),
        ("that one", [SHOE, BOTTLE, SHELL]),
        ("the cheaper one", [BOTTLE]),
        ("the most expensive one", [SHELL]),
        ("the black one", [SHOE]),
        ("the blue one", [SHOE, BOTTLE, SHELL]),  # blue, ocean blue, navy
        ("the navy one", [SHELL]),
        ("the 750ml one", [BOTTLE]),
        ("the one in 1L", [BOTTLE]),
        ("the medium one", [SHELL]),
        ("the Hydrapeak one", [BOTTLE]),
        ("the one by Northrun", [SHOE]),
        ("the waterproof one", [SHELL]),
        ("the red one", []),
    ],
)
def test_resolve_against_shown_products(text: str, expected: list[str], shown: list[LastProduct]) -> None:
    refs = extract_all(text).product_refs
    assert len(refs) == 1, refs
    assert resolve_reference(refs[0], shown) == expected


def test_demonstrative_with_one_product_shown_is_that_product(shown: list[LastProduct]) -> None:
    ref = ProductRef(RefKind.DEMONSTRATIVE)
    assert resolve_reference(ref, shown[1:2]) == [BOTTLE]


def test_nothing_shown_resolves_to_nothing() -> None:
    assert resolve_reference(ProductRef(RefKind.ORDINAL, 0), []) == []


def test_ties_on_price_return_every_tied_product() -> None:
    products = [
        LastProduct("a", "A", Decimal(10), Decimal(20)),
        LastProduct("b", "B", Decimal(10), Decimal(30)),
        LastProduct("c", "C", Decimal(15), Decimal(30)),
    ]
    assert resolve_reference(ProductRef(RefKind.CHEAPEST), products) == ["a", "b"]
    assert resolve_reference(ProductRef(RefKind.PRICIEST), products) == ["b", "c"]


def test_an_entity_of_another_kind_is_refused() -> None:
    entity = Entity("quantity", 2, (0, 1), "2", 0.5)
    with pytest.raises(InvalidArgumentsError, match="product_ref"):
        resolve_reference(entity, [])


def test_last_product_from_a_catalog_tool_result() -> None:
    from tools.catalog import ProductDetails, VariantInfo

    details = ProductDetails(
        product_id="42",
        title="Trailhaus Scout Daypack",
        brand="Trailhaus",
        category="Backpacks",
        min_price=Decimal("35.00"),
        max_price=Decimal("47.25"),
        in_stock=True,
        description="A pack.",
        variants=[
            VariantInfo(
                variant_id="v1",
                sku=None,
                options={"color": "olive"},
                price=Decimal(35),
                stock=1,
                available=True,
            )
        ],
        option_values={"color": ["olive", "tan"], "capacity": ["18L", "24L"]},
    )
    product = LastProduct.from_summary(details)
    assert product.options == {"color": ("olive", "tan"), "capacity": ("18L", "24L")}
    assert product.max_price == Decimal("47.25")
    (ref,) = extract_all("the tan one").product_refs
    assert resolve_reference(ref, [product]) == ["42"]
