"""Conversation news over PostgreSQL LISTEN/NOTIFY (psycopg 3), when the conversation store is
PostgreSQL and there is no Redis: no other server to run.

The channel is ``<key_prefix>events`` in the session store's database. One connection listens
(a thread); another, kept open and shared under a lock, sends ``pg_notify`` after each append
has committed. PostgreSQL, like Redis pub/sub, keeps nothing for a listener that is away: after
reconnecting the process wakes all its waiters (:mod:`assistant.sessions.notify.remote`).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import sqlalchemy as sa
from psycopg import sql

from assistant.sessions.notify.remote import Listener, RemoteBus
from core.health import ComponentHealth


def libpq_conninfo(url: str) -> str:
    """The SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq connection URI."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class _NotifyListener(Listener):
    def __init__(self, conn: psycopg.Connection, channel: str) -> None:
        self._conn = conn
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except BaseException:
            conn.close()
            raise

    def receive(self, *, timeout: float) -> list[str]:
        # stop_after: return with the first arrival (the generator would otherwise wait out
        # the whole timeout, collecting).
        return [notify.payload for notify in self._conn.notifies(timeout=timeout, stop_after=1)]

    def close(self) -> None:
        self._conn.close()


class PostgresBus(RemoteBus):
    backend = "postgresql"
    errors = (psycopg.Error, OSError)

    def __init__(
        self, url: str, *, key_prefix: str, timeout: float, healths: Sequence[ComponentHealth]
    ) -> None:
        self._conninfo = libpq_conninfo(url)
        self._timeout = max(1, round(timeout))  # libpq counts whole seconds
        self._sender: psycopg.Connection | None = None
        super().__init__(channel=f"{key_prefix}events", healths=healths)

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=self._timeout,
            application_name=f"shopassist-events-{self.origin}",
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )

    def _send(self, message: str) -> None:  # under the send lock
        notify = ("SELECT pg_notify(%s, %s)", (self.channel, message))
        if self._sender is not None and not self._sender.closed:
            try:
                self._sender.execute(*notify)
                return
            except psycopg.OperationalError:  # the kept connection died quietly: one new one
                self._sender.close()
        self._sender = self._connect()
        self._sender.execute(*notify)

    def _open(self) -> Listener:
        return _NotifyListener(self._connect(), self.channel)

    def _closed(self) -> None:
        with self._send_lock:
            if self._sender is not None:
                self._sender.close()
