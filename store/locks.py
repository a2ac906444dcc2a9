"""Transaction-scoped advisory locks: one writer at a time for work that no row lock covers.

Some work must not run twice at once across processes, yet has no row to lock before it starts:
creating a schema (the tables do not exist yet), or running a confirmed tool call whose
idempotency record is only written at the end. On PostgreSQL, :func:`hold_advisory_lock` takes
``pg_advisory_xact_lock`` on a 64-bit hash of a name; a second transaction asking for the same
name waits until the first commits or rolls back, then sees what it wrote (read committed). On
SQLite it does nothing: writers are serialised by the database's write lock (a reader that
raced a writer gets ``SQLITE_BUSY_SNAPSHOT``, see :func:`is_snapshot_conflict`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))")


def hold_advisory_lock(target: sa.Connection | Session, name: str) -> None:
    """Wait for, then hold until the end of the current transaction, the lock called ``name``
    (PostgreSQL); nothing elsewhere."""
    dialect = target.get_bind().dialect if isinstance(target, Session) else target.dialect
    if dialect.name == "postgresql":
        target.execute(_LOCK, {"name": name})


def is_snapshot_conflict(exc: BaseException) -> bool:
    """SQLite refused a write because another connection committed since this transaction's
    first read (``SQLITE_BUSY_SNAPSHOT``): the whole transaction can be run again."""
    orig: Any = getattr(exc, "orig", exc)
    return str(getattr(orig, "sqlite_errorname", "")) == "SQLITE_BUSY_SNAPSHOT"
