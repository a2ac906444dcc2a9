"""Wire shapes of search: filters in, product and policy hits out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.types import Id, Money, Name, Price


class SearchFilters(BaseModel):
    """Structured filters, parsed by the caller and applied inside the query."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str | None = Field(default=None, max_length=120, description="Only this category.")
    brand: str | None = Field(default=None, max_length=120, description="Only this brand.")
    min_price: Money | None = Field(default=None, ge=0, description="A variant costs at least this.")
    max_price: Money | None = Field(default=None, ge=0, description="A variant costs at most this.")
    in_stock: bool = Field(default=False, description="Only products with a matching variant in stock.")
    options: dict[str, str] = Field(
        default_factory=dict, description="Option values a variant must have, e.g. {'color': 'red'}."
    )

    @field_validator("options")
    @classmethod
    def _lower(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): v.strip().lower() for k, v in value.items() if k.strip() and v.strip()}

    def is_empty(self) -> bool:
        return self == SearchFilters()


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
    matched_by: list[str] = Field(description="Which retrievers found it: exact, bm25, dense.")
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
