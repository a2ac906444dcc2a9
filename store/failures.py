"""A full or read-only database, as one error of the hierarchy instead of a driver's.

SQLite says "database or disk is full" or "attempt to write a readonly database" as a plain
``sqlite3.OperationalError``; PostgreSQL says ``disk_full`` (SQLSTATE 53100) or
``read_only_sql_transaction`` (25006). Left as they are, they reach the web app as a bare 500 and
the command line as a traceback. :func:`translate_storage_errors` hooks an engine's
``handle_error`` event, so every statement and commit on it raises :class:`StorageFullError` or
:class:`StorageUnavailableError` instead (the original chained): SQLAlchemy has already rolled
the transaction back, so nothing is half-written, and the transports show a message a customer or
an operator can act on. Other database errors (locks, constraint violations) pass unchanged:
their callers handle them.
"""

from __future__ import annotations

import errno

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError

from core.errors import StorageError, StorageFullError, StorageUnavailableError
from core.files import private_sqlite

_FULL_SQLSTATES = {"53100", "53200"}  # disk_full, out_of_memory
# read-only transaction, the server starting up, too many connections
_UNAVAILABLE_SQLSTATES = {"25006", "57P03", "53300"}
FULL_MESSAGE = (
    "The shop cannot save anything right now (its storage is full); nothing was changed. "
    "Please try again later."
)
UNAVAILABLE_MESSAGE = "The shop cannot save anything right now; nothing was changed. Please try again later."


def storage_error(exc: BaseException, *, what: str = "database") -> StorageError | None:
    """The hierarchy's error for a driver error that means "cannot write", else None."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    sqlstate = str(getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None) or "")
    text = str(exc).lower()
    reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    if (
        name == "SQLITE_FULL"
        or sqlstate in _FULL_SQLSTATES
        or "database or disk is full" in text
        or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC)
    ):
        return StorageFullError(FULL_MESSAGE, store=what, reason=reason)
    if (
        name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN"))
        or sqlstate in _UNAVAILABLE_SQLSTATES
        or "readonly database" in text
        or "unable to open database file" in text
        or (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM))
    ):
        return StorageUnavailableError(UNAVAILABLE_MESSAGE, store=what, reason=reason)
    return None


def translate_storage_errors(engine: Engine, *, what: str = "database") -> Engine:
    """Make ``engine`` raise the hierarchy's storage errors (see the module docstring); ``what``
    names the store in the error's context (``store``, ``sessions``...). Returns the engine."""

    def _on_error(context: ExceptionContext) -> None:
        translated = storage_error(context.original_exception, what=what)
        if translated is not None:
            raise translated from context.original_exception

    event.listen(engine, "handle_error", _on_error)
    return engine


def check_writable(url: str, *, what: str = "store") -> None:
    """Raise :class:`StorageUnavailableError` (or :class:`StorageFullError`) naming the database
    and the reason unless it takes a write: the file created if missing (SQLite), then a write
    transaction begun and rolled back (SQLite: ``BEGIN IMMEDIATE`` and a rewrite of the header's
    ``user_version``; others: a temporary table). For start-up: a read-only store stops ``serve``
    and ``migrate`` with one clear line instead of a traceback, or a 500 at the first write."""
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        private_sqlite(url)
        engine = create_engine(url)
    except OSError as exc:
        raise _unwritable(what, shown, exc) from exc
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
                conn.exec_driver_sql(f"PRAGMA user_version = {version}")
                conn.exec_driver_sql("ROLLBACK")
            else:
                with conn.begin() as transaction:
                    conn.exec_driver_sql("CREATE TEMPORARY TABLE shopassist_write_check (x integer)")
                    transaction.rollback()
    except DBAPIError as exc:
        raise _unwritable(what, shown, exc.orig or exc) from exc
    finally:
        engine.dispose()


def _unwritable(what: str, shown: str, exc: BaseException) -> StorageError:
    reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0] or type(exc).__name__
    kind = StorageFullError if isinstance(storage_error(exc), StorageFullError) else StorageUnavailableError
    return kind(f"The {what} database {shown} cannot be written: {reason}", store=what, reason=reason)
