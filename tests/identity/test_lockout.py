"""FailureGuard: failed identity checks counted per key in the store, locks and their end, keys
that hold no personal data, and counts shared by workers on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from core.config.identity import AuthSettings
from identity.lockout import FailureGuard
from store.db import Database
from store.models import AuthFailure
from tests.identity.conftest import JANE, JANE_EMAIL, JOHN, SECRET, T0, Clock

LOCK = timedelta(seconds=900)


@pytest.fixture
def guard(store: Database, auth_settings: AuthSettings, clock: Clock) -> FailureGuard:
    return FailureGuard(store, auth_settings, secret=SECRET, clock=clock)


def failures(db: Database, key: str) -> int | None:
    with db.transaction() as session:
        row = session.get(AuthFailure, key)
        return None if row is None else row.failures


def test_keys_are_keyed_hashes_without_the_value(guard: FailureGuard, store: Database) -> None:
    key = guard.claim_key(JANE_EMAIL)
    assert key.startswith("claim:") and len(key) <= 96
    assert "jane" not in key.lower() and "example" not in key.lower()
    assert guard.claim_key("  Jane.Doe@EXAMPLE.com ") == key  # emails are not case sensitive
    assert guard.key("customer", JANE_EMAIL) != key  # one hash per kind
    assert guard.customer_key("cust-A") != guard.customer_key("cust-a")  # ids as the store spells them
    other = FailureGuard(store, AuthSettings(), secret=b"another secret")
    assert other.claim_key(JANE_EMAIL) != key  # without the secret, a guess cannot be tested
    guard.record_failure([key])
    with store.transaction() as session:
        (stored,) = session.query(AuthFailure).all()
    assert stored.key == key and "jane" not in repr(vars(stored)).lower()
    with pytest.raises(ValueError):
        guard.key("email", JANE_EMAIL)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        guard.client_key("  ")


def test_failures_count_then_lock(guard: FailureGuard, store: Database) -> None:
    keys = [guard.customer_key(JANE), guard.client_key("203.0.113.7")]
    assert guard.locked_until(keys) is None
    assert guard.record_failure(keys) is None
    assert guard.record_failure(keys) is None
    assert failures(store, keys[0]) == 2 and failures(store, keys[1]) == 2
    assert guard.locked_until(keys) is None
    assert guard.record_failure(keys) == T0 + LOCK  # the third of max_failures=3
    assert guard.locked_until(keys) == T0 + LOCK
    # Either key alone is locked: another client guessing at Jane, or this client at John.
    assert guard.locked_until([guard.customer_key(JANE), guard.client_key("198.51.100.1")]) == T0 + LOCK
    assert guard.locked_until([guard.customer_key(JOHN), guard.client_key("203.0.113.7")]) == T0 + LOCK
    assert guard.locked_until([guard.customer_key(JOHN)]) is None


def test_failures_older_than_the_window_start_over(
    guard: FailureGuard, clock: Clock, store: Database
) -> None:
    keys = [guard.customer_key(JANE)]
    guard.record_failure(keys)
    guard.record_failure(keys)
    clock.advance(seconds=3600)
    assert guard.record_failure(keys) is None  # a new window: 1, not 3
    assert failures(store, keys[0]) == 1
    guard.record_failure(keys)
    assert guard.record_failure(keys) == clock.now + LOCK


def test_lock_ends_after_lockout_and_is_logged_without_personal_data(
    guard: FailureGuard, clock: Clock, store: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="identity.lockout")
    keys = [guard.claim_key(JANE_EMAIL), guard.client_key("203.0.113.7")]
    for _ in range(3):
        guard.record_failure(keys)
    locked = [r for r in caplog.records if r.getMessage() == "identity checks locked"]
    assert sorted(r.key_kind for r in locked) == ["claim", "client"]  # type: ignore[attr-defined]
    assert all(len(r.key_hash) == 8 and r.key_hash in keys[0] + keys[1] for r in locked)  # type: ignore[attr-defined]

    clock.advance(seconds=899)
    assert guard.locked_until(keys) == T0 + LOCK
    clock.advance(seconds=1)
    assert guard.locked_until(keys) is None
    ended = [r for r in caplog.records if r.getMessage() == "identity check lock ended"]
    assert sorted(r.key_kind for r in ended) == ["claim", "client"]  # type: ignore[attr-defined]
    assert guard.locked_until(keys) is None
    assert len([r for r in caplog.records if r.getMessage() == "identity check lock ended"]) == 2  # once
    # After the lock the count starts over: one failure does not lock again.
    assert guard.record_failure(keys) is None
    assert failures(store, keys[0]) == 1

    for record in caplog.records:
        text = f"{record.getMessage()} {vars(record)}"
        assert "jane" not in text.lower() and "203.0.113.7" not in text


def test_an_expired_lock_met_by_a_failure_starts_a_new_count(guard: FailureGuard, clock: Clock) -> None:
    keys = [guard.customer_key(JANE)]
    for _ in range(3):
        guard.record_failure(keys)
    clock.advance(seconds=901)
    assert guard.record_failure(keys) is None  # not relocked by the old count


def test_a_failure_while_locked_does_not_extend_the_lock(guard: FailureGuard, clock: Clock) -> None:
    keys = [guard.customer_key(JANE)]
    for _ in range(3):
        guard.record_failure(keys)
    clock.advance(seconds=600)
    assert guard.record_failure(keys) == T0 + LOCK
    assert guard.locked_until(keys) == T0 + LOCK


def test_latest_lock_among_keys(guard: FailureGuard, clock: Clock) -> None:
    jane, client = guard.customer_key(JANE), guard.client_key("203.0.113.7")
    for _ in range(3):
        guard.record_failure([jane])
    clock.advance(seconds=60)
    for _ in range(3):
        guard.record_failure([client])
    assert guard.locked_until([jane, client]) == T0 + timedelta(seconds=60) + LOCK


def test_success_clears_the_customer_but_not_the_client(guard: FailureGuard, store: Database) -> None:
    jane, john, client = guard.customer_key(JANE), guard.customer_key(JOHN), guard.client_key("203.0.113.7")
    guard.record_failure([john, client])
    guard.record_failure([john, client])
    guard.record_success([jane, client])  # the client verifies its own account between guesses
    assert failures(store, client) == 2
    assert guard.record_failure([john, client]) == T0 + LOCK  # the third guess still locks
    guard.record_success([john, client])
    assert failures(store, john) is None  # John verified: his count is gone
    assert guard.locked_until([john]) is None
    assert guard.locked_until([client]) == T0 + LOCK


def test_prune_deletes_only_counts_that_no_longer_count(
    guard: FailureGuard, clock: Clock, store: Database
) -> None:
    jane, john = guard.customer_key(JANE), guard.customer_key(JOHN)
    guard.record_failure([jane])
    for _ in range(3):
        guard.record_failure([john])
    clock.advance(seconds=600)
    assert guard.prune() == 0
    clock.advance(seconds=3000)  # window over for both; John's lock ended too
    assert guard.prune() == 2
    assert failures(store, jane) is None and failures(store, john) is None


# Several workers ----------------------------------------------------------------------------
def test_two_workers_share_counts_and_locks(
    shared_url: str, make_databases: Callable[[str], Database], auth_settings: AuthSettings, clock: Clock
) -> None:
    first = FailureGuard(make_databases(shared_url), auth_settings, secret=SECRET, clock=clock)
    second = FailureGuard(make_databases(shared_url), auth_settings, secret=SECRET, clock=clock)
    keys = [first.customer_key(JANE), first.client_key("203.0.113.7")]
    assert second.customer_key(JANE) == keys[0]  # the same secret gives the same keys
    assert first.record_failure(keys) is None
    assert second.record_failure(keys) is None
    assert first.record_failure(keys) == T0 + LOCK
    assert second.locked_until(keys) == T0 + LOCK
    clock.advance(seconds=900)
    assert second.locked_until(keys) is None
    assert first.locked_until(keys) is None


def test_concurrent_failures_are_all_counted(
    shared_url: str, make_databases: Callable[[str], Database]
) -> None:
    settings = AuthSettings(max_failures=100)
    guards = [FailureGuard(make_databases(shared_url), settings, secret=SECRET) for _ in range(2)]
    keys = [guards[0].customer_key(JANE), guards[0].client_key("203.0.113.7")]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(guard: FailureGuard) -> None:
        try:
            start.wait()
            for _ in range(5):
                guard.record_failure(keys)
        except BaseException as exc:  # reported below, with the count
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(guards[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    db = guards[0]._db
    assert failures(db, keys[0]) == 40 and failures(db, keys[1]) == 40
