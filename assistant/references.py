"""Which shown products a message means: "the second one", "the blue one", "it", a title."""

from __future__ import annotations

import re
from decimal import Decimal

from assistant.turn import Turn
from assistant.types import ShownProduct
from dialogue_rules.references import resolve_reference
from dialogue_rules.types import LastProduct, RefKind

_IT = re.compile(r"\b(?:it|this|that|them|this\s+one|that\s+one)\b", re.I)
_WORD = re.compile(r"[a-z0-9]+")


def last_product(shown: ShownProduct) -> LastProduct:
    low = shown.price if shown.price is not None else Decimal(0)
    return LastProduct(
        product_id=shown.product_id,
        title=shown.title,
        min_price=low,
        max_price=shown.max_price if shown.max_price is not None else low,
        options=dict(shown.options),
    )


def resolve_products(turn: Turn) -> list[str]:
    """Ids of the shown products the message refers to, in the order shown (may be several).

    A message sent from a product card's button is about that card's product, shown or not.
    """
    if turn.product_id is not None:
        return [turn.product_id]
    shown = list(turn.state.last_products)
    if not shown:
        return []
    candidates = [last_product(p) for p in shown]
    refs = turn.entities.product_refs
    for ref in refs:
        ids = resolve_reference(ref, candidates)
        if ids:
            value = ref.value
            if getattr(value, "kind", None) is RefKind.DEMONSTRATIVE and len(ids) > 1:
                return ids[:1] if len(shown) == 1 else ids
            return ids
    said = set(_WORD.findall(turn.text.lower()))
    scored = []
    for product in shown:
        words = {w for w in _WORD.findall(product.title.lower()) if len(w) >= 4}
        scored.append((len(words & said), product.product_id))
    best = max(score for score, _ in scored)
    if best > 0:
        return [pid for score, pid in scored if score == best]
    lowered = turn.text.lower()
    exact = [p.product_id for p in shown if p.product_id.lower() in lowered]
    if exact:
        return exact
    if len(shown) == 1 and (refs or _IT.search(turn.text)):
        return [shown[0].product_id]  # "the black one" when one product (in several colors) was shown
    return []
