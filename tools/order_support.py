"""Shared pieces of the order tools: loading and checks, payment bookkeeping, result building
(the result shapes are in :mod:`tools.order_results`).

Everything here only reads, except :func:`record_refund`, :func:`record_charge` and
:func:`restock`, which mutate objects of the caller's session; the policy layer's single
transaction commits or discards them together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.errors import ActionRefusedError, AuthenticationRequiredError, NotFoundError
from core.money import to_money
from store.models import (
    Fulfillment,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    PaymentSource,
    PaymentTransaction,
    TransactionKind,
    Variant,
)
from tools.base import ToolContext, ToolEnv
from tools.order_results import (
    ExchangedItem,
    OrderDetails,
    OrderLine,
    OrderSummary,
    PaymentRecord,
    Shipment,
)

ZERO = Decimal("0.00")


# Loading ----------------------------------------------------------------------------------
def customer_of(ctx: ToolContext) -> str:
    """The authenticated customer's id (the policy layer guarantees one for these tools)."""
    if not ctx.customer_id:
        raise AuthenticationRequiredError("Order tools need an authenticated customer")
    return ctx.customer_id


def load_order(env: ToolEnv, order_id: str, *, lock: bool = False) -> Order:
    query = select(Order).where(Order.id == order_id)
    query = query.options(
        selectinload(Order.items), selectinload(Order.fulfillments), selectinload(Order.transactions)
    )
    if lock:
        query = query.with_for_update()
    order = env.db.scalar(query)
    if order is None:
        raise NotFoundError(f"There is no order {order_id}", resource="order", id=order_id)
    return order


def load_method(env: ToolEnv, method_id: str) -> PaymentMethod:
    method = env.db.get(PaymentMethod, method_id)
    if method is None:
        raise NotFoundError(
            f"There is no payment method {method_id}", resource="payment_method", id=method_id
        )
    return method


def require_status(order: Order, allowed: OrderStatus, action: str) -> None:
    if order.status is not allowed:
        raise ActionRefusedError(
            f"Order {order.id} is {order.status.value}; only {allowed.value} orders can be {action}",
            order_id=order.id,
            status=order.status.value,
        )


def open_lines(order: Order, item_ids: Iterable[str]) -> dict[str, list[OrderItem]]:
    """The not yet returned/exchanged lines of each named variant, refusing unknown or used ones."""
    selected: dict[str, list[OrderItem]] = {}
    for item_id in item_ids:
        lines = [line for line in order.items if line.variant_id == item_id]
        if not lines:
            raise ActionRefusedError(
                f"Item {item_id} is not part of order {order.id}", order_id=order.id, item_id=item_id
            )
        available = [line for line in lines if line.disposition is None]
        if not available:
            raise ActionRefusedError(
                f"Item {item_id} of order {order.id} was already {lines[0].disposition}",
                order_id=order.id,
                item_id=item_id,
                disposition=lines[0].disposition,
            )
        selected[item_id] = available
    return selected


def check_refund_destination(env: ToolEnv, order: Order, method: PaymentMethod) -> None:
    """A refund goes to a method that paid for the order or to one of the customer's gift cards."""
    originals = original_method_ids(order)
    own_gift_card = method.source is PaymentSource.GIFT_CARD and method.customer_id == order.customer_id
    if method.id in originals or own_gift_card:
        return
    currency = env.shop.currency
    allowed = ", ".join(method_label(env.db.get(PaymentMethod, m), m, currency) for m in originals)
    raise ActionRefusedError(
        f"The refund for order {order.id} can only go to its original payment method ({allowed}) "
        f"or one of your gift cards, not {method_label(method, method.id, currency)}",
        order_id=order.id,
        payment_method_id=method.id,
    )


@dataclass
class Swap:
    """Open order lines of one variant and the variant of the same product they become."""

    lines: list[OrderItem]
    variant: Variant
    quantity: int


def plan_swaps(env: ToolEnv, order: Order, item_ids: list[str], new_item_ids: list[str]) -> list[Swap]:
    """Check each exchange (same product, enough stock) without changing anything. The same
    variant again is a replacement (a faulty item for a new one), which is allowed."""
    selected = open_lines(order, item_ids)
    swaps: list[Swap] = []
    wanted: dict[str, int] = {}
    for item_id, new_id in zip(item_ids, new_item_ids, strict=True):
        lines, variant = selected[item_id], env.db.get(Variant, new_id)
        if variant is None:
            raise NotFoundError(
                f"There is no item {new_id} in the catalog",
                resource="variant",
                id=new_id,
                argument="new_item_ids",
            )
        refusal = None
        if variant.product_id != lines[0].product_id:
            refusal = (
                f"Item {new_id} is not a {lines[0].name}: an item can only be exchanged for another "
                "option of the same product"
            )
        quantity = sum(line.quantity for line in lines)
        wanted[variant.id] = wanted.get(variant.id, 0) + quantity
        if refusal is None and variant.stock < wanted[variant.id]:
            refusal = (
                f"Item {new_id} ({line_label(lines[0].name, variant.options)}) is out of stock"
                if variant.stock <= 0
                else f"Item {new_id} has only {variant.stock} in stock"
            )
        if refusal is not None:
            raise ActionRefusedError(refusal, item_id=item_id, new_item_id=new_id, stock=variant.stock)
        swaps.append(Swap(lines, variant, quantity))
    return swaps


# Payments ---------------------------------------------------------------------------------
def net_paid_by_method(order: Order) -> dict[str, Decimal]:
    """What each payment method has paid for the order so far, payments minus refunds."""
    paid: dict[str, Decimal] = {}
    for tx in order.transactions:
        sign = 1 if tx.kind is TransactionKind.PAYMENT else -1
        paid[tx.payment_method_id] = paid.get(tx.payment_method_id, ZERO) + sign * tx.amount
    return {method: to_money(amount) for method, amount in paid.items()}


def original_method_ids(order: Order) -> list[str]:
    found: list[str] = []
    for tx in order.transactions:
        if tx.kind is TransactionKind.PAYMENT and tx.payment_method_id not in found:
            found.append(tx.payment_method_id)
    return found


def method_label(method: PaymentMethod | None, method_id: str, currency: str) -> str:
    if method is None:
        return f"payment method {method_id}"
    if method.source is PaymentSource.GIFT_CARD:
        return f"gift card {method.id} (balance {money(method.balance or ZERO, currency)})"
    return method.label


def record_refund(env: ToolEnv, order: Order, method_id: str, amount: Decimal) -> PaymentTransaction:
    """Refund ``amount`` to a method; a gift card gets its balance back at once."""
    method = env.db.get(PaymentMethod, method_id)
    if method is not None and method.source is PaymentSource.GIFT_CARD:
        method.balance = to_money((method.balance or ZERO) + amount)
    return _transaction(env, order, TransactionKind.REFUND, method_id, amount)


def check_charge(method: PaymentMethod, amount: Decimal, currency: str) -> None:
    if method.source is PaymentSource.GIFT_CARD and (method.balance or ZERO) < amount:
        raise ActionRefusedError(
            f"Gift card {method.id} has {money(method.balance or ZERO, currency)}, "
            f"not enough to pay {money(amount, currency)}",
            payment_method_id=method.id,
            balance=str(method.balance or ZERO),
            amount=str(amount),
        )


def record_charge(env: ToolEnv, order: Order, method: PaymentMethod, amount: Decimal) -> PaymentTransaction:
    """Charge ``amount`` to a method; a gift card must cover it and is debited at once."""
    check_charge(method, amount, env.shop.currency)
    if method.source is PaymentSource.GIFT_CARD:
        method.balance = to_money((method.balance or ZERO) - amount)
    return _transaction(env, order, TransactionKind.PAYMENT, method.id, amount)


def _transaction(
    env: ToolEnv, order: Order, kind: TransactionKind, method_id: str, amount: Decimal
) -> PaymentTransaction:
    tx = PaymentTransaction(
        kind=kind, amount=to_money(amount), payment_method_id=method_id, created_at=env.now()
    )
    order.transactions.append(tx)
    return tx


def gift_card_balance(method: PaymentMethod | None) -> Decimal | None:
    if method is None or method.source is not PaymentSource.GIFT_CARD:
        return None
    return method.balance or ZERO


def restock(env: ToolEnv, variant_id: str, quantity: int) -> None:
    """Put units back into stock; a variant since removed from the catalog has none to keep."""
    variant = env.db.get(Variant, variant_id)
    if variant is not None:
        variant.stock += quantity


# Wording and results ----------------------------------------------------------------------
def money(amount: Decimal, currency: str) -> str:
    return f"{to_money(amount)} {currency}"


def line_label(name: str, options: dict[str, object] | None) -> str:
    shown = ", ".join(str(v) for v in (options or {}).values())
    return f"{name} ({shown})" if shown else name


def address_text(address: dict[str, object]) -> str:
    parts = [address.get(key) for key in ("address1", "address2", "city")]
    region = " ".join(str(address[key]) for key in ("state", "zip") if address.get(key))
    return ", ".join(str(p) for p in [*parts, region, address.get("country")] if p)


def lines_total(lines: Iterable[OrderItem]) -> Decimal:
    return to_money(sum((line.price * line.quantity for line in lines), ZERO))


def payment_record(env: ToolEnv, tx: PaymentTransaction) -> PaymentRecord:
    method = env.db.get(PaymentMethod, tx.payment_method_id)
    return PaymentRecord(
        kind=tx.kind.value,
        amount=tx.amount,
        payment_method_id=tx.payment_method_id,
        payment_method=method_label(method, tx.payment_method_id, env.shop.currency),
        created_at=tx.created_at,
    )


def text_dict(values: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (values or {}).items()}


def exchanged_item(swap: Swap) -> ExchangedItem:
    first = swap.lines[0]
    return ExchangedItem(
        item_id=first.variant_id,
        new_item_id=swap.variant.id,
        name=first.name,
        new_options=text_dict(swap.variant.options),
        quantity=swap.quantity,
        old_price=first.price,
        new_price=swap.variant.price,
    )


def order_summary(order: Order) -> OrderSummary:
    return OrderSummary(
        order_id=order.id,
        status=order.status.value,
        total=order.total,
        item_count=sum(line.quantity for line in order.items),
        created=order.created_at.date(),
    )


def order_line(line: OrderItem) -> OrderLine:
    return OrderLine(
        variant_id=line.variant_id,
        product_id=line.product_id,
        name=line.name,
        options=text_dict(line.options),
        price=line.price,
        quantity=line.quantity,
        disposition=line.disposition,
    )


def shipments(fulfillment: Fulfillment) -> list[Shipment]:
    tracking_ids: list[str | None] = [*(fulfillment.tracking_ids or [])] or [None]  # none yet
    items = list(fulfillment.variant_ids or [])
    return [Shipment(carrier=fulfillment.carrier, tracking_id=t, item_ids=items) for t in tracking_ids]


def order_details(env: ToolEnv, order: Order) -> OrderDetails:
    return OrderDetails(
        order_id=order.id,
        status=order.status.value,
        created_at=order.created_at,
        items=[order_line(line) for line in order.items],
        item_count=sum(line.quantity for line in order.items),
        total=order.total,
        paid=sum(net_paid_by_method(order).values(), ZERO),
        shipping_address=text_dict(order.shipping_address),
        tracking=[shipment for f in order.fulfillments for shipment in shipments(f)],
        transactions=[payment_record(env, tx) for tx in order.transactions],
        cancel_reason=order.cancel_reason,
    )
