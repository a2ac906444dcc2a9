"""Demo customers' latent tastes, so personalized recommendations have a real signal to find.

Each customer gets (lazily, at their first order) a few favourite categories with weights, a
favourite brand in each, a budget (a quantile of each category's price range), a size per
category and two favourite colours. Most of their order lines are then drawn from those tastes;
the rest stay as before (popular products, bundles, anything). Consumables (socks, skincare)
are bought again now and then. All of this is synthetic: the evaluation says so.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime

from tools.demo.catalog import DemoProduct, DemoVariant

PERSONAL_RATE = 0.85  # share of lines drawn from the customer's tastes
PERSONAS = 12  # groups of customers who share tastes (and so each other's finds)
FAVOURITE_CATEGORIES = (2, 3)
BRAND_BOOST = 3.0  # a persona's favourite brand ranks this much higher in its picks
BUDGET_SPREAD = 0.25  # of the price quantile: products further from the budget rank lower
APPEAL_DEPTH = 30  # products per category a persona ever picks from, best first
APPEAL_EXPONENT = 1.2  # the n-th of them is picked with weight 1/n**this (a few hits, a tail)
OPTION_LOYALTY = 0.85  # share of lines in the customer's size and colour, when there is one
REORDER_RATE = 0.35  # share of taste lines that re-buy a consumable bought before
CONSUMABLE_CATEGORIES = frozenset({"Running Socks", "Skincare"})
SIZE_AXES = ("size",)
COLOUR_AXES = ("color", "colour")


@dataclass
class Persona:
    categories: list[str]
    cum_weights: list[float]
    brands: dict[str, str]
    budget: float  # quantile of each category's price range
    picks: dict[str, tuple[list[DemoProduct], list[float]]] = field(default_factory=dict)


@dataclass
class Taste:
    persona: Persona
    sizes: dict[str, str]
    colours: tuple[str, ...]
    consumables: list[DemoProduct] = field(default_factory=list)
    owned: set[str] = field(default_factory=set)  # products bought: not bought again (but consumables)


class Tastes:
    def __init__(self, rng: random.Random, products: list[DemoProduct]) -> None:
        self._rng = rng
        self._by_category: dict[str, list[DemoProduct]] = {}
        for product in products:
            self._by_category.setdefault(product.category, []).append(product)
        self._categories = sorted(self._by_category)
        self._brands = {name: sorted({p.brand for p in group}) for name, group in self._by_category.items()}
        self._quantile: dict[str, float] = {}
        for group in self._by_category.values():
            ranked = sorted(group, key=lambda p: (_price(p), p.id))
            for position, product in enumerate(ranked):
                self._quantile[product.id] = position / max(len(ranked) - 1, 1)
        self._sizes: dict[str, list[str]] = {}
        colours: set[str] = set()
        for product in products:
            for variant in product.variants:
                for axis, value in variant.options.items():
                    if axis in SIZE_AXES:
                        sizes = self._sizes.setdefault(product.category, [])
                        if value not in sizes:
                            sizes.append(value)
                    elif axis in COLOUR_AXES:
                        colours.add(value)
        self._colours = sorted(colours)
        self._personas = [self._persona() for _ in range(PERSONAS)] if products else []
        self._tastes: dict[str, Taste] = {}

    def _persona(self) -> Persona:
        rng = self._rng
        count = min(rng.randint(*FAVOURITE_CATEGORIES), len(self._categories))
        categories = rng.sample(self._categories, count)
        weights = sorted((rng.random() + 0.2 for _ in categories), reverse=True)
        return Persona(
            categories=categories,
            cum_weights=list(itertools.accumulate(weights)),
            brands={c: rng.choice(self._brands[c]) for c in categories},
            budget=rng.random(),
        )

    def _picks(self, persona: Persona, category: str) -> tuple[list[DemoProduct], list[float]]:
        """The persona's favourites in a category: its brand and budget first, then by chance."""
        found = persona.picks.get(category)
        if found is None:
            rng = self._rng
            brand = persona.brands[category]

            def appeal(product: DemoProduct) -> float:
                boost = BRAND_BOOST if product.brand == brand else 1.0
                distance = abs(self._quantile[product.id] - persona.budget) / BUDGET_SPREAD
                return rng.random() * boost / (1.0 + distance * distance)

            group = self._by_category[category]
            ranked = sorted(group, key=lambda p: (-appeal(p), p.id))[:APPEAL_DEPTH]
            weights = (1 / rank**APPEAL_EXPONENT for rank in range(1, len(ranked) + 1))
            found = persona.picks[category] = (ranked, list(itertools.accumulate(weights)))
        return found

    def taste(self, customer_id: str) -> Taste:
        found = self._tastes.get(customer_id)
        if found is None:
            rng = self._rng
            persona = rng.choice(self._personas)
            found = self._tastes[customer_id] = Taste(
                persona=persona,
                sizes={c: rng.choice(self._sizes[c]) for c in persona.categories if self._sizes.get(c)},
                colours=tuple(rng.sample(self._colours, min(2, len(self._colours)))),
            )
        return found

    def pick(self, customer_id: str, created: datetime) -> DemoProduct | None:
        """A product to the customer's taste that existed at ``created``; None for an ordinary line."""
        rng = self._rng
        if not self._personas or rng.random() >= PERSONAL_RATE:
            return None
        taste = self.taste(customer_id)
        if taste.consumables and rng.random() < REORDER_RATE:
            return rng.choice(taste.consumables)
        persona = taste.persona
        category = rng.choices(persona.categories, cum_weights=persona.cum_weights)[0]
        pool, cum_weights = self._picks(persona, category)
        for product in rng.choices(pool, cum_weights=cum_weights, k=6):
            if product.created_at <= created and product.id not in taste.owned:
                return product
        return None

    def variant(self, customer_id: str, product: DemoProduct, pool: tuple[DemoVariant, ...]) -> DemoVariant:
        """A variant in the customer's size and colour when the product has one (usually)."""
        rng = self._rng
        taste = self.taste(customer_id)
        if rng.random() < OPTION_LOYALTY:
            size = taste.sizes.get(product.category)
            fitting = [v for v in pool if _fits(v, size, taste.colours)]
            if not fitting and size is not None:
                fitting = [v for v in pool if _fits(v, size, ())]
            if fitting:
                return rng.choice(fitting)
        return rng.choice(pool)

    def bought(self, customer_id: str, products: list[DemoProduct]) -> None:
        taste = self.taste(customer_id)
        for product in products:
            taste.owned.add(product.id)
            if product.category in CONSUMABLE_CATEGORIES and product not in taste.consumables:
                taste.consumables.append(product)


def _price(product: DemoProduct) -> float:
    return float(min(v.price for v in product.variants))


def _fits(variant: DemoVariant, size: str | None, colours: tuple[str, ...]) -> bool:
    for axis, value in variant.options.items():
        if axis in SIZE_AXES and size is not None and value != size:
            return False
        if axis in COLOUR_AXES and colours and value not in colours:
            return False
    return True
