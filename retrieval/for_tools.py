"""The search index as the commerce tools see it: their ``ShopSearch`` protocol
(``tools/search.py``), keyword arguments in, hits out. The tools never import the index itself;
the composition root (``Services``) hands them this adapter."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from retrieval.filters import SearchFilters
from retrieval.hits import PolicyHit, ProductHit
from retrieval.index import SearchIndex


class ToolSearch:
    def __init__(self, index: SearchIndex) -> None:
        self.index = index

    def find_products(
        self,
        *,
        query: str,
        k: int,
        category: str | None = None,
        brand: str | None = None,
        min_price: Decimal | None = None,
        max_price: Decimal | None = None,
        in_stock: bool = False,
        options: Mapping[str, str] | None = None,
    ) -> list[ProductHit]:
        filters = SearchFilters(
            category=category,
            brand=brand,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
            options=dict(options or {}),
        )
        return self.index.search_products(query, filters, k=k)

    def find_policies(self, *, query: str, k: int) -> list[PolicyHit]:
        return self.index.search_policies(query, k=k)
