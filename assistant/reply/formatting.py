"""How replies write shop data: money in the shop's currency, price ranges, option lists, product
cards from catalog results, and choice lists with their quick-reply buttons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from assistant.sessions.shown import ProductCard, QuickReply, ShownProduct
from core.money import to_money
from tools.search import ProductFacts

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def format_money(amount: Decimal | float | str | None, currency: str) -> str:
    """``$1,234.50`` (or ``1,234.50 CHF`` for a currency without a symbol here); ``?`` for None."""
    if amount is None:
        return "?"
    value = to_money(amount)
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"


def format_price_range(low: Decimal, high: Decimal | None, currency: str) -> str:
    """One price, or ``$10.00 to $12.00`` when the variants differ."""
    if high is None or to_money(high) == to_money(low):
        return format_money(low, currency)
    return f"{format_money(low, currency)} to {format_money(high, currency)}"


def options_text(options: Mapping[str, Any] | None) -> str:
    if not options:
        return "standard"
    return ", ".join(f"{k} {v}" for k, v in options.items())


def address_line(address: Mapping[str, Any]) -> str:
    """An address as one line: "12 Oak Street, Apt 2, Springfield, IL 62704"."""
    region = f"{address.get('state') or ''} {address.get('zip') or ''}".strip()
    parts = (address.get("address1"), address.get("address2"), address.get("city"), region)
    return ", ".join(str(p) for p in parts if p)


def card_from(summary: ProductFacts) -> ProductCard:
    """A card from a catalog result (product summary, details or search hit)."""
    return ProductCard(
        product_id=summary.product_id,
        title=summary.title,
        brand=summary.brand or "",
        price=summary.min_price,
        max_price=summary.max_price if summary.max_price != summary.min_price else None,
        in_stock=summary.in_stock,
        image_url=summary.image_url,
    )


def shown_from(summary: ProductFacts, options: Mapping[str, Sequence[str]] | None = None) -> ShownProduct:
    """The product as the conversation remembers it shown, with its option values if known."""
    values = options or {}
    return card_from(summary).shown({str(k): tuple(str(v) for v in vs) for k, vs in values.items()})


def choices(labels: Sequence[str], limit: int = 8) -> tuple[str, tuple[QuickReply, ...]]:
    """A sentence listing ``labels`` and the matching quick-reply buttons."""
    shown = list(labels)[:limit]
    text = "; ".join(shown) + ("; ..." if len(labels) > limit else "")
    buttons = tuple(QuickReply(label=label[:64], payload=label) for label in shown)
    return text, buttons
