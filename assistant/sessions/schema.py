"""The conversation store's tables (its own schema, versioned in-table, migrated at open)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

SCHEMA_VERSION = 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


METADATA = sa.MetaData()
SCHEMA_TABLE = sa.Table(
    "conversation_schema_version",
    METADATA,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at_us", sa.BigInteger, nullable=False),
)
SESSIONS = sa.Table(
    "conversation_sessions",
    METADATA,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=True),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_conversation_sessions_mode_updated", "mode", "updated_at_us"),
)
CHANNEL_INDEX = sa.Index(
    "ix_conversation_sessions_channel_updated", SESSIONS.c.channel, SESSIONS.c.updated_at_us
)
EVENTS = sa.Table(
    "conversation_events",
    METADATA,
    sa.Column("session_id", sa.String(128), sa.ForeignKey(SESSIONS.c.session_id), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)
LOCKS = sa.Table(
    "conversation_locks",
    METADATA,
    sa.Column("session_id", sa.String(128), sa.ForeignKey(SESSIONS.c.session_id), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("expires_at_us", sa.BigInteger, nullable=False),
)


def _create_v1(conn: sa.Connection) -> None:
    # When a later version changes these tables, freeze their version-1 definitions here.
    METADATA.create_all(conn, tables=[SESSIONS, EVENTS, LOCKS], checkfirst=True)


def _channel_index_v2(conn: sa.Connection) -> None:
    # Channels (Telegram's agent-message delivery) ask "my sessions changed since T".
    CHANNEL_INDEX.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _create_v1, 2: _channel_index_v2}


def from_us(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Erased and anonymised conversations leave no old text in free space (privacy).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
