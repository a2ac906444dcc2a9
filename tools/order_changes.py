"""Changes to a pending order before it ships: its items (other variants of the same products,
once per order) and its payment method. Status rules, stock and the money follow the same
helpers as the other order tools (:mod:`tools.order_support`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from core.errors import ActionRefusedError
from core.money import to_money
from store.models import Order, OrderStatus, PaymentMethod
from tools import order_support as support
from tools.arguments import OrderId, PaymentMethodId, VariantId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv
from tools.order_results import ItemsChangeResult, PaymentChangeResult
from tools.order_support import ZERO, Swap, money

ORDER_ID_HELP = "The order id, like #W0000001. Only pending orders can be changed."


class ModifyOrderItemsArgs(ArgsModel):
    order_id: OrderId = Field(description=ORDER_ID_HELP)
    item_ids: list[VariantId] = Field(
        min_length=1, max_length=50, description="Item (variant) ids of the order's lines to change."
    )
    new_item_ids: list[VariantId] = Field(
        min_length=1,
        max_length=50,
        description="For each item, in the same order, the variant of the same product to get instead.",
    )
    payment_method_id: PaymentMethodId = Field(
        description="Pays a higher price, or receives the refund of a lower one; a gift card must cover it."
    )

    @field_validator("item_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each item may be listed once")
        return value

    @field_validator("new_item_ids")
    @classmethod
    def _same_length(cls, value: list[str], info: ValidationInfo) -> list[str]:
        items = info.data.get("item_ids")
        if items is not None and len(items) != len(value):
            raise ValueError(f"give one new item per item to change ({len(items)}), not {len(value)}")
        return value


@dataclass
class _ChangePlan:
    order: Order
    swaps: list[Swap]
    method: PaymentMethod
    difference: Decimal


class ModifyOrderItems(Tool[ModifyOrderItemsArgs, ItemsChangeResult]):
    name = "modify_order_items"
    description = (
        "Change items of a pending order to other in-stock variants of the same products (e.g. "
        "another size or color), all at once: an order's items can be changed only once. The price "
        "difference is charged or refunded."
    )
    args_model = ModifyOrderItemsArgs
    result_model = ItemsChangeResult
    requires_auth = True
    side_effect = True

    def _plan(self, args: ModifyOrderItemsArgs, env: ToolEnv, *, lock: bool = False) -> _ChangePlan:
        order = support.load_order(env, args.order_id, lock=lock)
        support.require_status(order, OrderStatus.PENDING, "changed")
        if order.items_modified_at is not None:
            raise ActionRefusedError(
                f"The items of order {order.id} were changed already; they can be changed only once",
                order_id=order.id,
            )
        swaps = support.plan_swaps(env, order, args.item_ids, args.new_item_ids)
        method = support.load_method(env, args.payment_method_id)
        difference = to_money(
            sum((s.variant.price * s.quantity - support.lines_total(s.lines) for s in swaps), ZERO)
        )
        if difference > 0:
            support.check_charge(method, difference, env.shop.currency)
        return _ChangePlan(order, swaps, method, difference)

    def summarize(self, args: ModifyOrderItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        plan = self._plan(args, env)
        currency = env.shop.currency
        swaps = ", ".join(
            f"{support.line_label(s.lines[0].name, s.lines[0].options)} to "
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
        return (
            f"Change in pending order {plan.order.id}: {swaps}; {due}. Items can be changed only once, "
            "so this must be every item you want changed."
        )

    def run(self, args: ModifyOrderItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> ItemsChangeResult:
        plan = self._plan(args, env, lock=True)
        changes = [support.exchanged_item(swap) for swap in plan.swaps]
        for swap in plan.swaps:
            for line in swap.lines:
                support.restock(env, line.variant_id, line.quantity)
                line.variant_id = swap.variant.id
                line.options = dict(swap.variant.options)
                line.price = swap.variant.price
            swap.variant.stock -= swap.quantity
        transaction = None
        if plan.difference > 0:
            transaction = support.record_charge(env, plan.order, plan.method, plan.difference)
        elif plan.difference < 0:
            transaction = support.record_refund(env, plan.order, plan.method.id, -plan.difference)
        plan.order.items_modified_at = env.now()
        env.db.flush()
        return ItemsChangeResult(
            order_id=plan.order.id,
            status=plan.order.status.value,
            changes=changes,
            price_difference=plan.difference,
            charged=max(plan.difference, ZERO),
            refunded=max(-plan.difference, ZERO),
            transaction=support.payment_record(env, transaction) if transaction is not None else None,
            payment_method_id=plan.method.id,
            gift_card_balance=support.gift_card_balance(plan.method),
        )


class ChangeOrderPaymentArgs(ArgsModel):
    order_id: OrderId = Field(description=ORDER_ID_HELP)
    payment_method_id: PaymentMethodId = Field(
        description="The customer's method to pay the whole order with instead; a gift card must cover it."
    )


@dataclass
class _PaymentPlan:
    order: Order
    method: PaymentMethod
    paid: dict[str, Decimal]
    total: Decimal


class ChangeOrderPayment(Tool[ChangeOrderPaymentArgs, PaymentChangeResult]):
    name = "change_order_payment"
    description = (
        "Pay for a pending order with another of the customer's payment methods: the order's total "
        "is charged to it and what the previous method paid is refunded to that method."
    )
    args_model = ChangeOrderPaymentArgs
    result_model = PaymentChangeResult
    requires_auth = True
    side_effect = True

    def _plan(self, args: ChangeOrderPaymentArgs, env: ToolEnv, *, lock: bool = False) -> _PaymentPlan:
        order = support.load_order(env, args.order_id, lock=lock)
        support.require_status(order, OrderStatus.PENDING, "paid another way")
        method = support.load_method(env, args.payment_method_id)
        paid = {m: amount for m, amount in support.net_paid_by_method(order).items() if amount > 0}
        if set(paid) == {method.id}:
            raise ActionRefusedError(
                f"Order {order.id} is already paid with that method; choose a different one",
                order_id=order.id,
                payment_method_id=method.id,
            )
        total = to_money(sum(paid.values(), ZERO))
        support.check_charge(method, total, env.shop.currency)
        return _PaymentPlan(order, method, paid, total)

    def summarize(self, args: ChangeOrderPaymentArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        plan = self._plan(args, env)
        currency = env.shop.currency
        previous = ", ".join(
            support.method_label(env.db.get(PaymentMethod, m), m, currency) for m in plan.paid
        )
        label = support.method_label(plan.method, plan.method.id, currency)
        return (
            f"Pay for pending order {plan.order.id} with {label} instead of {previous}: "
            f"{money(plan.total, currency)} will be charged to it and refunded to {previous}."
        )

    def run(self, args: ChangeOrderPaymentArgs, *, ctx: ToolContext, env: ToolEnv) -> PaymentChangeResult:
        plan = self._plan(args, env, lock=True)
        support.record_charge(env, plan.order, plan.method, plan.total)
        refunds = [support.record_refund(env, plan.order, m, amount) for m, amount in plan.paid.items()]
        env.db.flush()
        return PaymentChangeResult(
            order_id=plan.order.id,
            status=plan.order.status.value,
            payment_method_id=plan.method.id,
            payment_method=support.method_label(plan.method, plan.method.id, env.shop.currency),
            previous_payment_method_id=next(iter(plan.paid), plan.method.id),
            amount=plan.total,
            refunds=[support.payment_record(env, tx) for tx in refunds],
        )


TOOLS: list[type[Tool[Any, Any]]] = [ModifyOrderItems, ChangeOrderPayment]
