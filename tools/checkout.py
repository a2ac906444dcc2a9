"""Checkout: turn the conversation's cart into a pending order.

The one side effect of the cart: it prices the cart with :func:`tools.pricing.price_lines`,
reserves stock, charges the payment method and closes the cart, all in the executor's single
transaction, so a refusal changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from pydantic import Field
from sqlalchemy import CursorResult, select, update

from core.errors import ActionRefusedError, NotFoundError, ToolFailedError
from core.facts import Amount, Id, Name, Price, Status
from core.money import to_money
from store.models import (
    Cart,
    CartStatus,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    PaymentSource,
    PaymentTransaction,
    TransactionKind,
    Variant,
)
from tools.arguments import Address, PaymentMethodId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult
from tools.cart import require_session, stock_problem
from tools.pricing import Quote, describe_variant, find_open_cart, price_lines

PROMO_FIELD = Field(
    default=None, min_length=1, max_length=40, description="A promo code to apply (optional)."
)


class CheckoutArgs(ArgsModel):
    payment_method_id: PaymentMethodId = Field(description="One of the customer's payment methods.")
    promo_code: str | None = PROMO_FIELD
    shipping_address: Address | None = Field(
        default=None, description="Where to ship; leave out to use the customer's default address."
    )


class OrderLine(ToolResult):
    variant_id: Id
    product_id: Id
    title: Name
    options: dict[str, str]
    quantity: int
    price: Price = Field(description="Charged per unit, after every discount.")


_ORDER_LINE = {"variant_id", "product_id", "title", "options", "quantity"}


class CheckoutResult(ToolResult):
    order_id: Id
    status: Status
    items: list[OrderLine]
    subtotal: Amount
    promo_code: str | None
    promo_discount: Amount
    total: Amount
    currency: str
    payment_method: str
    ship_to: str


@dataclass
class _Plan:
    """Everything a checkout will do, checked and priced, before anything is written."""

    cart: Cart
    customer: Customer
    method: PaymentMethod
    address: dict[str, str]
    quote: Quote

    @property
    def ship_to(self) -> str:
        return f"{self.address['city']} {self.address['zip']}"


def _plan(args: CheckoutArgs, ctx: ToolContext, env: ToolEnv) -> _Plan:
    cart = find_open_cart(env, require_session(ctx, "checkout"))
    if cart is None or not cart.items:
        raise ActionRefusedError("Cannot check out: the cart is empty", reason="empty_cart")
    customer = env.db.get(Customer, ctx.customer_id) if ctx.customer_id else None
    if customer is None:
        raise NotFoundError(
            f"There is no customer {ctx.customer_id}", resource="customer", id=ctx.customer_id
        )
    method = env.db.get(PaymentMethod, args.payment_method_id)
    if method is None:
        raise NotFoundError(
            f"There is no payment method {args.payment_method_id}",
            resource="payment_method",
            id=args.payment_method_id,
        )
    if args.shipping_address is not None:
        address = args.shipping_address.model_dump()
    elif customer.default_address is not None:
        address = customer.default_address.as_dict()
    else:
        raise ActionRefusedError(
            "There is no shipping address on file; give one to check out", reason="no_shipping_address"
        )
    for item in cart.items:
        problem = stock_problem(item.variant, item.quantity)
        if problem:
            raise ActionRefusedError(
                f"Cannot check out: {problem}",
                variant_id=item.variant_id,
                requested=item.quantity,
                stock=item.variant.stock,
            )
    quote = price_lines(env, [(i.variant, i.quantity) for i in cart.items], args.promo_code)
    if method.source is PaymentSource.GIFT_CARD:
        balance = to_money(method.balance or 0)
        if balance < quote.total:
            raise ActionRefusedError(
                f"The gift card balance {balance} {quote.currency} does not cover the total "
                f"{quote.total} {quote.currency}",
                payment_method_id=method.id,
                balance=str(balance),
                total=str(quote.total),
            )
    return _Plan(cart, customer, method, address, quote)


def _new_order_id(env: ToolEnv) -> str:
    for _ in range(20):
        candidate = f"#W{secrets.randbelow(10_000_000):07d}"
        if env.db.get(Order, candidate) is None:
            return candidate
    raise ToolFailedError("Could not allocate a free order id", tool="checkout")


def _take(env: ToolEnv, statement: Any) -> bool:
    """Run a guarded UPDATE; True when it changed a row (the guard held in the database)."""
    return cast(CursorResult[Any], env.db.execute(statement)).rowcount == 1


class Checkout(Tool[CheckoutArgs, CheckoutResult]):
    name = "checkout"
    description = (
        "Place an order from the conversation's cart: charges the payment method, reserves the "
        "stock and ships to the given or default address. Needs the customer's confirmation."
    )
    args_model = CheckoutArgs
    result_model = CheckoutResult
    requires_auth = True
    side_effect = True

    def summarize(self, args: CheckoutArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        plan = _plan(args, ctx, env)
        quote = plan.quote
        items = ", ".join(f"{i.quantity} x {describe_variant(i.variant)}" for i in plan.cart.items)
        promo = f" (promo {quote.promo_code}: -{quote.promo_discount})" if quote.promo_code else ""
        return (
            f"Place an order for {items}; total {quote.total} {quote.currency}{promo}, "
            f"paid with {plan.method.label}, shipped to {plan.ship_to}."
        )

    def idempotency_scope(self, args: CheckoutArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        # The open cart, or after a checkout the session's last cart, so a retry replays.
        cart = find_open_cart(env, ctx.session_id) or env.db.scalar(
            select(Cart).where(Cart.session_id == (ctx.session_id or "")).order_by(Cart.id.desc()).limit(1)
        )
        if cart is None:
            return "cart:none"
        lines = ",".join(f"{item.variant_id}:{item.quantity}" for item in cart.items)
        return f"cart:{cart.id}|{lines}"

    def run(self, args: CheckoutArgs, *, ctx: ToolContext, env: ToolEnv) -> CheckoutResult:
        plan = _plan(args, ctx, env)
        quote, cart = plan.quote, plan.cart
        _take_stock_and_balance(env, plan)
        order = _order(env, plan)
        env.db.add(order)
        cart.status = CartStatus.CHECKED_OUT
        cart.order_id = order.id
        cart.customer_id = plan.customer.id
        cart.promo_code = quote.promo_code
        env.db.flush()
        return CheckoutResult(
            order_id=order.id,
            status=order.status.value,
            items=[
                OrderLine(**line.model_dump(include=_ORDER_LINE), price=line.final_unit_price)
                for line in quote.lines
            ],
            subtotal=quote.subtotal,
            promo_code=quote.promo_code,
            promo_discount=quote.promo_discount,
            total=quote.total,
            currency=quote.currency,
            payment_method=plan.method.label,
            ship_to=plan.ship_to,
        )


def _take_stock_and_balance(env: ToolEnv, plan: _Plan) -> None:
    """Take each line's units from stock, and a gift card's balance, each in one guarded UPDATE:
    what sold out (or ran out) since the quote refuses the checkout."""
    for item in plan.cart.items:
        guarded = (
            update(Variant)
            .where(Variant.id == item.variant_id, Variant.stock >= item.quantity)
            .values(stock=Variant.stock - item.quantity)
        )
        if not _take(env, guarded):
            raise ActionRefusedError(
                f"Cannot check out: {describe_variant(item.variant)} just sold out",
                variant_id=item.variant_id,
            )
    if plan.method.source is PaymentSource.GIFT_CARD:
        total = plan.quote.total
        guarded = (
            update(PaymentMethod)
            .where(PaymentMethod.id == plan.method.id, PaymentMethod.balance >= total)
            .values(balance=PaymentMethod.balance - total)
        )
        if not _take(env, guarded):
            raise ActionRefusedError("The gift card balance no longer covers the total")


def _order(env: ToolEnv, plan: _Plan) -> Order:
    """The new pending order for the plan's quote, paid with its method."""
    now = env.now()
    return Order(
        id=_new_order_id(env),
        customer_id=plan.customer.id,
        status=OrderStatus.PENDING,
        shipping_address=plan.address,
        created_at=now,
        items=[
            OrderItem(
                product_id=line.product_id,
                variant_id=line.variant_id,
                name=line.title,
                options=line.options,
                price=line.final_unit_price,
                quantity=line.quantity,
            )
            for line in plan.quote.lines
        ],
        transactions=[
            PaymentTransaction(
                kind=TransactionKind.PAYMENT,
                amount=plan.quote.total,
                payment_method_id=plan.method.id,
                created_at=now,
            )
        ],
    )


TOOLS: list[type[Tool[Any, Any]]] = [Checkout]
