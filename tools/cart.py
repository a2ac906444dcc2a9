"""Cart tools: add, remove, view, and checkout into a pending order.

A cart belongs to the conversation (``ctx.session_id``); a session has at most one ``open``
cart, created by the first ``add_to_cart``. Cart changes are reversible, so they need no
confirmation. ``checkout`` is the one side effect: it prices the cart with
:func:`tools.pricing.price_lines`, reserves stock, charges the payment method and closes the
cart, all in the executor's single transaction, so a refusal changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from pydantic import Field
from sqlalchemy import CursorResult, select, update

from shopassist.errors import ActionRefusedError, NotFoundError, ToolFailedError
from tools.base import Tool, ToolContext, ToolEnv
from tools.pricing import Quote, describe_variant, find_open_cart, load_variants, price_lines
from tools.store.models import (
    Cart,
    CartItem,
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
from tools.types import (
    Address,
    Amount,
    ArgsModel,
    Id,
    Name,
    PaymentMethodId,
    Price,
    Status,
    StockCount,
    ToolResult,
    VariantId,
    to_money,
)

PROMO_FIELD = Field(
    default=None, min_length=1, max_length=40, description="A promo code to apply (optional)."
)


class CartLine(ToolResult):
    variant_id: Id
    product_id: Id
    title: Name
    options: dict[str, str]
    quantity: int
    unit_price: Price
    stock: StockCount
    available: bool = Field(description="Whether the stock covers the quantity in the cart.")


class CartView(ToolResult):
    cart_id: int | None
    items: list[CartLine]
    item_count: int = Field(description="Units in the cart.")
    quote: Quote | None = Field(description="Prices with discounts; absent for an empty cart.")
    problems: list[str] = Field(description="What would stop a checkout, for the customer to fix.")


def _require_session(ctx: ToolContext, tool: str) -> str:
    if not ctx.session_id:
        raise ActionRefusedError(
            "A cart belongs to a conversation, and this request has no session id", tool=tool
        )
    return ctx.session_id


def _stock_problem(variant: Variant, quantity: int) -> str | None:
    if variant.stock <= 0:
        return f"{describe_variant(variant)} is out of stock"
    if variant.stock < quantity:
        return f"Only {variant.stock} of {describe_variant(variant)} in stock; the cart has {quantity}"
    return None


def cart_view(env: ToolEnv, cart: Cart | None, promo_code: str | None = None) -> CartView:
    items = list(cart.items) if cart is not None else []
    lines = [
        CartLine(
            variant_id=item.variant_id,
            product_id=item.variant.product_id,
            title=item.variant.product.title,
            options={str(k): str(v) for k, v in (item.variant.options or {}).items()},
            quantity=item.quantity,
            unit_price=item.variant.price,
            stock=item.variant.stock,
            available=item.variant.stock >= item.quantity,
        )
        for item in items
    ]
    problems = [p for item in items if (p := _stock_problem(item.variant, item.quantity))]
    quote = price_lines(env, [(i.variant, i.quantity) for i in items], promo_code) if items else None
    if promo_code and not items:
        problems.append(f"Promo code {promo_code} was not applied: the cart is empty")
    return CartView(
        cart_id=cart.id if cart is not None else None,
        items=lines,
        item_count=sum(i.quantity for i in items),
        quote=quote,
        problems=problems,
    )


class AddToCartArgs(ArgsModel):
    variant_id: VariantId = Field(description="The variant (exact item: color, size...) to add.")
    quantity: int = Field(default=1, ge=1, description="Units to add to what is already in the cart.")


class AddToCart(Tool[AddToCartArgs, CartView]):
    name = "add_to_cart"
    description = "Add units of an item to the conversation's cart (or more of one already there)."
    args_model = AddToCartArgs
    result_model = CartView

    def run(self, args: AddToCartArgs, *, ctx: ToolContext, env: ToolEnv) -> CartView:
        session_id = _require_session(ctx, self.name)
        variant = load_variants(env, [args.variant_id])[args.variant_id]
        cart = find_open_cart(env, session_id)
        line = next((i for i in cart.items if i.variant_id == variant.id), None) if cart else None
        wanted = args.quantity + (line.quantity if line else 0)
        label = describe_variant(variant)
        facts = {"variant_id": variant.id, "requested": wanted, "stock": variant.stock}
        if variant.stock <= 0:
            raise ActionRefusedError(f"{label} is out of stock", **facts)
        limit = env.shop.max_cart_quantity
        if wanted > limit:
            raise ActionRefusedError(
                f"At most {limit} units of {label} fit in a cart; that would make {wanted}",
                limit=limit,
                **facts,
            )
        if wanted > variant.stock:
            raise ActionRefusedError(
                f"Only {variant.stock} of {label} in stock; that would make {wanted} in the cart", **facts
            )
        if cart is None:
            cart = Cart(session_id=session_id, customer_id=ctx.customer_id, status=CartStatus.OPEN)
            env.db.add(cart)
        if ctx.customer_id and cart.customer_id is None:
            cart.customer_id = ctx.customer_id
        if line is None:
            cart.items.append(CartItem(variant_id=variant.id, variant=variant, quantity=args.quantity))
        else:
            line.quantity = wanted
        env.db.flush()
        return cart_view(env, cart)


class RemoveFromCartArgs(ArgsModel):
    variant_id: VariantId = Field(description="The variant to take out of the cart.")
    quantity: int | None = Field(
        default=None,
        ge=1,
        description="Units to remove; leave out (or give at least the cart's) to remove the line.",
    )


class RemoveFromCart(Tool[RemoveFromCartArgs, CartView]):
    name = "remove_from_cart"
    description = "Remove an item from the conversation's cart, or reduce how many units of it are there."
    args_model = RemoveFromCartArgs
    result_model = CartView

    def run(self, args: RemoveFromCartArgs, *, ctx: ToolContext, env: ToolEnv) -> CartView:
        cart = find_open_cart(env, _require_session(ctx, self.name))
        line = next((i for i in cart.items if i.variant_id == args.variant_id), None) if cart else None
        if cart is None or line is None:
            raise NotFoundError(
                f"Item {args.variant_id} is not in the cart", resource="cart_item", id=args.variant_id
            )
        if args.quantity is None or args.quantity >= line.quantity:
            cart.items.remove(line)
        else:
            line.quantity -= args.quantity
        env.db.flush()
        return cart_view(env, cart)


class ViewCartArgs(ArgsModel):
    promo_code: str | None = PROMO_FIELD


class ViewCart(Tool[ViewCartArgs, CartView]):
    name = "view_cart"
    description = "Show the conversation's cart: items, current prices and stock, and the priced total."
    args_model = ViewCartArgs
    result_model = CartView

    def run(self, args: ViewCartArgs, *, ctx: ToolContext, env: ToolEnv) -> CartView:
        cart = find_open_cart(env, _require_session(ctx, self.name))
        return cart_view(env, cart, args.promo_code)


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
    cart = find_open_cart(env, _require_session(ctx, "checkout"))
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
        problem = _stock_problem(item.variant, item.quantity)
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
        for item in cart.items:
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
            guarded = (
                update(PaymentMethod)
                .where(PaymentMethod.id == plan.method.id, PaymentMethod.balance >= quote.total)
                .values(balance=PaymentMethod.balance - quote.total)
            )
            if not _take(env, guarded):
                raise ActionRefusedError("The gift card balance no longer covers the total")
        now = env.now()
        order = Order(
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
                for line in quote.lines
            ],
            transactions=[
                PaymentTransaction(
                    kind=TransactionKind.PAYMENT,
                    amount=quote.total,
                    payment_method_id=plan.method.id,
                    created_at=now,
                )
            ],
        )
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


TOOLS: list[type[Tool[Any, Any]]] = [AddToCart, RemoveFromCart, ViewCart, Checkout]
