"""What every handler and flow shares: templates, form rules, the shop's money format, and small
helpers that turn tool results into drafts and product cards."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.responder import Draft
from assistant.templates import Templates
from assistant.types import Citation, ProductCard, QuickReply, ShownProduct
from dialogue_rules.forms import FormRules
from shopassist.config import ShopSettings
from tools.types import FactValue, ToolResult, to_money

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


@dataclass(frozen=True)
class Kit:
    templates: Templates
    forms: FormRules
    shop: ShopSettings
    max_failed_turns: int = 2

    def money(self, amount: Decimal | float | str | None) -> str:
        return format_money(amount, self.shop.currency)

    def price_range(self, low: Decimal, high: Decimal | None) -> str:
        return format_price_range(low, high, self.shop.currency)

    def text(self, template: str, /, **values: Any) -> str:
        return self.templates.text(template, **values)

    def draft(
        self,
        template: str,
        /,
        *,
        facts: Iterable[str] = (),
        results: Iterable[ToolResult] = (),
        products: Sequence[ProductCard] = (),
        citations: Sequence[Citation] = (),
        quick_replies: Sequence[QuickReply] | None = None,
        failed: bool = False,
        **values: Any,
    ) -> Draft:
        fact_values: list[FactValue] = []
        for result in results:
            fact_values.extend(result.facts())
        return Draft(
            rendered=self.templates.render(template, **values),
            facts=list(facts),
            values=fact_values,
            products=tuple(products),
            citations=tuple(citations),
            quick_replies=None if quick_replies is None else tuple(quick_replies),
            failed=failed,
        )


def options_text(options: Mapping[str, Any] | None) -> str:
    if not options:
        return "standard"
    return ", ".join(f"{k} {v}" for k, v in options.items())


def card_from(summary: Any) -> ProductCard:
    """A card from a catalog result (product summary, details or search hit)."""
    return ProductCard(
        product_id=str(summary.product_id),
        title=str(summary.title),
        brand=str(getattr(summary, "brand", "") or ""),
        price=summary.min_price,
        max_price=summary.max_price if summary.max_price != summary.min_price else None,
        in_stock=bool(summary.in_stock),
        image_url=getattr(summary, "image_url", None),
    )


def shown_from(summary: Any) -> ShownProduct:
    values = getattr(summary, "option_values", None) or {}
    return card_from(summary).shown({str(k): tuple(str(v) for v in vs) for k, vs in values.items()})


def choices(labels: Sequence[str], limit: int = 8) -> tuple[str, tuple[QuickReply, ...]]:
    """A sentence listing ``labels`` and the matching quick-reply buttons."""
    shown = list(labels)[:limit]
    text = "; ".join(shown) + ("; ..." if len(labels) > limit else "")
    buttons = tuple(QuickReply(label=label[:64], payload=label) for label in shown)
    return text, buttons


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
