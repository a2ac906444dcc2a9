"""Pricing: quantity discounts, promo codes and the ``quote`` tool.

:func:`price_lines` is the one place prices are computed; the ``quote`` tool, the cart view
and checkout all use it, so what a customer is quoted is what an order charges. Prices come
only from the store (``Variant.price``), never from arguments.

Rules, in order:

1. **Quantity discount**, per line: the highest tier of ``shop.quantity_discounts`` whose
   ``min_quantity`` is at most the line's quantity takes its percent off the unit price
   (rounded to the cent, so every unit has an exact price).
2. **Promo code** (case-insensitive): it must exist, be active, be inside its
   ``starts_at``/``ends_at`` window, and the subtotal after quantity discounts must reach its
   ``min_subtotal``. A ``category`` promo applies only to lines of that category. The discount
   is ``percent_off`` of the eligible amount plus ``amount_off``, never more than the eligible
   amount. Any failed condition refuses the quote with the reason.
3. **Spreading the promo discount**: orders store one unit price per line, so the discount is
   spread over the eligible lines in proportion to their amounts, in whole cents per unit.
   When it cannot be split evenly over the units, the last cents go in the customer's favour
   (at most one cent per unit on one line). ``promo_discount`` is the discount actually given,
   so ``total`` always equals the sum of ``final_unit_price x quantity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.errors import ActionRefusedError, InvalidArgumentsError, NotFoundError
from core.facts import Amount, Id, Name, Price
from core.money import to_money
from store.models import Cart, CartItem, CartStatus, Promotion, Variant
from tools.arguments import VariantId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult

HUNDRED = Decimal("100")


class QuoteLine(ToolResult):
    variant_id: Id
    product_id: Id
    title: Name
    options: dict[str, str]
    quantity: int
    unit_price: Price = Field(description="The store's price of one unit.")
    quantity_discount: Amount = Field(description="Taken off this line by the quantity tier.")
    line_total: Amount = Field(description="The line after its quantity discount.")
    promo_discount: Amount = Field(description="This line's share of the promo discount.")
    final_unit_price: Price = Field(description="What one unit costs after every discount.")


class Quote(ToolResult):
    lines: list[QuoteLine]
    subtotal: Amount = Field(description="Sum of the lines after quantity discounts.")
    promo_code: str | None = None
    promo_discount: Amount
    total: Amount
    currency: str


def describe_variant(variant: Variant) -> str:
    """``Trailblazer Running Shoe (blue, 9)``: how an item is named in messages."""
    options = ", ".join(str(v) for v in (variant.options or {}).values())
    return f"{variant.product.title} ({options})" if options else variant.product.title


def load_variants(env: ToolEnv, variant_ids: Sequence[str]) -> dict[str, Variant]:
    """The variants with these ids, with their products; a missing id is a :class:`NotFoundError`."""
    wanted = list(dict.fromkeys(variant_ids))
    rows = env.db.scalars(
        select(Variant).where(Variant.id.in_(wanted)).options(selectinload(Variant.product))
    )
    found = {v.id: v for v in rows}
    missing = [vid for vid in wanted if vid not in found]
    if missing:
        raise NotFoundError(
            f"There is no item {', '.join(missing)} in the catalog", resource="variant", id=missing[0]
        )
    return found


def find_open_cart(env: ToolEnv, session_id: str | None) -> Cart | None:
    """The conversation's open cart (the oldest one, should there ever be two)."""
    if not session_id:
        return None
    return env.db.scalar(
        select(Cart)
        .where(Cart.session_id == session_id, Cart.status == CartStatus.OPEN)
        .options(selectinload(Cart.items).selectinload(CartItem.variant).selectinload(Variant.product))
        .order_by(Cart.id)
        .limit(1)
    )


def quantity_percent(env: ToolEnv, quantity: int) -> Decimal:
    """Percent off the unit price for this many units: the highest matching tier, or 0."""
    tiers = [t for t in env.shop.quantity_discounts if t.min_quantity <= quantity]
    return max(tiers, key=lambda t: t.min_quantity).percent if tiers else Decimal("0")


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def find_promotion(env: ToolEnv, code: str) -> Promotion:
    """The promotion with this code (case-insensitive) if it can be used now, else a refusal."""
    promo = env.db.scalar(select(Promotion).where(func.upper(Promotion.code) == code.strip().upper()))
    if promo is None:
        raise ActionRefusedError(f"There is no promo code {code!r}", code=code, reason="unknown_code")
    now = _aware(env.now())
    if not promo.active:
        raise ActionRefusedError(
            f"Promo code {promo.code} is not active", code=promo.code, reason="not_active"
        )
    if promo.starts_at is not None and now < _aware(promo.starts_at):
        raise ActionRefusedError(
            f"Promo code {promo.code} is not active yet; it starts on {_aware(promo.starts_at):%Y-%m-%d}",
            code=promo.code,
            reason="not_active",
        )
    if promo.ends_at is not None and now > _aware(promo.ends_at):
        raise ActionRefusedError(
            f"Promo code {promo.code} expired on {_aware(promo.ends_at):%Y-%m-%d}",
            code=promo.code,
            reason="expired",
        )
    return promo


def _cents(value: Decimal) -> int:
    return int(to_money(value) * 100)


def _money(cents: int) -> Decimal:
    return to_money(Decimal(cents) / 100)


def spread_discount(discount: int, lines: Sequence[tuple[int, int]]) -> list[int]:
    """Per-unit discounts in cents for ``(unit price in cents, quantity)`` lines.

    Proportional to each line's amount; the result never takes a unit below zero. See the
    module docstring for how uneven cents are handled.
    """
    eligible = sum(unit * qty for unit, qty in lines)
    if eligible <= 0 or discount <= 0:
        return [0] * len(lines)
    discount = min(discount, eligible)
    per_unit = [(discount * unit * qty // eligible) // qty for unit, qty in lines]
    left = discount - sum(u * qty for u, (_, qty) in zip(per_unit, lines, strict=True))
    for index in sorted(range(len(lines)), key=lambda i: -lines[i][1]):
        unit, qty = lines[index]
        while left >= qty and per_unit[index] < unit:
            per_unit[index] += 1
            left -= qty
    if left > 0:
        room = [i for i, (unit, _) in enumerate(lines) if per_unit[i] < unit]
        if room:
            per_unit[min(room, key=lambda i: lines[i][1])] += 1
    return per_unit


def price_lines(env: ToolEnv, lines: Sequence[tuple[Variant, int]], promo_code: str | None) -> Quote:
    """Price ``(variant, quantity)`` lines with quantity discounts and an optional promo code."""
    units: list[int] = []
    priced: list[dict[str, Any]] = []
    for variant, quantity in lines:
        unit = to_money(variant.price)
        percent = quantity_percent(env, quantity)
        discounted = to_money(unit * (HUNDRED - percent) / HUNDRED)
        units.append(_cents(discounted))
        priced.append(
            {
                "variant_id": variant.id,
                "product_id": variant.product_id,
                "title": variant.product.title,
                "options": {str(k): str(v) for k, v in (variant.options or {}).items()},
                "quantity": quantity,
                "unit_price": unit,
                "quantity_discount": (unit - discounted) * quantity,
                "line_total": discounted * quantity,
            }
        )
    subtotal = to_money(sum((p["line_total"] for p in priced), Decimal("0")))
    per_unit = [0] * len(priced)
    promo = find_promotion(env, promo_code) if promo_code else None
    if promo is not None:
        per_unit = _promo_per_unit(promo, lines, units, subtotal, env.shop.currency)
    quote_lines = []
    for line, unit_cents, off in zip(priced, units, per_unit, strict=True):
        quantity = line["quantity"]
        quote_lines.append(
            QuoteLine(
                **line,
                promo_discount=_money(off * quantity),
                final_unit_price=_money(unit_cents - off),
            )
        )
    promo_discount = to_money(sum((q.promo_discount for q in quote_lines), Decimal("0")))
    return Quote(
        lines=quote_lines,
        subtotal=subtotal,
        promo_code=promo.code if promo else None,
        promo_discount=promo_discount,
        total=subtotal - promo_discount,
        currency=env.shop.currency,
    )


def _promo_per_unit(
    promo: Promotion,
    lines: Sequence[tuple[Variant, int]],
    units: list[int],
    subtotal: Decimal,
    currency: str,
) -> list[int]:
    minimum = to_money(promo.min_subtotal or 0)
    if subtotal < minimum:
        raise ActionRefusedError(
            f"Promo code {promo.code} needs a subtotal of at least {minimum} {currency}; "
            f"this one is {subtotal} {currency}",
            code=promo.code,
            reason="minimum_not_met",
            min_subtotal=str(minimum),
            subtotal=str(subtotal),
        )
    wanted = (promo.category or "").lower()
    eligible = [not wanted or variant.product.category.lower() == wanted for variant, _ in lines]
    if not any(eligible):
        raise ActionRefusedError(
            f"Promo code {promo.code} applies only to {promo.category} items, and there are none here",
            code=promo.code,
            reason="no_eligible_items",
            category=promo.category,
        )
    amount = sum(
        (_money(u * q) for u, (_, q), ok in zip(units, lines, eligible, strict=True) if ok), Decimal(0)
    )
    discount = to_money(amount * (promo.percent_off or 0) / HUNDRED) + to_money(promo.amount_off or 0)
    chosen = [i for i, ok in enumerate(eligible) if ok]
    spread = spread_discount(_cents(min(discount, amount)), [(units[i], lines[i][1]) for i in chosen])
    per_unit = [0] * len(lines)
    for index, off in zip(chosen, spread, strict=True):
        per_unit[index] = off
    return per_unit


class QuoteItem(ArgsModel):
    variant_id: VariantId = Field(description="The variant (exact item) to price.")
    quantity: int = Field(default=1, ge=1, description="How many units.")


class QuoteArgs(ArgsModel):
    items: list[QuoteItem] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Items to price. Leave out to price the conversation's cart.",
    )
    promo_code: str | None = Field(
        default=None, min_length=1, max_length=40, description="A promo code to apply (optional)."
    )


class QuoteTool(Tool[QuoteArgs, Quote]):
    name = "quote"
    description = (
        "Price items, or the cart when no items are given: quantity discounts, an optional promo "
        "code, subtotal and total. Refuses an invalid promo code with the reason."
    )
    args_model = QuoteArgs
    result_model = Quote

    def run(self, args: QuoteArgs, *, ctx: ToolContext, env: ToolEnv) -> Quote:
        if args.items is None:
            cart = find_open_cart(env, ctx.session_id)
            if cart is None or not cart.items:
                raise ActionRefusedError("Cannot quote the cart: the cart is empty", reason="empty_cart")
            return price_lines(env, [(item.variant, item.quantity) for item in cart.items], args.promo_code)
        merged: dict[str, int] = {}
        for item in args.items:
            merged[item.variant_id] = merged.get(item.variant_id, 0) + item.quantity
        limit = env.shop.max_cart_quantity
        too_many = [
            {"argument": f"items.{index}.quantity", "problem": f"at most {limit} units of one item"}
            for index, item in enumerate(args.items)
            if merged[item.variant_id] > limit
        ]
        if too_many:
            raise InvalidArgumentsError(
                f"Invalid arguments for quote: at most {limit} units of one item can be ordered",
                errors=too_many,
                tool=self.name,
            )
        variants = load_variants(env, list(merged))
        return price_lines(env, [(variants[vid], qty) for vid, qty in merged.items()], args.promo_code)


TOOLS: list[type[Tool[Any, Any]]] = [QuoteTool]
