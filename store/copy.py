"""Copying a shop's tables from one database to another: how a shop moves from the embedded
SQLite files to PostgreSQL (``shopassist copy-store``).

The target's schema is made by its owner first (Alembic for the store, the conversation store's
own versioning for conversations), so it is exactly what the code expects on that database; this
module then copies rows table by table, parents before children, in batches of ``batch_size``
read and written through the tables' SQLAlchemy definitions (so types convert: SQLite's text
datetimes, taken as the UTC they are, and JSON become PostgreSQL's). A target that already
holds rows is refused: copying into a live shop would mix two shops. On PostgreSQL, serial
primary keys' sequences are moved past the copied ids, so the next cart or order line gets a
fresh id. The catalog's change feed (``catalog_changes``, :mod:`store.changes`) is not copied:
the target's triggers write it afresh as the products and variants arrive (copying the old rows
as well collided with those new ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from core.errors import ActionRefusedError

Progress = Callable[[str, int, int], None]
"""``progress(table, rows_done, rows_total)``."""


NOT_COPIED = frozenset({"catalog_changes"})
"""Store tables the target fills by itself (by triggers) as the others are copied."""


def store_tables(metadata: sa.MetaData) -> list[sa.Table]:
    """The store's tables to copy, parents first."""
    return [table for table in metadata.sorted_tables if table.name not in NOT_COPIED]


def row_counts(engine: sa.Engine, tables: Sequence[sa.Table]) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)
            for table in tables
        }


def refuse_non_empty(engine: sa.Engine, tables: Sequence[sa.Table]) -> None:
    """Raise :class:`ActionRefusedError` naming the tables of ``engine`` that hold rows."""
    filled = {name: n for name, n in row_counts(engine, tables).items() if n}
    if filled:
        listed = ", ".join(f"{name} ({n} rows)" for name, n in sorted(filled.items()))
        raise ActionRefusedError(
            f"The target {engine.url.render_as_string(hide_password=True)} is not empty: {listed}. "
            "Copy into a new, empty database.",
            tables=sorted(filled),
        )


def copy_tables(
    source: sa.Engine,
    target: sa.Engine,
    tables: Sequence[sa.Table],
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Copy every row of ``tables`` (given parents first) from ``source`` to ``target`` in one
    target transaction, ``batch_size`` rows at a time; returns the rows copied per table."""
    totals = row_counts(source, tables)
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        for table in tables:
            done = 0
            if progress is not None:
                progress(table.name, 0, totals[table.name])
            order = list(table.primary_key.columns) or list(table.columns)
            rows = reading.execution_options(yield_per=batch_size).execute(sa.select(table).order_by(*order))
            aware = [c.name for c in table.columns if isinstance(c.type, sa.DateTime) and c.type.timezone]
            for batch in rows.mappings().partitions(batch_size):
                writing.execute(sa.insert(table), [_utc(dict(row), aware) for row in batch])
                done += len(batch)
                if progress is not None:
                    progress(table.name, done, totals[table.name])
            copied[table.name] = done
        if target.dialect.name == "postgresql":
            _advance_sequences(writing, tables)
    return copied


def _utc(row: dict[str, Any], aware: list[str]) -> dict[str, Any]:
    """SQLite hands back the UTC times it stores without their zone; PostgreSQL would read a
    naive time in its own time zone."""
    for name in aware:
        value = row[name]
        if isinstance(value, datetime) and value.tzinfo is None:
            row[name] = value.replace(tzinfo=UTC)
    return row


def _advance_sequences(conn: sa.Connection, tables: Sequence[sa.Table]) -> None:
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name, "column": column.name},
        )
