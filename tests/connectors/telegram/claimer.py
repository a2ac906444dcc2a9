"""A worker process claiming Telegram updates, for the two-process inbox test: a module of its own
so that the spawned interpreter imports only the inbox, not the test module's connector stack."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connectors.telegram.inbox import UpdateInbox


def claim_all(url: str, update_ids: list[int], start: Any, claimed: Any) -> None:
    """One worker process: try to claim every update; report (and finish) those it got."""
    engine = sa.create_engine(url)
    inbox = UpdateInbox(engine, lease_seconds=60, unclaimed_seconds=30, max_attempts=3, keep_hours=48)
    start.wait(timeout=60)
    mine = []
    for update_id in update_ids:
        if inbox.claim(update_id):
            mine.append(update_id)
            inbox.finish(update_id)
    claimed.put(mine)
    engine.dispose()
