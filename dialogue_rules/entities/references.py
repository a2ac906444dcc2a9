"""Resolving "the second one", "the blue one", "the cheaper one" against the products shown."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import InvalidArgumentsError
from core.words import words
from dialogue_rules.entities.values import Entity, LastProduct, ProductRef, RefKind

_KEEP = "'\u2019-"  # "men's", "t-shirt" stay one word


def resolve_reference(entity: Entity | ProductRef, last_products: Sequence[LastProduct]) -> list[str]:
    """The ids of the shown products a reference can mean, in the order they were shown.

    One id: resolved. Several: ambiguous for a single reference ("that one" after three
    products, two blue ones) or the intended set ("the first two", "both"); the caller tells
    these apart by ``ProductRef.kind``. None: nothing shown matches (out of range, no product
    in that color). Pure: the same input always gives the same ids.
    """
    ref = entity.value if isinstance(entity, Entity) else entity
    if not isinstance(ref, ProductRef):
        raise InvalidArgumentsError(
            f"resolve_reference needs a product_ref entity, got {type(ref).__name__}",
            errors=[{"field": "entity", "message": "not a product reference"}],
        )
    products = list(last_products)
    if not products:
        return []
    ids = [p.product_id for p in products]
    if ref.kind is RefKind.ORDINAL:
        index = ref.index if ref.index is not None else 0
        return [ids[index]] if -len(ids) <= index < len(ids) else []
    if ref.kind is RefKind.RANGE:
        count = max(ref.count or 1, 1)
        return ids[-count:] if (ref.index or 0) < 0 else ids[:count]
    if ref.kind in (RefKind.ALL, RefKind.DEMONSTRATIVE):
        return ids
    if ref.kind is RefKind.CHEAPEST:
        low = min(p.min_price for p in products)
        return [p.product_id for p in products if p.min_price == low]
    if ref.kind is RefKind.PRICIEST:
        high = max(p.max_price for p in products)
        return [p.product_id for p in products if p.max_price == high]
    return [p.product_id for p in products if _has_attributes(p, ref)]


def _has_attributes(product: LastProduct, ref: ProductRef) -> bool:
    values = [v.lower() for vs in product.options.values() for v in vs]
    title_words = set(words(f"{product.title} {product.brand}", keep=_KEEP))
    if ref.color is not None:
        color = ref.color
        in_options = any(color.matches(v) or color.name in words(v, keep=_KEEP) for v in values)
        if not in_options and color.name not in title_words:
            return False
    if ref.size is not None and not any(ref.size.matches(v) for v in values):
        return False
    option_words = {w for v in values for w in words(v, keep=_KEEP)}
    return all(word in title_words or word in option_words for word in ref.words)
