"""Cart handlers: show the cart, remove an item from it."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import options_text
from core.words import stems
from tools.cart import CartView, RemoveFromCart, ViewCart


def _cart_lines(ctx: Context, cart: CartView) -> str:
    return "\n".join(
        ctx.text(
            "cart_line",
            quantity=line.quantity,
            title=line.title,
            options=options_text(line.options),
            price=ctx.money(line.unit_price),
        )
        for line in cart.items
    )


def _cart(turn: Turn, ctx: Context) -> CartView | Draft:
    """The conversation's cart, or the reply to send when there is nothing to show."""
    outcome = turn.call(ViewCart, {})
    if isinstance(outcome, ToolError):
        return ctx.draft("tool_failed", failed=True)
    if not outcome.result.items:
        return ctx.draft("cart_empty")
    return outcome.result


def view_cart(turn: Turn, ctx: Context) -> Draft:
    cart = _cart(turn, ctx)
    if isinstance(cart, Draft):
        return cart
    problems = (" " + " ".join(p + "." for p in cart.problems)) if cart.problems else ""
    total = ctx.money(cart.quote.total if cart.quote else 0)
    return ctx.draft(
        "cart_view", lines=_cart_lines(ctx, cart), total=total, problems=problems, results=[cart]
    )


def _remaining(ctx: Context, cart: CartView) -> str:
    if not cart.items:
        return "Your cart is now empty."
    return f"Your cart: {cart.item_count} item(s), total {ctx.money(cart.quote.total if cart.quote else 0)}."


def remove_from_cart(turn: Turn, ctx: Context) -> Draft:
    cart = _cart(turn, ctx)
    if isinstance(cart, Draft):
        return cart
    said = stems(turn.text)
    scored = []
    for line in cart.items:
        scored.append((len(stems(f"{line.title} {options_text(line.options)}") & said), line))
    best = max(score for score, _ in scored)
    picked = [line for score, line in scored if score == best and score > 0]
    if not picked and len(cart.items) == 1:
        picked = list(cart.items)
    if len(picked) != 1:
        return ctx.draft("not_in_cart", remaining=_remaining(ctx, cart), failed=True)
    line = picked[0]
    removed = turn.call(RemoveFromCart, {"variant_id": line.variant_id})
    if isinstance(removed, ToolError):
        return ctx.draft("action_refused", reason=removed.error.message, failed=True)
    after = removed.result
    return ctx.draft("cart_removed", title=line.title, remaining=_remaining(ctx, after), results=[after])
