"""Tables for the color, person-name and product-reference extractors (extractors_vocab.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from dialogue_rules.entities.config import load_entity_config
from dialogue_rules.entities.extractors import EntityExtractor
from dialogue_rules.entities.values import ColorValue, PersonName, ProductRef, RefKind
from dialogue_rules.entities.vocabulary import ColorExtractor
from dialogue_rules.registry import RuleRegistry

REPO = Path(__file__).resolve().parents[3]

# (text, [(canonical color, synonym the customer used or None)])
COLORS: list[tuple[str, list[tuple[str, str | None]]]] = [
    ("a black tee", [("black", None)]),
    ("gray hoodie", [("grey", "gray")]),
    ("navy blue jacket", [("navy", "navy blue")]),
    ("dark blue jacket", [("navy", "dark blue")]),
    ("light blue shirt", [("sky blue", "light blue")]),
    ("rose gold or silver watch", [("rose gold", None), ("silver", None)]),
    ("Forest Green tent", [("forest green", None)]),
    ("off-white sneakers", [("white", "off-white")]),
    ("hi-vis yellow bike light", [("hi-vis yellow", None)]),
    ("something yellow", [("yellow", None)]),
    ("dark wash jeans", [("dark wash", None)]),
    ("the mat in blush", [("blush pink", "blush")]),
    # negatives
    ("olive oil", []),
    ("black friday deals", []),
    ("green tea serum", []),
    ("a stainless steel water bottle", []),
    ("t-shirts", []),
    ("I'm feeling fine", []),
]

# (text, [(first, last)])
NAMES: list[tuple[str, list[tuple[str, str | None]]]] = [
    ("I'm Alice Smith, zip 10001", [("Alice", "Smith")]),
    ("my name is bob lee", [("Bob", "Lee")]),
    ("Hi, this is Yusuf Rossi", [("Yusuf", "Rossi")]),
    ("i am noah brown and my zip is 80279", [("Noah", "Brown")]),
    ("Ivan Santos, 75277", [("Ivan", "Santos")]),
    ("name: Jo O'Brien", [("Jo", "O'Brien")]),
    ("My name's Anya Garcia", [("Anya", "Garcia")]),
    ("I'm Alice", [("Alice", None)]),
    ("It's Heather Jones", [("Heather", "Jones")]),
    ("call me Sam", [("Sam", None)]),
    # negatives
    ("I'm looking for running shoes", []),
    ("this is ridiculous", []),
    ("I'm not happy with my order", []),
    ("i'm so frustrated", []),
    ("It's Tuesday already", []),
    ("This Is Great", []),
    ("my email is alice@example.com", []),
    ("i'm alice smith", []),  # lower case after "I'm", and no zip: too weak
]


def _ref(kind: RefKind, index: int | None = None, count: int | None = None) -> ProductRef:
    return ProductRef(kind, index, count)


# (text, [(kind, index, count)]) for non-attribute references
REFS: list[tuple[str, list[ProductRef]]] = [
    ("the second one", [_ref(RefKind.ORDINAL, 1)]),
    ("I'll take the last one", [_ref(RefKind.ORDINAL, -1)]),
    ("the 3rd", [_ref(RefKind.ORDINAL, 2)]),
    ("second", [_ref(RefKind.ORDINAL, 1)]),
    ("the second to last one", [_ref(RefKind.ORDINAL, -2)]),
    ("option 2 looks good", [_ref(RefKind.ORDINAL, 1)]),
    ("#3", [_ref(RefKind.ORDINAL, 2)]),
    ("the first two", [_ref(RefKind.RANGE, 0, 2)]),
    ("the last 3", [_ref(RefKind.RANGE, -1, 3)]),
    ("both of them", [_ref(RefKind.ALL, count=2)]),
    ("all of them", [_ref(RefKind.ALL)]),
    ("that one", [_ref(RefKind.DEMONSTRATIVE)]),
    ("the cheaper one", [_ref(RefKind.CHEAPEST)]),
    ("the most expensive one", [_ref(RefKind.PRICIEST)]),
    # negatives
    ("my last order", []),
    ("the first time I ordered", []),
    ("last week", []),
    ("second hand is fine", []),
    ("the other one", []),
    ("order number 2", []),
    ("#W1234567", []),
    ("first of all, hi", []),
]


def _values(extractor: EntityExtractor, text: str) -> list[object]:
    return [entity.value for entity in extractor.extract(text)]


@pytest.mark.parametrize(("text", "expected"), COLORS)
def test_colors(
    text: str, expected: list[tuple[str, str | None]], extractors: RuleRegistry[EntityExtractor]
) -> None:
    found = extractors.get("color").extract(text)
    assert [(e.value.name, e.synonym) for e in found if isinstance(e.value, ColorValue)] == expected
    assert len(found) == len(expected)


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_person_names(
    text: str, expected: list[tuple[str, str | None]], extractors: RuleRegistry[EntityExtractor]
) -> None:
    values = _values(extractors.get("person_name"), text)
    assert [(v.first, v.last) for v in values if isinstance(v, PersonName)] == expected
    assert len(values) == len(expected)


@pytest.mark.parametrize(("text", "expected"), REFS)
def test_product_refs(
    text: str, expected: list[ProductRef], extractors: RuleRegistry[EntityExtractor]
) -> None:
    assert _values(extractors.get("product_ref"), text) == expected


@pytest.mark.parametrize(
    ("text", "color", "size", "words"),
    [
        ("the blue one", "blue", None, ()),
        ("the one in black", "black", None, ()),
        ("the gray ones", "grey", None, ()),
        ("the 750ml one", None, "750ml", ()),
        ("the Apex one", None, None, ("apex",)),
        ("the one by Northpeak", None, None, ("northpeak",)),
        ("the one with the hood", None, None, ("hood",)),
        ("the navy medium one", "navy", "M", ()),
    ],
)
def test_attribute_refs(
    text: str,
    color: str | None,
    size: str | None,
    words: tuple[str, ...],
    extractors: RuleRegistry[EntityExtractor],
) -> None:
    (ref,) = _values(extractors.get("product_ref"), text)
    assert isinstance(ref, ProductRef)
    assert ref.kind is RefKind.ATTRIBUTE
    assert (ref.color.name if ref.color else None) == color
    assert (ref.size.value if ref.size else None) == size
    assert ref.words == words


def test_tables_have_ten_cases_and_negatives() -> None:
    for table in (COLORS, NAMES, REFS):
        assert len(table) >= 10
        assert sum(1 for _, expected in table if expected == []) >= 5


def test_color_vocabulary_covers_every_demo_catalog_color() -> None:
    """Every color option value of the demo shop is a color the extractor knows as itself."""
    catalog = yaml.safe_load((REPO / "tools" / "demo" / "catalog_data.yaml").read_text(encoding="utf-8"))
    extractor = ColorExtractor(load_entity_config())
    values = {
        value.lower()
        for category in catalog["categories"]
        for axis, options in category["options"].items()
        if axis in ("color", "finish", "handle")
        for value in options
    }
    assert len(values) > 30
    for value in sorted(values):
        color = extractor.color(value)
        assert color is not None and color.name == value, value


def test_basic_color_word_carries_its_family(extractors: RuleRegistry[EntityExtractor]) -> None:
    (entity,) = extractors.get("color").extract("something blue")
    assert isinstance(entity.value, ColorValue)
    assert entity.value.matches("navy") and entity.value.matches("sky blue")
    assert not entity.value.matches("red")


def test_a_synonym_claimed_by_two_colors_is_a_clear_error(tmp_path: Path) -> None:
    text = (REPO / "dialogue_rules" / "entities" / "entities.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "    tan: [camel, khaki, light brown]", "    tan: [camel, khaki, light brown, gray]"
    )
    assert broken != text
    path = tmp_path / "entities.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"colors\.values\.tan: 'gray' already names the color 'grey'"):
        ColorExtractor(load_entity_config(path))


def test_a_family_of_unknown_colors_is_a_clear_error(tmp_path: Path) -> None:
    text = (REPO / "dialogue_rules" / "entities" / "entities.yaml").read_text(encoding="utf-8")
    broken = text.replace("    beige: [sand, tan]", "    beige: [sand, tan, ecru]")
    path = tmp_path / "entities.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"colors\.families\.beige: not catalog color values: ecru"):
        ColorExtractor(load_entity_config(path))
