"""The retention sweep: old conversations go, recent ones stay; approved requests are carried
out (forget; export to a private file), pending and rejected ones are not."""

from __future__ import annotations

import json
import logging
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.sessions.events import UserMessage
from assistant.sessions.sql_store import SqlSessionStore
from core.config import Settings
from core.config.identity import PrivacySettings
from core.errors import NotFoundError
from privacy.periodic import PeriodicSweep
from privacy.retention import SweepResult, exports_dir, sweep
from store.data_requests import approve, get_request, queue_request, reject
from store.db import Database
from store.models import Customer, DataRequestStatus
from tests.privacy.conftest import ALICE_PERSONAL, Clock, anonymous_conversation, holds, verified_conversation
from tests.shop_fixture import ALICE, BOB

PRIVACY = PrivacySettings(retention_days=90)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_old_conversations_go_recent_ones_stay(
    shop: Database,
    sessions: SqlSessionStore,
    clock: Clock,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = verified_conversation(sessions)
    talking = anonymous_conversation(sessions)  # as old, but with a recent message
    clock.advance(days=30)
    kept = anonymous_conversation(sessions)
    anonymous_conversation(sessions)
    clock.advance(days=50)
    sessions.append(session_id=talking, events=[UserMessage(text="still there?", channel="web")])
    clock.advance(days=10, minutes=1)  # the first: 90 days and a minute old; the others 60 days
    caplog.set_level(logging.INFO, logger="privacy")

    result = sweep(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir, now=clock.now)

    assert result == SweepResult(conversations_deleted=1)
    assert not sessions.exists(session_id=old)
    with pytest.raises(NotFoundError):
        sessions.events(session_id=old)
    assert sessions.exists(session_id=kept) and len(sessions.events(session_id=kept)) == 2
    assert len(sessions.events(session_id=talking)) == 3  # its last event counts, not its start
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "conversations_deleted" in logged
    for needle in ALICE_PERSONAL:  # counts only
        assert not holds(logged, needle)
    sessions_file = Path(settings.sessions_url.removeprefix("sqlite:///"))
    for path in (sessions_file, sessions_file.with_name("sessions.db-wal")):
        if path.exists():  # no copy of the deleted conversation in free space or the log
            assert b"alice@example.com" not in path.read_bytes(), path.name

    # Again at once: nothing more; a month later the other two are past the retention too.
    assert (
        sweep(
            shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir, now=clock.now
        ).conversations_deleted
        == 0
    )
    later = clock.now + timedelta(days=31)
    assert (
        sweep(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir, now=later).conversations_deleted
        == 2
    )


def test_retention_is_configurable(
    shop: Database, sessions: SqlSessionStore, clock: Clock, settings: Settings
) -> None:
    anonymous_conversation(sessions)
    clock.advance(days=8)
    week = PrivacySettings(retention_days=7)
    assert (
        sweep(
            shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir, now=clock.now
        ).conversations_deleted
        == 0
    )
    assert (
        sweep(shop, sessions, privacy=week, data_dir=settings.data_dir, now=clock.now).conversations_deleted
        == 1
    )


def test_approved_requests_are_carried_out_pending_ones_are_not(
    shop: Database, sessions: SqlSessionStore, clock: Clock, settings: Settings
) -> None:
    verified_conversation(sessions)
    forget = queue_request(shop, customer_id=ALICE, kind="forget", privacy=PRIVACY)
    export = queue_request(shop, customer_id=BOB, kind="export", privacy=PRIVACY)
    export_alice = queue_request(shop, customer_id=ALICE, kind="export", privacy=PRIVACY)
    reject(shop, export_alice.id, by="ops")

    nothing = sweep(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir, now=clock.now)
    assert nothing == SweepResult()
    with shop.session() as session:
        assert session.get(Customer, ALICE) is not None  # pending: untouched
    assert not exports_dir(settings.data_dir).exists()

    approve(shop, forget.id, by="ops")
    approve(shop, export.id, by="ops")
    done = sweep(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir, now=clock.now)

    assert done == SweepResult(customers_forgotten=1, exports_written=1)
    with shop.session() as session:
        assert session.get(Customer, ALICE) is None
    assert get_request(shop, forget.id).status is DataRequestStatus.DONE
    assert get_request(shop, export.id).status is DataRequestStatus.DONE
    assert get_request(shop, export_alice.id).status is DataRequestStatus.REJECTED
    path = exports_dir(settings.data_dir) / f"{export.id}.json"
    data = json.loads(path.read_text())
    assert data["customer"]["email"] == "bob@example.com" and data["request_id"] == export.id
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    assert sweep(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir, now=clock.now) == SweepResult()


def test_self_service_deletion_is_carried_out_by_the_next_sweep(
    shop: Database, sessions: SqlSessionStore, settings: Settings
) -> None:
    queue_request(shop, customer_id=ALICE, kind="forget", privacy=PrivacySettings(self_service_deletion=True))
    result = sweep(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir)
    assert result.customers_forgotten == 1


def test_a_failing_request_stays_approved_and_the_rest_go_on(
    shop: Database, sessions: SqlSessionStore, settings: Settings
) -> None:
    export = queue_request(shop, customer_id=BOB, kind="export", privacy=PRIVACY)
    approve(shop, export.id, by="ops")
    forget = queue_request(shop, customer_id=ALICE, kind="forget", privacy=PRIVACY)
    approve(shop, forget.id, by="ops")
    exports_dir(settings.data_dir).write_text("a file where the exports directory should be")

    result = sweep(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir)

    assert (result.requests_failed, result.customers_forgotten) == (1, 1)
    assert get_request(shop, export.id).status is DataRequestStatus.APPROVED


def test_the_periodic_sweep_runs_and_survives_errors(
    shop: Database, sessions: SqlSessionStore, clock: Clock, settings: Settings
) -> None:
    anonymous_conversation(sessions)
    clock.advance(days=100)
    sweeper = PeriodicSweep(
        shop,
        sessions,
        privacy=PRIVACY,
        data_dir=settings.data_dir,
        interval_seconds=0.05,
        clock=lambda: clock.now,
    )
    sweeper.start()
    try:
        deadline = time.monotonic() + 10
        while sweeper.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sweeper.last_result is not None and sweeper.last_result.conversations_deleted == 1
        sessions.close()
        shop.dispose()
        Path(settings.sessions_url.removeprefix("sqlite:///")).unlink()  # the next sweeps fail
        (Path(settings.data_dir) / "sessions.db").mkdir()
        runs = sweeper.runs
        while sweeper.runs < runs + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sweeper.failures >= 1 and sweeper.runs >= runs + 2  # it keeps running
    finally:
        sweeper.stop()
    assert sweeper._thread is None


def test_periodic_sweep_is_off_at_zero(shop: Database, sessions: SqlSessionStore, settings: Settings) -> None:
    off = PrivacySettings(sweep_interval_seconds=0)
    assert PeriodicSweep.start_if_enabled(shop, sessions, privacy=off, data_dir=settings.data_dir) is None
    assert PeriodicSweep.start_if_enabled(shop, None, privacy=PRIVACY, data_dir=settings.data_dir) is None
    started = PeriodicSweep.start_if_enabled(shop, sessions, privacy=PRIVACY, data_dir=settings.data_dir)
    assert started is not None
    started.stop()
