"""Which catalog product a message names when it is not one already shown: "How much is the
stainless steel 1.5 liters induction Tea Kettle?".

The message's product words (question words and filler dropped) go to the catalog search; of its
results, the one whose title the message says most of is the product. Titles are compared in the
option-values canonical form (lower case, units in base units), so nothing here knows a catalog.
A title the message says at least half of, or three words of, or its first words ("Zvezda 7027"
for "Zvezda 7027 - Airliner Boeing 737-700 ... Plastic Model Kit") counts;
the one with the most words said wins. Between titles with as many words said, a title said
whole beats one said in part, then one said as a phrase ("Tea Kettle" in "the glass Tea Kettle")
beats one said in pieces ("electric ... Kettle"), then the product whose option values the rest
of the message names most; still tied, both are returned for the customer to choose.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.decide.context import Context
from assistant.decide.turn import ToolError, Turn
from tools.catalog import CatalogSearch, SearchedProduct

CANDIDATES = 8
#: Entities that are never part of a product's name (colors and sizes may be: "Black Panther").
_NOT_NAME = ("price", "quantity", "order_id", "email", "zip_code")


@dataclass(frozen=True)
class NamedProducts:
    query: str
    """The message's product words, as searched."""
    products: list[SearchedProduct]
    """The best-said products: one when the message names one, several on a tie, or none."""


def _name_words(ctx: Context, title: str) -> list[str]:
    return [w for w in ctx.options.canonical(title).split() if w not in ctx.terms.filler]


def _title_words(ctx: Context, title: str) -> set[str]:
    return set(_name_words(ctx, title))


def said_title(ctx: Context, text: str, title: str) -> tuple[int, float]:
    """How many of ``title``'s words ``text`` says, and which share of the title that is."""
    words = _title_words(ctx, title)
    said = len(words & set(ctx.options.canonical(text).split()))
    return said, (said / len(words) if words else 0.0)


def named_products(turn: Turn, ctx: Context) -> NamedProducts:
    spans = [e.span for e in turn.entities.items if e.kind in _NOT_NAME]
    query = ctx.terms.query_words(turn.text, spans, numbers=True)
    if not query:
        return NamedProducts(query, [])
    outcome = turn.call(CatalogSearch, {"query": query, "limit": CANDIDATES})
    if isinstance(outcome, ToolError):
        return NamedProducts(query, [])
    said_text = f" {ctx.options.canonical(query)} "
    scored = []
    for product in outcome.result.products:
        said, share = said_title(ctx, query, product.title)
        name = _name_words(ctx, product.title)
        opening = said >= 2 and f" {' '.join(name[:said])} " in said_text  # "Zvezda 7027 - Airliner..."
        if said >= 1 and (share >= 0.5 or said >= 3 or opening):
            whole = share == 1.0
            phrase = f" {' '.join(name)} " in said_text
            rest = without_title(ctx, query, product.title)
            options = {name: set(values) for name, values in product.option_values.items()}
            named = sum(len(values) for values in ctx.options.named(rest, options).values())
            scored.append(((said, whole, phrase, named), product))
    if not scored:
        return NamedProducts(query, [])
    best = max(score for score, _ in scored)
    return NamedProducts(query, [product for score, product in scored if score == best])


def without_title(ctx: Context, text: str, title: str) -> str:
    """``text`` (canonical) without ``title`` as said: what is left to name options with.

    Runs of two or more title words go, and single title words unless they hold a digit: "the
    3-Season Tent for 3 people" keeps its second "3"."""
    words = _title_words(ctx, title)
    said = ctx.options.canonical(text).split()
    inside = [w in words for w in said]
    kept = []
    for i, word in enumerate(said):
        run = inside[i] and ((i > 0 and inside[i - 1]) or (i + 1 < len(said) and inside[i + 1]))
        if inside[i] and (run or not any(c.isdigit() for c in word)):
            continue
        kept.append(word)
    return " ".join(kept)


def in_named_title(turn: Turn, ctx: Context, phrases: list[str]) -> bool:
    """Whether every phrase is part of the title of a product the message names ("Melissa &
    Doug Personalized Puzzle": "Personalized" is the product's name, not a request)."""
    if not phrases:
        return False
    found = named_products(turn, ctx)
    return any(all(p.lower() in product.title.lower() for p in phrases) for product in found.products)
