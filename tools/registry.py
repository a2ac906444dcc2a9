"""Name-keyed registry of tools. Duplicates fail; a failed lookup lists the valid names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from core.errors import RegistryError, UnknownNameError
from tools.base import Tool, validate_tool_class


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool[Any, Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any, Any]] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any, Any]) -> Tool[Any, Any]:
        validate_tool_class(tool)
        if tool.name in self._tools:
            existing = type(self._tools[tool.name])
            raise RegistryError(
                f"Tool {tool.name!r} is already registered by {existing.__module__}.{existing.__qualname__}",
                tool=tool.name,
            )
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool[Any, Any]:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownNameError("tool", name, self._tools) from None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[Any, Any]]:
        return iter(self._tools[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._tools)


def builtin_tools() -> list[Tool[Any, Any]]:
    """A fresh instance of every built-in commerce tool."""
    from tools import (
        cart,
        catalog,
        checkout,
        customer,
        data_requests,
        inventory,
        knowledge,
        order_changes,
        orders,
        pricing,
        recommendation,
    )
    from tools.recommend import tool as personal_recommendation

    found: list[Tool[Any, Any]] = []
    for module in (
        catalog,
        recommendation,
        personal_recommendation,
        inventory,
        pricing,
        customer,
        orders,
        order_changes,
        cart,
        checkout,
        knowledge,
        data_requests,
    ):
        found.extend(cls() for cls in module.TOOLS)
    return found


def default_registry() -> ToolRegistry:
    """A new registry holding every built-in tool."""
    return ToolRegistry(builtin_tools())
