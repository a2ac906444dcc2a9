"""Return and exchange flows: the order must be delivered; the customer picks its items (and, for
an exchange, the new variant); the refund or price difference goes to a payment method."""

from __future__ import annotations

import re
from itertools import pairwise

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled, Slots, confirm
from assistant.decide.flows.orders import OrderFlow, order_of, refund_text
from assistant.decide.flows.payment import named_methods
from assistant.decide.turn import ToolError, Turn
from assistant.decide.variants import described, option_values
from assistant.reply.draft import Draft
from assistant.reply.formatting import choices, options_text
from core.words import stems
from tools.catalog import GetProduct, VariantInfo
from tools.customer import GetCustomerProfile
from tools.order_changes import ModifyOrderItems
from tools.order_results import ExchangeResult, ItemsChangeResult, OrderLine, ReturnResult
from tools.orders import ExchangeItems, ReturnItems
from tools.policy import ToolOutcome

#: Where the words about one item end and the next begin ("... in red and the same ...").
_BREAK = re.compile(r"\s+and\s+|[,;:]")
#: Words that bring up a payment method ("refund it to my PayPal", "pay the difference with...").
_MONEY_WORDS = re.compile(r"\b(?:refund\w*|pay\w*|paid|charge\w*|card|gift|credit|ending)\b", re.I)


def pick_items(ctx: Context, text: str, lines: list[OrderLine], *, asked: bool) -> list[str]:
    """Variant ids of the order lines the customer means: "all of them", the products named
    ("the garden hose and the earbuds"; two lines of one product told apart by their option
    values), else the line whose words the message shares most."""
    if ctx.forms.means_all_items(text):
        return [line.variant_id for line in lines]
    named = _named_lines(ctx, text, lines)
    if named is not None:
        return named
    stop = ctx.forms.item_stopwords
    said = stems(text, stop=stop)
    scored = []
    for line in lines:
        words = stems(line.name + " " + " ".join(str(v) for v in line.options.values()), stop=stop)
        scored.append((len(words & said), line.variant_id))
    best = max((score for score, _ in scored), default=0)
    tied = [vid for score, vid in scored if score == best]
    if best > 0:
        return tied if len(tied) == 1 else []  # two lines fit equally: ask which
    if len(lines) == 1 and not asked:
        return [lines[0].variant_id]
    return []


def _named_lines(ctx: Context, text: str, lines: list[OrderLine]) -> list[str] | None:
    """The lines whose product names the text writes out; [] when a named product has several
    lines the text does not tell apart; None when it names no product in full."""
    said = f" {ctx.options.canonical(text)} "
    by_name: dict[str, list[OrderLine]] = {}
    for line in lines:
        if f" {ctx.options.canonical(line.name)} " in said:
            by_name.setdefault(line.name, []).append(line)
    if not by_name:
        return None
    picked: list[str] = []
    for same in by_name.values():
        if len(same) == 1:
            picked.append(same[0].variant_id)
            continue
        hits = [
            sum(ctx.options.mentions(text, v, option=k) for k, v in line.options.items()) for line in same
        ]
        best = max(hits)
        chosen = {line.variant_id for line, hit in zip(same, hits, strict=True) if hit == best}
        if len(chosen) != 1:  # one variant on two lines is one choice; two variants tied are not
            return []
        picked.extend(chosen)
    return list(dict.fromkeys(line.variant_id for line in lines if line.variant_id in picked))


def _open_lines(slots: Slots) -> list[OrderLine]:
    return [line for line in order_of(slots).items if not line.disposition]


def _line(slots: Slots, variant_id: str) -> OrderLine:
    return next(line for line in order_of(slots).items if line.variant_id == variant_id)


def _segments(ctx: Context, text: str, lines: list[OrderLine]) -> list[str]:
    """The words about each line: every stretch of ``text`` from a mention of its product to the
    next mention of any line's product, cut at the last "and", comma or semicolon before it, so
    "the bicycle in red and the same air purifier again" gives "the bicycle in red" and "the same
    air purifier again"; the whole text for a line never named (or a single line)."""
    if len(lines) < 2:
        return [text] * len(lines)
    lowered = text.lower()
    names = {line.name.lower() for line in lines}
    mentions = sorted(
        (m.start(), m.end(), name) for name in names for m in re.finditer(re.escape(name), lowered)
    )
    cuts = [0]
    for (_, end, _), (start, _, _) in pairwise(mentions):
        between = [
            m.start() for m in _BREAK.finditer(lowered, end, start) if _outside_brackets(lowered, m.start())
        ]
        cuts.append(between[-1] if between else start)
    cuts.append(len(text))
    about: dict[str, list[str]] = {}
    for index, (_, _, name) in enumerate(mentions):
        about.setdefault(name, []).append(text[cuts[index] : cuts[index + 1]])
    return [" ".join(about.get(line.name.lower(), [text])) for line in lines]


def _outside_brackets(text: str, at: int) -> bool:
    """Whether ``at`` is outside parentheses ("the purifier (medium, HEPA)": the commas are in)."""
    return text.count("(", 0, at) <= text.count(")", 0, at)


class ItemsFlow(OrderFlow):
    """Return or exchange: the order must be delivered; pick its items."""

    statuses: tuple[str, ...] = ("delivered",)
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
        """The method the customer named for the money (``refund_to``), else the order's own."""
        if isinstance(slots.get("refund_to"), str) and slots["refund_to"]:
            return str(slots["refund_to"])
        for record in order_of(slots).transactions:
            if record.kind == "payment":
                return record.payment_method_id
        return None

    def fill_method(self, turn: Turn, filled: Filled, slots: Slots) -> None:
        """Keep the payment method the message names for the refund or price difference."""
        if filled.problem is None and "refund_to" not in slots and _MONEY_WORDS.search(turn.text):
            method = self.named_method(turn)
            if method is not None:
                filled.values["refund_to"] = method


class ReturnItemsFlow(ItemsFlow):
    name = "return_items"
    tools = (ReturnItems,)

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_items(turn, ctx, slots, requested)
        self.fill_method(turn, filled, slots)
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
    tools = (ExchangeItems, ModifyOrderItems)
    statuses = ("delivered", "pending")
    action = "exchange"
    """A delivered order's items are exchanged; a pending order's are changed before it ships."""

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_items(turn, ctx, slots, requested)
        self.fill_method(turn, filled, slots)
        known = {**slots, **filled.values}
        items: list[str] = known.get("items") or []
        if filled.problem is not None or not items or "new_options" in slots:
            return filled
        chosen: dict[str, str] = dict(known.get("chosen") or {})
        lines = [_line(known, item) for item in items]
        for line, said in zip(lines, _segments(ctx, turn.text, lines), strict=True):
            if line.variant_id in chosen:
                continue
            variants = self._product_variants(turn, line)
            every = [v for v in variants if v.variant_id != line.variant_id]
            candidates = [v for v in every if v.available]
            picked = described(ctx.options, said, candidates, current=line.options)
            same = [v for v in variants if v.variant_id == line.variant_id and v.available]
            if not picked and same and ctx.forms.means_replacement(said):
                chosen[line.variant_id] = line.variant_id  # the same item again, a replacement
            elif len(picked) == 1:
                chosen[line.variant_id] = picked[0].variant_id
            elif not picked and ctx.options.named(said, option_values(every)):
                # it names options of this product, but no other variant in stock has them all
                filled.problem = self.ask_new(turn, ctx, line, failed=True)
                filled.problem_slot = "new_options"
        if chosen:
            filled.values["chosen"] = chosen
        if all(item in chosen for item in items):
            filled.values["new_options"] = [chosen[item] for item in items]
        return filled

    @staticmethod
    def _product_variants(turn: Turn, line: OrderLine) -> list[VariantInfo]:
        """Every variant of the line's product, its own included."""
        product = turn.call(GetProduct, {"product_id": line.product_id})
        return [] if isinstance(product, ToolError) else list(product.result.variants)

    def _variants(self, turn: Turn, line: OrderLine) -> list[VariantInfo]:
        """The product's other variants in stock."""
        return [
            v for v in self._product_variants(turn, line) if v.variant_id != line.variant_id and v.available
        ]

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
        chosen = slots.get("chosen") or {}
        waiting = next(item for item in slots["items"] if item not in chosen)
        return self.ask_new(turn, ctx, _line(slots, waiting))

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        args = {
            "order_id": slots["order_id"],
            "item_ids": slots["items"],
            "new_item_ids": slots["new_options"],
            "payment_method_id": self.payment_method(turn, ctx, slots),
        }
        pending = order_of(slots).status == "pending"
        return confirm(turn, ctx, ModifyOrderItems if pending else ExchangeItems, args)

    def done(
        self, turn: Turn, ctx: Context, outcome: ToolOutcome[ExchangeResult | ItemsChangeResult]
    ) -> Draft:
        result = outcome.result
        changed = result.changes if isinstance(result, ItemsChangeResult) else result.exchanges
        items = ", ".join(f"{e.name} for {options_text(e.new_options)}" for e in changed)
        if result.charged:
            difference = f"The price difference of {ctx.money(result.charged)} was charged."
        elif result.refunded:
            difference = f"The price difference of {ctx.money(result.refunded)} was refunded."
        else:
            difference = "There is no price difference."
        template = "items_changed_done" if isinstance(result, ItemsChangeResult) else "exchange_done"
        return ctx.draft(
            template, order_id=result.order_id, items=items, difference=difference, results=[result]
        )


RETURN_FLOWS = (ReturnItemsFlow, ExchangeItemsFlow)
