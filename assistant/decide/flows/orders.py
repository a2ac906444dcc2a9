"""Order flows: track, list, cancel, change the shipping address (returns and exchanges are in
:mod:`assistant.decide.flows.returns`).

Every order id is checked with ``get_order_status`` through the policy layer before it fills a
slot, so another customer's order (or one that does not exist) gets the same "I can't find it
on your account" and reveals nothing. Status rules (only pending orders can be cancelled...)
are the tools' own: the policy layer's ``prepare`` refuses an impossible action before the
customer is asked to confirm it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled, FlowBase, NoSlotFlow, Slots, confirm, no_question, refusal
from assistant.decide.flows.order_lookup import find_order, order_labels
from assistant.decide.flows.payment import named_methods
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import address_line, choices, options_text
from assistant.sessions.shown import QuickReply
from assistant.sessions.slots import SlotName
from tools.customer import GetCustomerProfile
from tools.order_changes import ChangeOrderPayment
from tools.order_results import (
    AddressChangeResult,
    CancelResult,
    OrderDetails,
    PaymentChangeResult,
    PaymentRecord,
)
from tools.orders import CancelOrder, ChangeShippingAddress, GetOrderStatus, ListOrders
from tools.policy import ToolOutcome

_THAT_ORDER = re.compile(r"\b(?:that|this|the\s+same|my\s+last|the\s+last)\s+(?:order|one)\b|\bit\b", re.I)


def order_of(slots: Slots) -> OrderDetails:
    """The order a form holds (kept as JSON in the form's slots)."""
    return OrderDetails.model_validate(slots["order"])


def _order_choices(turn: Turn, statuses: tuple[str, ...]) -> tuple[str, tuple[QuickReply, ...]]:
    listed = turn.call(ListOrders, {"limit": 20})
    if isinstance(listed, ToolError):
        return "", ()
    orders = [o for o in listed.result.orders if not statuses or o.status in statuses]
    if not orders:
        return "", ()
    text, _ = choices([f"{o.order_id} ({o.status})" for o in orders])
    _, buttons = choices([o.order_id for o in orders])
    return f" Your orders: {text}.", buttons


class OrderFlow(FlowBase):
    """Fills ``order_id`` (checked with get_order_status) and keeps the order in the form; a flow
    with a :attr:`detail_slot` also reads that slot from the same message (:meth:`read_detail`)."""

    statuses: tuple[str, ...] = ()
    detail_slot: str | None = None

    def read_detail(self, ctx: Context, text: str) -> Any:
        """The :attr:`detail_slot` value written in ``text``, or None."""
        return None

    def fill_order(self, turn: Turn, ctx: Context, slots: Slots) -> Filled:
        if "order_id" in slots:
            return Filled()
        ids = turn.entities.order_ids
        order_id = ids[0] if ids else None
        current = turn.state.slots.current_order
        if order_id is None and current and _THAT_ORDER.search(turn.text):
            order_id = current
        if order_id is None:
            found = find_order(turn, ctx, self.statuses)
            if found.order_id is None and found.candidates:
                text, _ = choices(order_labels(found.candidates))
                _, buttons = choices([o.order_id for o in found.candidates])
                draft = ctx.draft("which_order", choices=text, quick_replies=buttons)
                return Filled(problem=draft, problem_slot="order_id")
            order_id = found.order_id
        if order_id is None:
            return Filled()
        outcome = turn.call(GetOrderStatus, {"order_id": order_id})
        if isinstance(outcome, ToolError):
            extra, buttons = _order_choices(turn, self.statuses)
            draft = ctx.draft(
                "order_not_found", order_id=order_id, choices=extra, quick_replies=buttons, failed=True
            )
            return Filled(problem=draft, problem_slot="order_id")
        order = outcome.result
        if turn.state.slots.current_order != order.order_id:
            turn.set_slot(SlotName.CURRENT_ORDER, order.order_id)
        return Filled({"order_id": order.order_id, "order": order.model_dump(mode="json")})

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_order(turn, ctx, slots)
        slot = self.detail_slot
        if filled.problem is None and slot is not None and slot not in slots:
            value = self.read_detail(ctx, turn.text)
            if value is not None:
                filled.values[slot] = value
        return filled

    def ask(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        if slot == "order_id":
            extra, buttons = _order_choices(turn, self.statuses)
            return ctx.draft("ask_order_id", choices=extra, quick_replies=buttons)
        return self.ask_more(turn, ctx, slots, slot)

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        raise no_question(self.name, slot)


def refund_text(ctx: Context, records: Iterable[PaymentRecord]) -> str:
    parts = [f"{ctx.money(r.amount)} goes back to {r.payment_method}" for r in records]
    return ("A refund of " + "; ".join(parts) + ".") if parts else "Nothing was paid, so there is no refund."


class TrackOrderFlow(OrderFlow):
    name = "track_order"

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        outcome = turn.call(GetOrderStatus, {"order_id": slots["order_id"]})
        if isinstance(outcome, ToolError):
            return refusal(ctx, outcome)
        order = outcome.result
        items = ", ".join(f"{line.name} ({options_text(line.options)})" for line in order.items)
        tracking = ""
        if order.tracking:
            shipment = order.tracking[0]
            carrier = f" with {shipment.carrier}" if shipment.carrier else ""
            tracking = f" Shipped{carrier}, tracking number {shipment.tracking_id}."
        return ctx.draft(
            "order_status",
            order_id=order.order_id,
            status=order.status,
            count=order.item_count,
            items=items,
            total=ctx.money(order.total),
            tracking=tracking,
            results=[order],
        )


class ListOrdersFlow(NoSlotFlow):
    name = "list_orders"

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        outcome = turn.call(ListOrders, {"limit": 20})
        if isinstance(outcome, ToolError):
            return refusal(ctx, outcome)
        listing = outcome.result
        if not listing.orders:
            return ctx.draft("no_orders")
        lines = "\n".join(
            ctx.text(
                "order_line",
                order_id=o.order_id,
                status=o.status,
                count=o.item_count,
                total=ctx.money(o.total),
            )
            for o in listing.orders
        )
        turn.set_slot(SlotName.LAST_ORDER_IDS, [o.order_id for o in listing.orders])
        return ctx.draft("order_list", lines=lines, results=[listing])


class CancelOrderFlow(OrderFlow):
    name = "cancel_order"
    tools = (CancelOrder,)
    statuses = ("pending",)
    detail_slot = "reason"

    def read_detail(self, ctx: Context, text: str) -> str | None:
        return ctx.forms.cancel_reason(text)

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        return ctx.draft("ask_cancel_reason", order_id=slots["order_id"])

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        return confirm(turn, ctx, CancelOrder, {"order_id": slots["order_id"], "reason": slots["reason"]})

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[CancelResult]) -> Draft:
        result = outcome.result
        return ctx.draft(
            "cancel_done",
            order_id=result.order_id,
            refund=refund_text(ctx, result.refunds),
            results=[result],
        )


class ChangeAddressFlow(OrderFlow):
    name = "change_address"
    tools = (ChangeShippingAddress,)
    statuses = ("pending",)
    detail_slot = "address"

    def read_detail(self, ctx: Context, text: str) -> dict[str, str] | None:
        return ctx.forms.address(text)

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        return ctx.draft(
            "ask_address", order_id=slots["order_id"], failed=slot == "address" and "address" in turn.text
        )

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        args = {"order_id": slots["order_id"], "address": slots["address"]}
        return confirm(turn, ctx, ChangeShippingAddress, args)

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[AddressChangeResult]) -> Draft:
        result = outcome.result
        address = address_line(result.shipping_address)
        return ctx.draft("address_done", order_id=result.order_id, address=address, results=[result])


class ChangePaymentFlow(OrderFlow):
    """Pay for a pending order with another of the customer's payment methods."""

    name = "change_payment"
    tools = (ChangeOrderPayment,)
    statuses = ("pending",)

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_order(turn, ctx, slots)
        if filled.problem is not None or "payment_method" in slots:
            return filled
        profile = turn.call(GetCustomerProfile, {})
        if isinstance(profile, ToolError):
            return Filled(problem=refusal(ctx, profile), abort=True)
        methods = list(profile.result.payment_methods)
        filled.values["methods"] = [{"id": m.payment_method_id, "label": m.label} for m in methods]
        named = named_methods(turn.text, methods)
        if len(named) == 1:
            filled.values["payment_method"] = named[0].payment_method_id
        return filled

    def ask_more(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        text, buttons = choices([m["label"] for m in slots.get("methods", [])])
        return ctx.draft("ask_payment_method", choices=text, quick_replies=buttons)

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        args = {"order_id": slots["order_id"], "payment_method_id": slots["payment_method"]}
        return confirm(turn, ctx, ChangeOrderPayment, args)

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[PaymentChangeResult]) -> Draft:
        result = outcome.result
        return ctx.draft(
            "payment_changed_done",
            order_id=result.order_id,
            method=result.payment_method,
            refund=refund_text(ctx, result.refunds),
            results=[result],
        )


ORDER_FLOWS = (TrackOrderFlow, ListOrdersFlow, CancelOrderFlow, ChangeAddressFlow, ChangePaymentFlow)
