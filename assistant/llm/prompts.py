"""The prompts of both LLM uses, command proposals and reply phrasing: ``prompts.yaml``,
package data read once."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@lru_cache(maxsize=1)
def prompts() -> dict[str, Any]:
    """The parsed ``prompts.yaml`` (package data; read once)."""
    text = resources.files("assistant.llm").joinpath("prompts.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded
