"""Vocabulary biasing: the catalog's brands, categories and product titles as the recognizer's
prompt, so "Hydrapeak" or "Trailblazer" come out spelled as the shop spells them."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from store.db import Database
from store.models import Product

log = logging.getLogger(__name__)
_CHARS_PER_TOKEN = 4  # a fair estimate for English product names with Whisper's BPE


def catalog_prompt(database: Database, *, max_tokens: int) -> str | None:
    """Brands first (few, and the hardest words), then categories, then titles, within a budget."""
    if max_tokens <= 0:
        return None
    with database.session() as session:
        rows = session.execute(sa.select(Product.title, Product.brand, Product.category).order_by(Product.id))
        titles, brands, categories = [], [], []
        for title, brand, category in rows:
            titles.append(title)
            if brand:
                brands.append(brand)
            if category:
                categories.append(category)
    return vocabulary_prompt([*brands, *categories, *titles], max_chars=max_tokens * _CHARS_PER_TOKEN)


def vocabulary_prompt(terms: list[str], *, max_chars: int) -> str | None:
    seen: set[str] = set()
    picked: list[str] = []
    used = 0
    for term in terms:
        clean = " ".join(term.split())
        key = clean.lower()
        if not clean or key in seen:
            continue
        if used + len(clean) + 2 > max_chars:
            continue
        seen.add(key)
        picked.append(clean)
        used += len(clean) + 2
    if not picked:
        return None
    prompt = ", ".join(picked) + "."
    log.info("speech vocabulary: %d terms, %d characters", len(picked), len(prompt))
    return prompt
