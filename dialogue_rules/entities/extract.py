"""Entity extraction: a registry of extractors keyed by name, and :func:`extract_all`.

Extractors (vocabulary and patterns in ``entities.yaml``):

==============  ==========================================================================
order_id        "#W1234567", "w1234567", "order number W 123 4567" -> ``"#W1234567"``
email           "Alice@Example.com" -> ``"alice@example.com"``
zip_code        "10001", "10001-1234" (never inside an order id or a price)
card_digits     "visa ending in 4242", "last four digits 4242" -> ``"4242"``
price           "under $80", "between 20 and 50", "$30-$60", "around 100" -> ``PriceRange``
quantity        "2 of them", "three", "a pair", "x3" -> ``int``
color           "navy", "gray" (-> grey, synonym kept), "blue" (+ its family) -> ``ColorValue``
size            "M", "medium", "size 10.5", "750ml", "1L", "2 person" -> ``SizeValue``
product_ref     "the second one", "the first two", "the blue one", "the cheaper one" -> ``ProductRef``
person_name     "I'm Alice Smith", "my name is bob lee" -> ``PersonName``
==============  ==========================================================================

``build_extractors()`` gives a new registry (add your own extractors to it);
``extract_all(text)`` runs one and returns a typed :class:`~dialogue_rules.types.Entities`.
"""

from __future__ import annotations

from functools import lru_cache

from dialogue_rules.entities.config import EntityConfig, default_entity_config, load_entity_config
from dialogue_rules.entities.extractors import (
    CardDigitsExtractor,
    EmailExtractor,
    EntityExtractor,
    OrderIdExtractor,
    PriceExtractor,
    ZipCodeExtractor,
)
from dialogue_rules.entities.measures import QuantityExtractor, SizeExtractor
from dialogue_rules.entities.references import resolve_reference
from dialogue_rules.entities.values import Entities, Entity
from dialogue_rules.entities.vocabulary import ColorExtractor, PersonNameExtractor, ProductRefExtractor
from dialogue_rules.registry import RuleRegistry

__all__ = [
    "EntityConfig",
    "EntityExtractor",
    "build_extractors",
    "default_extractors",
    "extract_all",
    "load_entity_config",
    "resolve_reference",
]

EXTRACTOR_KIND = "entity extractor"

# When entities of two kinds overlap, the first kind of each pair keeps its entity.
_PRECEDENCE: tuple[tuple[str, str], ...] = (
    ("order_id", "zip_code"),
    ("order_id", "quantity"),
    ("order_id", "price"),
    ("email", "person_name"),
    ("email", "quantity"),
    ("price", "zip_code"),
    ("price", "quantity"),
    ("price", "size"),
    ("size", "quantity"),
    ("zip_code", "quantity"),
    ("card_digits", "quantity"),
    ("card_digits", "price"),
    ("card_digits", "size"),
    ("product_ref", "quantity"),
    ("person_name", "color"),
)


def build_extractors(config: EntityConfig | None = None) -> RuleRegistry[EntityExtractor]:
    """A new registry holding every built-in extractor, configured from ``config``
    (default: the packaged entities.yaml)."""
    config = config or default_entity_config()
    order_ids = OrderIdExtractor(config)
    emails = EmailExtractor(config)
    prices = PriceExtractor(config)
    zips = ZipCodeExtractor(config, yields_to=(order_ids, prices))
    cards = CardDigitsExtractor(config, yields_to=(order_ids,))
    sizes = SizeExtractor(config, yields_to=(order_ids, prices))
    colors = ColorExtractor(config)
    refs = ProductRefExtractor(config, colors=colors, sizes=sizes)
    quantities = QuantityExtractor(config, yields_to=(order_ids, emails, prices, zips, cards, sizes, refs))
    names = PersonNameExtractor(config)
    extractors: list[EntityExtractor] = [
        order_ids,
        emails,
        zips,
        cards,
        prices,
        quantities,
        colors,
        sizes,
        refs,
        names,
    ]
    return RuleRegistry(EXTRACTOR_KIND, extractors)


@lru_cache(maxsize=1)
def default_extractors() -> RuleRegistry[EntityExtractor]:
    """The built-in extractors, built once. Frozen: use :func:`build_extractors` to add more."""
    registry = build_extractors()
    registry.freeze()
    return registry


def extract_all(text: str, *, extractors: RuleRegistry[EntityExtractor] | None = None) -> Entities:
    """Every entity in ``text`` (run it on ``GuardedInput.text``), overlaps settled by kind."""
    registry = extractors if extractors is not None else default_extractors()
    found: list[Entity] = []
    for extractor in registry:
        found.extend(extractor.extract(text))
    return Entities(tuple(sorted(_settle_overlaps(found), key=lambda e: (e.span, e.kind))))


def _settle_overlaps(entities: list[Entity]) -> list[Entity]:
    losers = set()
    for i, entity in enumerate(entities):
        for other in entities:
            if (other.kind, entity.kind) in _PRECEDENCE and entity.overlaps(other):
                losers.add(i)
                break
    return [e for i, e in enumerate(entities) if i not in losers]
