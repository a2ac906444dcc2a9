"""Questions about one product: its details, its price and whether it is in stock, for the
variant the customer describes.

The product is one shown before ("the second one", "it") or one the message names
(:mod:`assistant.decide.named_products`). The variant is described by the product's own option
values, whatever the catalog calls its options ("the stainless steel 1.5 liters induction Tea
Kettle": material, capacity, stovetop compatibility); the answer states the price and stock of
exactly the variants that have every value named, never the product's range when a variant was
asked for. Every figure comes from a tool result of this turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.decide.context import Context
from assistant.decide.handlers.catalog import branded, listing, search
from assistant.decide.named_products import named_products, without_title
from assistant.decide.references import resolve_products, which_product
from assistant.decide.turn import ToolError, Turn
from assistant.decide.variants import by_price, option_values
from assistant.reply.draft import Draft
from assistant.reply.formatting import card_from, options_text
from tools.catalog import GetProduct, ProductDetails, VariantInfo
from tools.inventory import CheckAvailability

MAX_LINES = 6
_CONTRACTION = re.compile(r"(?<=\w)['\u2019](?:m|s|re|ll|d|ve|t)\b", re.I)


@dataclass(frozen=True)
class Asked:
    """The product a question is about, the option values it names and the variants having them."""

    details: ProductDetails
    named: dict[str, set[str]]
    fits: list[VariantInfo]

    @property
    def wanted(self) -> dict[str, str]:
        """The named options with one value each (what ``check_availability`` is asked)."""
        return {name: next(iter(values)) for name, values in self.named.items() if len(values) == 1}

    def wanted_text(self) -> str:
        if len(self.fits) == 1:
            return options_text(self.fits[0].options)
        return options_text({name: " or ".join(sorted(values)) for name, values in self.named.items()})


def _asked(turn: Turn, ctx: Context) -> Asked | Draft:
    """The product and variants the message asks about, or the reply to send instead."""
    ids = resolve_products(turn)
    if len(ids) > 1:
        return which_product(turn, ctx, ids)
    if not ids:
        found = named_products(turn, ctx)
        if len(found.products) > 1:
            return listing(turn, ctx, "search_results", found.products, f' for "{found.query}"', [])
        if not found.products:
            return search(turn, ctx, query=found.query or None)
        ids = [found.products[0].product_id]
    outcome = turn.call(GetProduct, {"product_id": ids[0]})
    if isinstance(outcome, ToolError):
        return ctx.draft("tool_failed", failed=True)
    details = outcome.result
    rest = without_title(ctx, _CONTRACTION.sub("", turn.text), details.title)
    named = ctx.options.named(rest, option_values(details.variants)) if len(details.variants) > 1 else {}
    fits = [v for v in details.variants if all(v.options.get(n) in vals for n, vals in named.items())]
    return Asked(details, named, fits)


def _stock_line(variants: list[VariantInfo]) -> str:
    stock = sum(v.stock for v in variants)
    if stock <= 0:
        return "It is out of stock right now."
    return f"{stock} in stock."


def _stock_words(stock: int) -> str:
    return f"{stock} in stock" if stock > 0 else "out of stock"


def _variant_lines(ctx: Context, variants: list[VariantInfo]) -> str:
    lines = [f"{options_text(v.options)}: {ctx.money(v.price)} ({_stock_words(v.stock)})" for v in variants]
    more = len(lines) - MAX_LINES
    return "; ".join(lines[:MAX_LINES]) + (f"; and {more} more" if more > 0 else "")


def _offered(details: ProductDetails) -> str:
    return "; ".join(f"{name}: {', '.join(values)}" for name, values in details.option_values.items())


def product_details(turn: Turn, ctx: Context) -> Draft:
    asked = _asked(turn, ctx)
    if isinstance(asked, Draft):
        return asked
    return _by_price(turn, ctx, asked) or _details(ctx, asked.details)


def _by_price(turn: Turn, ctx: Context, asked: Asked) -> Draft | None:
    """ "The cheapest t-shirt in stock" (or the most expensive): that one version, of those
    having every value named; None when the message does not rank by price."""
    rank = ctx.forms.price_rank(turn.text)
    best = by_price([v for v in asked.fits if v.available], rank) if rank else None
    if best is None:
        return None
    return ctx.draft(
        "variant_price",
        title=asked.details.title,
        wanted=options_text(best.options),
        price=ctx.money(best.price),
        stock_line=_stock_line([best]),
        products=[card_from(asked.details)],
        results=[asked.details],
    )


def _details(ctx: Context, details: ProductDetails) -> Draft:
    options = _offered(details)
    return ctx.draft(
        branded("product_details", details.brand),
        title=details.title,
        brand=details.brand,
        price=ctx.price_range(details.min_price, details.max_price),
        stock_line=_stock_line(details.variants),
        options_line=f" Options: {options}." if options else "",
        facts=[details.description[:300]],
        products=[card_from(details)],
        results=[details],
    )


def price_question(turn: Turn, ctx: Context) -> Draft:
    asked = _asked(turn, ctx)
    if isinstance(asked, Draft):
        return asked
    return _by_price(turn, ctx, asked) or _price(ctx, asked)


def _price(ctx: Context, asked: Asked) -> Draft:
    details = asked.details
    card = [card_from(details)]
    if not asked.named:
        return ctx.draft(
            "price_answer",
            title=details.title,
            price=ctx.price_range(details.min_price, details.max_price),
            stock_line=" " + _stock_line(details.variants),
            products=card,
            results=[details],
        )
    if not asked.fits:
        # The closest versions first: those having most of what was named.
        closest = sorted(
            details.variants,
            key=lambda v: -sum(v.options.get(name) in values for name, values in asked.named.items()),
        )
        return ctx.draft(
            "variant_not_offered",
            title=details.title,
            wanted=asked.wanted_text(),
            lines=_variant_lines(ctx, closest),
            products=card,
            results=[details],
        )
    prices = sorted({v.price for v in asked.fits})
    if len(prices) == 1:
        return ctx.draft(
            "variant_price",
            title=details.title,
            wanted=asked.wanted_text(),
            price=ctx.money(prices[0]),
            stock_line=_stock_line(asked.fits),
            products=card,
            results=[details],
        )
    return ctx.draft(
        "variant_prices",
        title=details.title,
        wanted=asked.wanted_text(),
        price=ctx.price_range(prices[0], prices[-1]),
        lines=_variant_lines(ctx, asked.fits),
        products=card,
        results=[details],
    )


def availability(turn: Turn, ctx: Context) -> Draft:
    asked = _asked(turn, ctx)
    if isinstance(asked, Draft):
        return asked
    ranked = _by_price(turn, ctx, asked)
    if ranked is not None:
        return ranked
    if not asked.wanted:
        return _details(ctx, asked.details) if not asked.named else _price(ctx, asked)
    details = asked.details
    outcome = turn.call(CheckAvailability, {"product_id": details.product_id, "options": asked.wanted})
    if isinstance(outcome, ToolError):
        return ctx.draft("action_refused", reason=outcome.error.message, failed=True)
    result = outcome.result
    in_stock = [m for m in result.matches if m.stock > 0]
    one = len(result.matches) == 1
    wanted_text = options_text(result.matches[0].options if one else result.requested)
    if in_stock:
        prices = sorted({m.price for m in in_stock})
        return ctx.draft(
            "availability_yes",
            title=result.title,
            wanted=wanted_text,
            count=sum(m.stock for m in in_stock),
            price=ctx.price_range(prices[0], prices[-1] if len(prices) > 1 else None),
            products=[card_from(details)],
            results=[result, details],
        )
    alternatives = ""
    if result.alternatives:
        labels = [f"{options_text(a.options)} ({ctx.money(a.price)})" for a in result.alternatives[:3]]
        alternatives = " In stock instead: " + "; ".join(labels) + "."
    return ctx.draft(
        "availability_no",
        title=result.title,
        wanted=wanted_text,
        alternatives=alternatives,
        products=[card_from(details)],
        results=[result],
    )


def count_question(turn: Turn, ctx: Context) -> Draft:
    """ "How many t-shirt options do you have?": the product's versions, all and available now
    (of those having the values named); "how many colors...": the values of the option named."""
    asked = _asked(turn, ctx)
    if isinstance(asked, Draft):
        return asked
    details = asked.details
    card = [card_from(details)]
    option = _option_named(ctx, turn.text, list(details.option_values))
    if option is not None and option not in asked.named:
        values = sorted({str(v.options[option]) for v in asked.fits if option in v.options}, key=_value_order)
        stocked = {str(v.options.get(option)) for v in asked.fits if v.available}
        gone = [value for value in values if value not in stocked]
        return ctx.draft(
            "count_values",
            title=details.title,
            count=len(values),
            option=option,
            values=", ".join(values),
            unavailable=f" Out of stock right now: {', '.join(gone)}." if gone else "",
            products=card,
            results=[details],
        )
    available = [v for v in asked.fits if v.available]
    lines = f": {_variant_lines(ctx, available)}." if available else "."
    return ctx.draft(
        "count_versions",
        title=details.title,
        wanted=f" in {asked.wanted_text()}" if asked.named else "",
        total=len(asked.fits),
        available=len(available),
        lines=lines,
        products=card,
        results=[details],
    )


def _value_order(value: str) -> tuple[float, str]:
    """Numbers in numeric order ("7, 8, 10"), then words alphabetically."""
    try:
        return float(value), ""
    except ValueError:
        return float("inf"), value.lower()


def _option_named(ctx: Context, text: str, options: list[str]) -> str | None:
    """The option whose name (or its plural) the question says: "colors" names ``color``."""
    said = f" {ctx.options.canonical(text)} "
    for option in options:
        name = ctx.options.canonical(option)
        if name and re.search(rf" {re.escape(name)}(?:e?s)? ", said):
            return option
    return None
