"""Questions a customer asks about one variant: "How much is the stainless steel 1.5 liter Tea
Kettle?", "Do you have the Tea Kettle in glass, 2L?".

Questions are made from the store itself, so they work on any catalog: the product as a person
would name it (the title, cut at its first comma or bracket, at most six words), and the options
that tell the product's variants apart (never the ones every variant shares), said as values
alone ("stainless steel 1.5L") or with their option's name ("capacity 1.5L"), in a random order,
with units sometimes spelled out ("1.5 liters"). A seed picks the variants and the wording.

A price answer is right when it states the product's title and the variant's exact price; an
availability answer when it states the title and, for a variant in stock, "in stock" with its
count, for one out of stock that it is not available.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant.reply.formatting import format_money
from store.db import Database
from store.models import Product

KINDS = ("price", "stock")
_CUT = re.compile(r"\s*(?:[,(\[|:;]|\s[-\u2013]\s).*$")
_UNIT = re.compile(r"^(\d+(?:\.\d+)?)\s*(L|ml|in|inch|ft|oz|lb|lbs|W|V|mAh|GB|TB|cm|mm|m|kg|g)$", re.I)
_SPELLED = {
    "l": "liters", "ml": "milliliters", "in": "inch", "inch": "inches", "ft": "feet", "oz": "ounces",
    "lb": "pounds", "lbs": "pounds", "w": "watts", "v": "volts", "mah": "mAh", "gb": "GB", "tb": "TB",
    "cm": "centimeters", "mm": "millimeters", "m": "meters", "kg": "kilograms", "g": "grams",
}  # fmt: skip
_NOT_AVAILABLE = re.compile(
    r"\b(?:not\s+(?:available|in\s+stock)|out\s+of\s+stock|sold\s+out|unavailable|isn'?t\s+available)\b", re.I
)
_PLAIN = {"yes", "no", "true", "false", "none"}


@dataclass(frozen=True)
class VariantQuestion:
    kind: str  # price | stock
    text: str
    product_id: str
    variant_id: str
    title: str
    price: str  # the variant's price as the shop writes money
    stock: int

    def check(self, reply: str) -> str | None:
        """None when ``reply`` answers the question right, else what is wrong."""
        said = " ".join(reply.split())
        if self.title.lower() not in said.lower():
            return f"the product {self.title!r} is not named"
        if self.kind == "price":
            return None if self.price in said else f"the price {self.price} is not stated"
        if self.stock > 0:
            if _NOT_AVAILABLE.search(said.split(".")[0]):
                return f"says not available, but {self.stock} are in stock"
            if not re.search(rf"\b{self.stock}\b[^.]{{0,30}}\bin\s+stock\b", said, re.I):
                return f"does not say {self.stock} in stock"
            return None
        return None if _NOT_AVAILABLE.search(said) else "does not say it is out of stock"


def spoken_name(title: str, others: list[set[str]] | None = None) -> str:
    """A product as a person names it: the title before its first comma, dash or bracket, at
    most six words; longer (up to ten words of the title) while another title of ``others`` (as
    lower-case word sets) has every word said, as a person adds words until the product is told
    apart ("Rubie's Costume Co" names dozens of listings)."""
    cut = (_CUT.sub("", title).strip() or title).split()[:6]
    words = title.split()
    said = list(cut)
    rest = [w for w in words if w not in said]
    while others and rest and len(said) < 10 and _shared(said, others) > 1:
        said.append(rest.pop(0))
    return " ".join(said)


def _word_set(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _shared(said: list[str], others: list[set[str]]) -> int:
    wanted = _word_set(" ".join(said))
    return sum(wanted <= other for other in others)


def _value(option: str, value: str, rng: random.Random) -> tuple[str, bool]:
    """A value as said, and whether it needs its option's name to make sense ("waterproof yes")."""
    unit = _UNIT.match(value.strip())
    if unit and rng.random() < 0.5:
        value = f"{unit.group(1)} {_SPELLED.get(unit.group(2).lower(), unit.group(2))}"
    return value, value.strip().lower() in _PLAIN or value.strip().isdigit()


#: Wordings by kind, for options said with their names ("pairs"), as values ("values"), or none.
_WORDINGS = {
    "price": {
        "pairs": (
            "What's the price of the {name} with {pairs}?",
            "How much does the {name} with {pairs} cost?",
        ),
        "values": (
            "How much is the {values} {name}?",
            "What does the {name} in {listed} cost?",
            "how much for the {name}, {listed}?",
        ),
        "none": ("How much is the {name}?", "What does the {name} cost?", "how much for the {name}?"),
    },
    "stock": {
        "pairs": ("Is the {name} with {pairs} available?", "Do you have the {name} with {pairs} in stock?"),
        "values": (
            "Is the {values} {name} in stock?",
            "Do you have the {name} in {listed}?",
            "any {values} {name} left?",
        ),
        "none": ("Is the {name} in stock?", "Do you have the {name}?", "any {name} left?"),
    },
}


def _phrase(kind: str, name: str, options: list[tuple[str, str]], rng: random.Random) -> str:
    said = [(o, *_value(o, v, rng)) for o, v in options]
    rng.shuffle(said)
    named = rng.random() < 0.4 or any(needs for _, _, needs in said)
    way = "none" if not said else "pairs" if named else "values"
    return rng.choice(_WORDINGS[kind][way]).format(
        name=name,
        pairs=" and ".join(f"{o} {v}" for o, v, _ in said),
        values=" ".join(v for _, v, _ in said),
        listed=", ".join(v for _, v, _ in said),
    )


def make_questions(
    database: Database, *, count: int, seed: int, currency: str = "USD"
) -> list[VariantQuestion]:
    """``count`` questions of each kind about variants picked at random (by ``seed``); the stock
    questions ask about sold-out variants about a third of the time when the shop has any."""
    rng = random.Random(seed)
    with database.session() as session:
        products = list(
            session.scalars(select(Product).options(selectinload(Product.variants)).order_by(Product.id))
        )
        variants = [(p, v) for p in products for v in p.variants]
    if not variants:
        return []
    sold_out = [pair for pair in variants if pair[1].stock <= 0]
    titles = [_word_set(p.title) for p in products]
    questions = []
    for kind in KINDS:
        for _ in range(count):
            pool = sold_out if kind == "stock" and sold_out and rng.random() < 0.34 else variants
            product, variant = rng.choice(pool)
            varying = [
                (str(option), str(value))
                for option, value in (variant.options or {}).items()
                if len({str((v.options or {}).get(option)) for v in product.variants}) > 1
            ]
            questions.append(
                VariantQuestion(
                    kind=kind,
                    text=_phrase(kind, spoken_name(product.title, titles), varying, rng),
                    product_id=product.id,
                    variant_id=variant.id,
                    title=product.title,
                    price=format_money(Decimal(variant.price), currency),
                    stock=int(variant.stock),
                )
            )
    return questions
