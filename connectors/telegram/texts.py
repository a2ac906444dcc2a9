"""The connector's texts (``texts.yaml``), validated when loaded."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError

COMMANDS = ("start", "help", "cart", "orders", "human", "reset")
CALLBACK_ACTIONS = ("details", "add", "more")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandText(_Strict):
    description: str = Field(min_length=3, max_length=256)
    reply: str | None = Field(default=None, description="Answered by the connector itself.")
    engine: str | None = Field(default=None, description="Sent to the engine as the customer's message.")
    quick_replies: tuple[str, ...] = ()


class Buttons(_Strict):
    details: str
    add: str
    more: str
    added: str


class Callbacks(_Strict):
    details: tuple[str, str]
    add: tuple[str, str]
    more: tuple[str, str]
    stale: str

    def of(self, action: str) -> tuple[str, str]:
        """(text for the engine, toast) of a card button."""
        pair: tuple[str, str] = getattr(self, action)
        return pair


class ModeTexts(_Strict):
    agent_joined: str
    bot_again: str
    closed: str


class TelegramTexts(_Strict):
    commands: dict[str, CommandText]
    buttons: Buttons
    callbacks: Callbacks
    mode: ModeTexts
    agent_message: str
    failed: str
    not_text: str
    too_long: str

    def model_post_init(self, _context: Any) -> None:
        missing = [name for name in COMMANDS if name not in self.commands]
        if missing:
            raise ValueError(f"texts for commands {missing} are missing")
        for name, command in self.commands.items():
            if (command.reply is None) == (command.engine is None):
                raise ValueError(f"command {name!r} needs exactly one of 'reply' and 'engine'")

    @staticmethod
    def fill(template: str, /, **values: object) -> str:
        """``template`` with ``${name}`` placeholders filled (a missing one is an error)."""
        return Template(template).substitute({k: str(v) for k, v in values.items()})


@lru_cache(maxsize=1)
def default_texts() -> TelegramTexts:
    raw = resources.files("connectors.telegram").joinpath("texts.yaml").read_text(encoding="utf-8")
    try:
        return TelegramTexts.model_validate(yaml.safe_load(raw))
    except (ValidationError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"connectors/telegram/texts.yaml is invalid: {exc}", key="telegram.texts") from exc
