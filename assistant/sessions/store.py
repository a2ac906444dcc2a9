"""Conversation sessions: the seam. Each session is an append-only event log with a per-session
lock; :class:`SessionStore` is what the engine needs of a store, and
:class:`~assistant.sessions.sql_store.SqlSessionStore` is the one implementation (SQLite by
default, PostgreSQL unchanged)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from assistant.sessions.events import Event, StoredEvent
from assistant.sessions.slots import Mode, SessionSummary
from assistant.sessions.state import SessionState
from core.errors import ShopassistError


class SessionBusyError(ShopassistError):
    """The conversation's lock was not free within the timeout (an earlier turn still runs)."""

    code = "session_busy"
    http_status = 409


class SessionLease(Protocol):
    """A held session lock."""

    @property
    def session_id(self) -> str: ...
    @property
    def lost(self) -> bool:
        """True once a renewal or the release found the lease taken by someone else."""
        ...

    def renew(self) -> bool:
        """Extend the lease by the full lease time; False if it was lost."""
        ...


class SessionStore(Protocol):
    def create(self, *, channel: str, session_id: str | None = None) -> str: ...
    def exists(self, *, session_id: str) -> bool: ...
    def append(self, *, session_id: str, events: Sequence[Event]) -> list[StoredEvent]: ...
    def events(
        self, *, session_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]: ...
    def state(self, *, session_id: str) -> SessionState: ...
    def lock(self, *, session_id: str, timeout: float) -> AbstractContextManager[SessionLease]: ...
    def list_sessions(
        self,
        *,
        mode: Mode | None = None,
        limit: int = 50,
        channel: str | None = None,
        updated_after: datetime | None = None,
    ) -> list[SessionSummary]: ...
    def sessions_of_customer(self, *, customer_id: str) -> list[str]:
        """Sessions in which ``customer_id`` was verified (a ``customer_id`` slot set to it)."""
        ...

    def idle_sessions(self, *, before: datetime, limit: int = 1000) -> list[str]:
        """Sessions whose last event is older than ``before`` (the retention sweep's work)."""
        ...

    def erase(self, *, session_id: str) -> bool:
        """Delete a session and its events: privacy only (retention); the log is otherwise
        append-only."""
        ...

    def anonymise(self, *, session_id: str) -> int:
        """Rewrite a session's events without personal data (a customer is forgotten)."""
        ...

    def checkpoint(self) -> None:
        """After erasing or anonymising: leave no earlier copy of the rows in the database's
        files (SQLite's write-ahead log); a no-op where there is none."""
        ...

    def close(self) -> None: ...
