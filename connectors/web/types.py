"""Wire shapes of the web API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = Field(description="'ok' while the process serves requests.")
    version: str


class ToolInfo(BaseModel):
    name: str
    description: str
    requires_auth: bool
    side_effect: bool
    parameters: dict[str, object] = Field(description="JSON schema of the tool's arguments.")
