"""The words customers use for this shop's catalog, with how common each is, read from the store.

- product types: each category in its singular and plural form ("yoga mat", "yoga mats"), and
  the last word of product titles shared by several products ("backpack" from "Trailhaus Atlas
  Backpack"), counted by products;
- brands, counted by products, and the product types each brand's products are;
- option values that are words ("black", "large", "stainless steel"), counted by variants;
- the titles (product names customers read off the page: "Merino Running Socks"), counted by
  variants, and every word of them, for joining words the recognizer split ("water proof").

The recognizer's vocabulary prompt (:mod:`speech.vocabulary`) and the correction after
recognition (:mod:`speech.correction`) are both built from it, for whichever catalog is loaded.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import inflect
import sqlalchemy as sa

from speech.phrases import load_phrases
from store.db import Database
from store.models import CatalogChange, Product, Variant

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_MIN_TITLE_HEAD_PRODUCTS = 2
_TITLE_HEAD_SHARE = 0.02  # of all variants
_MIN_OPTION_CHARS = 3  # "S", "XL" are sizes the customer says, but noise in a prompt


@lru_cache(maxsize=1)
def _inflect() -> inflect.engine:
    return inflect.engine()


def plural_only(phrase: str) -> bool:
    """A product word with no singular ("jeans", "sunglasses": ``plural_only`` in
    speech/phrases.yaml), as the last word of ``phrase``."""
    words = phrase.split()
    return bool(words) and words[-1].lower() in load_phrases().plural_only


def singular(phrase: str) -> str:
    """ "yoga mats" -> "yoga mat"; a word that is not a plural, or has no singular ("jeans"),
    stays as it is."""
    words = phrase.split()
    if not words or plural_only(phrase):
        return phrase
    last = _inflect().singular_noun(words[-1])  # type: ignore[arg-type]
    return " ".join([*words[:-1], last]) if isinstance(last, str) and last else phrase


def plural(phrase: str) -> str:
    words = phrase.split()
    if not words or plural_only(phrase):
        return phrase
    return " ".join([*words[:-1], _inflect().plural_noun(words[-1])])  # type: ignore[arg-type]


def _clean(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Lexicon:
    """Catalog terms (as the shop spells them) with their counts."""

    types: Counter[str] = field(default_factory=Counter)
    brands: Counter[str] = field(default_factory=Counter)
    options: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    titles: Counter[str] = field(default_factory=Counter)
    plurals: dict[str, str] = field(default_factory=dict)
    """Product type (singular) -> the plural the shop writes ("jeans", "running shoes"); types
    only ever written in the singular ("skincare") have none."""
    brand_types: dict[str, Counter[str]] = field(default_factory=dict)
    """Brand (as written) -> the product types (singular) of its products, counted by variants."""
    version: int = 0
    """The store's catalog change position when this was read (0: no change feed)."""

    def type_forms(self) -> dict[str, str]:
        """Every spoken form of a product type (lower case, singular and plural) -> its singular."""
        forms: dict[str, str] = {}
        for term in self.types:
            one = singular(term).lower()
            forms.setdefault(one, one)
            forms.setdefault(self.plurals.get(one) or plural(one).lower(), one)
        return forms


def catalog_version(database: Database) -> int:
    """The position of the store's catalog change feed: it moves whenever a product changes."""
    with database.session() as session:
        return int(session.scalar(sa.select(sa.func.max(CatalogChange.seq))) or 0)


def read_lexicon(database: Database) -> Lexicon:
    """The catalog's words, each counted by the variants that carry it (a product type sold in
    twenty variants is said more than one sold in one)."""
    lexicon = Lexicon(version=catalog_version(database))
    heads: Counter[str] = Counter()
    with database.session() as session:
        variants = dict(
            session.execute(sa.select(Variant.product_id, sa.func.count()).group_by(Variant.product_id)).all()
        )
        rows = session.execute(sa.select(Product.id, Product.title, Product.brand, Product.category))
        for product_id, title, brand, category in rows:
            weight = max(1, int(variants.get(product_id, 0)))
            one = ""
            if category:
                written = _clean(category).lower()
                one = singular(written)
                lexicon.types[one] += weight
                if one != written:
                    lexicon.plurals[one] = written
            if brand:
                lexicon.brands[_clean(brand)] += weight
                if one:
                    lexicon.brand_types.setdefault(_clean(brand), Counter())[one] += weight
            if title:
                lexicon.titles[_clean(title)] += weight
            words = _WORD.findall(title or "")
            for word in words:
                lexicon.words[word.lower()] += 1
            if words:
                heads[words[-1].lower()] += weight
        for (options,) in session.execute(sa.select(Variant.options)):
            for value in (options or {}).values():
                text = _clean(str(value))
                if len(text) >= _MIN_OPTION_CHARS and not any(ch.isdigit() for ch in text):
                    lexicon.options[text.lower()] += 1
    total = sum(heads.values())
    in_types = {word for term in lexicon.types for word in term.split()}
    for head, count in heads.items():
        # A title's last word names a product type the categories do not ("Backpack" in a shop
        # whose category is "Bags") when it ends many titles; not a model word ("Edition").
        one = singular(head)
        if (
            len(head) > 2
            and one not in in_types
            and count >= max(_MIN_TITLE_HEAD_PRODUCTS, total * _TITLE_HEAD_SHARE)
        ):
            lexicon.types[one] += count
    return lexicon
