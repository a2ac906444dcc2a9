"""What a customer is shown: product cards, quick-reply buttons, policy citations.

A conversation records them in its log (``bot_reply`` events and the ``last_products`` slot) so
"the second one" can be resolved later; channels render them. JSON round-trippable.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from core.money import Money


class _Shape(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReplySource(enum.StrEnum):
    TEMPLATE = "template"
    LLM = "llm"


class ShownProduct(_Shape):
    """A product as the customer saw it, so "the second one" or "the blue one" can be resolved."""

    product_id: str = Field(min_length=1, max_length=120)
    title: str = Field(max_length=500)
    price: Money | None = Field(default=None, description="The price shown (the lowest, for a range).")
    max_price: Money | None = Field(default=None, description="Top of the price range, if one was shown.")
    variant_id: str | None = Field(default=None, description="The variant shown, if a single one was.")
    options: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Option values on offer, e.g. {'color': ('blue', 'red')}."
    )
    brand: str = ""
    in_stock: bool | None = Field(default=None, description="Availability shown (None: not recorded).")
    image_url: str | None = None

    def card(self) -> ProductCard | None:
        """The card as it was shown (None when no price was shown, so there was no card)."""
        if self.price is None:
            return None
        return ProductCard(
            product_id=self.product_id,
            title=self.title,
            brand=self.brand,
            price=self.price,
            max_price=self.max_price,
            in_stock=self.in_stock is not False,
            image_url=self.image_url,
            variant_id=self.variant_id,
        )


class QuickReply(_Shape):
    """A button under a reply; tapping it sends ``payload`` (or the label)."""

    label: str = Field(min_length=1, max_length=64)
    payload: str | None = Field(default=None, max_length=500)

    @property
    def value(self) -> str:
        return self.payload if self.payload is not None else self.label


class Citation(_Shape):
    """Where a stated policy comes from (a passage of the shop's pages)."""

    source: str = Field(description="Page file name.")
    page: str = Field(description="Page title.")
    section: str = ""
    chunk_id: str | None = None


class ProductCard(_Shape):
    """A product as a channel shows it: title, price (range), availability, picture."""

    product_id: str
    title: str
    brand: str = ""
    price: Money
    max_price: Money | None = None
    in_stock: bool = True
    image_url: str | None = None
    variant_id: str | None = Field(default=None, description="Set when one exact variant is meant.")

    def shown(self, options: dict[str, tuple[str, ...]] | None = None) -> ShownProduct:
        return ShownProduct(
            product_id=self.product_id,
            title=self.title,
            price=self.price,
            max_price=self.max_price,
            variant_id=self.variant_id,
            options=options or {},
            brand=self.brand,
            in_stock=self.in_stock,
            image_url=self.image_url,
        )
