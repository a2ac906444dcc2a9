"""Returns: the order must be delivered; the customer picks its items; the refund goes to a
payment method. :class:`ItemsFlow` (order, items, payment method) is shared with exchanges
(:mod:`assistant.decide.flows.exchange`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled, Slots, confirm
from assistant.decide.flows.lines import pick_items
from assistant.decide.flows.orders import OrderFlow, order_of, refund_text
from assistant.decide.flows.payment import named_methods
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import choices, options_text
from assistant.sessions.shown import QuickReply
from tools.customer import GetCustomerProfile, PaymentMethodInfo
from tools.order_results import OrderLine, ReturnResult
from tools.orders import ReturnItems
from tools.policy import ToolOutcome

#: Words that bring up a payment method ("refund it to my PayPal", "pay the difference with...").
_MONEY_WORDS = re.compile(r"\b(?:refund\w*|pay\w*|paid|charge\w*|card|gift|credit|ending)\b", re.I)


def money_words(text: str) -> bool:
    """Whether ``text`` brings up where money goes or comes from."""
    return _MONEY_WORDS.search(text) is not None


def _open_lines(slots: Slots) -> list[OrderLine]:
    return [line for line in order_of(slots).items if not line.disposition]


def line_of(slots: Slots, variant_id: str) -> OrderLine:
    """The line of the form's order that has ``variant_id``."""
    return next(line for line in order_of(slots).items if line.variant_id == variant_id)


class ItemsFlow(OrderFlow):
    """Return or exchange: the order must be delivered; pick its items."""

    statuses: tuple[str, ...] = ("delivered",)
    action = "return"

    def fill_items(
        self,
        turn: Turn,
        ctx: Context,
        slots: Slots,
        requested: str | None,
        values: Callable[[list[OrderLine]], dict[str, set[str]]] | None = None,
    ) -> Filled:
        """Fill the order and its items; ``values`` gives the lines' products' option values (by
        product name), for telling a product's name from another item's option value ("laptop"
        compartment); without it, the lines' own values are used."""
        filled = self.fill_order(turn, ctx, slots)
        known = {**slots, **filled.values}
        if filled.problem is not None or "order" not in known or "items" in slots:
            return filled
        lines = _open_lines(known)
        said = values(lines) if values is not None else None
        picked = pick_items(ctx, turn.text, lines, asked=requested == "items", values=said)
        if picked:
            filled.values["items"] = picked
        return filled

    def ask_items(self, ctx: Context, slots: Slots) -> Draft:
        labels = [f"{line.name} ({options_text(line.options)})" for line in _open_lines(slots)]
        text, buttons = choices(labels)
        return ctx.draft(
            "ask_return_items",
            order_id=slots["order_id"],
            action="change" if order_of(slots).status == "pending" else self.action,
            choices=text,
            quick_replies=buttons,
        )

    @staticmethod
    def named_method(turn: Turn) -> str | None:
        """The one payment method of the customer's that the message names, if any."""
        profile = turn.call(GetCustomerProfile, {})
        if isinstance(profile, ToolError):
            return None
        named = named_methods(turn.text, profile.result.payment_methods)
        return named[0].payment_method_id if len(named) == 1 else None

    @staticmethod
    def payment_method(turn: Turn, ctx: Context, slots: Slots) -> str | None:
        """The method the customer chose for the money (``refund_to``), else the order's own."""
        if isinstance(slots.get("refund_to"), str) and slots["refund_to"]:
            return str(slots["refund_to"])
        return original_method(slots)

    def method_said(self, turn: Turn, *, asked: bool = False) -> str | None:
        """The payment method a message about money names (any answer to the question counts)."""
        return self.named_method(turn) if asked or money_words(turn.text) else None

    def fill_method(self, turn: Turn, filled: Filled, slots: Slots, requested: str | None) -> None:
        """Keep the payment method the message names for the refund or price difference."""
        if filled.problem is None and "refund_to" not in slots:
            method = self.method_said(turn, asked=requested == "refund_to")
            if method is not None:
                filled.values["refund_to"] = method

    def eligible_methods(self, turn: Turn, slots: Slots) -> list[PaymentMethodInfo]:
        """The methods the money may go to: the order's own and the customer's gift cards (a
        refund, by the shop's rules); an exchange may use any of them."""
        profile = turn.call(GetCustomerProfile, {})
        if isinstance(profile, ToolError):
            return []
        original = original_method(slots)
        return [
            m
            for m in profile.result.payment_methods
            if m.payment_method_id == original or m.source == "gift_card"
        ]

    def settle_method(self, turn: Turn, filled: Filled, slots: Slots) -> None:
        """With one method the money can go to, it is that one (nothing to ask)."""
        known = {**slots, **filled.values}
        if filled.problem is None and "refund_to" not in known and "order" in known:
            if order_of(known).status not in self.statuses:  # refused anyway: ask nothing more
                filled.values["refund_to"] = original_method(known)
                return
            eligible = self.eligible_methods(turn, known)
            if len(eligible) <= 1:
                filled.values["refund_to"] = (
                    eligible[0].payment_method_id if eligible else original_method(known)
                )

    def ask_method(self, turn: Turn, ctx: Context, slots: Slots, *, purpose: str) -> Draft:
        labels = [m.label for m in self.eligible_methods(turn, slots)]
        text, buttons = choices(labels)
        return ctx.draft("ask_refund_method", purpose=purpose, choices=text, quick_replies=buttons)


def original_method(slots: Slots) -> str | None:
    """The method the form's order was paid with."""
    for record in order_of(slots).transactions:
        if record.kind == "payment":
            return record.payment_method_id
    return None


class ReturnItemsFlow(ItemsFlow):
    name = "return_items"
    tools = (ReturnItems,)

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_items(turn, ctx, slots, requested)
        known = {**slots, **filled.values}
        if filled.problem is None and "order" in known and order_of(known).status == "pending":
            # Nothing to send back yet: say what can be done instead (a full refund is a
            # cancellation), with that as the one thing a "yes" takes.
            order_id = known["order_id"]
            cancel = QuickReply(label=f"Cancel order {order_id}", payload=f"cancel order {order_id}")
            draft = ctx.draft("return_not_delivered", order_id=order_id, quick_replies=(cancel,))
            return Filled(problem=draft, abort=True)
        self.fill_method(turn, filled, slots, requested)
        if "items" in {**slots, **filled.values}:
            self.settle_method(turn, filled, slots)
        return filled

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        if slot == "refund_to":
            return self.ask_method(turn, ctx, slots, purpose="should the refund go to")
        return self.ask_items(ctx, slots)

    def revise(self, turn: Turn, ctx: Context, slots: Slots) -> Slots | None:
        """ "No, refund it to my gift card": the same return, to the method named (the shop's
        rules still decide whether it may go there). "I also want to return the lamp" / "the
        bookshelf as well": those items join the proposed ones."""
        revised = dict(slots)
        if ctx.forms.adds(turn.text):
            named = self.fill_items(turn, ctx, {k: v for k, v in slots.items() if k != "items"}, "items")
            more = [i for i in named.values.get("items", []) if i not in slots.get("items", [])]
            if named.problem is None and more:
                revised["items"] = [*slots.get("items", []), *more]
        method = self.method_said(turn)
        if method is not None and method != slots.get("refund_to"):
            revised["refund_to"] = method
        return revised if revised != slots else None

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        method = self.payment_method(turn, ctx, slots)
        args = {"order_id": slots["order_id"], "item_ids": slots["items"], "payment_method_id": method}
        return confirm(turn, ctx, ReturnItems, args)

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[ReturnResult]) -> Draft:
        result = outcome.result
        items = ", ".join(f"{line.name} ({options_text(line.options)})" for line in result.returned)
        refund = refund_text(ctx, [result.refund] if result.refund else [])
        return ctx.draft(
            "return_done", order_id=result.order_id, items=items, refund=refund, results=[result]
        )


RETURN_FLOWS = (ReturnItemsFlow,)
