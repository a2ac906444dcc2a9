"""Order flows: track, list, cancel, return, exchange, change the shipping address.

Every order id is checked with ``get_order_status`` through the policy layer before it fills a
slot, so another customer's order (or one that does not exist) gets the same "I can't find it
on your account" and reveals nothing. Status rules (only pending orders can be cancelled...)
are the tools' own: the policy layer's ``prepare`` refuses an impossible action before the
customer is asked to confirm it.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.flows import Filled, FlowBase, NoSlotFlow, Slots, confirm, no_question, refusal
from assistant.kit import Kit, choices, options_text
from assistant.responder import Draft
from assistant.turn import ToolError, Turn
from assistant.types import SlotName
from tools.policy import ToolOutcome

_THAT_ORDER = re.compile(r"\b(?:that|this|the\s+same|my\s+last|the\s+last)\s+(?:order|one)\b|\bit\b", re.I)
_WORD = re.compile(r"[a-z0-9]+")


def _order_choices(turn: Turn, statuses: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    listed = turn.call("list_orders", {"limit": 20})
    if isinstance(listed, ToolError):
        return "", ()
    orders = [o for o in listed.result.orders if not statuses or o.status in statuses]  # type: ignore[attr-defined]
    if not orders:
        return "", ()
    labels = [f"{o.order_id} ({o.status})" for o in orders]
    text, _ = choices(labels)
    buttons = choices([o.order_id for o in orders])[1]
    return f" Your orders: {text}.", buttons


class OrderFlow(FlowBase):
    """Fills ``order_id`` (checked with get_order_status) and keeps the order in the form."""

    statuses: tuple[str, ...] = ()

    def fill_order(self, turn: Turn, kit: Kit, slots: Slots) -> Filled:
        if "order_id" in slots:
            return Filled()
        ids = turn.entities.order_ids
        order_id = ids[0] if ids else None
        current = turn.state.slots.current_order
        if order_id is None and current and _THAT_ORDER.search(turn.text):
            order_id = current
        if order_id is None:
            return Filled()
        outcome = turn.call("get_order_status", {"order_id": order_id})
        if isinstance(outcome, ToolError):
            extra, buttons = _order_choices(turn, self.statuses)
            draft = kit.draft(
                "order_not_found", order_id=order_id, choices=extra, quick_replies=buttons, failed=True
            )
            return Filled(problem=draft, problem_slot="order_id")
        order = outcome.result.model_dump(mode="json")
        if turn.state.slots.current_order != order["order_id"]:
            turn.set_slot(SlotName.CURRENT_ORDER, order["order_id"])
        return Filled({"order_id": order["order_id"], "order": order})

    def fill(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled:
        return self.fill_order(turn, kit, slots)

    def ask(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft:
        if slot == "order_id":
            extra, buttons = _order_choices(turn, self.statuses)
            return kit.draft("ask_order_id", choices=extra, quick_replies=buttons)
        return self.ask_more(turn, kit, slots, slot)

    def ask_more(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft:
        raise no_question(self.name, slot)


def _refund_text(kit: Kit, records: list[Any]) -> str:
    parts = [f"{kit.money(r.amount)} goes back to {r.payment_method}" for r in records]
    return ("A refund of " + "; ".join(parts) + ".") if parts else "Nothing was paid, so there is no refund."


class TrackOrder(OrderFlow):
    name = "track_order"

    def act(self, turn: Turn, kit: Kit, slots: Slots) -> Draft:
        outcome = turn.call("get_order_status", {"order_id": slots["order_id"]})
        if isinstance(outcome, ToolError):
            return refusal(kit, outcome)
        order: Any = outcome.result
        items = ", ".join(f"{line.name} ({options_text(line.options)})" for line in order.items)
        tracking = ""
        if order.tracking:
            shipment = order.tracking[0]
            tracking = f" Shipped with {shipment.carrier}, tracking number {shipment.tracking_id}."
        return kit.draft(
            "order_status",
            order_id=order.order_id,
            status=order.status,
            count=order.item_count,
            items=items,
            total=kit.money(order.total),
            tracking=tracking,
            results=[order],
        )


class ListOrders(NoSlotFlow):
    name = "list_orders"

    def act(self, turn: Turn, kit: Kit, slots: Slots) -> Draft:
        outcome = turn.call("list_orders", {"limit": 20})
        if isinstance(outcome, ToolError):
            return refusal(kit, outcome)
        listing: Any = outcome.result
        if not listing.orders:
            return kit.draft("no_orders")
        lines = "\n".join(
            kit.text(
                "order_line",
                order_id=o.order_id,
                status=o.status,
                count=o.item_count,
                total=kit.money(o.total),
            )
            for o in listing.orders
        )
        turn.set_slot(SlotName.LAST_ORDER_IDS, [o.order_id for o in listing.orders])
        return kit.draft("order_list", lines=lines, results=[listing])


class CancelOrder(OrderFlow):
    name = "cancel_order"
    tools = ("cancel_order",)
    statuses = ("pending",)

    def fill(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_order(turn, kit, slots)
        if filled.problem is None and "reason" not in slots:
            reason = kit.forms.cancel_reason(turn.text)
            if reason is not None:
                filled.values["reason"] = reason
        return filled

    def ask_more(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft:
        return kit.draft("ask_cancel_reason", order_id=slots["order_id"])

    def act(self, turn: Turn, kit: Kit, slots: Slots) -> Draft:
        return confirm(turn, kit, "cancel_order", {"order_id": slots["order_id"], "reason": slots["reason"]})

    def done(self, turn: Turn, kit: Kit, outcome: ToolOutcome) -> Draft:
        result: Any = outcome.result
        return kit.draft(
            "cancel_done",
            order_id=result.order_id,
            refund=_refund_text(kit, result.refunds),
            results=[result],
        )


def _stems(text: str, stop: frozenset[str] = frozenset()) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in stop}


def pick_items(kit: Kit, text: str, lines: list[dict[str, Any]], *, asked: bool) -> list[str]:
    """Variant ids of the order lines the customer means ("the socks", "all of them")."""
    if kit.forms.means_all_items(text):
        return [line["variant_id"] for line in lines]
    stop = kit.forms.item_stopwords
    said = _stems(text, stop)
    scored = []
    for line in lines:
        words = _stems(
            line["name"] + " " + " ".join(str(v) for v in (line.get("options") or {}).values()), stop
        )
        scored.append((len(words & said), line["variant_id"]))
    best = max((score for score, _ in scored), default=0)
    tied = [vid for score, vid in scored if score == best]
    if best > 0:
        return tied if len(tied) == 1 else []  # two lines fit equally: ask which

    if len(lines) == 1 and not asked:
        return [lines[0]["variant_id"]]
    return []


def _open_lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in order["items"] if not line.get("disposition")]


def _line_label(line: dict[str, Any]) -> str:
    return f"{line['name']} ({options_text(line.get('options'))})"


class ItemsFlow(OrderFlow):
    """Return or exchange: the order must be delivered; pick its items."""

    statuses = ("delivered",)
    action = "return"

    def fill_items(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_order(turn, kit, slots)
        order = filled.values.get("order") or slots.get("order")
        if filled.problem is not None or order is None or "items" in slots:
            return filled
        picked = pick_items(kit, turn.text, _open_lines(order), asked=requested == "items")
        if picked:
            filled.values["items"] = picked
        return filled

    def ask_items(self, kit: Kit, slots: Slots) -> Draft:
        lines = _open_lines(slots["order"])
        text, buttons = choices([_line_label(line) for line in lines])
        return kit.draft(
            "ask_return_items",
            order_id=slots["order_id"],
            action=self.action,
            choices=text,
            quick_replies=buttons,
        )

    @staticmethod
    def payment_method(turn: Turn, kit: Kit, slots: Slots) -> str | None:
        """The order's original payment method, or the customer's gift card when they ask for it."""
        if kit.forms.means_gift_card(turn.text) or slots.get("refund_to") == "gift_card":
            profile = turn.call("get_customer_profile", {})
            if not isinstance(profile, ToolError):
                for method in profile.result.payment_methods:  # type: ignore[attr-defined]
                    if method.source == "gift_card":
                        return str(method.payment_method_id)
        for record in slots["order"].get("transactions", []):
            if record.get("kind") == "payment":
                return str(record["payment_method_id"])
        return None


class ReturnItems(ItemsFlow):
    name = "return_items"
    tools = ("return_items",)

    def fill(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_items(turn, kit, slots, requested)
        if kit.forms.means_gift_card(turn.text):
            filled.values["refund_to"] = "gift_card"
        return filled

    def ask_more(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft:
        return self.ask_items(kit, slots)

    def act(self, turn: Turn, kit: Kit, slots: Slots) -> Draft:
        method = self.payment_method(turn, kit, slots)
        args = {"order_id": slots["order_id"], "item_ids": slots["items"], "payment_method_id": method}
        return confirm(turn, kit, "return_items", args)

    def done(self, turn: Turn, kit: Kit, outcome: ToolOutcome) -> Draft:
        result: Any = outcome.result
        items = ", ".join(f"{line.name} ({options_text(line.options)})" for line in result.returned)
        refund = _refund_text(kit, [result.refund] if result.refund else [])
        return kit.draft(
            "return_done", order_id=result.order_id, items=items, refund=refund, results=[result]
        )


class ExchangeItems(ItemsFlow):
    name = "exchange_items"
    tools = ("exchange_items",)
    action = "exchange"

    def fill(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_items(turn, kit, slots, requested)
        items = filled.values.get("items") or slots.get("items")
        if filled.problem is not None or not items or "new_options" in slots:
            return filled
        if len(items) > 1:
            filled.values.pop("items", None)
            return filled  # one item at a time: ask which
        order = filled.values.get("order") or slots["order"]
        line = next(line for line in order["items"] if line["variant_id"] == items[0])
        wanted: dict[str, str] = {}
        for color in turn.entities.colors:
            wanted["color"] = color.name
        for size in turn.entities.sizes:
            wanted["size"] = size.value
        if not wanted:
            return filled
        variant = self._variant_for(turn, line, wanted)
        if variant is None:
            filled.problem = self.ask_new(turn, kit, {**slots, **filled.values}, line, failed=True)
            filled.problem_slot = "new_options"
            return filled
        filled.values["new_options"] = variant
        return filled

    @staticmethod
    def _variants(turn: Turn, line: dict[str, Any]) -> list[Any]:
        product = turn.call("get_product", {"product_id": line["product_id"]})
        if isinstance(product, ToolError):
            return []
        return [v for v in product.result.variants if v.variant_id != line["variant_id"] and v.available]  # type: ignore[attr-defined]

    def _variant_for(self, turn: Turn, line: dict[str, Any], wanted: dict[str, str]) -> str | None:
        current = {str(k).lower(): str(v).lower() for k, v in (line.get("options") or {}).items()}
        best = None
        for variant in self._variants(turn, line):
            options = {str(k).lower(): str(v).lower() for k, v in variant.options.items()}
            if all(options.get(k) == v.lower() for k, v in wanted.items()):
                same = sum(options.get(k) == v for k, v in current.items() if k not in wanted)
                if best is None or same > best[0]:
                    best = (same, variant.variant_id)
        return None if best is None else best[1]

    def ask_new(
        self, turn: Turn, kit: Kit, slots: Slots, line: dict[str, Any], *, failed: bool = False
    ) -> Draft:
        variants = self._variants(turn, line)
        labels = [options_text(v.options) for v in variants] or ["nothing else in stock"]
        text, buttons = choices(labels)
        return kit.draft(
            "ask_new_option",
            title=line["name"],
            options=options_text(line.get("options")),
            choices=text,
            quick_replies=buttons,
            failed=failed,
        )

    def ask_more(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft:
        if slot == "items":
            return self.ask_items(kit, slots)
        line = next(line for line in slots["order"]["items"] if line["variant_id"] == slots["items"][0])
        return self.ask_new(turn, kit, slots, line)

    def act(self, turn: Turn, kit: Kit, slots: Slots) -> Draft:
        args = {
            "order_id": slots["order_id"],
            "item_ids": slots["items"],
            "new_item_ids": [slots["new_options"]],
            "payment_method_id": self.payment_method(turn, kit, slots),
        }
        return confirm(turn, kit, "exchange_items", args)

    def done(self, turn: Turn, kit: Kit, outcome: ToolOutcome) -> Draft:
        result: Any = outcome.result
        items = ", ".join(f"{e.name} for {options_text(e.new_options)}" for e in result.exchanges)
        if result.charged:
            difference = f"The price difference of {kit.money(result.charged)} was charged."
        elif result.refunded:
            difference = f"The price difference of {kit.money(result.refunded)} was refunded."
        else:
            difference = "There is no price difference."
        return kit.draft(
            "exchange_done", order_id=result.order_id, items=items, difference=difference, results=[result]
        )


class ChangeAddress(OrderFlow):
    name = "change_address"
    tools = ("change_shipping_address",)
    statuses = ("pending",)

    def fill(self, turn: Turn, kit: Kit, slots: Slots, requested: str | None) -> Filled:
        filled = self.fill_order(turn, kit, slots)
        if filled.problem is None and "address" not in slots:
            address = kit.forms.address(turn.text)
            if address is not None:
                filled.values["address"] = address
        return filled

    def ask_more(self, turn: Turn, kit: Kit, slots: Slots, slot: str) -> Draft:
        return kit.draft(
            "ask_address", order_id=slots["order_id"], failed=slot == "address" and "address" in turn.text
        )

    def act(self, turn: Turn, kit: Kit, slots: Slots) -> Draft:
        args = {"order_id": slots["order_id"], "address": slots["address"]}
        return confirm(turn, kit, "change_shipping_address", args)

    def done(self, turn: Turn, kit: Kit, outcome: ToolOutcome) -> Draft:
        result: Any = outcome.result
        a = result.shipping_address
        address = ", ".join(
            p
            for p in (a.get("address1"), a.get("address2"), a.get("city"), f"{a.get('state')} {a.get('zip')}")
            if p
        )
        return kit.draft("address_done", order_id=result.order_id, address=address, results=[result])


ORDER_FLOWS = (TrackOrder, ListOrders, CancelOrder, ReturnItems, ExchangeItems, ChangeAddress)
