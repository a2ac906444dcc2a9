"""The base of every settings section: unknown keys are an error, not silently ignored."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def comma_separated(value: object) -> object:
    """A list setting read from the environment as ``a, b`` (the form uvicorn's own variables
    use) or as a JSON list; YAML lists pass through unchanged."""
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            return json.loads(value)
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
