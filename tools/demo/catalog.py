"""The demo catalog: products with real-sounding titles, descriptions and priced, stocked variants.

Rows are plain dicts for bulk inserts; :class:`DemoProduct` handles keep what the order
generator needs (ids, titles, options, prices, stock) without touching the database again.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.money import to_money
from tools.demo.data import LOWER_SUFFIX, CatalogData, CategorySpec, slot_base, template_fields

# Price endings of one product, with their weights: most prices end in .99.
PRICE_ENDINGS = (("0.99", 55), ("0.49", 15), ("0.00", 20), ("0.95", 10))
VARIANT_COUNT_WEIGHTS = (12, 14, 14, 14, 12, 12, 11, 11)  # 1..8 variants
SOLD_OUT_PRODUCT_RATE = 0.02  # every variant out of stock
SOLD_OUT_VARIANT_RATE = 0.065  # with the sold-out products, about 8% of variants
MAX_STOCK = 60
NEW_ARRIVAL_RATE = 0.05
SUFFIX_LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"
TITLE_ATTEMPTS = 8  # then a taken title gets a model code, e.g. "... Water Bottle N884"


@dataclass(frozen=True, slots=True)
class DemoVariant:
    id: str
    options: dict[str, str]
    price: Decimal
    stock: int


@dataclass(frozen=True, slots=True)
class DemoProduct:
    id: str
    title: str
    category: str
    created_at: datetime
    variants: tuple[DemoVariant, ...]
    in_stock: tuple[DemoVariant, ...] = field(default=())
    brand: str = ""

    def exchange_target(self, variant: DemoVariant) -> DemoVariant | None:
        """Another variant of this product at the same price, if there is one."""
        for other in self.variants:
            if other.id != variant.id and other.price == variant.price:
                return other
        return None


@dataclass
class CatalogChunk:
    products: list[DemoProduct]
    product_rows: list[dict[str, Any]]
    variant_rows: list[dict[str, Any]]


def unique_number(rng: random.Random, seen: set[int], digits: int) -> int:
    """A random number of exactly ``digits`` digits that is not in ``seen`` (and now is)."""
    low, span = 10 ** (digits - 1), 9 * 10 ** (digits - 1)
    while True:
        number = low + int(rng.random() * span)  # random() has 53 bits: plenty, and fast
        if number not in seen:
            seen.add(number)
            return number


@dataclass(frozen=True, slots=True)
class _Template:
    """A template and the slots it needs: (word list, how many distinct values)."""

    text: str
    slots: tuple[tuple[str, int], ...]

    @classmethod
    def parse(cls, text: str) -> _Template:
        needed: dict[str, int] = {}
        for name in template_fields(text):
            base, index = slot_base(name)
            needed[base] = max(needed.get(base, 0), index)
        return cls(text, tuple(needed.items()))


@dataclass(frozen=True, slots=True)
class _Axis:
    name: str
    values: tuple[str, ...]
    uplifts: tuple[float, ...]
    stride: int


class _Category:
    """A category's vocabulary, pre-parsed for fast generation."""

    def __init__(self, spec: CategorySpec) -> None:
        self.spec = spec
        self.titles = [_Template.parse(t) for t in spec.title_templates]
        self.sentences = [_Template.parse(t) for t in spec.sentences]
        self.pools: dict[str, list[str]] = {**spec.words, "brand": spec.brands}
        axes = []
        stride = 1
        for name, values in reversed(spec.options.items()):
            uplift = spec.price_uplift.get(name, {})
            axes.append(_Axis(name, tuple(values), tuple(float(uplift.get(v, 0)) for v in values), stride))
            stride *= len(values)
        self.axes = tuple(reversed(axes))
        self.space = stride
        self.price_low = float(spec.price[0])
        self.price_span = float(spec.price[1] - spec.price[0])


def distinct_indices(rng: random.Random, n: int, k: int) -> list[int]:
    """``k`` distinct random indices below ``n`` (``random.sample`` is slow for tiny draws)."""
    if k * 2 > n:
        return rng.sample(range(n), k)
    picked: list[int] = []
    while len(picked) < k:
        index = int(rng.random() * n)
        if index not in picked:
            picked.append(index)
    return picked


class CatalogGenerator:
    """Builds ``count`` products in chunks; the same rng state yields the same catalog."""

    def __init__(self, rng: random.Random, data: CatalogData, base: datetime) -> None:
        self._rng = rng
        self._data = data
        self._base = base
        self._categories = [_Category(spec) for spec in data.categories]
        self._cum_weights = list(itertools.accumulate(c.weight for c in data.categories))
        self._common = [_Template.parse(t) for t in data.common_sentences]
        self._variant_counts = range(1, len(VARIANT_COUNT_WEIGHTS) + 1)
        self._variant_cum_weights = list(itertools.accumulate(VARIANT_COUNT_WEIGHTS))
        self._ending_values = [Decimal(e) for e, _ in PRICE_ENDINGS]
        self._ending_cum_weights = list(itertools.accumulate(w for _, w in PRICE_ENDINGS))
        self._prices: dict[tuple[int, Decimal], Decimal] = {}
        self._ids: set[int] = set()
        self._titles: set[str] = set()

    def chunks(self, count: int, chunk_size: int) -> Iterator[CatalogChunk]:
        for start in range(0, count, chunk_size):
            chunk = CatalogChunk([], [], [])
            for number in range(start, min(start + chunk_size, count)):
                self._product(number, chunk)
            yield chunk

    # One product --------------------------------------------------------------------------
    def _product(self, number: int, chunk: CatalogChunk) -> None:
        rng = self._rng
        # The first products visit every category once, so even a small catalog has them all.
        if number < len(self._categories):
            category = self._categories[number]
        else:
            category = rng.choices(self._categories, cum_weights=self._cum_weights)[0]
        title, words = self._title(category)
        description = self._description(category, words)
        product_id = str(unique_number(rng, self._ids, 10))
        days = rng.randint(1, 90) if rng.random() < NEW_ARRIVAL_RATE else rng.randint(365, 1460)
        created_at = self._base - timedelta(days=days, seconds=rng.randrange(86400))
        variants = self._variants(category, number, product_id, created_at, chunk)
        chunk.products.append(
            DemoProduct(
                id=product_id,
                title=title,
                category=category.spec.name,
                created_at=created_at,
                variants=variants,
                in_stock=tuple(v for v in variants if v.stock > 0),
                brand=words["brand"],
            )
        )
        tags = list(category.spec.tags)
        if "adj" in words:
            tags.append(words["adj_lower"])
        chunk.product_rows.append(
            {
                "id": product_id,
                "title": title,
                "description": description,
                "category": category.spec.name,
                "brand": words["brand"],
                "image_url": None,
                "tags": tags,
                "source": "demo",
                "created_at": created_at,
                "updated_at": created_at,
            }
        )

    def _title(self, category: _Category) -> tuple[str, dict[str, str]]:
        rng = self._rng
        words: dict[str, str] = {}
        template = category.titles[0]
        title = ""
        for _attempt in range(TITLE_ATTEMPTS):
            template = category.titles[int(rng.random() * len(category.titles))]
            words = {}
            self._fill(words, template, category.pools)
            title = template.text.format_map(words)
            if title not in self._titles:
                break
        while title in self._titles:  # a big catalog runs out of combinations: add a model code
            title = f"{template.text.format_map(words)} {rng.choice(SUFFIX_LETTERS)}{rng.randint(10, 999)}"
        self._titles.add(title)
        return title, words

    def _fill(self, words: dict[str, str], template: _Template, pools: dict[str, list[str]]) -> None:
        """Draw the template's slots not drawn yet; ``x2`` is a different value than ``x``."""
        rng = self._rng
        for base, count in template.slots:
            if count == 1:
                if base not in words:
                    pool = pools[base]
                    value = pool[int(rng.random() * len(pool))]
                    words[base] = value
                    words[base + LOWER_SUFFIX] = value.lower()
                continue
            keys = [base if i == 1 else f"{base}{i}" for i in range(1, count + 1)]
            have = [words[key] for key in keys if key in words]
            missing = keys[len(have) :]
            if not missing:
                continue
            pool = [value for value in pools[base] if value not in have]
            for key, value in zip(missing, rng.sample(pool, len(missing)), strict=True):
                words[key] = value
                words[key + LOWER_SUFFIX] = value.lower()

    def _description(self, category: _Category, words: dict[str, str]) -> str:
        rng = self._rng
        total = rng.randint(2, 4)
        common = 1 if total == 4 or (total == 3 and rng.random() < 0.5) else 0
        own = min(total - common, len(category.sentences))
        # The first sentence introduces the product; the others keep their YAML order.
        picked = [0, *sorted(1 + i for i in distinct_indices(rng, len(category.sentences) - 1, own - 1))]
        sentences = [category.sentences[i] for i in picked]
        for sentence in sentences:
            self._fill(words, sentence, category.pools)
        if common:
            sentence = self._common[int(rng.random() * len(self._common))]
            self._fill(words, sentence, self._data.common_words)
            sentences.append(sentence)
        return " ".join(s.text.format_map(words) for s in sentences)

    def _variants(
        self,
        category: _Category,
        number: int,
        product_id: str,
        created_at: datetime,
        chunk: CatalogChunk,
    ) -> tuple[DemoVariant, ...]:
        rng = self._rng
        wanted = rng.choices(self._variant_counts, cum_weights=self._variant_cum_weights)[0]
        # Random cells of the option grid, decoded from their index, in grid order.
        cells = sorted(distinct_indices(rng, category.space, min(wanted, category.space)))
        base_price = category.price_low + category.price_span * rng.random() ** 1.6
        ending = rng.choices(self._ending_values, cum_weights=self._ending_cum_weights)[0]
        sold_out = rng.random() < SOLD_OUT_PRODUCT_RATE
        code = category.spec.code
        variants = []
        for position, cell in enumerate(cells, start=1):
            options: dict[str, str] = {}
            uplift = 1.0
            for axis in category.axes:
                index = (cell // axis.stride) % len(axis.values)
                options[axis.name] = axis.values[index]
                uplift += axis.uplifts[index]
            stock = (
                0 if sold_out or rng.random() < SOLD_OUT_VARIANT_RATE else 1 + int(rng.random() * MAX_STOCK)
            )
            price = self._charm_price(base_price * uplift, ending)
            variant = DemoVariant(str(unique_number(rng, self._ids, 10)), options, price, stock)
            variants.append(variant)
            chunk.variant_rows.append(
                {
                    "id": variant.id,
                    "product_id": product_id,
                    "sku": f"{code}-{number + 1:06d}-{position}",
                    "options": options,
                    "price": price,
                    "stock": stock,
                    "updated_at": created_at,
                }
            )
        return tuple(variants)

    def _charm_price(self, amount: float, ending: Decimal) -> Decimal:
        key = (round(amount), ending)
        price = self._prices.get(key)
        if price is None:
            price = self._prices[key] = charm_price(amount, ending)
        return price


def charm_price(amount: float, ending: Decimal) -> Decimal:
    """Whole dollars plus a shop-style ending: 57.3 with .99 -> 56.99, with .00 -> 57.00."""
    dollars = max(1, round(amount))
    if ending and dollars > 1:
        dollars -= 1
    return to_money(Decimal(dollars) + ending)
