"""Catalog handlers: search (with refinements) and recommendations (questions about one product
are :mod:`assistant.decide.handlers.product`'s). Every figure in their drafts comes from a tool
result of this turn."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from assistant.decide.context import Context
from assistant.decide.references import resolve_products
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import card_from, options_text, shown_from
from assistant.sessions.slots import SearchMemory, SlotName
from core.money import to_money
from dialogue_rules.search_terms import SearchTerms
from tools.base import ToolResult
from tools.catalog import CatalogSearch, ProductSummary, SearchedProduct
from tools.recommend.tool import PersonalRecommendations, RecommendForCustomer
from tools.recommendation import ProductRecommendations, Recommendations, SimilarItems

RESULTS = 5
MAX_VIEWED = 10  # products last shown that steer a personal recommendation
_FILTER_ENTITIES = ("price", "color", "size", "quantity", "product_ref", "order_id", "email", "zip_code")


def _filters_from(turn: Turn, terms: SearchTerms, base: dict[str, Any]) -> dict[str, Any]:
    filters = dict(base)
    options = dict(filters.get("options") or {})
    for price in turn.entities.prices:
        if price.min_price is not None or price.max_price is not None:
            filters["min_price"] = str(price.min_price) if price.min_price is not None else None
            filters["max_price"] = str(price.max_price) if price.max_price is not None else None
        elif price.target is not None:
            filters["max_price"] = str(price.target)
    if turn.entities.colors:
        options["color"] = turn.entities.colors[0].name
    if turn.entities.sizes:
        options["size"] = turn.entities.sizes[0].value
    if options:
        filters["options"] = options
    if terms.wants_in_stock(turn.text):
        filters["in_stock_only"] = True
    if terms.wants_cheaper(turn.text) and turn.state.last_products:
        prices = [p.price for p in turn.state.last_products if p.price is not None]
        if prices:
            filters["max_price"] = str(to_money(min(prices)) - Decimal("0.01"))
    return {k: v for k, v in filters.items() if v is not None}


def branded(template: str, brand: str | None) -> str:
    """``template``, or its ``_unbranded`` twin for a product with no brand (many imported
    catalogs have none), so no reply says "(no brand)"."""
    return template if brand else f"{template}_unbranded"


def search(
    turn: Turn, ctx: Context, *, query: str | None = None, extra: dict[str, Any] | None = None
) -> Draft:
    """Search the catalog for what the message describes, or refine the last search."""
    spans = [e.span for e in turn.entities.items if e.kind in _FILTER_ENTITIES]
    words = query if query is not None else ctx.terms.query_words(turn.text, spans)
    last = turn.state.slots.last_search
    refine = last is not None and (
        not words or ctx.terms.is_refinement(turn.text) or ctx.terms.wants_cheaper(turn.text)
    )
    if refine and last is not None:
        base = dict(last.filters)
        words = last.query if not words or ctx.terms.wants_cheaper(turn.text) else f"{last.query} {words}"
        # a refinement that names no new product words keeps the last query and its filters
    else:
        base = {}
    if not words:
        return ctx.draft("ask_product_words")
    filters = _filters_from(turn, ctx.terms, base)
    filters.update(extra or {})
    outcome = turn.call(CatalogSearch, {"query": words, **filters, "limit": RESULTS})
    if isinstance(outcome, ToolError):
        return ctx.draft("tool_failed", failed=True)
    found = outcome.result
    if not found.products and filters.get("options") and not refine:
        # The shop may not call its options "color" and "size" (or have them at all): search
        # again with the values as words ("Black Catsuit" in a catalog without a color option).
        values = [str(v) for v in filters["options"].values() if str(v).lower() not in words.lower()]
        filters = {k: v for k, v in filters.items() if k != "options"}
        words = " ".join([*values, words])
        retry = turn.call(CatalogSearch, {"query": words, **filters, "limit": RESULTS})
        if not isinstance(retry, ToolError):
            found = retry.result
    turn.set_slot(SlotName.LAST_SEARCH, SearchMemory(query=words, filters=filters))
    constraints = _describe(ctx, filters)
    if not found.products:
        return ctx.draft("search_none", query=f'"{words}"', constraints=constraints, failed=False)
    return listing(turn, ctx, "search_results", found.products, f' for "{words}"{constraints}', [found])


def _describe(ctx: Context, filters: dict[str, Any]) -> str:
    parts = []
    if filters.get("options"):
        parts.append(options_text(filters["options"]))
    if filters.get("min_price") and filters.get("max_price"):
        parts.append(f"between {ctx.money(filters['min_price'])} and {ctx.money(filters['max_price'])}")
    elif filters.get("max_price"):
        parts.append(f"up to {ctx.money(filters['max_price'])}")
    elif filters.get("min_price"):
        parts.append(f"from {ctx.money(filters['min_price'])}")
    if filters.get("in_stock_only"):
        parts.append("in stock")
    return f" ({', '.join(parts)})" if parts else ""


def listing(
    turn: Turn,
    ctx: Context,
    template: str,
    products: Sequence[ProductSummary],
    for_query: str,
    results: list[ToolResult],
    **values: Any,
) -> Draft:
    cards = [card_from(p) for p in products]
    lines = "\n".join(
        ctx.text(
            branded("search_item", card.brand),
            index=i,
            title=card.title,
            brand=card.brand,
            price=ctx.price_range(card.price, card.max_price),
            availability="in stock" if card.in_stock else "out of stock",
        )
        for i, card in enumerate(cards, 1)
    )
    shown = [shown_from(p, p.option_values if isinstance(p, SearchedProduct) else None) for p in products]
    turn.set_slot(SlotName.LAST_PRODUCTS, shown)
    return ctx.draft(template, for_query=for_query, lines=lines, products=cards, results=results, **values)


def recommend(turn: Turn, ctx: Context) -> Draft:
    if turn.state.slots.last_search is not None and ctx.terms.wants_cheaper(turn.text):
        return search(turn, ctx)
    ids = resolve_products(turn)
    personal = ctx.terms.wants_personal(turn.text)
    if len(ids) == 1 and not personal:
        similar = turn.call(SimilarItems, {"product_id": ids[0], "limit": RESULTS})
        if isinstance(similar, ToolError):
            return ctx.draft("tool_failed", failed=True)
        return _recommendations(turn, ctx, similar.result)
    words = ctx.terms.query_words(turn.text, [e.span for e in turn.entities.items])
    if words and not personal:
        return search(turn, ctx, query=words)
    return _for_customer(turn, ctx, words, ids)


def _for_customer(turn: Turn, ctx: Context, words: str, ids: Sequence[str]) -> Draft:
    """recommend_for_customer with what this conversation knows: the products named, last shown
    or looked at (details, stock, a quote), those its earlier searches listed, what was asked
    for, and a size, colour or budget said in this message."""
    args: dict[str, Any] = {"limit": RESULTS}
    state = turn.state
    last = [p.product_id for p in state.slots.last_products]
    viewed = list(dict.fromkeys([*ids, *last, *state.viewed_products]))[:MAX_VIEWED]
    if viewed:
        args["viewed_product_ids"] = viewed
    searched = [p for p in state.shown_products if p not in viewed][:MAX_VIEWED]
    if searched:
        args["searched_product_ids"] = searched
    if words:
        args["interests"] = words[:200]
    if turn.entities.colors:
        args["color"] = turn.entities.colors[0].name
    if turn.entities.sizes:
        args["size"] = turn.entities.sizes[0].value
    for price in turn.entities.prices:
        budget = price.max_price if price.max_price is not None else price.target
        if budget is not None:
            args["max_price"] = str(budget)
    found = turn.call(RecommendForCustomer, args)
    if isinstance(found, ToolError):
        return ctx.draft("tool_failed", failed=True)
    recs = found.result
    if not recs.recommendations:
        return ctx.draft("search_none", query="recommendations", constraints="")
    if not recs.personalized:
        return _recommendations(turn, ctx, recs)
    return _personal_listing(turn, ctx, recs, f' for "{words}"' if words else "")


def _personal_listing(turn: Turn, ctx: Context, recs: PersonalRecommendations, for_query: str) -> Draft:
    products = [r.product for r in recs.recommendations]
    cards = [card_from(p) for p in products]
    lines = "\n".join(
        ctx.text(
            branded("personal_item", card.brand),
            index=i,
            title=card.title,
            brand=card.brand,
            price=ctx.price_range(card.price, card.max_price),
            reason=rec.reason,
        )
        for i, (card, rec) in enumerate(zip(cards, recs.recommendations, strict=True), 1)
    )
    turn.set_slot(SlotName.LAST_PRODUCTS, [shown_from(p, None) for p in products])
    return ctx.draft("personal_results", for_query=for_query, lines=lines, products=cards, results=[recs])


def _recommendations(turn: Turn, ctx: Context, recs: Recommendations) -> Draft:
    products = [r.product for r in recs.recommendations]
    if not products:
        return ctx.draft("search_none", query="recommendations", constraints="")
    if isinstance(recs, ProductRecommendations):
        return listing(turn, ctx, "similar_results", products, "", [recs], title=recs.based_on.title)
    return listing(turn, ctx, "recommend_results", products, "", [recs])
