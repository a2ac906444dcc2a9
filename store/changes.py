"""The catalog change feed: which products changed, read from the shared store by every process.

Several processes (servers, a Telegram bot, an import) may write one store; each keeps its own
search index. Database triggers (migration 0005) add a ``catalog_changes`` row naming the product
for every written row of ``products`` or ``variants``, in the writing transaction, so no writer
(ORM, bulk statement, importer, cascade, plain SQL) is missed and a rolled-back write leaves no
row. A deletion is a row too: the reader finds the product gone from the store.

Why a sequence and not an ``updated_at`` cursor: a timestamp is taken when a transaction writes,
not when it commits, so a reader that moved its cursor past a later timestamp can miss a row
committed late with an earlier one. A sequence has the same problem on PostgreSQL (``nextval``
is taken at the write, concurrent transactions commit in any order), so :class:`ChangeFeed` does
not only read on from the highest ``seq`` it applied: a ``seq`` missing below that (a *gap*) is
read again on every poll until it is known to be final:

- on PostgreSQL a gap belongs to a transaction that was running when it was seen, or that rolled
  back. When the gap is first seen the reader notes ``pg_snapshot_xmax`` of a snapshot taken
  after its read (every transaction running then has a smaller id); once a later read starts
  from a snapshot whose ``xmin`` (oldest running transaction) is at least that, the transaction
  has ended, and a gap still missing from that read will never fill. No timeout, no overlap
  window to tune: the rows after a long transaction are applied as they come, and its own
  rows at the first poll after it commits.
- on SQLite one writer holds the database from its first write to its commit and a rolled-back
  ``AUTOINCREMENT`` gives its numbers back, so rows become visible in ``seq`` order and a gap
  is final at once.

A process starts following from the rows older than ``start_margin`` (by the database's clock):
the index's own start-up sync covered those, and the rows after are read again (re-indexing an
unchanged product writes nothing); only a catalog transaction open longer than the margin when
the process starts could slip between the two. Rows older than the retention are deleted by any follower;
a process stopped longer catches up at start from the store itself (the index sync).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, select, text

from store.db import Database
from store.models import CatalogChange

NO_RUNNING_WRITER = math.inf  # SQLite: rows are visible in seq order; a gap never fills later


@dataclass(frozen=True)
class ChangeBatch:
    """What one read found: the products of the rows not applied yet, and what the feed needs to
    move on once they are applied (:meth:`ChangeFeed.advance`)."""

    product_ids: frozenset[str]
    seqs: frozenset[int]  # the rows read: new ones and gaps that filled
    missing: frozenset[int]  # seqs of pending gaps and new gaps that this read did not find
    xmin: float  # oldest transaction still running when the read began (PostgreSQL)
    horizon: float  # every transaction running during the read has a smaller id
    last: int  # highest seq read (``ChangeFeed.last`` when there was nothing new)
    more: bool = False  # the read stopped at ``batch_size``: more rows are waiting


@dataclass
class ChangeFeed:
    """Reads ``catalog_changes`` in ``seq`` order without missing late commits (see the module)."""

    database: Database
    batch_size: int = 5000
    last: int = 0  # the highest seq read and applied
    gaps: dict[int, float] = field(default_factory=dict)  # seq below ``last`` -> horizon when first missing

    @classmethod
    def start(cls, database: Database, *, start_margin: timedelta = timedelta(minutes=1)) -> ChangeFeed:
        """A feed that starts after the rows written more than ``start_margin`` ago."""
        with database.engine.connect() as conn:
            cutoff = _database_now(conn) - start_margin
            last = conn.scalar(select(func.max(CatalogChange.seq)).where(CatalogChange.changed_at < cutoff))
        return cls(database, last=int(last or 0))

    @property
    def cursor(self) -> int:
        """Every row with a seq up to this is applied, or is a gap that will never fill."""
        return min(self.gaps, default=self.last + 1) - 1

    @property
    def _postgres(self) -> bool:
        return self.database.engine.dialect.name == "postgresql"

    def read(self) -> ChangeBatch:
        """The rows after ``last`` (at most ``batch_size``) and those of pending gaps that filled;
        changes nothing."""
        columns = select(CatalogChange.seq, CatalogChange.product_id)
        pending = sorted(self.gaps)
        with self.database.engine.connect() as conn:
            xmin = self._snapshot(conn, "pg_snapshot_xmin") if self._postgres else NO_RUNNING_WRITER
            rows = list(
                conn.execute(
                    columns.where(CatalogChange.seq > self.last)
                    .order_by(CatalogChange.seq)
                    .limit(self.batch_size)
                )
            )
            more = len(rows) >= self.batch_size
            for start in range(0, len(pending), 1000):
                rows += conn.execute(columns.where(CatalogChange.seq.in_(pending[start : start + 1000])))
            horizon = self._snapshot(conn, "pg_snapshot_xmax") if self._postgres else 0.0
        found = {int(seq): str(product_id) for seq, product_id in rows}
        last = max(found, default=self.last)
        expected = set(pending) | set(range(self.last + 1, last + 1))
        return ChangeBatch(
            product_ids=frozenset(found.values()),
            seqs=frozenset(found),
            missing=frozenset(expected - set(found)),
            xmin=xmin,
            horizon=horizon,
            last=max(last, self.last),
            more=more,
        )

    def advance(self, batch: ChangeBatch) -> None:
        """Record ``batch`` as applied: new gaps become pending, filled ones go, and a pending gap
        whose transactions had all ended before this read began is final (it never fills)."""
        for seq in batch.seqs:
            self.gaps.pop(seq, None)
        for seq in batch.missing:
            horizon = self.gaps.setdefault(seq, batch.horizon)
            if horizon <= batch.xmin:
                del self.gaps[seq]
        self.last = batch.last

    def prune(self, *, older_than: timedelta) -> int:
        """Delete the rows written more than ``older_than`` ago (by the database's clock)."""
        with self.database.engine.begin() as conn:
            cutoff = _database_now(conn) - older_than
            return int(conn.execute(delete(CatalogChange).where(CatalogChange.changed_at < cutoff)).rowcount)

    @staticmethod
    def _snapshot(conn: Connection, function: str) -> float:
        value = conn.scalar(text(f"SELECT {function}(pg_current_snapshot())::text"))
        return float(int(value))


def _database_now(conn: Connection) -> datetime:
    """The database's clock (what the triggers stamp ``changed_at`` with), naive on SQLite."""
    now = conn.scalar(select(func.current_timestamp()))
    if isinstance(now, str):  # SQLite without type information
        now = datetime.fromisoformat(now)
    if not isinstance(now, datetime):
        raise TypeError(f"CURRENT_TIMESTAMP returned {now!r}")
    return now
