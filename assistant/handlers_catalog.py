"""Catalog handlers: search (with refinements), recommendations, product details, availability
and price questions. Every figure in their drafts comes from a tool result of this turn."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assistant.kit import Kit, card_from, choices, options_text, shown_from
from assistant.references import resolve_products
from assistant.responder import Draft
from assistant.turn import ToolError, Turn
from assistant.types import SearchMemory, SlotName
from dialogue_rules.search_terms import SearchTerms
from tools.types import to_money

RESULTS = 5
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


def search(
    turn: Turn, kit: Kit, terms: SearchTerms, *, query: str | None = None, extra: dict[str, Any] | None = None
) -> Draft:
    """Search the catalog for what the message describes, or refine the last search."""
    spans = [e.span for e in turn.entities.items if e.kind in _FILTER_ENTITIES]
    words = query if query is not None else terms.query_words(turn.text, spans)
    last = turn.state.slots.last_search
    refine = last is not None and (
        not words or terms.is_refinement(turn.text) or terms.wants_cheaper(turn.text)
    )
    if refine and last is not None:
        base = dict(last.filters)
        words = last.query if not words or terms.wants_cheaper(turn.text) else f"{last.query} {words}"
        # a refinement that names no new product words keeps the last query and its filters
    else:
        base = {}
    if not words:
        return kit.draft("ask_product_words")
    filters = _filters_from(turn, terms, base)
    filters.update(extra or {})
    outcome = turn.call("catalog_search", {"query": words, **filters, "limit": RESULTS})
    if isinstance(outcome, ToolError):
        return kit.draft("tool_failed", failed=True)
    found: Any = outcome.result
    turn.set_slot(SlotName.LAST_SEARCH, SearchMemory(query=words, filters=filters))
    constraints = _describe(kit, filters)
    if not found.products:
        return kit.draft("search_none", query=f'"{words}"', constraints=constraints, failed=False)
    return _listing(turn, kit, "search_results", found.products, f' for "{words}"{constraints}', [found])


def _describe(kit: Kit, filters: dict[str, Any]) -> str:
    parts = []
    if filters.get("options"):
        parts.append(options_text(filters["options"]))
    if filters.get("min_price") and filters.get("max_price"):
        parts.append(f"between {kit.money(filters['min_price'])} and {kit.money(filters['max_price'])}")
    elif filters.get("max_price"):
        parts.append(f"up to {kit.money(filters['max_price'])}")
    elif filters.get("min_price"):
        parts.append(f"from {kit.money(filters['min_price'])}")
    if filters.get("in_stock_only"):
        parts.append("in stock")
    return f" ({', '.join(parts)})" if parts else ""


def _listing(
    turn: Turn,
    kit: Kit,
    template: str,
    products: list[Any],
    for_query: str,
    results: list[Any],
    **values: Any,
) -> Draft:
    cards = [card_from(p) for p in products]
    lines = "\n".join(
        kit.text(
            "search_item",
            index=i,
            title=card.title,
            brand=card.brand or "no brand",
            price=kit.price_range(card.price, card.max_price),
            availability="in stock" if card.in_stock else "out of stock",
        )
        for i, card in enumerate(cards, 1)
    )
    turn.set_slot(SlotName.LAST_PRODUCTS, [shown_from(p) for p in products])
    return kit.draft(template, for_query=for_query, lines=lines, products=cards, results=results, **values)


def recommend(turn: Turn, kit: Kit, terms: SearchTerms) -> Draft:
    if turn.state.slots.last_search is not None and terms.wants_cheaper(turn.text):
        return search(turn, kit, terms)
    ids = resolve_products(turn)
    if len(ids) == 1:
        outcome = turn.call("similar_items", {"product_id": ids[0], "limit": RESULTS})
    else:
        spans = [e.span for e in turn.entities.items]
        words = terms.query_words(turn.text, spans)
        if words:
            return search(turn, kit, terms, query=words)
        outcome = turn.call("popular_items", {"limit": RESULTS})
    if isinstance(outcome, ToolError):
        return kit.draft("tool_failed", failed=True)
    recs: Any = outcome.result
    products = [r.product for r in recs.recommendations]
    if not products:
        return kit.draft("search_none", query="recommendations", constraints="")
    based_on = getattr(recs, "based_on", None)
    if based_on is not None:
        return _listing(turn, kit, "similar_results", products, "", [recs], title=based_on.title)
    return _listing(turn, kit, "recommend_results", products, "", [recs])


def _one_product(turn: Turn, kit: Kit, terms: SearchTerms) -> tuple[Any, Draft | None]:
    """The product the message is about (details loaded), or the reply to send instead."""
    ids = resolve_products(turn)
    if len(ids) > 1:
        labels = [p.title for p in turn.state.last_products if p.product_id in ids]
        text, buttons = choices(labels)
        return None, kit.draft("which_product", choices=text, quick_replies=buttons)
    if not ids:
        return None, search(turn, kit, terms)
    outcome = turn.call("get_product", {"product_id": ids[0]})
    if isinstance(outcome, ToolError):
        return None, kit.draft("tool_failed", failed=True)
    return outcome.result, None


def _stock_line(details: Any) -> str:
    stock = sum(v.stock for v in details.variants)
    if stock <= 0:
        return "It is out of stock right now."
    return f"{stock} in stock."


def product_details(turn: Turn, kit: Kit, terms: SearchTerms) -> Draft:
    details, other = _one_product(turn, kit, terms)
    if other is not None:
        return other
    options = "; ".join(f"{k}: {', '.join(v)}" for k, v in details.option_values.items())
    return kit.draft(
        "product_details",
        title=details.title,
        brand=details.brand or "no brand",
        price=kit.price_range(details.min_price, details.max_price),
        stock_line=_stock_line(details),
        options_line=f" Options: {options}." if options else "",
        facts=[details.description[:300]],
        products=[card_from(details)],
        results=[details],
    )


def price_question(turn: Turn, kit: Kit, terms: SearchTerms) -> Draft:
    details, other = _one_product(turn, kit, terms)
    if other is not None:
        return other
    return kit.draft(
        "price_answer",
        title=details.title,
        price=kit.price_range(details.min_price, details.max_price),
        stock_line=" " + _stock_line(details),
        products=[card_from(details)],
        results=[details],
    )


def availability(turn: Turn, kit: Kit, terms: SearchTerms) -> Draft:
    ids = resolve_products(turn)
    wanted: dict[str, str] = {}
    if turn.entities.colors:
        wanted["color"] = turn.entities.colors[0].name
    if turn.entities.sizes:
        wanted["size"] = turn.entities.sizes[0].value
    if not ids:
        return search(turn, kit, terms, extra={"in_stock_only": True})
    if len(ids) > 1:
        labels = [p.title for p in turn.state.last_products if p.product_id in ids]
        text, buttons = choices(labels)
        return kit.draft("which_product", choices=text, quick_replies=buttons)
    if not wanted:
        return product_details(turn, kit, terms)
    outcome = turn.call("check_availability", {"product_id": ids[0], "options": wanted})
    if isinstance(outcome, ToolError):
        return kit.draft("action_refused", reason=outcome.error.message, failed=True)
    result: Any = outcome.result
    wanted_text = options_text(wanted)
    if result.available and result.matches:
        match = result.matches[0]
        return kit.draft(
            "availability_yes",
            title=result.title,
            wanted=wanted_text,
            count=match.stock,
            price=kit.money(match.price),
            results=[result],
        )
    alternatives = ""
    if result.alternatives:
        labels = [f"{options_text(a.options)} ({kit.money(a.price)})" for a in result.alternatives[:3]]
        alternatives = " In stock instead: " + "; ".join(labels) + "."
    return kit.draft(
        "availability_no", title=result.title, wanted=wanted_text, alternatives=alternatives, results=[result]
    )
