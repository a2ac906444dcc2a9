"""The state of the optional parts of the service (the LLM, speech, Telegram), for ``/readyz``.

The web channel serves without them: each reports ``ok``, ``degraded`` (configured but not
working right now, with a short reason; it retries or explains why not) or ``off`` (not
configured). Their state is written from where they live (a background thread probing the LLM
server, the asyncio task starting Telegram, the composition root loading speech) and read by
the health route, so :class:`ComponentHealth` is thread-safe and logs every change once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class ComponentState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    OFF = "off"


@dataclass(frozen=True)
class ComponentStatus:
    state: ComponentState
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "reason": self.reason}


class ComponentHealth:
    """One component's current state; a change of state is logged (a warning when it degrades)."""

    def __init__(self, name: str, state: ComponentState = ComponentState.OFF, reason: str = "") -> None:
        self.name = name
        self._status = ComponentStatus(state, reason)
        self._lock = threading.Lock()

    @property
    def status(self) -> ComponentStatus:
        with self._lock:
            return self._status

    def set(self, state: ComponentState, reason: str = "") -> None:
        new = ComponentStatus(state, reason)
        with self._lock:
            old, self._status = self._status, new
        if new.state == old.state:
            return  # a new reason for the same state (the next retry) is the owner's to log
        level = logging.WARNING if state is ComponentState.DEGRADED else logging.INFO
        log.log(
            level,
            "%s %s%s",
            self.name,
            state.value,
            f": {reason}" if reason else "",
            extra={"component": self.name, "state": state.value, "reason": reason},
        )

    def starting(self, reason: str) -> None:
        """Degraded while a first try is under way, without a warning: most starts succeed, and
        the owner logs a failure itself."""
        with self._lock:
            self._status = ComponentStatus(ComponentState.DEGRADED, reason)

    def ok(self, reason: str = "") -> None:
        self.set(ComponentState.OK, reason)

    def degraded(self, reason: str) -> None:
        self.set(ComponentState.DEGRADED, reason)

    def off(self, reason: str) -> None:
        self.set(ComponentState.OFF, reason)
