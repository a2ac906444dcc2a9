"""Recommendation tools: similar items, items bought together, popular items for a cold start.

Every recommendation carries a one-line ``reason`` the reply can show as is. Rankings are SQL
aggregates (``GROUP BY``) so they stay fast on large catalogs and order histories; only the
few products returned are loaded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import ColumnElement, Select, case, distinct, exists, func, select
from sqlalchemy.orm import aliased, selectinload

from core.errors import NotFoundError
from store.models import Order, OrderItem, OrderStatus, Product, Variant
from tools.arguments import ProductId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult
from tools.catalog import ProductSummary, load_product, summarize_product

# A same-brand product in the same category ranks as if its price were this share of the
# reference price closer than it is.
BRAND_BONUS = 0.10
# Prices within this share of the reference price are "similar".
SIMILAR_PRICE = Decimal("0.20")


class Recommendation(ToolResult):
    product: ProductSummary
    reason: str = Field(description="One line saying why this product is recommended.")


class Recommendations(ToolResult):
    recommendations: list[Recommendation]


class ProductRecommendations(Recommendations):
    based_on: ProductSummary = Field(description="The product the recommendations are for.")


class PopularRecommendations(Recommendations):
    category: str | None = Field(description="The category searched, as the shop spells it.")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _load_summaries(env: ToolEnv, ids: list[str]) -> dict[str, ProductSummary]:
    if not ids:
        return {}
    rows = env.db.scalars(select(Product).where(Product.id.in_(ids)).options(selectinload(Product.variants)))
    return {p.id: summarize_product(p) for p in rows}


def _category_names(env: ToolEnv) -> list[str]:
    return list(env.db.scalars(select(Product.category).distinct().order_by(Product.category)))


def _has_stock() -> ColumnElement[bool]:
    return exists().where(Variant.product_id == Product.id, Variant.stock > 0)


class SimilarItemsArgs(ArgsModel):
    product_id: ProductId = Field(description="The product to find alternatives to.")
    limit: int = Field(default=5, ge=1, le=20, description="Most products to return.")


class SimilarItems(Tool[SimilarItemsArgs, ProductRecommendations]):
    name = "similar_items"
    description = (
        "Products similar to one product: the same category at the closest price first, "
        "then other products of the same brand."
    )
    args_model = SimilarItemsArgs
    result_model = ProductRecommendations

    def run(self, args: SimilarItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> ProductRecommendations:
        product = load_product(env, args.product_id)
        based_on = summarize_product(product)
        reference = based_on.min_price if product.variants else None
        brand = product.brand if product.brand.strip() else ""

        same_category = self._ranked(
            Product.category == product.category, product.id, reference, brand, args.limit
        )
        picked: list[tuple[str, str]] = []
        for product_id, price, other_brand in env.db.execute(same_category):
            picked.append(
                (product_id, self._category_reason(product.category, brand, other_brand, price, reference))
            )
        if brand and len(picked) < args.limit:
            same_brand = self._ranked(
                (Product.brand == brand) & (Product.category != product.category),
                product.id,
                reference,
                "",
                args.limit - len(picked),
            )
            picked.extend((row[0], f"Same brand ({brand})") for row in env.db.execute(same_brand))

        summaries = _load_summaries(env, [pid for pid, _ in picked])
        return ProductRecommendations(
            based_on=based_on,
            recommendations=[
                Recommendation(product=summaries[pid], reason=reason)
                for pid, reason in picked
                if pid in summaries
            ],
        )

    @staticmethod
    def _ranked(
        where: ColumnElement[bool], exclude: str, reference: Decimal | None, bonus_brand: str, limit: int
    ) -> Select[str, Decimal, str]:
        """Products matching ``where`` with their lowest price, closest to ``reference`` first."""
        price = func.min(Variant.price)
        query = (
            select(Product.id, price.label("price"), Product.brand)
            .join(Variant, Variant.product_id == Product.id)
            .where(where, Product.id != exclude)
            .group_by(Product.id, Product.brand, Product.title)
        )
        if reference is None:
            return query.order_by(Product.title, Product.id).limit(limit)
        distance: ColumnElement[Any] = func.abs(price - float(reference))
        if bonus_brand:
            distance = distance - case(
                (Product.brand == bonus_brand, float(reference) * BRAND_BONUS), else_=0.0
            )
        return query.order_by(distance, Product.title, Product.id).limit(limit)

    @staticmethod
    def _category_reason(
        category: str, brand: str, other_brand: str, price: Decimal | float, reference: Decimal | None
    ) -> str:
        reason = f"Also in {category}"
        if brand and other_brand == brand:
            reason += f" from {brand}"
        similar = reference is not None and abs(Decimal(str(price)) - reference) <= reference * SIMILAR_PRICE
        if similar:
            reason += ", at a similar price"
        return reason


class FrequentlyBoughtTogetherArgs(ArgsModel):
    product_id: ProductId = Field(description="The product customers bought.")
    limit: int = Field(default=5, ge=1, le=20, description="Most products to return.")


class FrequentlyBoughtTogether(Tool[FrequentlyBoughtTogetherArgs, ProductRecommendations]):
    name = "frequently_bought_together"
    description = (
        "Products other customers ordered together with this product, most often first "
        "(cancelled orders do not count). Empty when the product has no order history."
    )
    args_model = FrequentlyBoughtTogetherArgs
    result_model = ProductRecommendations

    def run(
        self, args: FrequentlyBoughtTogetherArgs, *, ctx: ToolContext, env: ToolEnv
    ) -> ProductRecommendations:
        product = load_product(env, args.product_id)
        mine = aliased(OrderItem)
        other = aliased(OrderItem)
        orders = func.count(distinct(other.order_id))
        query = (
            select(other.product_id, orders)
            .join(mine, mine.order_id == other.order_id)
            .join(Order, Order.id == other.order_id)
            .join(Product, Product.id == other.product_id)
            .where(
                mine.product_id == product.id,
                other.product_id != product.id,
                Order.status != OrderStatus.CANCELLED,
            )
            .group_by(other.product_id, Product.title)
            .order_by(orders.desc(), Product.title, other.product_id)
            .limit(args.limit)
        )
        counted = [(pid, int(count)) for pid, count in env.db.execute(query)]
        summaries = _load_summaries(env, [pid for pid, _ in counted])
        return ProductRecommendations(
            based_on=summarize_product(product),
            recommendations=[
                Recommendation(product=summaries[pid], reason=f"Bought together in {_plural(count, 'order')}")
                for pid, count in counted
                if pid in summaries
            ],
        )


class PopularItemsArgs(ArgsModel):
    category: str | None = Field(
        default=None, min_length=1, max_length=120, description="Only this category (case-insensitive)."
    )
    limit: int = Field(default=5, ge=1, le=20, description="Most products to return.")
    in_stock_only: bool = Field(default=True, description="Only products with a variant in stock.")


class PopularItems(Tool[PopularItemsArgs, PopularRecommendations]):
    name = "popular_items"
    description = (
        "The shop's most ordered products, optionally within one category; a good start when "
        "nothing is known about the customer yet."
    )
    args_model = PopularItemsArgs
    result_model = PopularRecommendations

    def run(self, args: PopularItemsArgs, *, ctx: ToolContext, env: ToolEnv) -> PopularRecommendations:
        category = None
        if args.category is not None:
            categories = _category_names(env)
            category = next((c for c in categories if c.lower() == args.category.lower()), None)
            if category is None:
                raise NotFoundError(
                    f"There is no category {args.category!r}. Categories: {', '.join(categories)}",
                    resource="category",
                    id=args.category,
                )
        filters: list[ColumnElement[bool]] = []
        if category is not None:
            filters.append(Product.category == category)
        if args.in_stock_only:
            filters.append(_has_stock())
        ordered = OrderItem.product_id == Product.id
        counts = (
            select(OrderItem.product_id, func.count(distinct(OrderItem.order_id)).label("orders"))
            .join(Order, Order.id == OrderItem.order_id)
            .where(Order.status != OrderStatus.CANCELLED)
            .group_by(OrderItem.product_id)
            .subquery()
        )
        # Two steps so a large catalog is not sorted as a whole: ordered products come from the
        # (small) order history; never-ordered ones only fill up what is left.
        best = (
            select(Product.id, Product.category, counts.c.orders)
            .join(counts, counts.c.product_id == Product.id)
            .where(*filters)
            .order_by(counts.c.orders.desc(), Product.title, Product.id)
            .limit(args.limit)
        )
        ranked = [(pid, cat, int(count)) for pid, cat, count in env.db.execute(best)]
        if len(ranked) < args.limit:
            sold = select(OrderItem.id).join(Order, Order.id == OrderItem.order_id)
            sold = sold.where(ordered, Order.status != OrderStatus.CANCELLED)
            fresh = (
                select(Product.id, Product.category)
                .where(*filters, ~sold.exists())
                .order_by(Product.title, Product.id)
                .limit(args.limit - len(ranked))
            )
            ranked.extend((pid, cat, 0) for pid, cat in env.db.execute(fresh))
        summaries = _load_summaries(env, [pid for pid, _, _ in ranked])
        return PopularRecommendations(
            category=category,
            recommendations=[
                Recommendation(
                    product=summaries[pid],
                    reason=f"Ordered {_plural(count, 'time')}" if count else f"New in {cat}",
                )
                for pid, cat, count in ranked
                if pid in summaries
            ],
        )


TOOLS: list[type[Tool[Any, Any]]] = [SimilarItems, FrequentlyBoughtTogether, PopularItems]
