"""Database engine, sessions and schema migrations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.files import private_sqlite
from store.failures import translate_storage_errors
from store.locks import hold_advisory_lock

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = "shopassist:store:migrate"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A forgotten customer's old rows leave no text in free space (privacy).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


CHANGED_KEY = "shopassist_changed_products"
BULK_KEY = "shopassist_bulk_catalog_write"
CATALOG_TABLES = {"products", "variants"}


def _note_bulk_statement(state: Any) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in CATALOG_TABLES:
        state.session.info[BULK_KEY] = True


def _collect_catalog_changes(session: Session, _context: Any) -> None:
    from store.models import Product, Variant

    changed: set[str] = session.info.setdefault(CHANGED_KEY, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Product):
            changed.add(obj.id)
        elif isinstance(obj, Variant) and obj.product_id:
            changed.add(obj.product_id)


def _forget_catalog_changes(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)
    session.info.pop(BULK_KEY, None)


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


class Database:
    """One engine and session factory for the shop's store."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if parsed.get_backend_name() == "sqlite":
            private_sqlite(url)  # the file 0600 in a 0700 directory, when created here
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.url = url
        self.engine: Engine = translate_storage_errors(create_engine(url, **kwargs), what="store")
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._catalog_listeners: list[Callable[[set[str], bool], None]] = []

    def add_catalog_listener(self, callback: Callable[[set[str], bool], None]) -> None:
        """Call ``callback(product_ids, bulk)`` after each commit that changed products or variants.

        ``product_ids`` are the products whose rows (or variants' rows) the ORM wrote. ``bulk`` is
        True when the session also ran an UPDATE/INSERT/DELETE statement on those tables, whose rows
        are not known individually (the listener then syncs by ``updated_at``). Statements run
        outside a session are not seen: whoever runs them syncs the index afterwards. A failing
        callback is logged, never raised: the data is already committed.
        """
        if not self._catalog_listeners:
            event.listen(self._sessions, "after_flush", _collect_catalog_changes)
            event.listen(self._sessions, "do_orm_execute", _note_bulk_statement)
            event.listen(self._sessions, "after_commit", self._notify_catalog)
            event.listen(self._sessions, "after_rollback", _forget_catalog_changes)
        self._catalog_listeners.append(callback)

    def _notify_catalog(self, session: Session) -> None:
        changed: set[str] = session.info.pop(CHANGED_KEY, set())
        bulk = bool(session.info.pop(BULK_KEY, False))
        if not changed and not bulk:
            return
        for callback in self._catalog_listeners:
            try:
                callback(changed, bulk)
            except Exception:
                log.exception("catalog listener failed for %d products", len(changed))

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits as one transaction, or rolls back entirely."""
        with self._sessions() as session, session.begin():
            yield session

    # Schema -------------------------------------------------------------------------------
    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(_alembic_config(self.engine)).get_current_head()

    def migrate(self) -> bool:
        """Bring the schema to the newest revision, keeping existing data.

        Returns True when something was applied.
        """
        before = self.current_revision()
        if before == self.head_revision():
            return False
        cfg = _alembic_config(self.engine)
        with self.engine.begin() as conn:
            # Two processes migrating at once (two servers starting): the second waits, then
            # finds nothing left to apply (PostgreSQL; SQLite's write lock does the same).
            hold_advisory_lock(conn, MIGRATION_LOCK)
            before = MigrationContext.configure(conn).get_current_revision()
            if before == self.head_revision():
                return False
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        log.info(
            "store schema migrated", extra={"from_revision": before, "to_revision": self.head_revision()}
        )
        return True

    def checkpoint(self) -> None:
        """SQLite: move the write-ahead log into the database file and truncate it, so old page
        images of rows just anonymised do not linger in it (privacy). Best effort: a reader
        still holding an old snapshot can keep some of the log. Nothing for other databases."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def dispose(self) -> None:
        self.engine.dispose()
