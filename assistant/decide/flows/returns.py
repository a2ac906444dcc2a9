"""Return and exchange flows: the order must be delivered; the customer picks its items (and, for
an exchange, the new variant); the refund or price difference goes to a payment method."""

from __future__ import annotations

from collections.abc import Mapping

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled, Slots, confirm
from assistant.decide.flows.orders import OrderFlow, order_of, refund_text
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import choices, options_text
from core.words import stems
from tools.catalog import GetProduct, VariantInfo
from tools.customer import GetCustomerProfile
from tools.order_results import ExchangeResult, OrderLine, ReturnResult
from tools.orders import ExchangeItems, ReturnItems
from tools.policy import ToolOutcome


def pick_items(ctx: Context, text: str, lines: list[OrderLine], *, asked: bool) -> list[str]:
    """Variant ids of the order lines the customer means ("the socks", "all of them")."""
    if ctx.forms.means_all_items(text):
        return [line.variant_id for line in lines]
    stop = ctx.forms.item_stopwords
    said = stems(text, stop=stop)
    scored = []
    for line in lines:
        named = stems(line.name + " " + " ".join(str(v) for v in line.options.values()), stop=stop)
        scored.append((len(named & said), line.variant_id))
    best = max((score for score, _ in scored), default=0)
    tied = [vid for score, vid in scored if score == best]
    if best > 0:
        return tied if len(tied) == 1 else []  # two lines fit equally: ask which
    if len(lines) == 1 and not asked:
        return [lines[0].variant_id]
    return []


def _open_lines(slots: Slots) -> list[OrderLine]:
    return [line for line in order_of(slots).items if not line.disposition]


def _line(slots: Slots, variant_id: str) -> OrderLine:
    return next(line for line in order_of(slots).items if line.variant_id == variant_id)


class ItemsFlow(OrderFlow):
    """Return or exchange: the order must be delivered; pick its items."""

    statuses = ("delivered",)
    action = "return"

    def fill_items(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_order(turn, ctx, slots)
        known = {**slots, **filled.values}
        if filled.problem is not None or "order" not in known or "items" in slots:
            return filled
        picked = pick_items(ctx, turn.text, _open_lines(known), asked=requested == "items")
        if picked:
            filled.values["items"] = picked
        return filled

    def ask_items(self, ctx: Context, slots: Slots) -> Draft:
        labels = [f"{line.name} ({options_text(line.options)})" for line in _open_lines(slots)]
        text, buttons = choices(labels)
        return ctx.draft(
            "ask_return_items",
            order_id=slots["order_id"],
            action=self.action,
            choices=text,
            quick_replies=buttons,
        )

    @staticmethod
    def payment_method(turn: Turn, ctx: Context, slots: Slots) -> str | None:
        """The order's original payment method, or the customer's gift card when they ask for it."""
        if ctx.forms.means_gift_card(turn.text) or slots.get("refund_to") == "gift_card":
            profile = turn.call(GetCustomerProfile, {})
            if not isinstance(profile, ToolError):
                for method in profile.result.payment_methods:
                    if method.source == "gift_card":
                        return method.payment_method_id
        for record in order_of(slots).transactions:
            if record.kind == "payment":
                return record.payment_method_id
        return None


class ReturnItemsFlow(ItemsFlow):
    name = "return_items"
    tools = (ReturnItems,)

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_items(turn, ctx, slots, requested)
        if ctx.forms.means_gift_card(turn.text):
            filled.values["refund_to"] = "gift_card"
        return filled

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        return self.ask_items(ctx, slots)

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


class ExchangeItemsFlow(ItemsFlow):
    name = "exchange_items"
    tools = (ExchangeItems,)
    action = "exchange"

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_items(turn, ctx, slots, requested)
        known = {**slots, **filled.values}
        items = known.get("items")
        if filled.problem is not None or not items or "new_options" in slots:
            return filled
        if len(items) > 1:
            filled.values.pop("items", None)
            return filled  # one item at a time: ask which
        line = _line(known, items[0])
        wanted: dict[str, str] = {}
        for color in turn.entities.colors:
            wanted["color"] = color.name
        for size in turn.entities.sizes:
            wanted["size"] = size.value
        if not wanted:
            return filled
        variant = self._variant_for(turn, line, wanted)
        if variant is None:
            filled.problem = self.ask_new(turn, ctx, line, failed=True)
            filled.problem_slot = "new_options"
            return filled
        filled.values["new_options"] = variant
        return filled

    @staticmethod
    def _variants(turn: Turn, line: OrderLine) -> list[VariantInfo]:
        product = turn.call(GetProduct, {"product_id": line.product_id})
        if isinstance(product, ToolError):
            return []
        return [v for v in product.result.variants if v.variant_id != line.variant_id and v.available]

    def _variant_for(self, turn: Turn, line: OrderLine, wanted: Mapping[str, str]) -> str | None:
        current = {str(k).lower(): str(v).lower() for k, v in line.options.items()}
        best = None
        for variant in self._variants(turn, line):
            options = {str(k).lower(): str(v).lower() for k, v in variant.options.items()}
            if all(options.get(k) == v.lower() for k, v in wanted.items()):
                same = sum(options.get(k) == v for k, v in current.items() if k not in wanted)
                if best is None or same > best[0]:
                    best = (same, variant.variant_id)
        return None if best is None else best[1]

    def ask_new(self, turn: Turn, ctx: Context, line: OrderLine, *, failed: bool = False) -> Draft:
        variants = self._variants(turn, line)
        labels = [options_text(v.options) for v in variants] or ["nothing else in stock"]
        text, buttons = choices(labels)
        return ctx.draft(
            "ask_new_option",
            title=line.name,
            options=options_text(line.options),
            choices=text,
            quick_replies=buttons,
            failed=failed,
        )

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        if slot == "items":
            return self.ask_items(ctx, slots)
        return self.ask_new(turn, ctx, _line(slots, slots["items"][0]))

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        args = {
            "order_id": slots["order_id"],
            "item_ids": slots["items"],
            "new_item_ids": [slots["new_options"]],
            "payment_method_id": self.payment_method(turn, ctx, slots),
        }
        return confirm(turn, ctx, ExchangeItems, args)

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[ExchangeResult]) -> Draft:
        result = outcome.result
        items = ", ".join(f"{e.name} for {options_text(e.new_options)}" for e in result.exchanges)
        if result.charged:
            difference = f"The price difference of {ctx.money(result.charged)} was charged."
        elif result.refunded:
            difference = f"The price difference of {ctx.money(result.refunded)} was refunded."
        else:
            difference = "There is no price difference."
        return ctx.draft(
            "exchange_done", order_id=result.order_id, items=items, difference=difference, results=[result]
        )


RETURN_FLOWS = (ReturnItemsFlow, ExchangeItemsFlow)
