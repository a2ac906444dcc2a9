"""Exchanges and item changes: other variants of the same products, for a delivered order's items
(an exchange) or a pending order's (a change before it ships), several items at once.

What the customer wants instead is read per item, from the words about that item ("the keyboard
with clicky switches, and the thermostat for Google Assistant"), and kept across messages, so an
answer adds to what was said before and a value named again replaces the earlier one ("no, I
meant tactile"). Only a variant in stock with every wanted value is proposed; when there are
several, or none (sold out, or no such version), the customer is asked with the versions there
are, never given a guess.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled, Slots, confirm
from assistant.decide.flows.lines import mentions, segments
from assistant.decide.flows.orders import order_of
from assistant.decide.flows.returns import ItemsFlow, line_of, original_method
from assistant.decide.turn import ToolError, Turn
from assistant.decide.variants import Replacement, Wanted, by_price, option_values, replacement
from assistant.reply.draft import Draft
from assistant.reply.formatting import choices, options_text
from tools.catalog import GetProduct, VariantInfo
from tools.customer import GetCustomerProfile, PaymentMethodInfo
from tools.order_changes import ModifyOrderItems
from tools.order_results import ExchangeResult, ItemsChangeResult, OrderLine
from tools.orders import ExchangeItems
from tools.policy import ToolOutcome


def wanted_text(wanted: Wanted) -> str:
    """ "switch type clicky, backlight none or white"."""
    return ", ".join(f"{name} {' or '.join(values)}" for name, values in wanted.items())


class _Products:
    """Each line's product's variants, fetched once for all the work on a message (every fetch
    is a tool call in the conversation's log)."""

    def __init__(self, turn: Turn) -> None:
        self._turn = turn
        self._fetched: dict[str, list[VariantInfo]] = {}

    def variants(self, line: OrderLine) -> list[VariantInfo]:
        """Every variant of the line's product, its own included."""
        if line.product_id not in self._fetched:
            product = self._turn.call(GetProduct, {"product_id": line.product_id})
            self._fetched[line.product_id] = (
                [] if isinstance(product, ToolError) else list(product.result.variants)
            )
        return self._fetched[line.product_id]

    def values(self, lines: list[OrderLine]) -> dict[str, set[str]]:
        """Every option value of each line's product, by product name."""
        return {
            line.name: {value for vals in option_values(self.variants(line)).values() for value in vals}
            for line in lines
        }


class ExchangeItemsFlow(ItemsFlow):
    name = "exchange_items"
    tools = (ExchangeItems, ModifyOrderItems)
    statuses = ("delivered", "pending")
    action = "exchange"
    """A delivered order's items are exchanged; a pending order's are changed before it ships."""

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        products = _Products(turn)
        filled = self.fill_items(turn, ctx, slots, requested, values=products.values)
        self.fill_method(turn, filled, slots, requested)
        known = {**slots, **filled.values}
        if filled.problem is None and known.get("items") and "new_options" not in slots:
            self._fill_new(turn, ctx, known, filled, requested, products)
        known = {**slots, **filled.values}
        if "new_options" in known and "refund_to" not in known:
            if Decimal(str(known.get("difference", "0"))) == 0:
                filled.values["refund_to"] = original_method(known)  # no money moves
            else:
                self.settle_method(turn, filled, slots)
        return filled

    def _fill_new(
        self,
        turn: Turn,
        ctx: Context,
        known: Slots,
        filled: Filled,
        requested: str | None,
        products: _Products,
    ) -> None:
        """Read what each item should become (see the module's docstring)."""
        items: list[str] = known["items"]
        chosen: dict[str, str] = dict(known.get("chosen") or {})
        wanted: dict[str, Wanted] = {k: dict(v) for k, v in (known.get("wanted") or {}).items()}
        lines = [line_of(known, item) for item in items]
        for line, said in self._about(ctx, turn.text, lines, chosen, requested, products.values(lines)):
            variants = products.variants(line)
            current = next((v for v in variants if v.variant_id == line.variant_id), None)
            if current is None:  # the product no longer lists this variant: nothing to compare with
                continue
            first, second = ctx.forms.second_choice(said)
            before = wanted.get(line.variant_id)
            found = replacement(ctx.options, first, variants, current=current, wanted=before)
            if second is not None and not found.picked:  # "if there is no such one, X": X on top
                found = replacement(
                    ctx.options, second, variants, current=current, wanted=found.wanted, explicit=True
                )
            if found.wanted:
                wanted[line.variant_id] = found.wanted
            rank = ctx.forms.price_rank(said)
            if rank:  # "the cheapest one (in clicky)": of every version in stock that fits
                others = [v for v in variants if v.variant_id != current.variant_id and v.available]
                fitting = found.fitting if found.wanted else others
                best = by_price(fitting, rank)
                found.picked = [best] if best is not None else found.picked
            if len(found.picked) == 1:
                chosen[line.variant_id] = found.picked[0].variant_id
            elif not found.wanted and current.available and ctx.forms.means_replacement(said):
                chosen[line.variant_id] = line.variant_id  # the same item again, a replacement
            elif (found.wanted or found.picked) and filled.problem is None:
                filled.problem = self._ask_between(ctx, line, found, variants)
                filled.problem_slot = "new_options"
        filled.values["chosen"] = chosen
        filled.values["wanted"] = wanted
        if all(item in chosen for item in items):
            filled.values["new_options"] = [chosen[item] for item in items]
            prices = {v.variant_id: v.price for line in lines for v in products.variants(line)}
            new = sum((prices[chosen[line.variant_id]] for line in lines), Decimal(0))
            filled.values["difference"] = str(new - sum((line.price for line in lines), Decimal(0)))

    def eligible_methods(self, turn: Turn, slots: Slots) -> list[PaymentMethodInfo]:
        """Any of the customer's methods may pay or receive a price difference."""
        profile = turn.call(GetCustomerProfile, {})
        return [] if isinstance(profile, ToolError) else list(profile.result.payment_methods)

    def answers(self, turn: Turn, ctx: Context, slots: Slots, requested: str) -> bool:
        """A message naming an option value of an item waiting for its replacement answers
        "what instead?", whatever else it reads like ("I'd like a clicky keyboard")."""
        if requested != "new_options" or "items" not in slots:
            return False
        chosen = slots.get("chosen") or {}
        products = _Products(turn)
        for item in slots["items"]:
            if item not in chosen:
                variants = products.variants(line_of(slots, item))
                if ctx.options.named(turn.text, option_values(variants)):
                    return True
        return False

    def revise(self, turn: Turn, ctx: Context, slots: Slots) -> Slots | None:
        """After "no, I meant the white backlight": the items whose replacement the message
        changes (those it names, or any whose product has the values it names) are open again,
        with what was asked for before kept, so the new words refine it."""
        if "new_options" not in slots:
            return None
        lines = [line_of(slots, item) for item in slots["items"]]
        products = _Products(turn)
        named = {name for _, _, name in mentions(ctx, turn.text, lines)}
        said = f" {ctx.options.canonical(turn.text)} "
        hits: dict[str, int] = {}
        for line in lines:
            if named and line.name.lower() not in named:
                continue
            found = ctx.options.named(turn.text, option_values(products.variants(line)))
            if found:  # lines whose option names are said too ("white backlight") come first
                hits[line.variant_id] = sum(f" {ctx.options.canonical(o)} " in said for o in found)
        best = max(hits.values(), default=0)
        reopened = [item for item, hit in hits.items() if hit == best]
        method = self.method_said(turn)
        if not reopened and method is None:
            return None
        chosen = {k: v for k, v in (slots.get("chosen") or {}).items() if k not in reopened}
        revised = {k: v for k, v in slots.items() if k != "new_options"}
        revised["chosen"] = chosen
        if method is not None:
            revised["refund_to"] = method
        if not reopened:
            revised["new_options"] = [chosen[item] for item in slots["items"]]
        return revised

    @staticmethod
    def _about(
        ctx: Context,
        text: str,
        lines: list[OrderLine],
        chosen: dict[str, str],
        requested: str | None,
        values: dict[str, set[str]],
    ) -> list[tuple[OrderLine, str]]:
        """Each line still without a replacement, with the words about it; an answer that names
        no item is about the item just asked for."""
        waiting = [line for line in lines if line.variant_id not in chosen]
        if requested == "new_options" and waiting and not mentions(ctx, text, lines, values):
            return [(waiting[0], text)]
        said = segments(ctx, text, lines, values)
        about = dict(zip((line.variant_id for line in lines), said, strict=True))
        return [(line, about[line.variant_id]) for line in waiting]

    @staticmethod
    def _labels(ctx: Context, variants: list[VariantInfo]) -> tuple[str, tuple[Any, ...]]:
        return choices([f"{options_text(v.options)} ({ctx.money(v.price)})" for v in variants])

    def _ask_between(
        self, ctx: Context, line: OrderLine, found: Replacement[VariantInfo], variants: list[VariantInfo]
    ) -> Draft:
        """Several versions fit, or none in stock does: ask with the versions there are."""
        if found.picked:
            template, shown = "exchange_which", found.picked
        else:
            template = "exchange_sold_out" if found.sold_out else "exchange_no_match"
            shown = found.closest(variants, current_id=line.variant_id)
        text, buttons = self._labels(ctx, shown)
        return ctx.draft(
            template,
            title=line.name,
            wanted=wanted_text(found.wanted) or "what you asked for",
            choices=text or "nothing else",
            quick_replies=buttons,
            failed=not found.picked,
        )

    def ask_new(self, turn: Turn, ctx: Context, line: OrderLine) -> Draft:
        others = [v for v in _Products(turn).variants(line) if v.variant_id != line.variant_id]
        text, buttons = self._labels(ctx, [v for v in others if v.available])
        return ctx.draft(
            "ask_new_option",
            title=line.name,
            options=options_text(line.options),
            choices=text or "nothing else in stock",
            quick_replies=buttons,
        )

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        if slot == "items":
            return self.ask_items(ctx, slots)
        if slot == "refund_to":
            difference = Decimal(str(slots.get("difference", "0")))
            if difference > 0:
                purpose = f"should pay the price difference of {ctx.money(difference)}"
            else:
                purpose = f"should the price difference of {ctx.money(-difference)} go back to"
            return self.ask_method(turn, ctx, slots, purpose=purpose)
        chosen = slots.get("chosen") or {}
        waiting = next(item for item in slots["items"] if item not in chosen)
        return self.ask_new(turn, ctx, line_of(slots, waiting))

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


EXCHANGE_FLOWS = (ExchangeItemsFlow,)
