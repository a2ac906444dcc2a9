"""Reply templates: package-data YAML, checked at load, rendered with every placeholder given.

``Templates.render("order_status", order_id=..., ...)`` returns the text, the quick replies and
whether the LLM may phrase it. A template that names a placeholder the caller did not give
raises :class:`ConfigError` (a reply is never sent with a hole in it); an unknown template name
lists the valid ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.sessions.shown import QuickReply
from core.errors import ConfigError, UnknownNameError

TEMPLATES_FILE = "templates.yaml"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    phrase: bool = False
    quick_replies: list[QuickReply] = Field(default_factory=list)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    templates: dict[str, _Entry] = Field(min_length=1)


@dataclass(frozen=True)
class Rendered:
    name: str
    text: str
    quick_replies: tuple[QuickReply, ...]
    phrase: bool


class Templates:
    def __init__(self, entries: dict[str, _Entry], origin: str) -> None:
        self._entries = entries
        self._compiled: dict[str, Template] = {}
        for name, entry in entries.items():
            template = Template(entry.text)
            if not template.is_valid():
                raise ConfigError(f"{origin}: templates.{name}: invalid placeholder in {entry.text!r}")
            self._compiled[name] = template

    def names(self) -> list[str]:
        return list(self._entries)

    def allows_phrasing(self, name: str) -> bool:
        self._template(name)
        return self._entries[name].phrase

    def placeholders(self, name: str) -> set[str]:
        return set(self._template(name).get_identifiers())

    def _template(self, name: str) -> Template:
        try:
            return self._compiled[name]
        except KeyError:
            raise UnknownNameError("reply template", name, self._entries) from None

    def text(self, name: str, /, **values: Any) -> str:
        template = self._template(name)
        try:
            return template.substitute({k: str(v) for k, v in values.items()})
        except KeyError as exc:
            raise ConfigError(
                f"reply template {name!r} needs the value {exc.args[0]!r}", key=f"templates.{name}"
            ) from None

    def render(self, name: str, /, **values: Any) -> Rendered:
        text = self.text(name, **values)
        entry = self._entries[name]  # known: text() raised otherwise
        return Rendered(name, text, tuple(entry.quick_replies), entry.phrase)


def load_templates(path: Path | None = None) -> Templates:
    origin = str(path) if path else TEMPLATES_FILE
    try:
        if path is not None:
            raw = path.read_text(encoding="utf-8")
        else:
            raw = resources.files("assistant.reply").joinpath(TEMPLATES_FILE).read_text(encoding="utf-8")
        data = yaml.safe_load(raw)
        parsed = _File.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{origin}: cannot read reply templates: {exc}", key="templates") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{origin}: {problems}", key="templates") from exc
    return Templates(parsed.templates, origin)


@lru_cache(maxsize=1)
def default_templates() -> Templates:
    return load_templates()
