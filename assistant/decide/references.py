"""Which shown products a message means: "the second one", "the blue one", "it", a title."""

from __future__ import annotations

import re
from collections.abc import Collection
from decimal import Decimal

from assistant.decide.context import Context
from assistant.decide.turn import Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import choices
from assistant.sessions.shown import ShownProduct
from core.words import words
from dialogue_rules.entities.references import resolve_reference
from dialogue_rules.entities.values import LastProduct, RefKind

_IT = re.compile(r"\b(?:it|this|that|them|this\s+one|that\s+one)\b", re.I)


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
    said = set(words(turn.text))
    scored = []
    for product in shown:
        title = {w for w in words(product.title) if len(w) >= 4}
        scored.append((len(title & said), product.product_id))
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


def which_product(turn: Turn, ctx: Context, ids: Collection[str] | None = None) -> Draft:
    """Ask which of the shown products the customer means (those in ``ids``, or all shown)."""
    shown = [p for p in turn.state.last_products if ids is None or p.product_id in ids]
    text, buttons = choices([p.title for p in shown])
    return ctx.draft("which_product", choices=text, quick_replies=buttons)
