"""What the index stores for a product: one text to embed and match, and filterable metadata.

Variants are summarized (option values, price range, availability) so one document stands for
the whole product. Metadata values are plain str/float/bool so Chroma and SQLite can filter on
them; option values become flags ``opt:<name>=<value>``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from store.models import Product

DESCRIPTION_CHARS = 600


@dataclass(frozen=True)
class ProductDocument:
    product_id: str
    text: str
    title: str
    brand: str
    category: str
    min_price: float
    max_price: float
    in_stock: bool
    option_flags: tuple[str, ...]
    codes: tuple[str, ...]  # product id, variant ids and SKUs: exact lookups win

    @property
    def text_hash(self) -> str:
        return hashlib.sha1(self.text.encode()).hexdigest()

    @property
    def meta_hash(self) -> str:
        """Everything indexed besides the text: filter metadata and exact-match codes."""
        payload = {**self.metadata(), "\0codes": list(self.codes)}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "category": self.category.lower(),
            "brand": self.brand.lower(),
            "min_price": self.min_price,
            "max_price": self.max_price,
            "in_stock": self.in_stock,
        }
        meta.update({flag: True for flag in self.option_flags})
        return meta


def option_flag(name: str, value: str) -> str:
    return f"opt:{name.strip().lower()}={value.strip().lower()}"


def product_document(product: Product) -> ProductDocument:
    values: dict[str, list[str]] = {}
    for variant in product.variants:
        for key, value in (variant.options or {}).items():
            seen = values.setdefault(str(key).lower(), [])
            if str(value) not in seen:
                seen.append(str(value))
    prices = [v.price for v in product.variants] or [Decimal("0")]
    in_stock = any(v.stock > 0 for v in product.variants)
    lines = [product.title]
    if product.brand:
        lines.append(f"Brand: {product.brand}")
    lines.append(f"Category: {product.category}")
    for key, options in values.items():
        lines.append(f"{key.capitalize()}: {', '.join(options)}")
    description = " ".join(product.description.split())
    if description:
        lines.append(description[:DESCRIPTION_CHARS])
    flags = tuple(sorted(option_flag(k, v) for k, vs in values.items() for v in vs))
    codes = {product.id, *(v.id for v in product.variants), *(v.sku for v in product.variants if v.sku)}
    return ProductDocument(
        product_id=product.id,
        text="\n".join(lines),
        title=product.title,
        brand=product.brand or "",
        category=product.category,
        min_price=float(min(prices)),
        max_price=float(max(prices)),
        in_stock=in_stock,
        option_flags=flags,
        codes=tuple(sorted(c.lower() for c in codes)),
    )
