"""Keyword search over the store's own product rows: SQL LIKE on title, brand, category and
description, no index needed.

It answers where the search index cannot: the tools without an index loaded (a bare CLI call
before any index exists) and retrieval's fallback while a broken index is rebuilt. The ranking
is crude on purpose (how many query words a product names, a word in the title counting more);
it keeps search answering, the index is what makes it good.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, or_, select

from core.words import words
from store.models import Product, Variant

STOP_WORDS = frozenset(
    {"a", "an", "the", "for", "with", "and", "or", "of", "in", "to", "me", "i", "some", "any", "show"}
)
MAX_TERMS = 12


def search_terms(text: str) -> list[str]:
    """The query's words worth matching (stop words dropped), at most ``MAX_TERMS``."""
    return [t for t in words(text, keep="'-") if t not in STOP_WORDS][:MAX_TERMS]


def in_stock(query: Select[Any]) -> Select[Any]:
    """Only products with a variant in stock."""
    return query.where(Product.id.in_(select(Variant.product_id).where(Variant.stock > 0)))


def keyword_products(
    terms: list[str],
    *,
    category: str | None = None,
    brand: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock_only: bool = False,
) -> Select[Any]:
    """Products naming any of ``terms`` that pass the filters, best first (by title without
    terms). Option filters are left to the caller: option values live in a JSON column."""
    query = select(Product)
    score: Any = 0
    if terms:
        hits = []
        for term in terms:
            pattern = f"%{term}%"
            field_hit = or_(
                func.lower(Product.title).like(pattern),
                func.lower(Product.brand).like(pattern),
                func.lower(Product.category).like(pattern),
                func.lower(Product.description).like(pattern),
                Product.id == term,
            )
            hits.append(field_hit)
            title_hit = func.lower(Product.title).like(pattern)
            score = score + case((field_hit, 1), else_=0) + case((title_hit, 2), else_=0)
        query = query.where(or_(*hits))
    if category:
        query = query.where(func.lower(Product.category) == category.lower())
    if brand:
        query = query.where(func.lower(Product.brand) == brand.lower())
    if min_price is not None or max_price is not None:
        priced = select(Variant.product_id)
        if min_price is not None:
            priced = priced.where(Variant.price >= min_price)
        if max_price is not None:
            priced = priced.where(Variant.price <= max_price)
        query = query.where(Product.id.in_(priced))
    if in_stock_only:
        query = in_stock(query)
    return query.order_by((score * -1) if terms else Product.title, Product.id)
