from typing import Any

from tools.base import Tool

TOOLS: list[type[Tool[Any, Any]]] = []
