"""What the tools need of a search index: products for a described query under filters, and
policy passages for a question. The hybrid index in ``retrieval/`` implements it; tools never
import the concrete index, and without one they fall back to SQL (or refuse, for policies)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol


class ProductFacts(Protocol):
    """What any product result states: id, title, brand, price range, stock, picture."""

    @property
    def product_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def min_price(self) -> Decimal: ...
    @property
    def max_price(self) -> Decimal: ...
    @property
    def in_stock(self) -> bool: ...
    @property
    def image_url(self) -> str | None: ...


class ProductMatch(ProductFacts, Protocol):
    """One product found (price and stock as the store holds them now)."""

    @property
    def category(self) -> str: ...
    @property
    def option_values(self) -> Mapping[str, Sequence[str]]: ...
    @property
    def snippet(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def matched_by(self) -> Sequence[str]: ...


class PolicyMatch(Protocol):
    """One passage of the shop's policy and FAQ pages, with where it comes from."""

    @property
    def page(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def section(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...


class ShopSearch(Protocol):
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
    ) -> Sequence[ProductMatch]:
        """The best ``k`` products for ``query`` whose variants pass the filters."""
        ...

    def find_policies(self, *, query: str, k: int) -> Sequence[PolicyMatch]:
        """The best ``k`` policy passages for ``query``."""
        ...
