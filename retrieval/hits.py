"""What a search returns: product hits (prices and stock read at query time) and policy passages."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.facts import Id, Name, Price
from retrieval.filters import SearchFilters


class ProductHit(BaseModel):
    """A product found by search; price and stock are read from the store at query time."""

    product_id: Id
    title: Name
    brand: str
    category: str
    min_price: Price = Field(description="Lowest price among the variants that match the filters.")
    max_price: Price = Field(description="Highest price among the variants that match the filters.")
    in_stock: bool
    stock: int = Field(description="Units in stock over the matching variants.")
    score: float = Field(description="Fused relevance score (higher is better).")
    snippet: str
    matched_by: list[str] = Field(
        description="Which retrievers found it: exact, bm25, dense; store while the index is rebuilt."
    )
    image_url: str | None = None
    option_values: dict[str, list[str]] = Field(
        default_factory=dict, description="Every option of the product and its values (all variants)."
    )


class PolicyHit(BaseModel):
    """A passage of the shop's policy/FAQ pages, with where it comes from so replies can cite it."""

    chunk_id: str
    page: str = Field(description="Page title, e.g. 'Returns'.")
    source: str = Field(description="Page file name.")
    section: str = Field(description="Heading path inside the page.")
    text: str
    score: float


class SearchResponse(BaseModel):
    """What `GET /api/v1/catalog/search` and `shopassist search --json` both return."""

    query: str
    k: int
    filters: SearchFilters
    results: list[ProductHit]
