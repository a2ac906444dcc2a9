"""tau retail tasks (``tasks_train.json``, ``tasks_dev.json``): a customer, the customer's goal in
words, the ground-truth tool calls and the outputs a reply must state."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

SPLITS = ("train", "dev")
#: tau's tools that change the shop (the rest only read).
WRITE_ACTIONS = (
    "cancel_pending_order",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "modify_pending_order_items",
    "modify_pending_order_address",
    "modify_pending_order_payment",
    "modify_user_address",
    "transfer_to_human_agents",
)
#: Short names for reports, by tau action.
ACTION_KINDS = {
    "cancel_pending_order": "cancel",
    "return_delivered_order_items": "return",
    "exchange_delivered_order_items": "exchange",
    "modify_pending_order_items": "modify_items",
    "modify_pending_order_address": "modify_address",
    "modify_pending_order_payment": "modify_payment",
    "modify_user_address": "user_address",
    "transfer_to_human_agents": "handoff",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NAME_ZIP = re.compile(r"\byour name is ([A-Z][\w'-]*) ([A-Z][\w'-]*)\b.*?\bzip code is (\d{5})", re.I | re.S)
_NAME = re.compile(r"\byour name is ([A-Z][\w'-]*) ([A-Z][\w'-]*)", re.I)


@dataclass(frozen=True)
class TaskAction:
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        return self.name in WRITE_ACTIONS


@dataclass(frozen=True)
class Identity:
    """How the customer of a task can identify: an email, or a full name and a zip code."""

    first_name: str | None = None
    last_name: str | None = None
    zip_code: str | None = None
    emails: tuple[str, ...] = ()
    """Every email the instruction names (a customer may not know which one is on the account)."""


@dataclass(frozen=True)
class Task:
    split: str
    index: int
    user_id: str
    instruction: str
    actions: tuple[TaskAction, ...]
    outputs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.split}-{self.index}"

    @property
    def writes(self) -> tuple[TaskAction, ...]:
        return tuple(a for a in self.actions if a.writes)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of change the task asks for, sorted ("info" when it changes nothing)."""
        return tuple(sorted({ACTION_KINDS[a.name] for a in self.writes})) or ("info",)

    @property
    def kind(self) -> str:
        return "+".join(self.kinds)

    def identity(self) -> Identity:
        """What the instruction says the customer can identify with."""
        emails = tuple(e.rstrip(".") for e in _EMAIL.findall(self.instruction))
        name_zip = _NAME_ZIP.search(self.instruction)
        name = name_zip or _NAME.search(self.instruction)
        return Identity(
            first_name=name.group(1) if name else None,
            last_name=name.group(2) if name else None,
            zip_code=name_zip.group(3) if name_zip else None,
            emails=emails,
        )


def load_tasks(data_dir: Path, split: str) -> list[Task]:
    """The tasks of ``split`` (train or dev) in ``data_dir`` (tau retail's folder)."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}", key="split")
    path = Path(data_dir) / f"tasks_{split}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the {split} tasks at {path}: {exc}", key="split") from exc
    return [
        Task(
            split=split,
            index=index,
            user_id=str(item["user_id"]),
            instruction=str(item["instruction"]),
            actions=tuple(TaskAction(str(a["name"]), dict(a.get("kwargs") or {})) for a in item["actions"]),
            outputs=tuple(str(o) for o in item.get("outputs") or ()),
        )
        for index, item in enumerate(raw)
    ]
