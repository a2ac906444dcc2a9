"""Locks that make a read-then-write transaction safe across processes, where no row lock can.

Some work must not run twice at once, yet has no row to lock before it starts: creating a schema
(the tables do not exist yet), or a confirmed tool call whose idempotency record is only written
at its end. Two helpers, each doing its part on one database and nothing on the other:

- :func:`hold_advisory_lock` (PostgreSQL): ``pg_advisory_xact_lock`` on a 64-bit hash of a name,
  held to the end of the transaction; a second transaction asking for the same name waits until
  the first commits, then (read committed) sees what it wrote.
- :func:`begin_writing` (SQLite): the transaction starts with ``BEGIN IMMEDIATE``, taking the
  database's write lock before its first read. Python's sqlite3 otherwise starts a transaction
  only at the first write, so the reads before it (is there a record? is there stock?) could
  see a state another process changes before the write.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))")


def _dialect(target: sa.Connection | Session) -> str:
    return str((target.get_bind() if isinstance(target, Session) else target).dialect.name)


def hold_advisory_lock(target: sa.Connection | Session, name: str) -> None:
    """Wait for, then hold until the end of the current transaction, the lock called ``name``
    (PostgreSQL); nothing elsewhere."""
    if _dialect(target) == "postgresql":
        target.execute(_LOCK, {"name": name})


def begin_writing(session: Session) -> None:
    """SQLite: begin the session's transaction holding the write lock (waiting for it up to the
    busy timeout). Must come before the transaction's first statement. Nothing elsewhere."""
    if _dialect(session) == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
