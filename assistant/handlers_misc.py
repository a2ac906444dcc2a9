"""Cart, policy and small-talk handlers."""

from __future__ import annotations

import re
from typing import Any

from assistant.kit import Kit, options_text
from assistant.responder import Draft
from assistant.turn import ToolError, Turn
from assistant.types import Citation, SlotName
from dialogue_rules.search_terms import SearchTerms

_WORD = re.compile(r"[a-z0-9]+")
_MARKDOWN = re.compile(r"[*_`#>]+|\[([^\]]*)\]\([^)]*\)")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_POLICY = re.compile(r"\bpolic(?:y|ies)\b", re.I)


def _cart_lines(kit: Kit, cart: Any) -> str:
    return "\n".join(
        kit.text(
            "cart_line",
            quantity=line.quantity,
            title=line.title,
            options=options_text(line.options),
            price=kit.money(line.unit_price),
        )
        for line in cart.items
    )


def _cart(turn: Turn, kit: Kit) -> tuple[Any, Draft | None]:
    """The conversation's cart, or the reply to send when there is nothing to show."""
    outcome = turn.call("view_cart", {})
    if isinstance(outcome, ToolError):
        return None, kit.draft("tool_failed", failed=True)
    if not outcome.result.items:  # type: ignore[attr-defined]
        return None, kit.draft("cart_empty")
    return outcome.result, None


def view_cart(turn: Turn, kit: Kit) -> Draft:
    cart, other = _cart(turn, kit)
    if other is not None:
        return other
    problems = (" " + " ".join(p + "." for p in cart.problems)) if cart.problems else ""
    total = kit.money(cart.quote.total if cart.quote else 0)
    return kit.draft(
        "cart_view", lines=_cart_lines(kit, cart), total=total, problems=problems, results=[cart]
    )


def _remaining(kit: Kit, cart: Any) -> str:
    if not cart.items:
        return "Your cart is now empty."
    return f"Your cart: {cart.item_count} item(s), total {kit.money(cart.quote.total if cart.quote else 0)}."


def remove_from_cart(turn: Turn, kit: Kit) -> Draft:
    cart, other = _cart(turn, kit)
    if other is not None:
        return other
    said = {w.rstrip("s") for w in _WORD.findall(turn.text.lower()) if len(w) >= 3}
    scored = []
    for line in cart.items:
        words = {
            w.rstrip("s")
            for w in _WORD.findall(f"{line.title} {options_text(line.options)}".lower())
            if len(w) >= 3
        }
        scored.append((len(words & said), line))
    best = max(score for score, _ in scored)
    picked = [line for score, line in scored if score == best and score > 0]
    if not picked and len(cart.items) == 1:
        picked = list(cart.items)
    if len(picked) != 1:
        return kit.draft("not_in_cart", remaining=_remaining(kit, cart), failed=True)
    line = picked[0]
    removed = turn.call("remove_from_cart", {"variant_id": line.variant_id})
    if isinstance(removed, ToolError):
        return kit.draft("action_refused", reason=removed.error.message, failed=True)
    after: Any = removed.result
    return kit.draft("cart_removed", title=line.title, remaining=_remaining(kit, after), results=[after])


def _plain(text: str) -> str:
    return " ".join(_MARKDOWN.sub(lambda m: m.group(1) or "", text).split())


def _stems(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if len(w) >= 3}


def rank_passages(question: str, passages: list[Any]) -> list[Any]:
    """Search order, nudged towards passages whose page or section title the question names;
    a question about a whole policy ("your return policy") prefers the page's opening passage."""
    asked = _stems(question)
    general = bool(_POLICY.search(question))

    def score(item: tuple[int, Any]) -> float:
        rank, passage = item
        titles = _stems(f"{passage.page} {passage.section}")
        bonus = 0.5 * len(asked & titles) + (1.0 if general and not passage.section else 0.0)
        return bonus - rank * 0.3

    return [p for _, p in sorted(enumerate(passages), key=score, reverse=True)]


def policy_answer(turn: Turn, kit: Kit, terms: SearchTerms, *, question: str | None = None) -> Draft:
    asked = (question or turn.text)[:500]
    keywords = terms.query_words(asked, [])  # "what is your return policy?" -> "return policy"
    query = keywords if len(keywords) >= 2 else asked
    outcome = turn.call("policy_lookup", {"question": query, "limit": 8})
    if isinstance(outcome, ToolError) or not outcome.result.passages:  # type: ignore[attr-defined]
        return kit.draft("policy_none", failed=True)
    passages: Any = rank_passages(asked, list(outcome.result.passages))  # type: ignore[attr-defined]
    best = passages[0]
    sentences = _SENTENCES.split(_plain(best.text))
    answer = " ".join(sentences[:3])[:600]
    citation = Citation(source=best.source, page=best.page, section=best.section)
    return kit.draft(
        "policy_answer",
        answer=answer,
        page=best.page + (f", {best.section}" if best.section and best.section != best.page else ""),
        facts=[_plain(p.text)[:600] for p in passages[:2]],
        citations=[citation],
    )


def greet(turn: Turn, kit: Kit) -> Draft:
    return kit.draft("greet", shop=kit.shop.name)


def goodbye(turn: Turn, kit: Kit) -> Draft:
    return kit.draft("goodbye", shop=kit.shop.name)


def thanks(turn: Turn, kit: Kit) -> Draft:
    return kit.draft("thanks")


def clarify(turn: Turn, kit: Kit) -> Draft:
    return kit.draft("clarify", failed=True)


def mark_cart_seen(turn: Turn) -> None:
    if not turn.state.slots.cart_seen:
        turn.set_slot(SlotName.CART_SEEN, True)
