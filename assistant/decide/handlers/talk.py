"""Small talk: greetings, goodbyes, thanks, and the reply to a message not understood."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.turn import Turn
from assistant.reply.draft import Draft


def greet(turn: Turn, ctx: Context) -> Draft:
    return ctx.draft("greet", shop=ctx.shop.name)


def goodbye(turn: Turn, ctx: Context) -> Draft:
    return ctx.draft("goodbye", shop=ctx.shop.name)


def thanks(turn: Turn, ctx: Context) -> Draft:
    return ctx.draft("thanks")


def clarify(turn: Turn, ctx: Context) -> Draft:
    return ctx.draft("clarify", failed=True)


def declined(turn: Turn, ctx: Context) -> Draft:
    """A "no" with nothing pending: acknowledged, nothing changes."""
    return ctx.draft("confirm_declined")


def off_topic(turn: Turn, ctx: Context) -> Draft:
    """A request the shop does not serve (the guardrails declined it or the intent says so)."""
    return ctx.draft("off_topic", message=ctx.text("clarify"))
