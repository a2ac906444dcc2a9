from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

from core.errors import ConfigError, RegistryError, UnknownNameError
from dialogue_rules.entities.config import load_entity_config
from dialogue_rules.entities.extract import build_extractors, default_extractors, extract_all
from dialogue_rules.entities.values import AuthIdentity, Entity, PersonName, PriceRange

BUILT_IN = [
    "order_id",
    "email",
    "zip_code",
    "card_digits",
    "price",
    "quantity",
    "color",
    "size",
    "product_ref",
    "person_name",
]


def test_registry_holds_every_extractor_by_name() -> None:
    registry = build_extractors()
    assert registry.names() == BUILT_IN
    assert registry.get("price").name == "price"


def test_unknown_extractor_lists_the_valid_names() -> None:
    with pytest.raises(UnknownNameError, match="Valid names: card_digits, color, email, order_id"):
        build_extractors().get("sku")


class _Sku:
    name: ClassVar[str] = "sku"

    def extract(self, text: str) -> list[Entity]:
        start = text.find("SKU-")
        return (
            []
            if start < 0
            else [Entity("sku", text[start : start + 8], (start, start + 8), text[start : start + 8], 1.0)]
        )


def test_custom_extractors_join_a_new_registry_and_duplicates_fail() -> None:
    registry = build_extractors()
    registry.register(_Sku())
    assert extract_all("do you have SKU-1234?", extractors=registry).of("sku")[0].value == "SKU-1234"
    with pytest.raises(RegistryError, match="already registered"):
        registry.register(_Sku())


def test_the_shared_default_registry_is_frozen() -> None:
    with pytest.raises(RegistryError, match="frozen"):
        default_extractors().register(_Sku())
    assert "sku" not in default_extractors()


def test_extract_all_returns_a_typed_bundle_in_text_order() -> None:
    text = "I'm Alice Smith, zip 10001. Order #W1234567: 2 of the blue ones in size M under $80"
    found = extract_all(text)
    assert found.order_ids == ["#W1234567"]
    assert found.zip_codes == ["10001"]
    assert found.quantities == [2]
    assert [c.name for c in found.colors] == ["blue"]
    assert [s.value for s in found.sizes] == ["M"]
    assert found.prices == [PriceRange(max_price=Decimal(80))]
    assert found.person_names == [PersonName("Alice", "Smith")]
    assert len(found.product_refs) == 1
    starts = [e.span[0] for e in found.items]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # a zip inside an order id, a price that looks like a quantity, a size that looks like one
        ("order W1234567", {"order_id"}),
        ("under $20", {"price"}),
        ("3 for $20", {"quantity", "price"}),
        ("size 10 please", {"size"}),
        ("a 2 person tent", {"size"}),
        ("the first two", {"product_ref"}),
        ("alice@example.com", {"email"}),
        ("zip 10001", {"zip_code"}),
        ("I'm Olive Brown, zip 10001", {"person_name", "zip_code"}),
    ],
)
def test_overlapping_kinds_are_settled(text: str, kinds: set[str]) -> None:
    assert {e.kind for e in extract_all(text).items} == kinds


def test_identity_from_email_or_name_and_zip() -> None:
    assert extract_all("my email is Bob@Example.com").identity == AuthIdentity(email="bob@example.com")
    assert extract_all("bob@example.com, zip 19122, visa ending in 4242").identity == AuthIdentity(
        email="bob@example.com", zip_code="19122", card_digits="4242"
    )
    assert extract_all("I'm Yusuf Rossi, 19122").identity == AuthIdentity(
        first_name="Yusuf", last_name="Rossi", zip_code="19122"
    )
    assert extract_all("I'm Yusuf Rossi").identity is None
    assert extract_all("zip 19122").identity is None


def test_entities_accessors_on_an_empty_message() -> None:
    found = extract_all("hello")
    assert found.items == ()
    assert found.first("order_id") is None


def test_a_bad_pattern_names_its_entry(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[3] / "dialogue_rules" / "entities" / "entities.yaml"
    text = source.read_text(encoding="utf-8")
    broken = text.replace("  keyword: '\\b(?:zip|zipcode", "  keyword: '\\b(?:zip|(zipcode")
    assert broken != text
    path = tmp_path / "entities.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"entities\.yaml: zip_code\.keyword: pattern .* does not compile"):
        build_extractors(load_entity_config(path))


def test_a_missing_key_names_its_entry(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[3] / "dialogue_rules" / "entities" / "entities.yaml"
    text = source.read_text(encoding="utf-8")
    broken = text.replace("  around_tolerance: 0.2\n", "")
    path = tmp_path / "entities.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"money\.around_tolerance: Field required"):
        load_entity_config(path)
