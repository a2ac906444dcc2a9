"""Turn fused candidate ids into results with the store's current prices and stock.

The index may be a moment old; the numbers shown never are. Filters are applied again here to
the store's own values, so a product that went out of stock or changed price since it was
indexed is dropped, and a deleted product is never returned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from retrieval.filters import SearchFilters
from retrieval.hits import ProductHit
from store.db import Database
from store.models import Product, Variant
from store.options import collect_option_values

SENTENCE = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"\w+")
SNIPPET_CHARS = 220


@dataclass(frozen=True)
class _Variant:
    price: Decimal
    stock: int
    options: dict[str, str]


def variant_matches(variant: _Variant, filters: SearchFilters) -> bool:
    if filters.in_stock and variant.stock <= 0:
        return False
    if filters.min_price is not None and variant.price < filters.min_price:
        return False
    if filters.max_price is not None and variant.price > filters.max_price:
        return False
    return all(variant.options.get(name) == value for name, value in filters.options.items())


def snippet(description: str, query: str) -> str:
    sentences = [s.strip() for s in SENTENCE.split(" ".join(description.split())) if s.strip()]
    if not sentences:
        return ""
    words = {w for w in WORD.findall(query.lower()) if len(w) > 2}
    best = max(sentences, key=lambda s: len(words & set(WORD.findall(s.lower())))) if words else sentences[0]
    return best if len(best) <= SNIPPET_CHARS else best[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _load(database: Database, ids: list[str]) -> tuple[dict[str, Any], dict[str, list[_Variant]]]:
    """Current product and variant rows, read as plain rows (no ORM objects: this is the hot path)."""
    with database.session() as session:
        products = {
            row.id: row
            for row in session.execute(
                select(
                    Product.id,
                    Product.title,
                    Product.brand,
                    Product.category,
                    Product.description,
                    Product.image_url,
                ).where(Product.id.in_(ids))
            )
        }
        variants: dict[str, list[_Variant]] = {}
        for row in session.execute(
            select(Variant.product_id, Variant.price, Variant.stock, Variant.options).where(
                Variant.product_id.in_(ids)
            )
        ):
            options = {str(k).lower(): str(v).lower() for k, v in (row.options or {}).items()}
            variants.setdefault(row.product_id, []).append(_Variant(row.price, row.stock, options))
    return products, variants


def hydrate_products(
    database: Database,
    ranked: Sequence[tuple[str, float]],
    filters: SearchFilters,
    *,
    k: int,
    sources: dict[str, set[str]],
    query: str,
) -> list[ProductHit]:
    """The best ``k`` candidates, in rank order, that still exist and still match the filters.

    Candidates are read a few at a time until ``k`` survive, so a query reads few rows.
    """
    hits: list[ProductHit] = []
    step = max(2 * k, 20)
    for start in range(0, len(ranked), step):
        chunk = ranked[start : start + step]
        products, variants = _load(database, [pid for pid, _ in chunk])
        for pid, score in chunk:
            product = products.get(pid)
            if product is None:
                continue  # deleted since it was indexed
            if filters.category and product.category.lower() != filters.category.lower():
                continue
            if filters.brand and (product.brand or "").lower() != filters.brand.lower():
                continue
            matching = [v for v in variants.get(pid, []) if variant_matches(v, filters)]
            if not matching:
                continue
            prices = [v.price for v in matching]
            stock = sum(max(v.stock, 0) for v in matching)
            option_values = collect_option_values(v.options for v in variants.get(pid, []))
            hits.append(
                ProductHit(
                    product_id=product.id,
                    title=product.title,
                    brand=product.brand or "",
                    category=product.category,
                    min_price=min(prices),
                    max_price=max(prices),
                    in_stock=stock > 0,
                    stock=stock,
                    score=round(score, 6),
                    snippet=snippet(product.description, query),
                    matched_by=[
                        name
                        for name in ("exact", "bm25", "dense", "store")
                        if pid in sources.get(name, set())
                    ],
                    image_url=product.image_url,
                    option_values=option_values,
                )
            )
        if len(hits) >= k:
            break
    return hits[:k]
