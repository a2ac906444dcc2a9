"""Bounded guessing of identity facts, across conversations, restarts and workers.

Two failures hand one conversation to a person, but a new conversation used to start fresh, so
zip codes could be guessed one conversation at a time. :class:`FailureGuard` counts failed
identity checks in the store under keys for what was guessed at (the customer, or the email
or name claimed when no customer matched) and for who guessed (the client: an IP address, a
Telegram chat). After ``auth.max_failures`` failures inside ``auth.failure_window_seconds`` a
key is locked for ``auth.lockout_seconds`` and every check that involves it is refused,
whatever the conversation.

Keys are keyed hashes (``customer:<hmac>``), so the table holds no email, name or address, and
nobody who reads it can test a guess against it without the policy secret.

A success clears the counters of the customer and of the claim, never the client's: otherwise a
client could guess at someone else's zip code four times, verify its own account, and guess
four more. The client's count only ends with its window or its lockout.

Concurrency: every write transaction starts with a write (an ``INSERT ... ON CONFLICT DO
NOTHING`` that makes sure the row exists), then reads the row ``FOR UPDATE``. On PostgreSQL
that row lock serialises workers; on SQLite the first write takes the database's write lock
before anything is read, so no worker counts from a stale snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.config.identity import AuthSettings
from identity.hashing import derive_key, keyed_hash
from store.db import Database
from store.models import AuthFailure, as_utc

log = logging.getLogger(__name__)

KeyKind = Literal["customer", "claim", "client"]
"""customer: a customer of the store (their id); claim: what someone claimed to be when no
customer matched (an email, a full name), so unknown identities are bounded too; client: who
is asking (an IP address, a chat id)."""
KEY_KINDS: tuple[str, ...] = get_args(KeyKind)
HASH_CHARS = 32
"""128 bits of the HMAC: no collisions in practice, and ``client:`` + 32 fits the 96-char key."""
LOG_PREFIX_CHARS = 8
"""How much of a key's hash a log line shows: enough to follow one key, too little to test guesses."""


def _now() -> datetime:
    return datetime.now(UTC)


def _log_fields(key: str) -> dict[str, str]:
    kind, _, digest = key.partition(":")
    return {"key_kind": kind, "key_hash": digest[:LOG_PREFIX_CHARS]}


class FailureGuard:
    """Counts failed identity checks per key and locks a key after too many.

    Usage in a check: ``keys = [guard.customer_key(id), guard.client_key(ip)]``; refuse when
    ``guard.locked_until(keys)`` is set; on a wrong fact ``guard.record_failure(keys)`` (which
    returns the lock, if this failure caused or met one); on success ``guard.record_success(keys)``.
    """

    def __init__(
        self,
        db: Database,
        settings: AuthSettings,
        *,
        secret: bytes,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._key = derive_key(secret, "auth-failure-keys")
        self._clock = clock or _now

    def _now(self) -> datetime:
        """The clock's time in UTC: SQLite stores datetimes without their offset."""
        return as_utc(self._clock()).astimezone(UTC)

    # Keys ----------------------------------------------------------------------------------
    def key(self, kind: KeyKind, value: str) -> str:
        """``<kind>:<keyed hash>`` of ``value`` with its spaces trimmed; claims and clients are
        also case-folded ("Jane.Doe@Example.com" and "jane doe" must count with their lower-case
        forms), customer ids are kept as the store spells them."""
        if kind not in KEY_KINDS:
            raise ValueError(f"unknown key kind {kind!r}; expected one of {', '.join(KEY_KINDS)}")
        normal = " ".join(value.split())
        if kind != "customer":
            normal = normal.casefold()
        if not normal:
            raise ValueError(f"cannot key an empty {kind}")
        return f"{kind}:{keyed_hash(self._key, kind, normal)[:HASH_CHARS]}"

    def customer_key(self, customer_id: str) -> str:
        return self.key("customer", customer_id)

    def claim_key(self, claimed: str) -> str:
        """Key of a claimed identity that matched no customer (an email, a full name): the
        failure counts all the same, and the reply cannot tell the two cases apart."""
        return self.key("claim", claimed)

    def client_key(self, client: str) -> str:
        return self.key("client", client)

    # Checks --------------------------------------------------------------------------------
    def locked_until(self, keys: Iterable[str]) -> datetime | None:
        """The latest active lock among ``keys``, or None when checks may go ahead.

        A lock found expired is removed here (and logged once, by whichever worker removes it),
        so the key starts counting from zero again.
        """
        wanted = sorted(set(keys))
        if not wanted:
            return None
        now = self._now()
        with self._db.transaction() as session:
            rows = session.execute(
                select(AuthFailure.key, AuthFailure.locked_until).where(
                    AuthFailure.key.in_(wanted), AuthFailure.locked_until.is_not(None)
                )
            ).all()
        active = [as_utc(until) for _, until in rows if until is not None and as_utc(until) > now]
        ended = [key for key, until in rows if until is not None and as_utc(until) <= now]
        if ended:
            with self._db.transaction() as session:
                for key in ended:
                    self._end_lock(session, key, now)
        return max(active, default=None)

    def record_failure(self, keys: Iterable[str]) -> datetime | None:
        """Count one failed check on each key; returns the latest lock now active among them
        (set by this failure or already there), or None.

        A count whose first failure is older than ``failure_window_seconds`` starts over. At
        ``max_failures`` the key is locked until now + ``lockout_seconds``. A failure on a key
        that is already locked does not extend the lock.
        """
        wanted = sorted(set(keys))  # one order for every worker: no deadlocks on PostgreSQL
        now = self._now()
        window = timedelta(seconds=self._settings.failure_window_seconds)
        latest: datetime | None = None
        with self._db.transaction() as session:
            for key in wanted:
                self._ensure_row(session, key, now)
                row = session.scalars(
                    select(AuthFailure).where(AuthFailure.key == key).with_for_update()
                ).one()
                until = as_utc(row.locked_until) if row.locked_until is not None else None
                if until is not None and until <= now:
                    log.info("identity check lock ended", extra=_log_fields(key))
                    row.locked_until, row.failures, row.first_failed_at = None, 0, now
                    until = None
                elif until is None and as_utc(row.first_failed_at) <= now - window:
                    row.failures, row.first_failed_at = 0, now
                row.failures += 1
                if until is None and row.failures >= self._settings.max_failures:
                    until = now + timedelta(seconds=self._settings.lockout_seconds)
                    row.locked_until = until
                    log.warning(
                        "identity checks locked",
                        extra={
                            **_log_fields(key),
                            "failures": row.failures,
                            "locked_until": until.isoformat(),
                        },
                    )
                if until is not None and (latest is None or until > latest):
                    latest = until
        return latest

    def record_success(self, keys: Iterable[str]) -> None:
        """A check passed: clear the counters of the customer and claim keys among ``keys``.

        Client keys are left as they are, on purpose: a client that could clear its own count by
        verifying its own account between guesses would have no bound at all.
        """
        cleared = sorted({key for key in keys if not key.startswith("client:")})
        if not cleared:
            return
        with self._db.transaction() as session:
            session.execute(delete(AuthFailure).where(AuthFailure.key.in_(cleared)))

    def prune(self) -> int:
        """Delete counters that no longer count (window over, no active lock); returns how many.
        For a periodic sweep: the table otherwise keeps one row per key ever guessed at."""
        now = self._now()
        oldest = now - timedelta(seconds=self._settings.failure_window_seconds)
        with self._db.transaction() as session:
            result: Any = session.execute(
                delete(AuthFailure).where(
                    AuthFailure.first_failed_at <= oldest,
                    (AuthFailure.locked_until.is_(None)) | (AuthFailure.locked_until <= now),
                )
            )
            return int(result.rowcount or 0)

    # Internals -----------------------------------------------------------------------------
    def _ensure_row(self, session: Session, key: str, now: datetime) -> None:
        """Insert the key's row unless it exists, without failing when another worker just did
        (on SQLite and PostgreSQL; elsewhere a locking read, then a plain insert that may still
        race)."""
        values = {"key": key, "failures": 0, "first_failed_at": now, "locked_until": None}
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(postgresql.insert(AuthFailure).values(**values).on_conflict_do_nothing())
        elif dialect == "sqlite":
            session.execute(sqlite.insert(AuthFailure).values(**values).on_conflict_do_nothing())
        elif session.get(AuthFailure, key, with_for_update=True) is None:
            session.execute(insert(AuthFailure).values(**values))

    def _end_lock(self, session: Session, key: str, now: datetime) -> None:
        """Remove an expired lock; only the worker whose delete matched logs its end."""
        result: Any = session.execute(
            delete(AuthFailure).where(
                AuthFailure.key == key,
                AuthFailure.locked_until.is_not(None),
                AuthFailure.locked_until <= now,
            )
        )
        if result.rowcount:
            log.info("identity check lock ended", extra=_log_fields(key))
