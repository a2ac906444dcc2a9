"""Which of the customer's payment methods a message names: "my PayPal", "the gift card",
"the Visa", "the card ending in 4242", or "my credit card" when there is only one."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.words import words
from tools.customer import PaymentMethodInfo

_LAST_FOUR = re.compile(r"\b\d{4}\b")


def named_methods(text: str, methods: Sequence[PaymentMethodInfo]) -> list[PaymentMethodInfo]:
    """The methods ``text`` names, most specific first: a card's last four digits, then its
    brand, then the kind of method (credit card, gift card, PayPal)."""
    said = set(words(text))
    lowered = " ".join(words(text))
    digits = set(_LAST_FOUR.findall(text))
    by_digits = [m for m in methods if digits & set(_LAST_FOUR.findall(m.label))]
    if by_digits:
        return by_digits
    by_brand = [
        m for m in methods if m.source == "credit_card" and words(m.label) and words(m.label)[0] in said
    ]
    if by_brand:
        return by_brand
    kinds = {"credit_card": "credit card", "gift_card": "gift card", "paypal": "paypal"}
    by_kind = [m for m in methods if kinds.get(m.source, m.source.replace("_", " ")) in lowered]
    if by_kind:
        return by_kind
    if "card" in said and "gift" not in said:
        return [m for m in methods if m.source == "credit_card"]
    return []
