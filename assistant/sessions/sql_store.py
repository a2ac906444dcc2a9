"""The SQL conversation store: an append-only event log per session, and a per-session lock.

:class:`SqlSessionStore` implements :class:`~assistant.sessions.store.SessionStore`; it keeps sessions in a
SQL database of their own (SQLite by default, ``Settings.sessions_url``; PostgreSQL works
unchanged: portable SQL only, times as integer microseconds since the epoch).

- ``append`` is atomic: one transaction bumps the session's ``last_seq`` (an UPDATE first, so
  concurrent appends queue on the row, or on SQLite's write lock) and inserts the events with
  the next sequence numbers, so ``seq`` is gapless and a failed append leaves nothing behind.
  SQLite runs in WAL mode with ``synchronous=FULL``: a committed event survives a crash.
- State is folded from the events; :meth:`SqlSessionStore.state` continues the fold from an
  in-memory snapshot (see :class:`assistant.sessions.state.SnapshotCache` for the measurements).
- The session row's ``mode``, ``customer_id`` and ``updated_at`` are a listing index written
  in the same transaction as the events (derived, never read back into state).
- ``lock`` orders whole turns: a lease row (owner, expiry) taken with one atomic UPDATE that
  only matches a free or expired lease. While it is held, the store's heartbeat
  (:class:`~assistant.sessions.lease.LeaseKeeper`) renews it every third of ``lease_seconds``;
  it is released on exit. A crashed holder's lease runs out within ``lease_seconds`` (6 s by
  default), and the next turn takes it over.
  Waiters in the same process queue on a thread lock first, so only one polls the database.
  Lease expiry compares wall clocks, so hosts sharing a database need clocks far closer than
  the lease (NTP). Waiters are served in no particular order.
- After an append commits, the store tells its append listeners (``add_append_listener``: the
  notification bus, :mod:`assistant.sessions.notify`) the session and its last ``seq``; this
  is the one place events are appended, so every writer (turns, agents, sign-ins) is heard.
- The schema (:mod:`assistant.sessions.schema`) is created or upgraded at open, in one
  transaction; on PostgreSQL under an advisory lock, so processes starting together do not race.
- Privacy is the one exception to append-only: ``erase`` (the retention sweep) and
  ``anonymise`` (a forgotten customer, :mod:`assistant.sessions.erasure`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from assistant.sessions.erasure import anonymised
from assistant.sessions.events import EVENT_ADAPTER, Event, ModeChange, SlotSet, StoredEvent, parse_event
from assistant.sessions.lease import LeaseKeeper, LocalLocks, SqlLease, claim
from assistant.sessions.schema import (
    EVENTS,
    LOCKS,
    MIGRATIONS,
    SCHEMA_TABLE,
    SCHEMA_VERSION,
    SESSIONS,
    from_us,
    sqlite_pragmas,
)
from assistant.sessions.slots import Mode, SessionSummary, SlotName, validate_channel, validate_session_id
from assistant.sessions.state import SessionState, SnapshotCache, fold
from assistant.sessions.store import SessionBusyError
from core.errors import (
    ActionRefusedError,
    ConfigError,
    InvalidArgumentsError,
    NotFoundError,
)
from core.files import private_sqlite
from store.failures import translate_storage_errors
from store.locks import hold_advisory_lock

if TYPE_CHECKING:
    from core.config import Settings

log = logging.getLogger(__name__)
SCHEMA_LOCK = "shopassist:sessions:schema"


class AppendListener(Protocol):
    def __call__(self, *, session_id: str, seq: int) -> None: ...


class SqlSessionStore:
    """The :class:`SessionStore` on SQLAlchemy 2: SQLite file by default, or PostgreSQL."""

    def __init__(
        self,
        url: str,
        *,
        lease_seconds: float = 6.0,
        heartbeat: bool = True,
        echo: bool = False,
        clock: Callable[[], float] = time.time,
        snapshot_cache: int = 1024,
    ) -> None:
        """``clock`` gives seconds since the epoch (event times and lease expiry);
        ``snapshot_cache`` is how many sessions' folded states to keep in memory (0: none);
        ``heartbeat``: renew held leases every third of ``lease_seconds`` (off: a holder renews
        by hand, as a test of a stalled holder needs)."""
        if not lease_seconds > 0:
            raise InvalidArgumentsError("lease_seconds must be positive", lease_seconds=lease_seconds)
        parsed = sa.make_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        sqlite = parsed.get_backend_name() == "sqlite"
        if sqlite:
            if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
                raise ConfigError(
                    f"Session store {url!r}: an in-memory SQLite database cannot be shared between "
                    "threads and processes; use a file (sqlite:////path/sessions.db)",
                    key="sessions.url",
                )
            private_sqlite(url)  # the file 0600 in a 0700 directory, when created here
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.url = url
        self.lease_us = round(lease_seconds * 1_000_000)
        self._clock = clock
        self.engine = translate_storage_errors(sa.create_engine(url, **kwargs), what="sessions")
        if sqlite:
            sa.event.listen(self.engine, "connect", sqlite_pragmas)
        self._local = LocalLocks()
        self._keeper = LeaseKeeper(self, lease_seconds / 3) if heartbeat else None
        self._snapshots = SnapshotCache(snapshot_cache)
        self._append_listeners: list[AppendListener] = []
        self._ensure_schema()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> SqlSessionStore:
        kwargs.setdefault("lease_seconds", settings.sessions.lease_seconds)
        return cls(settings.sessions_url, **kwargs)

    def add_append_listener(self, listener: AppendListener) -> None:
        """Call ``listener(session_id=..., seq=...)`` after every committed append (seq: the
        last event's). A listener must not raise; one that does is logged and skipped."""
        self._append_listeners.append(listener)

    def now_us(self) -> int:
        return round(self._clock() * 1_000_000)

    # Schema -------------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(SCHEMA_TABLE.c.version))).scalar() or 0)

    def _ensure_schema(self) -> None:
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    # PostgreSQL: one process at a time creates or upgrades the schema (its DDL
                    # is transactional); SQLite: a race is retried below.
                    hold_advisory_lock(conn, SCHEMA_LOCK)
                    SCHEMA_TABLE.create(conn, checkfirst=True)
                    current = int(conn.execute(sa.select(sa.func.max(SCHEMA_TABLE.c.version))).scalar() or 0)
                    if current > SCHEMA_VERSION:
                        raise ConfigError(
                            f"The session database {self.engine.url!r} has schema version {current}, "
                            f"newer than this Shopassist understands ({SCHEMA_VERSION}). Upgrade "
                            "Shopassist, or point sessions.url at another database.",
                            key="sessions.url",
                            found=current,
                            supported=SCHEMA_VERSION,
                        )
                    for version in range(current + 1, SCHEMA_VERSION + 1):
                        MIGRATIONS[version](conn)
                        row = {"version": version, "applied_at_us": self.now_us()}
                        conn.execute(sa.insert(SCHEMA_TABLE).values(**row))
                        log.info("session schema created", extra={"schema_version": version})
                return
            except DBAPIError:  # another process created the schema at the same moment
                if attempt == 2:
                    raise
                time.sleep(0.05)

    # Sessions -----------------------------------------------------------------------------
    def create(self, *, channel: str, session_id: str | None = None) -> str:
        """Start a session (in ``bot`` mode); returns its id, a new uuid unless given."""
        channel = validate_channel(channel)
        sid = uuid.uuid4().hex if session_id is None else validate_session_id(session_id)
        now = self.now_us()
        row = {"session_id": sid, "channel": channel, "mode": Mode.BOT.value, "customer_id": None}
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(SESSIONS).values(**row, last_seq=0, created_at_us=now, updated_at_us=now)
                )
                conn.execute(sa.insert(LOCKS).values(session_id=sid, owner=None, expires_at_us=0))
        except IntegrityError as exc:
            raise ActionRefusedError(f"Session {sid!r} already exists", session_id=sid) from exc
        return sid

    def exists(self, *, session_id: str) -> bool:
        sid = validate_session_id(session_id)
        with self.engine.connect() as conn:
            return self._exists(conn, sid)

    @staticmethod
    def _exists(conn: sa.Connection, sid: str) -> bool:
        query = sa.select(SESSIONS.c.session_id).where(SESSIONS.c.session_id == sid)
        return conn.execute(query).first() is not None

    @staticmethod
    def _unknown(sid: str) -> NotFoundError:
        return NotFoundError(f"Unknown session {sid!r}", session_id=sid)

    def list_sessions(
        self,
        *,
        mode: Mode | None = None,
        limit: int = 50,
        channel: str | None = None,
        updated_after: datetime | None = None,
    ) -> list[SessionSummary]:
        """Sessions by most recent activity first, optionally only those in ``mode``, on
        ``channel``, or with activity after ``updated_after``."""
        if not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise InvalidArgumentsError("limit must be between 1 and 10000", limit=limit)
        query = sa.select(SESSIONS).order_by(SESSIONS.c.updated_at_us.desc(), SESSIONS.c.session_id)
        if mode is not None:
            query = query.where(SESSIONS.c.mode == Mode(mode).value)
        if channel is not None:
            query = query.where(SESSIONS.c.channel == validate_channel(channel))
        if updated_after is not None:
            query = query.where(SESSIONS.c.updated_at_us > round(updated_after.timestamp() * 1_000_000))
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [
            SessionSummary(
                session_id=row.session_id,
                channel=row.channel,
                mode=Mode(row.mode),
                customer_id=row.customer_id,
                created_at=from_us(row.created_at_us),
                updated_at=from_us(row.updated_at_us),
                last_seq=row.last_seq,
            )
            for row in rows
        ]

    # Events -------------------------------------------------------------------------------
    def append(self, *, session_id: str, events: Sequence[Event]) -> list[StoredEvent]:
        """Record ``events`` in order, all or none; returns them with their ``seq``, id and time."""
        sid = validate_session_id(session_id)
        batch = [EVENT_ADAPTER.validate_python(item) for item in events]
        if not batch:
            return []
        now = self.now_us()
        listing: dict[str, Any] = {"last_seq": SESSIONS.c.last_seq + len(batch), "updated_at_us": now}
        for item in batch:
            if isinstance(item, ModeChange):
                listing["mode"] = item.mode.value
            elif isinstance(item, SlotSet) and item.name is SlotName.CUSTOMER_ID:
                listing["customer_id"] = item.value
        this_session = SESSIONS.c.session_id == sid
        with self.engine.begin() as conn:
            if conn.execute(sa.update(SESSIONS).where(this_session).values(**listing)).rowcount != 1:
                raise self._unknown(sid)
            first = (
                conn.execute(sa.select(SESSIONS.c.last_seq).where(this_session)).scalar_one() - len(batch) + 1
            )
            # Validated above: build without validating again.
            stored = [
                StoredEvent.model_construct(
                    session_id=sid, seq=first + i, id=uuid.uuid4(), at=from_us(now), event=item
                )
                for i, item in enumerate(batch)
            ]
            rows = [
                {"session_id": sid, "seq": item.seq, "id": str(item.id), "at_us": now, "type": item.type}
                | {"payload": item.event.model_dump_json()}
                for item in stored
            ]
            conn.execute(sa.insert(EVENTS), rows)
        for listener in self._append_listeners:
            try:
                listener(session_id=sid, seq=stored[-1].seq)
            except Exception:
                log.exception("append listener failed", extra={"session_id": sid})
        return stored

    def events(self, *, session_id: str, after_seq: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """The session's events with ``seq`` above ``after_seq``, oldest first, at most ``limit``."""
        sid = validate_session_id(session_id)
        if not isinstance(after_seq, int) or after_seq < 0:
            raise InvalidArgumentsError("after_seq must be a non-negative integer", after_seq=after_seq)
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise InvalidArgumentsError("limit must be a positive integer", limit=limit)
        query = sa.select(EVENTS).where(EVENTS.c.session_id == sid, EVENTS.c.seq > after_seq)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(EVENTS.c.seq).limit(limit)).all()
            if not rows and not self._exists(conn, sid):
                raise self._unknown(sid)
        # Rows were validated on the way in; only the payload needs parsing.
        return [
            StoredEvent.model_construct(
                session_id=row.session_id,
                seq=row.seq,
                id=uuid.UUID(row.id),
                at=from_us(row.at_us),
                event=parse_event(row.payload),
            )
            for row in rows
        ]

    def state(self, *, session_id: str) -> SessionState:
        """The session's state: the cached fold continued with the events appended since."""
        sid = validate_session_id(session_id)
        start = self._snapshots.get(sid) or SessionState(session_id=sid)
        state = fold(self.events(session_id=sid, after_seq=start.last_seq), start)
        self._snapshots.put(state)
        return state

    # Privacy ------------------------------------------------------------------------------
    def sessions_of_customer(self, *, customer_id: str) -> list[str]:
        """Ids of the sessions in which ``customer_id`` was verified at some point (a ``slot_set``
        of ``customer_id`` to it), oldest first: a later reset or another customer in the same
        conversation does not hide it, which the listing column alone would."""
        if not isinstance(customer_id, str) or not customer_id:
            raise InvalidArgumentsError("customer_id must be a non-empty string", customer_id=customer_id)
        # A cheap textual preselection (the id as it appears inside JSON), then the parsed
        # event decides.
        needle = json.dumps(customer_id, ensure_ascii=False)[1:-1]
        query = sa.select(EVENTS.c.session_id, EVENTS.c.payload).where(
            EVENTS.c.type == "slot_set", EVENTS.c.payload.contains(needle, autoescape=True)
        )
        found: set[str] = set()
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                event = parse_event(row.payload)
                if (
                    isinstance(event, SlotSet)
                    and event.name is SlotName.CUSTOMER_ID
                    and event.value == customer_id
                ):
                    found.add(row.session_id)
            listed = sa.select(SESSIONS.c.session_id).where(SESSIONS.c.customer_id == customer_id)
            found.update(conn.execute(listed).scalars())
            if not found:
                return []
            ordered = sa.select(SESSIONS.c.session_id).where(SESSIONS.c.session_id.in_(found))
            return list(
                conn.execute(ordered.order_by(SESSIONS.c.created_at_us, SESSIONS.c.session_id)).scalars()
            )

    def idle_sessions(self, *, before: datetime, limit: int = 1000) -> list[str]:
        """Ids of sessions whose last event (or creation) is older than ``before``, oldest first:
        what the retention sweep removes."""
        if not isinstance(limit, int) or not 1 <= limit <= 100_000:
            raise InvalidArgumentsError("limit must be between 1 and 100000", limit=limit)
        cutoff = round(before.timestamp() * 1_000_000)
        query = (
            sa.select(SESSIONS.c.session_id)
            .where(SESSIONS.c.updated_at_us < cutoff)
            .order_by(SESSIONS.c.updated_at_us, SESSIONS.c.session_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def erase(self, *, session_id: str) -> bool:
        """Delete the session with its events and lock, for privacy only (the retention sweep):
        the log is otherwise append-only. False if there was no such session."""
        sid = validate_session_id(session_id)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(EVENTS).where(EVENTS.c.session_id == sid))
            conn.execute(sa.delete(LOCKS).where(LOCKS.c.session_id == sid))
            gone = conn.execute(sa.delete(SESSIONS).where(SESSIONS.c.session_id == sid)).rowcount == 1
        self._snapshots.drop(sid)
        return gone

    def anonymise(self, *, session_id: str) -> int:
        """Rewrite the session's events without personal data (:func:`anonymised`) and clear its
        listed customer, for a customer's right to be forgotten, the one exception to the
        append-only log. Sequence numbers, times and event types stay. Returns the events
        changed (0 the second time). A snapshot another process holds in memory keeps the old
        state until it is evicted or that process restarts."""
        sid = validate_session_id(session_id)
        changed = 0
        with self.engine.begin() as conn:
            if not self._exists(conn, sid):
                raise self._unknown(sid)
            rows = conn.execute(sa.select(EVENTS.c.seq, EVENTS.c.payload).where(EVENTS.c.session_id == sid))
            for row in rows.all():
                payload = anonymised(parse_event(row.payload)).model_dump_json()
                if payload != row.payload:
                    this = sa.and_(EVENTS.c.session_id == sid, EVENTS.c.seq == row.seq)
                    conn.execute(sa.update(EVENTS).where(this).values(payload=payload))
                    changed += 1
            conn.execute(sa.update(SESSIONS).where(SESSIONS.c.session_id == sid).values(customer_id=None))
        self._snapshots.drop(sid)
        return changed

    # Locking ------------------------------------------------------------------------------
    @contextmanager
    def lock(self, *, session_id: str, timeout: float) -> Iterator[SqlLease]:
        """Hold the session's lock for one turn; :class:`SessionBusyError` after ``timeout`` s."""
        sid = validate_session_id(session_id)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
            raise InvalidArgumentsError("timeout must be a non-negative number of seconds", timeout=timeout)
        deadline = time.monotonic() + timeout
        with self._local.hold(sid, timeout) as held_here:
            if not held_here:
                raise self._busy(sid, timeout)
            lease = self._acquire(sid, deadline, timeout)
            if self._keeper is not None:
                self._keeper.add(lease)
            try:
                yield lease
            finally:
                if self._keeper is not None:
                    self._keeper.discard(lease)  # before the release: a beat must not see it go
                lease.release()

    @staticmethod
    def _busy(sid: str, timeout: float) -> SessionBusyError:
        return SessionBusyError(
            f"Conversation {sid!r} is busy: an earlier message is still being processed "
            f"(waited {timeout:g} s)",
            session_id=sid,
            timeout=timeout,
        )

    def _acquire(self, sid: str, deadline: float, timeout: float) -> SqlLease:
        if not self.exists(session_id=sid):  # the lock row is INSERTed with the session
            raise self._unknown(sid)
        lease = claim(self, sid, deadline)
        if lease is None:
            raise self._busy(sid, timeout)
        return lease

    def checkpoint(self) -> None:
        """SQLite: fold the write-ahead log into the database file and truncate it, so page
        images from before an erase or anonymisation do not linger in it (with
        ``secure_delete`` on, the database file keeps none either). Best effort: a reader still
        on an old snapshot can keep part of the log. Nothing for other databases."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if self._keeper is not None:
            self._keeper.close()
        self.engine.dispose()
