"""Orders the customer describes instead of giving the id: "my last order", "my pending order",
"the order with the keyboard", "the order ending in 66".

The customer's own orders are listed through the policy layer (so only theirs), narrowed by
what the message says: a status word, the last digits of the id, the products in it, "last" or
"most recent" (the newest). One order left is the one meant; several are offered as choices with
what is in them; a message with none of these cues finds nothing (the flow asks for the id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.decide.context import Context
from assistant.decide.flows.lines import mentions
from assistant.decide.turn import ToolError, Turn
from tools.order_results import OrderDetails, OrderSummary
from tools.orders import GetOrderStatus, ListOrders

#: How many of the newest orders are looked into for the products they hold.
MAX_LOOKED_INTO = 10


@dataclass
class Lookup:
    """What a description of an order finds: the one order, or the orders it could be."""

    order_id: str | None = None
    candidates: list[OrderDetails] = field(default_factory=list)


def find_order(turn: Turn, ctx: Context, statuses: tuple[str, ...]) -> Lookup:
    """The order ``turn``'s message describes among the customer's orders (those in one of
    ``statuses``, when the flow needs one)."""
    text = turn.text
    rules = ctx.forms
    latest = rules.means_latest_order(text)
    suffix = rules.order_suffix(text)
    listed = turn.call(ListOrders, {"limit": 50})
    if isinstance(listed, ToolError):
        return Lookup()
    orders = listed.result.orders
    said_status = _statuses_said(text, {o.status for o in orders})
    orders = [o for o in orders if o.status in said_status] if said_status else orders
    if statuses:
        orders = [o for o in orders if o.status in statuses] or orders
    if suffix is not None:
        orders = [o for o in orders if o.order_id.rstrip().endswith(suffix)]
    details = _with_items(turn, ctx, orders[:MAX_LOOKED_INTO])
    if details:
        orders = [o for o in orders if o.order_id in details]
    if not (latest or suffix or said_status or details):
        return Lookup()
    if latest and orders:
        orders = orders[:1]
    if len(orders) == 1:
        return Lookup(order_id=orders[0].order_id)
    return Lookup(candidates=[d for o in orders if (d := _details(turn, o.order_id)) is not None])


def _statuses_said(text: str, statuses: set[str]) -> set[str]:
    """The order statuses the message says before "order" ("my pending order")."""
    lowered = text.lower()
    return {
        status
        for status in statuses
        if re.search(rf"\b{re.escape(status.lower())}\s+(?:\w+\s+)?(?:order|purchase)s?\b", lowered)
    }


def _with_items(turn: Turn, ctx: Context, orders: list[OrderSummary]) -> dict[str, OrderDetails]:
    """Of ``orders``, those holding a product the message names, by id (empty: it names none)."""
    found = {}
    for summary in orders:
        order = _details(turn, summary.order_id)
        if order is not None and mentions(ctx, turn.text, order.items):
            found[order.order_id] = order
    return found


def _details(turn: Turn, order_id: str) -> OrderDetails | None:
    outcome = turn.call(GetOrderStatus, {"order_id": order_id})
    return None if isinstance(outcome, ToolError) else outcome.result


def order_labels(orders: list[OrderDetails]) -> list[str]:
    """ "#W2378156 (pending: Mechanical Keyboard, Smart Thermostat)"."""
    return [f"{o.order_id} ({o.status}: {', '.join(line.name for line in o.items)})" for o in orders]
