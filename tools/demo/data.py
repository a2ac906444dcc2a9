"""The demo shop's vocabulary: package-data YAML, validated into typed models on first use.

``catalog_data.yaml`` holds the categories (brands, title templates, description sentences,
option axes, price ranges) and complementary category pairs; ``shop_data.yaml`` holds names,
addresses, payment and shipping vocabulary and the promotions. A broken file fails loudly
with a :class:`~core.errors.ConfigError` naming the file and the problem.
"""

from __future__ import annotations

import string
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import ConfigError

_FORMATTER = string.Formatter()
ModelT = TypeVar("ModelT", bound=BaseModel)
# A slot "{feature2}" draws the 2nd distinct value of `feature`; "{adj_lower}" is `adj` lowercased.
LOWER_SUFFIX = "_lower"


def slot_base(field: str) -> tuple[str, int]:
    """``"feature2"`` -> ``("feature", 2)``; ``"adj_lower"`` -> ``("adj", 1)``."""
    name = field.removesuffix(LOWER_SUFFIX)
    stripped = name.rstrip("0123456789")
    return stripped, int(name[len(stripped) :] or 1)


def template_fields(template: str) -> tuple[str, ...]:
    return tuple(field for _, field, _, _ in _FORMATTER.parse(template) if field)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategorySpec(_Strict):
    name: str = Field(min_length=1, max_length=120)
    code: str = Field(pattern=r"^[A-Z]{3}$")
    weight: float = Field(default=1.0, gt=0)
    price: tuple[Decimal, Decimal]
    brands: list[str] = Field(min_length=1)
    title_templates: list[str] = Field(min_length=1)
    sentences: list[str] = Field(min_length=3)
    words: dict[str, list[str]]
    options: dict[str, list[str]] = Field(min_length=1)
    price_uplift: dict[str, dict[str, Decimal]] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> CategorySpec:
        low, high = self.price
        if not Decimal("1") <= low < high:
            raise ValueError(f"category {self.name!r}: price range must satisfy 1 <= low < high")
        for axis, values in self.options.items():
            if not values or len(set(values)) != len(values):
                raise ValueError(f"category {self.name!r}: option {axis!r} needs distinct values")
        for axis, uplifts in self.price_uplift.items():
            unknown = set(uplifts) - set(self.options.get(axis, []))
            if unknown:
                raise ValueError(
                    f"category {self.name!r}: price_uplift names unknown {axis} {sorted(unknown)}"
                )
        for template in [*self.title_templates, *self.sentences]:
            for field in template_fields(template):
                base, index = slot_base(field)
                pool = self.brands if base == "brand" else self.words.get(base)
                if pool is None:
                    raise ValueError(
                        f"category {self.name!r}: template {template!r} uses unknown slot {field!r}"
                    )
                if index > len(pool):
                    raise ValueError(f"category {self.name!r}: slot {field!r} needs {index} distinct values")
        return self

    @property
    def variant_space(self) -> int:
        size = 1
        for values in self.options.values():
            size *= len(values)
        return size


class CatalogData(_Strict):
    common_sentences: list[str] = Field(min_length=1)
    common_words: dict[str, list[str]]
    categories: list[CategorySpec] = Field(min_length=1)
    pairs: list[tuple[str, str]]

    @model_validator(mode="after")
    def _check(self) -> CatalogData:
        names = [c.name for c in self.categories]
        if len(set(names)) != len(names):
            raise ValueError("category names must be unique")
        codes = [c.code for c in self.categories]
        if len(set(codes)) != len(codes):
            raise ValueError("category codes must be unique")
        for pair in self.pairs:
            missing = [name for name in pair if name not in names]
            if missing:
                raise ValueError(f"pair {list(pair)} names unknown categories {missing}")
        for sentence in self.common_sentences:
            for field in template_fields(sentence):
                if slot_base(field)[0] not in self.common_words:
                    raise ValueError(f"common sentence {sentence!r} uses unknown slot {field!r}")
        return self


class PromotionSpec(_Strict):
    code: str = Field(min_length=1, max_length=40)
    description: str
    percent_off: Decimal | None = Field(default=None, gt=0, le=100)
    amount_off: Decimal | None = Field(default=None, gt=0)
    min_subtotal: Decimal = Field(default=Decimal("0"), ge=0)
    category: str | None = None
    starts_days: int | None = None
    ends_days: int | None = None
    active: bool = True

    @model_validator(mode="after")
    def _check(self) -> PromotionSpec:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError(f"promotion {self.code!r}: set exactly one of percent_off and amount_off")
        return self


class ShopData(_Strict):
    first_names: list[str] = Field(min_length=1)
    last_names: list[str] = Field(min_length=1)
    street_names: list[str] = Field(min_length=1)
    street_suffixes: list[str] = Field(min_length=1)
    unit_formats: list[str] = Field(min_length=1)
    cities: list[tuple[str, str, str]] = Field(min_length=1)
    card_brands: list[str] = Field(min_length=1)
    carriers: list[str] = Field(min_length=1)
    cancel_reasons: list[str] = Field(min_length=1)
    promotions: list[PromotionSpec]


def _load_yaml(filename: str) -> Any:
    try:
        text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read demo data {filename}: {exc}", file=filename) from exc


def _validated(model: type[ModelT], filename: str) -> ModelT:
    try:
        return model.model_validate(_load_yaml(filename))
    except ValidationError as exc:
        raise ConfigError(f"Invalid demo data {filename}: {exc}", file=filename) from exc


@cache
def catalog_data() -> CatalogData:
    return _validated(CatalogData, "catalog_data.yaml")


@cache
def shop_data() -> ShopData:
    data = _validated(ShopData, "shop_data.yaml")
    names = {c.name for c in catalog_data().categories}
    for promotion in data.promotions:
        if promotion.category is not None and promotion.category not in names:
            raise ConfigError(
                f"Invalid demo data shop_data.yaml: promotion {promotion.code!r} names unknown "
                f"category {promotion.category!r}",
                file="shop_data.yaml",
            )
    return data
