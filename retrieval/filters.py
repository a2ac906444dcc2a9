"""The structured filters of a product search (category, brand, price range, stock, options)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.money import Money


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
