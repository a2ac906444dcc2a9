"""Form definitions: which slots a task needs, in which order, and whether it needs a verified
customer. Loaded from ``forms.yaml``; every pattern compiles at load or the load fails naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import ConfigError
from dialogue_rules.loading import compile_pattern, parse_rules
from dialogue_rules.registry import RuleRegistry

FORMS_FILE = "forms.yaml"
_SLOT = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class _FormEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requires_auth: bool = False
    purpose: str = Field(min_length=1)
    slots: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _slot_names(self) -> _FormEntry:
        bad = [s for s in self.slots if not _SLOT.match(s)]
        if bad or len(set(self.slots)) != len(self.slots):
            raise ValueError(f"slot names must be unique lower_snake_case: {self.slots}")
        return self


class _FormFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    forms: dict[str, _FormEntry] = Field(min_length=1)
    abort_patterns: list[str] = Field(min_length=1)
    cancel_reasons: dict[str, list[str]] = Field(min_length=1)
    all_items_patterns: list[str] = Field(min_length=1)
    replacement_patterns: list[str] = Field(min_length=1)
    item_stopwords: list[str] = Field(default_factory=list)
    address_patterns: list[str] = Field(min_length=1)
    default_country: str = Field(min_length=2)
    latest_order_patterns: list[str] = Field(min_length=1)
    cheapest_patterns: list[str] = Field(min_length=1)
    fallback_patterns: list[str] = Field(min_length=1)
    all_but_patterns: list[str] = Field(min_length=1)
    priciest_patterns: list[str] = Field(min_length=1)
    addition_patterns: list[str] = Field(min_length=1)
    order_suffix_pattern: str = Field(min_length=1)


@dataclass(frozen=True)
class FormSpec:
    name: str
    requires_auth: bool
    purpose: str
    slots: tuple[str, ...]


@dataclass(frozen=True)
class FormRules:
    forms: RuleRegistry[FormSpec]
    abort: tuple[re.Pattern[str], ...]
    cancel_reasons: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    all_items: tuple[re.Pattern[str], ...]
    replacement: tuple[re.Pattern[str], ...]
    addresses: tuple[re.Pattern[str], ...]
    default_country: str
    item_stopwords: frozenset[str] = frozenset()
    latest_order: tuple[re.Pattern[str], ...] = ()
    order_suffix_pattern: re.Pattern[str] | None = None
    cheapest: tuple[re.Pattern[str], ...] = ()
    fallback: tuple[re.Pattern[str], ...] = ()
    leave_out: tuple[re.Pattern[str], ...] = ()
    priciest: tuple[re.Pattern[str], ...] = ()
    addition: tuple[re.Pattern[str], ...] = ()

    def all_but(self, text: str) -> str | None:
        """The words after "except" in "all of them except the shoes"; None without them."""
        for pattern in self.leave_out:
            found = pattern.search(text)
            if found:
                return text[found.end() :]
        return None

    def second_choice(self, text: str) -> tuple[str, str | None]:
        """``text`` split into the first choice and the second one said with it ("..., if there
        is no RGB one, no backlight is fine"); (text, None) when there is no second choice."""
        for pattern in self.fallback:
            found = pattern.search(text)
            if found:
                return text[: found.start()], found.group("fallback")
        return text, None

    def price_rank(self, text: str) -> int:
        """-1: the customer wants the cheapest of what fits; 1: the most expensive; 0: neither."""
        if any(p.search(text) for p in self.cheapest):
            return -1
        return 1 if any(p.search(text) for p in self.priciest) else 0

    def adds(self, text: str) -> bool:
        """The message adds to what is proposed ("I also want to return the lamp", "... as well")."""
        return any(p.search(text) for p in self.addition)

    def means_latest_order(self, text: str) -> bool:
        """ "my last order", "the one I just placed"."""
        return any(p.search(text) for p in self.latest_order)

    def order_suffix(self, text: str) -> str | None:
        """The last digits of an order id the customer remembers ("it ends in 66")."""
        found = self.order_suffix_pattern.search(text) if self.order_suffix_pattern else None
        return found.group("digits") if found else None

    def is_abort(self, text: str) -> bool:
        return any(p.search(text) for p in self.abort)

    def cancel_reason(self, text: str) -> str | None:
        for reason, patterns in self.cancel_reasons:
            if text.strip().lower() == reason or any(p.search(text) for p in patterns):
                return reason
        return None

    def means_all_items(self, text: str) -> bool:
        return any(p.search(text) for p in self.all_items)

    def means_replacement(self, text: str) -> bool:
        """The customer wants the same item again (a new one in place of theirs)."""
        return any(p.search(text) for p in self.replacement)

    def address(self, text: str) -> dict[str, str] | None:
        """A shipping address written in ``text`` (the shape of the ``Address`` tool argument)."""
        for pattern in self.addresses:
            found = pattern.search(text)
            if found:
                parts = {k: (v or "").strip() for k, v in found.groupdict().items()}
                parts["country"] = parts.get("country") or self.default_country
                parts.setdefault("address2", "")
                return parts
        return None


def load_form_rules(path: Path | None = None) -> FormRules:
    origin, raw = parse_rules(_FormFile, FORMS_FILE, path)

    def compiled(patterns: list[str], where: str) -> tuple[re.Pattern[str], ...]:
        return tuple(compile_pattern(p, where=f"{origin}: {where}[{i}]") for i, p in enumerate(patterns))

    suffix = compile_pattern(raw.order_suffix_pattern, where=f"{origin}: order_suffix_pattern")
    fallbacks = [p for p in raw.fallback_patterns if "(?P<fallback>" not in p]
    if fallbacks:
        raise ConfigError(
            f"{origin}: fallback_patterns need a (?P<fallback>...) group: {fallbacks}",
            key="fallback_patterns",
        )
    if "digits" not in suffix.groupindex:
        raise ConfigError(
            f"{origin}: order_suffix_pattern needs a (?P<digits>...) group", key="order_suffix_pattern"
        )
    registry: RuleRegistry[FormSpec] = RuleRegistry("form")
    for name, entry in raw.forms.items():
        registry.register(FormSpec(name, entry.requires_auth, entry.purpose, tuple(entry.slots)))
    registry.freeze()
    reasons = tuple(
        (reason, compiled(patterns, f"cancel_reasons.{reason}"))
        for reason, patterns in raw.cancel_reasons.items()
    )
    return FormRules(
        forms=registry,
        abort=compiled(raw.abort_patterns, "abort_patterns"),
        cancel_reasons=reasons,
        all_items=compiled(raw.all_items_patterns, "all_items_patterns"),
        replacement=compiled(raw.replacement_patterns, "replacement_patterns"),
        addresses=compiled(raw.address_patterns, "address_patterns"),
        default_country=raw.default_country,
        item_stopwords=frozenset(w.lower() for w in raw.item_stopwords),
        latest_order=compiled(raw.latest_order_patterns, "latest_order_patterns"),
        order_suffix_pattern=suffix,
        cheapest=compiled(raw.cheapest_patterns, "cheapest_patterns"),
        fallback=compiled(raw.fallback_patterns, "fallback_patterns"),
        leave_out=compiled(raw.all_but_patterns, "all_but_patterns"),
        priciest=compiled(raw.priciest_patterns, "priciest_patterns"),
        addition=compiled(raw.addition_patterns, "addition_patterns"),
    )


@lru_cache(maxsize=1)
def default_form_rules() -> FormRules:
    return load_form_rules()
