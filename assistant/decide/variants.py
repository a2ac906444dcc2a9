"""Which variant of a product a customer wants in place of the one they have, by the product's
own options.

The customer names some option values ("the kettle in 1.5 liters, glass"), asks to keep others
("the same size", "still black"), and may add or correct them over several messages. The
variants in stock having every wanted value are the candidates; the options not named stay as
they are where possible: of the candidates, those sharing the most other option values with the
current one come first. Nothing here knows a catalog: option names and values come from the
variants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from dialogue_rules.option_values import OptionValues


class HasOptions(Protocol):
    @property
    def options(self) -> Mapping[str, str]: ...


class Stocked(HasOptions, Protocol):
    @property
    def variant_id(self) -> str: ...
    @property
    def available(self) -> bool: ...


S = TypeVar("S", bound=Stocked)


class Priced(Protocol):
    @property
    def price(self) -> Decimal: ...


P = TypeVar("P", bound=Priced)
Wanted = dict[str, list[str]]
"""Option name -> the values the customer accepts for it."""


def option_values(variants: Sequence[HasOptions]) -> dict[str, set[str]]:
    """Every option name of the variants and its values."""
    found: dict[str, set[str]] = {}
    for variant in variants:
        for name, value in variant.options.items():
            found.setdefault(str(name), set()).add(str(value))
    return found


@dataclass
class Replacement(Generic[S]):
    """What the customer has asked for in place of one variant, and what the product has of it."""

    wanted: Wanted
    """Every value asked for so far (earlier messages included) that differs from the current
    variant, and the current values the customer asked to keep."""
    picked: list[S] = field(default_factory=list)
    """The variants in stock having every wanted value, keeping the most current values: one is
    the choice, several are a question."""
    sold_out: bool = False
    """Variants with every wanted value exist, but none is in stock."""
    fitting: list[S] = field(default_factory=list)
    """Every variant in stock with every wanted value (``picked`` are those of them keeping most)."""

    def closest(self, variants: Sequence[S], *, current_id: str, limit: int = 8) -> list[S]:
        """The other variants in stock, those having the most wanted values first."""
        others = [v for v in variants if v.variant_id != current_id and v.available]
        return sorted(others, key=lambda v: -_matches(v, self.wanted))[:limit]


def replacement(
    values: OptionValues,
    text: str,
    variants: Sequence[S],
    *,
    current: S,
    wanted: Wanted | None = None,
    explicit: bool = False,
) -> Replacement[S]:
    """Read what ``text`` asks for in place of ``current`` (one of ``variants``), on top of what
    earlier messages asked for (``wanted``: a value named now replaces an earlier one of the same
    option, so "no, I meant tactile" corrects "clicky").

    A value the current variant already has counts only in this message (it may just say which
    item is meant), unless the customer asked to keep it ("still black", "the same size"): when
    nothing in stock has it with the rest, it is let go, but not when the variants having it all
    are merely sold out.

    A value two options share, said without an option name ("black" for sunglasses with a frame
    and a lens color), is tried for each: the readings that find versions in stock are kept;
    what they agree on is remembered, the rest is asked again next time.

    ``explicit``: every value named is asked for, the current ones too (a second choice, "if
    there is none, the RGB one", names what it wants, not which item it is).
    """
    said = values.named(text, option_values(variants))
    named = {**said, **_relative(values, text, variants, current, said)}
    found = _replacement(values, text, variants, named, current=current, wanted=wanted, explicit=explicit)
    if wanted and said and not found.picked and not found.sold_out:
        # What was asked before and what is asked now cannot both hold (no such version at all):
        # what is said now wins ("No, that's not it. I'd like the 1.5L glass one" after "1L black").
        now = _replacement(values, text, variants, named, current=current, wanted=None, explicit=explicit)
        if now.picked:
            return now
    return found


def _replacement(
    values: OptionValues,
    text: str,
    variants: Sequence[S],
    named: dict[str, set[str]],
    *,
    current: S,
    wanted: Wanted | None,
    explicit: bool,
) -> Replacement[S]:
    readings = [
        _read(values, text, variants, current, wanted or {}, reading, explicit)
        for reading in _readings(named)
    ]
    found = [r for r in readings if r.picked] or [r for r in readings if r.sold_out] or readings
    if len(found) == 1:
        return found[0]
    agreed = {
        name: vals for name, vals in found[0].wanted.items() if all(r.wanted.get(name) == vals for r in found)
    }
    picked = list({v.variant_id: v for r in found for v in r.picked}.values())
    fitting = list({v.variant_id: v for r in found for v in r.fitting}.values())
    return Replacement(
        agreed, picked, sold_out=not picked and any(r.sold_out for r in found), fitting=fitting
    )


def _relative(
    values: OptionValues, text: str, variants: Sequence[S], current: S, named: dict[str, set[str]]
) -> dict[str, set[str]]:
    """ "A bigger one", "a smaller size": the values above (or below) the current one, of the
    option the message names, else of ``size``, else of the one option whose values all have an
    order; nothing when a value of that option is named."""
    direction = values.direction(text)
    if not direction:
        return {}
    said = f" {values.canonical(text)} "
    ordered = {
        name: vals
        for name, vals in option_values(variants).items()
        if len(vals) > 1 and all(values.rank(v) is not None for v in vals)
    }
    by_name = [name for name in ordered if f" {values.canonical(name)} " in said]
    target = (
        by_name or (["size"] if "size" in ordered else []) or (list(ordered) if len(ordered) == 1 else [])
    )
    if not target or target[0] in named or target[0] not in current.options:
        return {}
    option = target[0]
    now = values.rank(current.options[option])
    if now is None:
        return {}
    wanted = {
        v for v in ordered[option] if (rank := values.rank(v)) is not None and (rank - now) * direction > 0
    }
    return {option: wanted} if wanted else {}


def _readings(named: dict[str, set[str]], limit: int = 8) -> list[dict[str, set[str]]]:
    """``named`` with each value that several options got given to one of them, every way
    (at most ``limit`` ways); ``[named]`` when no value is shared."""
    holders: dict[str, list[str]] = {}
    for name, vals in named.items():
        for value in vals:
            holders.setdefault(value, []).append(name)
    shared = {value: names for value, names in holders.items() if len(names) > 1}
    readings = [named]
    for value, names in shared.items():
        readings = [
            {n: (vals - {value}) if n != owner else vals for n, vals in reading.items()}
            for reading in readings
            for owner in names
        ][:limit]
    return [{n: vals for n, vals in reading.items() if vals} for reading in readings]


def _read(
    values: OptionValues,
    text: str,
    variants: Sequence[S],
    current: S,
    wanted: Wanted,
    named: dict[str, set[str]],
    explicit: bool,
) -> Replacement[S]:
    """One reading of the message (see :func:`replacement`)."""
    now = current.options
    named = {name: set(vals) for name, vals in named.items()}
    for name, vals in named.items():
        if len(vals) > 1 and now.get(name) in vals:  # "from linear to clicky": clicky is asked for
            vals.discard(now[name])
    asked = {name: sorted(vals) for name, vals in named.items() if explicit or vals != {now.get(name)}}
    kept = {name: [value] for name, value in values.kept(text, now).items() if name not in asked}
    said_again = {name: sorted(vals) for name, vals in named.items() if name not in {*asked, *kept}}
    merged = {**wanted, **kept, **asked}
    order = list(option_values(variants))
    result: Replacement[S] = Replacement({name: merged[name] for name in sorted(merged, key=order.index)})
    if not result.wanted:  # only what the item already has: it says which item, not what instead
        return result
    others = [v for v in variants if v.variant_id != current.variant_id]
    for spec in ({**said_again, **result.wanted}, result.wanted):
        fits = [v for v in others if _matches(v, spec) == len(spec)]
        in_stock = [v for v in fits if v.available]
        if in_stock:
            result.fitting = in_stock
            result.picked = _keeping_most(in_stock, now, spec)
            return result
        if fits:
            result.sold_out = True
            return result
    return result


def _matches(variant: HasOptions, wanted: Mapping[str, Sequence[str]]) -> int:
    return sum(variant.options.get(name) in vals for name, vals in wanted.items())


def _keeping_most(variants: list[S], current: Mapping[str, str], spec: Mapping[str, object]) -> list[S]:
    def kept(variant: S) -> int:
        return sum(variant.options.get(name) == value for name, value in current.items() if name not in spec)

    best = max(kept(v) for v in variants)
    return [v for v in variants if kept(v) == best]


def by_price(variants: Sequence[P], rank: int) -> P | None:
    """The cheapest of ``variants`` (``rank`` -1: "the cheapest one"), or the most expensive
    (``rank`` 1); None when there are none."""
    return min(variants, key=lambda v: -rank * v.price, default=None)
