"""A registry keyed by name: duplicates fail, a failed lookup lists the valid names.

Rules of every kind (entity extractors here; forms and handoff triggers later) register in
one of these. A registry holds only what its owner put in it; there is no process-wide one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, Protocol, TypeVar

from core.errors import RegistryError, UnknownNameError


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class RuleRegistry(Generic[T]):
    """Rules of one ``kind`` (e.g. "entity extractor"), in registration order."""

    def __init__(self, kind: str, items: Iterable[T] = ()) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._frozen = False
        for item in items:
            self.register(item)

    def register(self, item: T) -> T:
        name = item.name
        if self._frozen:
            raise RegistryError(
                f"This {self.kind} registry is frozen; build a new one to add {name!r}", name=name
            )
        if not name or not name.replace("_", "").isalnum() or not name.islower():
            raise RegistryError(f"Invalid {self.kind} name {name!r}: use lower_snake_case", name=name)
        if name in self._items:
            existing = type(self._items[name])
            raise RegistryError(
                f"{self.kind.capitalize()} {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}",
                name=name,
            )
        self._items[name] = item
        return item

    def freeze(self) -> None:
        """Refuse further registrations (for registries shared within a process)."""
        self._frozen = True

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._items) from None

    def names(self) -> list[str]:
        """Names in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)
