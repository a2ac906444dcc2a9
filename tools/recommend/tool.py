"""``recommend_for_customer``: products for this customer, from who they are and this conversation.

The verified customer's purchases (``ctx.customer_id``, set only after authentication; never an
argument) and the conversation's context (products viewed, found by a search, in the cart, what
they said they want) make the profile; a new or unverified visitor has the context alone, and
with no context at all the shop's best sellers come first. Already bought products (unless
consumable), products in the cart or just viewed, and out-of-stock products are never shown.
Each result says why, naming only products of this customer's own profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.errors import NotFoundError
from core.money import to_money
from store.models import Product, Variant
from tools.arguments import ProductId
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv
from tools.catalog import summarize_product
from tools.recommend.data import cart_products, customer_purchases
from tools.recommend.model import RecommenderModel
from tools.recommend.ranking import (
    MMR_POOL,
    Profile,
    bought_together,
    candidates,
    closest_source,
    excluded,
    mmr,
    scores,
)
from tools.recommendation import PopularItems, PopularItemsArgs, Recommendation, Recommendations

MAX_CONTEXT = 20
FIT_CHUNK = 60  # candidates whose stock is read at once
SEARCH_HITS = 8  # products a stated interest brings into the profile
SIZE_AXES = ("size",)
COLOUR_AXES = ("color", "colour")

ContextIds = list[ProductId]


class RecommendForCustomerArgs(ArgsModel):
    viewed_product_ids: ContextIds = Field(
        default_factory=list, max_length=MAX_CONTEXT, description="Products looked at in this conversation."
    )
    searched_product_ids: ContextIds = Field(
        default_factory=list,
        max_length=MAX_CONTEXT,
        description="Products this conversation's searches found.",
    )
    cart_product_ids: ContextIds = Field(
        default_factory=list,
        max_length=MAX_CONTEXT,
        description="Products in the cart (the conversation's own cart is read as well).",
    )
    interests: str | None = Field(
        default=None,
        min_length=2,
        max_length=200,
        description="What the customer said they want or who it is for, e.g. 'hiking gear for my dad'.",
    )
    size: str | None = Field(default=None, min_length=1, max_length=20, description="Wanted size.")
    color: str | None = Field(default=None, min_length=1, max_length=40, description="Wanted colour.")
    max_price: Decimal | None = Field(default=None, gt=0, description="Budget: most one item may cost.")
    category: str | None = Field(
        default=None, min_length=1, max_length=120, description="Only this category (case-insensitive)."
    )
    limit: int = Field(default=5, ge=1, le=20, description="Most products to return.")


class PersonalRecommendations(Recommendations):
    based_on: list[str] = Field(
        description="What the ranking used: 'your purchases', 'products you viewed', "
        "'your search', 'your cart', 'what you asked for', or 'best sellers'."
    )
    personalized: bool = Field(description="False when nothing was known: best sellers only.")


@dataclass
class _Fit:
    """An in-stock product that passes the stated size, colour and budget, and what it matched."""

    matched: list[str] = field(default_factory=list)


def _option(options: dict[str, Any], axes: tuple[str, ...]) -> str | None:
    for key, value in options.items():
        if key.lower() in axes:
            return str(value)
    return None


class RecommendForCustomer(Tool[RecommendForCustomerArgs, PersonalRecommendations]):
    name = "recommend_for_customer"
    description = (
        "Personal recommendations: from the verified customer's purchases and this conversation "
        "(products viewed, searched, in the cart, stated interests, size, colour, budget); best "
        "sellers for a visitor nothing is known about. Each result says why."
    )
    args_model = RecommendForCustomerArgs
    result_model = PersonalRecommendations

    def run(
        self, args: RecommendForCustomerArgs, *, ctx: ToolContext, env: ToolEnv
    ) -> PersonalRecommendations:
        model = env.recommender.current() if env.recommender is not None else None
        if model is None or not len(model):
            return self._best_sellers(args, ctx=ctx, env=env)
        profile, based_on = self._profile(model, args, ctx, env)
        scored = scores(model, profile)
        mask = self._mask(model, profile, args)
        ranked = candidates(scored, mask)
        fits: dict[str, _Fit] = {}
        kept: list[int] = []
        # Stock and the stated options are read from the store for the best candidates only,
        # a chunk at a time, until MMR has its pool.
        for start in range(0, len(ranked), FIT_CHUNK):
            chunk = ranked[start : start + FIT_CHUNK]
            fits |= self._fits(env, [model.ids[i] for i in chunk], args)
            kept.extend(item for item in chunk if model.ids[item] in fits)
            if len(kept) >= MMR_POOL:
                break
        picked = mmr(model, kept, scored, args.limit)
        summaries = self._summaries(env, [model.ids[i] for i in picked])
        personalized = not profile.empty
        return PersonalRecommendations(
            recommendations=[
                Recommendation(
                    product=summaries[model.ids[item]],
                    reason=self._reason(model, profile, item, args, fits[model.ids[item]]),
                )
                for item in picked
                if model.ids[item] in summaries
            ],
            based_on=based_on if personalized else ["best sellers"],
            personalized=personalized,
        )

    # Profile and filters ------------------------------------------------------------------
    @staticmethod
    def _profile(
        model: RecommenderModel, args: RecommendForCustomerArgs, ctx: ToolContext, env: ToolEnv
    ) -> tuple[Profile, list[str]]:
        def known(ids: list[str]) -> list[int]:
            found = (model.position(pid) for pid in dict.fromkeys(ids))
            return [i for i in found if i is not None]

        in_cart = cart_products(env.db, ctx.session_id) if ctx.session_id else []
        profile = Profile(
            bought=known(customer_purchases(env.db, ctx.customer_id)) if ctx.customer_id else [],
            cart=known([*args.cart_product_ids, *in_cart]),
            viewed=known(args.viewed_product_ids),
            searched=known(args.searched_product_ids),
        )
        if args.interests and env.search is not None:
            hits = env.search.find_products(query=args.interests, k=SEARCH_HITS, in_stock=True)
            profile.searched = known([*[h.product_id for h in hits], *args.searched_product_ids])
        labels = [
            ("bought", "your purchases"),
            ("viewed", "products you viewed"),
            ("searched", "what you asked for" if args.interests else "your search"),
            ("cart", "your cart"),
        ]
        return profile, [label for kind, label in labels if getattr(profile, kind)]

    @staticmethod
    def _mask(model: RecommenderModel, profile: Profile, args: RecommendForCustomerArgs) -> Any:
        mask = excluded(model, profile, extra=profile.viewed)
        if args.category is not None:
            wanted = args.category.lower()
            codes = [i for i, name in enumerate(model.categories) if name.lower() == wanted]
            if not codes:
                raise NotFoundError(
                    f"There is no category {args.category!r}. Categories: {', '.join(model.categories)}",
                    resource="category",
                    id=args.category,
                )
            mask |= ~_isin(model.category_of, codes)
        if args.max_price is not None:
            mask |= model.min_prices > float(args.max_price)
        return mask

    @staticmethod
    def _fits(env: ToolEnv, ids: list[str], args: RecommendForCustomerArgs) -> dict[str, _Fit]:
        """The ranked products with an in-stock variant in the wanted size, colour and budget."""
        fits: dict[str, _Fit] = {}
        if not ids:
            return fits
        if args.size is None and args.color is None:  # no options to read (they are JSON)
            query = select(Variant.product_id).where(Variant.product_id.in_(ids), Variant.stock > 0)
            if args.max_price is not None:
                query = query.where(Variant.price <= args.max_price)
            budget = [f"your {_money(args.max_price, env.shop.currency)} budget"] if args.max_price else []
            return {pid: _Fit(list(budget)) for pid in env.db.scalars(query.distinct())}
        rows = env.db.execute(
            select(Variant.product_id, Variant.options, Variant.price).where(
                Variant.product_id.in_(ids), Variant.stock > 0
            )
        )
        size = args.size.lower() if args.size else None
        color = args.color.lower() if args.color else None
        for product_id, options, price in rows:
            matched = []
            variant_size = _option(options or {}, SIZE_AXES)
            if size is not None and variant_size is not None:
                if variant_size.lower() != size:
                    continue
                matched.append(f"size {args.size}")
            variant_color = _option(options or {}, COLOUR_AXES)
            if color is not None and variant_color is not None:
                if color not in variant_color.lower():
                    continue
                matched.append(variant_color.lower())
            if args.max_price is not None:
                if Decimal(str(price)) > args.max_price:
                    continue
                matched.append(f"your {_money(args.max_price, env.shop.currency)} budget")
            best = fits.get(product_id)
            if best is None or len(matched) > len(best.matched):
                fits[product_id] = _Fit(matched)
        return fits

    @staticmethod
    def _summaries(env: ToolEnv, ids: list[str]) -> dict[str, Any]:
        if not ids:
            return {}
        rows = env.db.scalars(
            select(Product).where(Product.id.in_(ids)).options(selectinload(Product.variants))
        )
        return {p.id: summarize_product(p) for p in rows}

    # Reasons --------------------------------------------------------------------------------
    @staticmethod
    def _reason(
        model: RecommenderModel,
        profile: Profile,
        item: int,
        args: RecommendForCustomerArgs,
        fit: _Fit,
    ) -> str:
        source = closest_source(model, profile, item)
        if item in profile.bought:  # a consumable, bought before
            reason = "You bought this before: time for more?"
        elif source is None:
            buyers = int(model.popularity[item])
            category = model.categories[model.category_of[item]]
            reason = f"Popular: bought by {buyers} customers" if buyers else f"New in {category}"
        else:
            kind, other = source
            title = model.titles[other]
            if kind == "bought":
                reason = f"Because you bought the {title}"
            elif kind == "cart":
                reason = f"Goes with the {title} in your cart"
            elif kind == "viewed":
                if bought_together(model, item, other):
                    reason = f"Popular with customers who bought the {title} you viewed"
                else:
                    reason = f"Like the {title} you viewed"
            elif args.interests:
                reason = f"Matches what you asked for: {args.interests}"
            else:
                reason = f"Like the {title} from your search"
        if fit.matched:
            reason += "; matches " + _join(fit.matched)
        return reason

    @staticmethod
    def _best_sellers(
        args: RecommendForCustomerArgs, *, ctx: ToolContext, env: ToolEnv
    ) -> PersonalRecommendations:
        """No trained model yet: the shop's best sellers (the popular_items ranking)."""
        popular = PopularItems().run(
            PopularItemsArgs(category=args.category, limit=args.limit), ctx=ctx, env=env
        )
        return PersonalRecommendations(
            recommendations=popular.recommendations, based_on=["best sellers"], personalized=False
        )


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _money(amount: Decimal, currency: str) -> str:
    value = to_money(amount)
    shown = f"{value:.0f}" if value == value.to_integral_value() else f"{value}"
    return f"${shown}" if currency == "USD" else f"{shown} {currency}"


def _isin(codes: Any, wanted: list[int]) -> Any:
    return np.isin(codes, np.array(wanted, dtype=codes.dtype))


TOOLS: list[type[Tool[Any, Any]]] = [RecommendForCustomer]
