"""The labelled query set: YAML queries whose graded judgments are rules over store attributes.

A query's ``relevant`` rules are matched against every product of the store; a product's grade
is the highest grade among the rules it matches (0 when none does). Grades: 3 exactly what was
asked, 2 a good answer (e.g. the right kind of product missing one minor attribute), 1 related
(partial credit in nDCG only), 0 not relevant.

Rule fields (all optional except ``grade``; a rule matches when every field given holds):

- ``category``, ``brand``: the product's category/brand is one of these (case-insensitive);
- ``title_contains``: the title contains any of these words or phrases (whole words);
- ``text_contains``: the title or description contains any of these;
- ``title_excludes``: the title contains none of these;
- ``option``: ``{name: value or [values]}``; ``min_price``/``max_price``; ``in_stock``: one
  variant must satisfy all of these together (as :class:`~retrieval.types.SearchFilters` do).

Id lookups say ``id_lookup: product|variant|sku`` and ``pick: N`` instead of rules: the Nth
(modulo the count) of the store's sorted product ids, variant ids or SKUs becomes the query
(``query`` is a template with ``{code}``, default just the code) and its product is the one
relevant result, grade 3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.errors import ShopassistError
from retrieval.filters import SearchFilters
from store.db import Database
from store.models import Product, Variant

DEFAULT_QUERIES = Path(__file__).with_name("queries.yaml")
QUERY_TYPES: tuple[str, ...] = ("typo", "synonym", "attribute", "brand", "id", "natural")
QueryType = Literal["typo", "synonym", "attribute", "brand", "id", "natural"]
IdKind = Literal["product", "variant", "sku"]
MAX_GRADE = 3


class QuerySetError(ShopassistError):
    """The query file is malformed, or a query cannot be resolved against the store."""

    code = "invalid_query_set"


def _as_words(value: Any) -> Any:
    """One word or a list of them; YAML numbers (``size: 9``) are taken as their text."""
    values = [value] if isinstance(value, str | int | float) else value
    if not isinstance(values, list):
        return values
    return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in values]


Words = Annotated[list[str], BeforeValidator(_as_words), Field(min_length=1)]


class Rule(BaseModel):
    """One graded judgment rule; see the module docstring for the fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grade: int = Field(ge=0, le=MAX_GRADE)
    category: Words | None = None
    brand: Words | None = None
    title_contains: Words | None = None
    text_contains: Words | None = None
    title_excludes: Words | None = None
    option: dict[str, Words] = Field(default_factory=dict)
    min_price: Decimal | None = Field(default=None, ge=0)
    max_price: Decimal | None = Field(default=None, ge=0)
    in_stock: bool | None = None

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern[str] | None]:
        return {
            name: _words_pattern(getattr(self, name))
            for name in ("title_contains", "text_contains", "title_excludes")
        }

    @cached_property
    def _options(self) -> dict[str, set[str]]:
        return {k.strip().lower(): {str(v).strip().lower() for v in vs} for k, vs in self.option.items()}

    def matches(self, product: CatalogProduct) -> bool:
        if self.category and product.category.lower() not in {c.lower() for c in self.category}:
            return False
        if self.brand and product.brand.lower() not in {b.lower() for b in self.brand}:
            return False
        patterns = self._patterns
        title, text = product.title.lower(), product.text
        if (pattern := patterns["title_contains"]) and not pattern.search(title):
            return False
        if (pattern := patterns["text_contains"]) and not pattern.search(text):
            return False
        if (pattern := patterns["title_excludes"]) and pattern.search(title):
            return False
        if self._options or self.min_price is not None or self.max_price is not None or self.in_stock:
            return any(self._variant_matches(v) for v in product.variants)
        return True

    def _variant_matches(self, variant: CatalogVariant) -> bool:
        if self.in_stock and variant.stock <= 0:
            return False
        if self.min_price is not None and variant.price < self.min_price:
            return False
        if self.max_price is not None and variant.price > self.max_price:
            return False
        return all(variant.options.get(name) in values for name, values in self._options.items())


def _words_pattern(words: list[str] | None) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(" ".join(w.lower().split())) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


class QuerySpec(BaseModel):
    """One query of the YAML file, validated (not yet resolved against a store)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=80)
    type: QueryType
    query: str | None = Field(default=None, min_length=1, max_length=300)
    filters: SearchFilters | None = None
    relevant: list[Rule] = Field(default_factory=list)
    id_lookup: IdKind | None = None
    pick: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> QuerySpec:
        if self.id_lookup is not None:
            if self.type != "id":
                raise ValueError("a query with id_lookup must have type: id")
            if self.pick is None:
                raise ValueError("id_lookup needs pick: N (an index into the sorted ids)")
            if self.relevant:
                raise ValueError("an id lookup's relevant product is the one picked; leave out relevant")
            if self.query is not None and "{code}" not in self.query:
                raise ValueError("an id lookup's query must contain {code}")
            return self
        if self.type == "id":
            raise ValueError("type: id needs id_lookup: product|variant|sku and pick: N")
        if self.pick is not None:
            raise ValueError("pick is only for id lookups")
        if not self.query:
            raise ValueError("query is required")
        if not any(rule.grade > 0 for rule in self.relevant):
            raise ValueError("relevant needs at least one rule with grade > 0")
        return self


def _describe_errors(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown key {where!r}")
        else:
            problems.append(f"{where or '(query)'}: {error['msg'].removeprefix('Value error, ')}")
    return problems


def parse_queries(data: Any, *, source: str = "queries") -> list[QuerySpec]:
    """Validate the YAML document (``{queries: [...]}``); every problem is named by its query."""
    if not isinstance(data, dict) or not isinstance(data.get("queries"), list):
        raise QuerySetError(f"{source}: expected a mapping with a 'queries' list")
    unknown = sorted(set(data) - {"queries"})
    if unknown:
        raise QuerySetError(f"{source}: unknown top-level key(s): {', '.join(unknown)}")
    specs: list[QuerySpec] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, entry in enumerate(data["queries"], start=1):
        name = entry.get("id") if isinstance(entry, dict) else None
        label = f"query {name!r} (#{number})" if name else f"query #{number}"
        try:
            spec = QuerySpec.model_validate(entry)
        except ValidationError as exc:
            problems.extend(f"{label}: {problem}" for problem in _describe_errors(exc))
            continue
        if spec.id in seen:
            problems.append(f"{label}: duplicate id")
        seen.add(spec.id)
        specs.append(spec)
    if problems:
        raise QuerySetError(
            f"{source}: {len(problems)} problem(s):\n  " + "\n  ".join(problems), problems=problems
        )
    return specs


def load_queries(path: Path = DEFAULT_QUERIES) -> list[QuerySpec]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QuerySetError(f"Cannot read the query set {path}: {exc}") from exc
    return parse_queries(data, source=str(path))


# The store, as the rules see it ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CatalogVariant:
    id: str
    sku: str | None
    options: dict[str, str]  # lower-cased names and values
    price: Decimal
    stock: int


@dataclass(frozen=True)
class CatalogProduct:
    id: str
    title: str
    description: str
    category: str
    brand: str
    variants: tuple[CatalogVariant, ...]

    @cached_property
    def text(self) -> str:
        return f"{self.title}\n{self.description}".lower()


class CodeSource(Protocol):
    def codes(self, kind: IdKind) -> Sequence[tuple[str, str]]:
        """Sorted ``(code, product_id)`` pairs of one kind of id."""
        ...


@dataclass
class Catalog:
    """A read-only snapshot of the store's products and variants."""

    products: list[CatalogProduct]
    _codes: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, database: Database) -> Catalog:
        with database.session() as session:
            rows = session.scalars(
                select(Product).options(selectinload(Product.variants)).order_by(Product.id)
            )
            products = [
                CatalogProduct(
                    id=p.id,
                    title=p.title,
                    description=p.description or "",
                    category=p.category,
                    brand=p.brand or "",
                    variants=tuple(
                        CatalogVariant(
                            id=v.id,
                            sku=v.sku,
                            options={str(k).lower(): str(o).lower() for k, o in (v.options or {}).items()},
                            price=v.price,
                            stock=v.stock,
                        )
                        for v in p.variants
                    ),
                )
                for p in rows
            ]
        return cls(products)

    def codes(self, kind: IdKind) -> Sequence[tuple[str, str]]:
        if kind not in self._codes:
            if kind == "product":
                pairs = [(p.id, p.id) for p in self.products]
            elif kind == "variant":
                pairs = [(v.id, p.id) for p in self.products for v in p.variants]
            else:
                pairs = [(v.sku, p.id) for p in self.products for v in p.variants if v.sku]
            self._codes[kind] = sorted(pairs)
        return self._codes[kind]


@dataclass
class StoreCodes:
    """Sorted ids straight from the store (for benchmarks on big stores: no catalog snapshot)."""

    database: Database

    def codes(self, kind: IdKind) -> Sequence[tuple[str, str]]:
        columns: dict[str, tuple[Any, Any]] = {
            "product": (Product.id, Product.id),
            "variant": (Variant.id, Variant.product_id),
            "sku": (Variant.sku, Variant.product_id),
        }
        code_column, product_column = columns[kind]
        query = select(code_column, product_column).where(code_column.is_not(None))
        with self.database.session() as session:
            return sorted((str(code), str(pid)) for code, pid in session.execute(query))


# Resolving ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelledQuery:
    id: str
    type: str
    text: str
    filters: SearchFilters
    judgments: dict[str, int]  # product id -> grade (> 0 only)


def resolve_text(spec: QuerySpec, codes: CodeSource) -> tuple[str, str | None]:
    """The query text (an id lookup's code filled in) and, for id lookups, the product it names."""
    if spec.id_lookup is None or spec.pick is None:
        return spec.query or "", None
    pairs = codes.codes(spec.id_lookup)
    if not pairs:
        raise QuerySetError(f"query {spec.id!r}: the store has no {spec.id_lookup} ids to pick from")
    code, product_id = pairs[spec.pick % len(pairs)]
    return (spec.query or "{code}").replace("{code}", code), product_id


def judge(rules: Sequence[Rule], catalog: Catalog) -> dict[str, int]:
    """Each product's grade: the highest grade of the rules it matches (products graded 0 left out)."""
    ordered = sorted((r for r in rules if r.grade > 0), key=lambda r: -r.grade)
    grades: dict[str, int] = {}
    for product in catalog.products:
        for rule in ordered:
            if rule.matches(product):
                grades[product.id] = rule.grade
                break
    return grades


def resolve(specs: Sequence[QuerySpec], catalog: Catalog) -> list[LabelledQuery]:
    labelled = []
    for spec in specs:
        text, picked = resolve_text(spec, catalog)
        judgments = {picked: MAX_GRADE} if picked is not None else judge(spec.relevant, catalog)
        labelled.append(LabelledQuery(spec.id, spec.type, text, spec.filters or SearchFilters(), judgments))
    return labelled
