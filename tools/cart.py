"""Cart tools: add, remove and view the conversation's cart (checkout is in tools/checkout.py).

A cart belongs to the conversation (``ctx.session_id``); a session has at most one ``open``
cart, created by the first ``add_to_cart``. Cart changes are reversible, so they need no
confirmation.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.errors import ActionRefusedError, NotFoundError
from core.facts import Id, Name, Price, StockCount
from store.models import (
    Cart,
    CartItem,
    CartStatus,
    Variant,
)
from tools.arguments import VariantId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult
from tools.pricing import Quote, describe_variant, find_open_cart, load_variants, price_lines

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


def require_session(ctx: ToolContext, tool: str) -> str:
    if not ctx.session_id:
        raise ActionRefusedError(
            "A cart belongs to a conversation, and this request has no session id", tool=tool
        )
    return ctx.session_id


def stock_problem(variant: Variant, quantity: int) -> str | None:
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
    problems = [p for item in items if (p := stock_problem(item.variant, item.quantity))]
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
    writes = True

    def run(self, args: AddToCartArgs, *, ctx: ToolContext, env: ToolEnv) -> CartView:
        session_id = require_session(ctx, self.name)
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
    writes = True

    def run(self, args: RemoveFromCartArgs, *, ctx: ToolContext, env: ToolEnv) -> CartView:
        cart = find_open_cart(env, require_session(ctx, self.name))
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
        cart = find_open_cart(env, require_session(ctx, self.name))
        return cart_view(env, cart, args.promo_code)


TOOLS: list[type[Tool[Any, Any]]] = [AddToCart, RemoveFromCart, ViewCart]
