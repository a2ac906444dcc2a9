"""Which variants of a product a message describes, by the product's own options.

The customer names some option values ("the kettle in 1.5 liters, glass"); the variants that have
every named value are the candidates. When the message is about replacing a variant (an
exchange, a change of a pending order), the options it does not name stay as they are where
possible: of the candidates, those sharing the most other option values with the current one
come first. Nothing here knows a catalog: option names and values come from the variants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from dialogue_rules.option_values import OptionValues


class HasOptions(Protocol):
    @property
    def options(self) -> Mapping[str, str]: ...


V = TypeVar("V", bound=HasOptions)


def option_values(variants: Sequence[HasOptions]) -> dict[str, set[str]]:
    """Every option name of the variants and its values."""
    found: dict[str, set[str]] = {}
    for variant in variants:
        for name, value in variant.options.items():
            found.setdefault(str(name), set()).add(str(value))
    return found


def described(
    values: OptionValues, text: str, variants: Sequence[V], *, current: Mapping[str, str] | None = None
) -> list[V]:
    """The variants ``text`` describes, best first (empty: it names no option value of them).

    With ``current`` (the variant being replaced), a value the text names that the current
    variant already has does not count as asked for unless it is the only value named, and only
    the candidates keeping the most of the current values are returned.
    """
    named = values.named(text, option_values(variants))
    if current is not None and any(current.get(name) not in vals for name, vals in named.items()):
        # "the same size but purple": what already is does not restrict what is asked for.
        named = {name: vals for name, vals in named.items() if vals != {current.get(name)}}
    if not named:
        return []
    fits = [v for v in variants if all(v.options.get(name) in vals for name, vals in named.items())]
    if current is None:
        return fits

    def kept(variant: V) -> int:
        return sum(variant.options.get(name) == value for name, value in current.items() if name not in named)

    best = max((kept(v) for v in fits), default=0)
    return [v for v in fits if kept(v) == best]
