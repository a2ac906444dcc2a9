"""``shopassist rasa-export DIR``: a starter Rasa project for the action server.

- ``domain.yml``: a slot per tool argument (filled from the entity of the same name where the
  value is a plain one), the action server's own slots (``verified_customer`` mapped to
  ``action_verify_customer`` only), every action, and the responses the stories use;
- ``endpoints.yml``: the action endpoint at ``rasa.host:rasa.port`` (with the token from the
  environment when ``rasa.token`` is set);
- ``config.yml``: Rasa's default pipeline and policies, with regexes for order ids and emails;
- ``data/nlu.yml``, ``data/rules.yml``, ``data/stories.yml``: searching (examples from the shop's
  own categories and brands), order status, cancelling and returning, each through verification
  and the confirmation step (the fixed texts and examples live in ``project.yaml``).

Written as YAML a ``rasa data validate`` accepts; the tests check it against Rasa's published
schema and the cross-references ``rasa data validate`` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from connectors.rasa import slots as S
from connectors.rasa.actions import DISCARD_ACTION, exposed_tools
from core.config import Settings
from tools.registry import ToolRegistry

PROJECT_FILE = "project.yaml"
TOKEN_VARIABLE = "SHOPASSIST_RASA__TOKEN"


@dataclass(frozen=True)
class Catalog:
    """Words of the shop's catalog for the NLU examples (empty: generic examples only)."""

    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (NLU examples) as literal blocks, the way Rasa's own files write them."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _template() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(PROJECT_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def action_names(registry: ToolRegistry) -> list[str]:
    """Every action the server registers, in the order it registers them."""
    names = [S.VERIFY_ACTION, DISCARD_ACTION]
    for tool in exposed_tools(registry):
        names.append(S.action_name(tool.name))
        if tool.side_effect:
            names.append(S.prepare_name(tool.name))
    return names


def _slot(kind: S.SlotType, mappings: list[dict[str, Any]], *, influence: bool = False) -> dict[str, Any]:
    return {"type": kind, "influence_conversation": influence, "mappings": mappings}


def domain(registry: ToolRegistry) -> dict[str, Any]:
    template = _template()
    arguments = S.argument_slots(registry)
    slots: dict[str, Any] = {}
    entities = []
    for name, slot in arguments.items():
        if slot.from_entity:
            entities.append(name)
            slots[name] = _slot(slot.type, [{"type": "from_entity", "entity": name}])
        else:
            slots[name] = _slot(slot.type, [{"type": "custom"}])
    for name, (kind, _description) in S.OWN_SLOTS.items():
        if name == S.VERIFIED:
            # Only the verification action sets it; stories may branch on whether it is set.
            slots[name] = _slot(kind, [{"type": "custom", "action": S.VERIFY_ACTION}], influence=True)
        elif name == S.PENDING:
            slots[name] = _slot(kind, [{"type": "custom"}], influence=True)  # what "yes" confirms
        else:
            slots[name] = _slot(kind, [{"type": "custom"}])
    return {
        "version": "3.1",
        "intents": list(template["nlu"]),
        "entities": entities,
        "slots": slots,
        "responses": template["responses"],
        "actions": action_names(registry),
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }


def endpoints(settings: Settings) -> dict[str, Any]:
    host = settings.rasa.host if settings.rasa.host not in ("0.0.0.0", "::") else "127.0.0.1"
    endpoint: dict[str, Any] = {"url": f"http://{host}:{settings.rasa.port}/webhook"}
    if settings.rasa.token is not None:
        endpoint["token"] = "${" + TOKEN_VARIABLE + "}"
    return {"action_endpoint": endpoint}


def _examples(lines: list[str]) -> str:
    return "".join(f"- {line}\n" for line in lines)


def nlu(catalog: Catalog) -> dict[str, Any]:
    template = _template()
    searches = list(template["nlu"]["search_products"])
    for category in catalog.categories[:12]:
        searches.append(f"do you have any [{category.lower()}](query)?")
        searches.append(f"show me [{category.lower()}](query) under [50](max_price)")
    for brand in catalog.brands[:8]:
        searches.append(f"anything from [{brand}](brand)?")
    items: list[dict[str, Any]] = []
    for intent, examples in template["nlu"].items():
        lines = list(dict.fromkeys(searches)) if intent == "search_products" else list(examples)
        items.append({"intent": intent, "examples": _examples(lines)})
    for name, patterns in template["regexes"].items():
        items.append({"regex": name, "examples": _examples(patterns)})
    return {"version": "3.1", "nlu": items}


def export(target: Path, *, registry: ToolRegistry, settings: Settings, catalog: Catalog) -> list[Path]:
    """Write the project under ``target`` (created if needed); returns the files written."""
    template = _template()
    files: dict[str, Any] = {
        "domain.yml": domain(registry),
        "endpoints.yml": endpoints(settings),
        "config.yml": template["config"],
        "data/nlu.yml": nlu(catalog),
        "data/rules.yml": {"version": "3.1", "rules": template["rules"]},
        "data/stories.yml": {"version": "3.1", "stories": template["stories"]},
    }
    written = []
    for name, content in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(content, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
