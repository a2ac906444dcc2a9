"""``shopassist copy-store --to URL``: move a shop's store and conversations to another database
(from the embedded SQLite files to PostgreSQL), with the shop stopped."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

from assistant.sessions.schema import EVENTS, LOCKS, SESSIONS
from assistant.sessions.sql_store import SqlSessionStore
from connectors.telegram.inbox import METADATA as INBOX_METADATA
from connectors.telegram.inbox import UPDATES
from core.errors import ActionRefusedError
from shopassist.cli.console import out, progress_bar, state
from store.copy import copy_tables, refuse_non_empty, store_tables
from store.db import Database
from store.models import Base


def copy_store(
    to: Annotated[
        str, typer.Option("--to", help="Target SQLAlchemy URL, e.g. postgresql+psycopg://u@host/shop.")
    ],
    sessions_to: Annotated[
        str | None, typer.Option(help="Target of the conversations, if not the same database as --to.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Rows read and written at a time.")
    ] = 1000,
) -> None:
    """Copy the store (every table) and the conversation store (sessions, events, Telegram's
    update inbox) into new, empty databases: their schemas are created there first, and a target
    holding any row is refused. Stop the shop first; point store.url/sessions.url at the
    targets afterwards."""
    settings = state.settings()
    source = Database(settings.database_url)
    target = Database(to)
    source_sessions = SqlSessionStore(settings.sessions_url, heartbeat=False)
    target_sessions = SqlSessionStore(sessions_to or to, heartbeat=False)
    try:
        if source.current_revision() != source.head_revision():
            raise ActionRefusedError(
                "The store's schema is not at the newest revision; run `shopassist migrate` first",
                revision=source.current_revision(),
            )
        target.migrate()
        session_tables = [SESSIONS, EVENTS, LOCKS]
        if sa.inspect(source_sessions.engine).has_table(UPDATES.name):
            INBOX_METADATA.create_all(target_sessions.engine, checkfirst=True)
            session_tables.append(UPDATES)
        tables = store_tables(Base.metadata)
        refuse_non_empty(target.engine, list(Base.metadata.sorted_tables))
        refuse_non_empty(target_sessions.engine, session_tables)
        with progress_bar() as progress:
            copied = copy_tables(
                source.engine, target.engine, tables, batch_size=batch_size, progress=progress
            )
            copied |= copy_tables(
                source_sessions.engine,
                target_sessions.engine,
                session_tables,
                batch_size=batch_size,
                progress=progress,
            )
    finally:
        for database in (source, target):
            database.dispose()
        for store in (source_sessions, target_sessions):
            store.close()
    out.print(f"Copied {sum(copied.values())} rows in {len(copied)} tables:")
    for name, rows in copied.items():
        out.print(f"  {name}: {rows}")
