"""Option values over a product's variants (``{"color": ["red", "blue"], "size": ["M"]}``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def collect_option_values(option_sets: Iterable[Mapping[str, Any] | None]) -> dict[str, list[str]]:
    """Every option name and its values over a product's variants, in first-seen order."""
    found: dict[str, list[str]] = {}
    for options in option_sets:
        for key, value in (options or {}).items():
            values = found.setdefault(str(key), [])
            if str(value) not in values:
                values.append(str(value))
    return found
