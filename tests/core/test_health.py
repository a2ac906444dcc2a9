"""A component's state: a change of state is logged once (a warning when it degrades); a new
reason for the same state, or a first try under way, is not."""

from __future__ import annotations

import logging

import pytest

from core.health import ComponentHealth, ComponentState, ComponentStatus


def test_changes_of_state_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    health = ComponentHealth("telegram")
    assert health.status == ComponentStatus(ComponentState.OFF)
    with caplog.at_level(logging.INFO, logger="core.health"):
        health.starting("connecting")
        health.degraded("unreachable; retrying in 1 s")
        health.degraded("unreachable; retrying in 2 s")
        health.ok()
    assert health.status.to_dict() == {"state": "ok", "reason": ""}
    # starting -> degraded is no change of state: the supervisor logs each failed try itself.
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.INFO, "telegram ok")]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="core.health"):
        health.degraded("unreachable")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "telegram degraded: unreachable")
    ]
