"""Order tools: look up orders, cancel pending ones, return or exchange delivered items, re-address.

The rules follow the tau-bench retail policy: only pending orders can be cancelled or
re-addressed, only delivered orders can be returned or exchanged (once), a return refunds to
the order's original payment method or one of the customer's gift cards, and an item can only
be exchanged for another in-stock variant of the same product. Each side-effect tool checks
everything in a read-only ``_plan`` that both ``summarize`` (the confirmation text) and ``run``
use, so the customer is never asked to confirm something that would be refused, and a refusal
changes nothing. Result shapes and helpers live in :mod:`tools.order_support`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.masking import masked_address
from core.money import to_money
from store.models import Order, OrderItem, OrderStatus, PaymentMethod
from tools import order_support as support
from tools.arguments import Address, OrderId, PaymentMethodId, VariantId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv
from tools.order_results import (
    AddressChangeResult,
    CancelResult,
    ExchangeResult,
    OrderDetails,
    OrderList,
    ReturnResult,
)
from tools.order_support import ZERO, Swap, money

ORDER_ID_HELP = "The order id, like #W0000001."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"item {value} is listed twice")
        seen.add(value)
    return values


# Read-only ---------------------------------------------------------------------------------
class GetOrderStatusArgs(ArgsModel):
    order_id: OrderId = Field(description=ORDER_ID_HELP)


class GetOrderStatus(Tool[GetOrderStatusArgs, OrderDetails]):
    name = "get_order_status"
    description = (
        "Status and details of one of the customer's orders: items, tracking, payments and refunds, "
        "total and shipping address."
    )
    args_model = GetOrderStatusArgs
    result_model = OrderDetails
    requires_auth = True

    def run(self, args: GetOrderStatusArgs, *, ctx: ToolContext, env: ToolEnv) -> OrderDetails:
        return support.order_details(env, support.load_order(env, args.order_id))


class ListOrdersArgs(ArgsModel):
    status: OrderStatus | None = Field(default=None, description="Only orders with this status.")
    limit: int = Field(default=10, ge=1, le=50, description="Most orders to return.")


class ListOrders(Tool[ListOrdersArgs, OrderList]):
    name = "list_orders"
    description = "The customer's orders, newest first, with status, total, item count and date."
    args_model = ListOrdersArgs
    result_model = OrderList
    requires_auth = True

    def run(self, args: ListOrdersArgs, *, ctx: ToolContext, env: ToolEnv) -> OrderList:
        query = select(Order).where(Order.customer_id == support.customer_of(ctx))
        if args.status is not None:
            query = query.where(Order.status == args.status)
        total = env.db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = env.db.scalars(
            query.options(selectinload(Order.items))
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(args.limit)
        )
        return OrderList(orders=[support.order_summary(o) for o in rows], total=int(total))


# Cancel ------------------------------------------------------------------------------------
CancelReason = Annotated[
    Literal["no longer needed", "ordered by mistake"],
    BeforeValidator(lambda v: " ".join(v.lower().split()) if isinstance(v, str) else v),
]


class CancelOrderArgs(ArgsModel):
    order_id: OrderId = Field(description=ORDER_ID_HELP + " Only pending orders can be cancelled.")
    reason: CancelReason = Field(description="Why: 'no longer needed' or 'ordered by mistake'.")


@dataclass
class _CancelPlan:
    order: Order
    refunds: list[tuple[str, str, Decimal]]  # (payment method id, label, amount)


class CancelOrder(Tool[CancelOrderArgs, CancelResult]):
    name = "cancel_order"
    description = (
        "Cancel a pending order; the paid total is refunded to the original payment method(s) "
        "(gift cards at once) and the items go back into stock."
    )
    args_model = CancelOrderArgs
    result_model = CancelResult
    requires_auth = True
    side_effect = True

    def _plan(self, args: CancelOrderArgs, env: ToolEnv, *, lock: bool = False) -> _CancelPlan:
        order = support.load_order(env, args.order_id, lock=lock)
        support.require_status(order, OrderStatus.PENDING, "cancelled")
        currency = env.shop.currency
        refunds = [
            (method_id, support.method_label(env.db.get(PaymentMethod, method_id), method_id, currency), paid)
            for method_id, paid in support.net_paid_by_method(order).items()
            if paid > 0
        ]
        return _CancelPlan(order, refunds)

    def summarize(self, args: CancelOrderArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        plan = self._plan(args, env)
        currency = env.shop.currency
        count = sum(line.quantity for line in plan.order.items)
        head = (
            f"Cancel order {plan.order.id} ({_plural(count, 'item')}, {money(plan.order.total, currency)}) "
            f"because: {args.reason}"
        )
        if not plan.refunds:
            return f"{head}; nothing was paid, so there is nothing to refund."
        refunds = [
            f"{money(amount, currency)} will be refunded to {label}" for _, label, amount in plan.refunds
        ]
        return f"{head}; {' and '.join(refunds)}."

    def run(self, args: CancelOrderArgs, *, ctx: ToolContext, env: ToolEnv) -> CancelResult:
        plan = self._plan(args, env, lock=True)
        order = plan.order
        order.status = OrderStatus.CANCELLED
        order.cancel_reason = args.reason
        refunds = [support.record_refund(env, order, method, amount) for method, _, amount in plan.refunds]
        restocked = 0
        for line in order.items:
            if line.disposition is None:
                support.restock(env, line.variant_id, line.quantity)
                restocked += line.quantity
        env.db.flush()
        return CancelResult(
            order_id=order.id,
            status=order.status.value,
            cancel_reason=args.reason,
            refunded_total=sum((tx.amount for tx in refunds), ZERO),
            refunds=[support.payment_record(env, tx) for tx in refunds],
            restocked_items=restocked,
        )


# Return ------------------------------------------------------------------------------------
class ReturnItemsArgs(ArgsModel):
    order_id: OrderId = Field(description=ORDER_ID_HELP + " Only delivered orders can be returned.")
    item_ids: list[VariantId] = Field(
        min_length=1, max_length=50, description="Item (variant) ids of the order's lines to return."
    )
    payment_method_id: PaymentMethodId = Field(
        description="Gets the refund: the order's original payment method or one of the customer's gift cards"
    )

    _unique_items = field_validator("item_ids")(_unique)


@dataclass
class _ReturnPlan:
    order: Order
    lines: list[OrderItem]
    method: PaymentMethod
    amount: Decimal


class ReturnItems(Tool[ReturnItemsArgs, ReturnResult]):
    name = "return_items"
    description = (
        "Return items of a delivered order; the refund goes to the original payment method or a gift card."
    )
    args_model = ReturnItemsArgs
    result_model = ReturnResult
    requires_auth = True
    side_effect = True

    def _plan(self, args: ReturnItemsArgs, env: ToolEnv, *, lock: bool = False) -> _ReturnPlan:
        order = support.load_order(env, args.order_id, lock=lock)
        support.require_status(order, OrderStatus.DELIVERED, "returned")
        lines = [line for group in support.open_lines(order, args.item_ids).values() for line in group]
        method = support.load_method(env, args.payment_method_id)
        support.check_refund_destination(env, order, method)
        return _ReturnPlan(order, lines, method, support.lines_total(lines))

    def summarize(self, args: ReturnItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        plan = self._plan(args, env)
        currency = env.shop.currency
        items = ", ".join(support.line_label(line.name, line.options) for line in plan.lines)
        count = sum(line.quantity for line in plan.lines)
        return (
            f"Return {_plural(count, 'item')} of order {plan.order.id} ({items}); "
            f"{money(plan.amount, currency)} will be refunded to "
            f"{support.method_label(plan.method, plan.method.id, currency)}."
        )

    def run(self, args: ReturnItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> ReturnResult:
        plan = self._plan(args, env, lock=True)
        for line in plan.lines:
            line.disposition = "returned"
            support.restock(env, line.variant_id, line.quantity)
        refund = None
        if plan.amount > 0:
            refund = support.record_refund(env, plan.order, plan.method.id, plan.amount)
        plan.order.status = OrderStatus.RETURNED
        env.db.flush()
        return ReturnResult(
            order_id=plan.order.id,
            status=plan.order.status.value,
            returned=[support.order_line(line) for line in plan.lines],
            refund_amount=plan.amount,
            refund=support.payment_record(env, refund) if refund is not None else None,
            payment_method_id=plan.method.id,
            gift_card_balance=support.gift_card_balance(plan.method),
        )


# Exchange ----------------------------------------------------------------------------------
class ExchangeItemsArgs(ArgsModel):
    order_id: OrderId = Field(description=ORDER_ID_HELP + " Only delivered orders can be exchanged.")
    item_ids: list[VariantId] = Field(
        min_length=1, max_length=50, description="Item (variant) ids of the order's lines to exchange."
    )
    new_item_ids: list[VariantId] = Field(
        min_length=1,
        max_length=50,
        description="For each item, in the same order, the variant of the same product to get instead.",
    )
    payment_method_id: PaymentMethodId = Field(
        description="Pays a higher price, or receives the refund of a lower one; a gift card must cover it."
    )

    _unique_items = field_validator("item_ids")(_unique)

    @field_validator("new_item_ids")
    @classmethod
    def _same_length(cls, value: list[str], info: ValidationInfo) -> list[str]:
        items = info.data.get("item_ids")
        if items is not None and len(items) != len(value):
            raise ValueError(f"give one new item per item to exchange ({len(items)}), not {len(value)}")
        return value


@dataclass
class _ExchangePlan:
    order: Order
    swaps: list[Swap]
    method: PaymentMethod
    difference: Decimal


class ExchangeItems(Tool[ExchangeItemsArgs, ExchangeResult]):
    name = "exchange_items"
    description = (
        "Exchange items of a delivered order for other in-stock variants of the same products "
        "(e.g. another size); the price difference is charged or refunded."
    )
    args_model = ExchangeItemsArgs
    result_model = ExchangeResult
    requires_auth = True
    side_effect = True

    def _plan(self, args: ExchangeItemsArgs, env: ToolEnv, *, lock: bool = False) -> _ExchangePlan:
        order = support.load_order(env, args.order_id, lock=lock)
        support.require_status(order, OrderStatus.DELIVERED, "exchanged")
        swaps = support.plan_swaps(env, order, args.item_ids, args.new_item_ids)
        method = support.load_method(env, args.payment_method_id)
        difference = to_money(
            sum((s.variant.price * s.quantity - support.lines_total(s.lines) for s in swaps), ZERO)
        )
        if difference > 0:
            support.check_charge(method, difference, env.shop.currency)
        return _ExchangePlan(order, swaps, method, difference)

    def summarize(self, args: ExchangeItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        plan = self._plan(args, env)
        currency = env.shop.currency
        swaps = ", ".join(
            f"{support.line_label(s.lines[0].name, s.lines[0].options)} for "
            f"{support.line_label(s.lines[0].name, s.variant.options)}"
            for s in plan.swaps
        )
        label = support.method_label(plan.method, plan.method.id, currency)
        if plan.difference > 0:
            due = f"the price difference of {money(plan.difference, currency)} will be charged to {label}"
        elif plan.difference < 0:
            due = f"the price difference of {money(-plan.difference, currency)} will be refunded to {label}"
        else:
            due = "there is no price difference to pay or refund"
        return f"Exchange in order {plan.order.id}: {swaps}; {due}."

    def run(self, args: ExchangeItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> ExchangeResult:
        plan = self._plan(args, env, lock=True)
        for swap in plan.swaps:
            for line in swap.lines:
                line.disposition = f"exchanged:{swap.variant.id}"
                support.restock(env, line.variant_id, line.quantity)
            swap.variant.stock -= swap.quantity
        transaction = None
        if plan.difference > 0:
            transaction = support.record_charge(env, plan.order, plan.method, plan.difference)
        elif plan.difference < 0:
            transaction = support.record_refund(env, plan.order, plan.method.id, -plan.difference)
        plan.order.status = OrderStatus.EXCHANGED
        env.db.flush()
        return ExchangeResult(
            order_id=plan.order.id,
            status=plan.order.status.value,
            exchanges=[support.exchanged_item(swap) for swap in plan.swaps],
            price_difference=plan.difference,
            charged=max(plan.difference, ZERO),
            refunded=max(-plan.difference, ZERO),
            transaction=support.payment_record(env, transaction) if transaction is not None else None,
            payment_method_id=plan.method.id,
            gift_card_balance=support.gift_card_balance(plan.method),
        )


# Shipping address --------------------------------------------------------------------------
class ChangeShippingAddressArgs(ArgsModel):
    order_id: OrderId = Field(description=ORDER_ID_HELP + " Only pending orders can be re-addressed.")
    address: Address = Field(description="The new shipping address.")


class ChangeShippingAddress(Tool[ChangeShippingAddressArgs, AddressChangeResult]):
    name = "change_shipping_address"
    description = "Change the shipping address of a pending order."
    args_model = ChangeShippingAddressArgs
    result_model = AddressChangeResult
    requires_auth = True
    side_effect = True

    def _plan(self, args: ChangeShippingAddressArgs, env: ToolEnv, *, lock: bool = False) -> Order:
        order = support.load_order(env, args.order_id, lock=lock)
        support.require_status(order, OrderStatus.PENDING, "re-addressed")
        return order

    def summarize(self, args: ChangeShippingAddressArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        order = self._plan(args, env)
        old, new = (
            support.address_text(masked_address(order.shipping_address)),  # on file: masked
            support.address_text(args.address.model_dump()),  # just typed: as typed
        )
        return f"Change the shipping address of order {order.id} from {old} to {new}."

    def idempotency_scope(self, args: ChangeShippingAddressArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        # Changing A -> B -> A must act the third time, not replay the first call's result.
        order = env.db.get(Order, args.order_id)
        return json.dumps(order.shipping_address if order else {}, sort_keys=True)

    def run(self, args: ChangeShippingAddressArgs, *, ctx: ToolContext, env: ToolEnv) -> AddressChangeResult:
        order = self._plan(args, env, lock=True)
        order.shipping_address = args.address.model_dump()
        env.db.flush()
        return AddressChangeResult(
            order_id=order.id,
            status=order.status.value,
            shipping_address=support.text_dict(order.shipping_address),
        )


TOOLS: list[type[Tool[Any, Any]]] = [
    GetOrderStatus,
    ListOrders,
    CancelOrder,
    ReturnItems,
    ExchangeItems,
    ChangeShippingAddress,
]
