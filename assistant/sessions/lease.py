"""Leases on a conversation's lock row, and the in-process queue in front of them.

A turn holds its conversation's lease while it runs; a holder renews it if the turn may outlast
the lease, and releases it at the end. A crashed holder's lease simply expires.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from assistant.sessions.schema import LOCKS, from_us

log = logging.getLogger(__name__)


class LeaseClock(Protocol):
    """What a lease needs of its store: the database, the time, and how long a lease lasts."""

    @property
    def engine(self) -> sa.Engine: ...
    @property
    def lease_us(self) -> int: ...
    def now_us(self) -> int: ...


class LocalLocks:
    """One thread lock per session held or awaited in this process (dropped when unused)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[bool]:
        with self._mutex:
            lock, users = self._locks.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            acquired = lock.acquire(timeout=timeout)
            try:
                yield acquired
            finally:
                if acquired:
                    lock.release()
        finally:
            with self._mutex:
                users[0] -= 1
                if users[0] == 0:
                    del self._locks[key]


class SqlLease:
    """A lease on one session's lock row; see :class:`SessionLease`."""

    def __init__(self, clock: LeaseClock, session_id: str, owner: str, expires_at_us: int) -> None:
        self._store = clock
        self._session_id = session_id
        self.owner = owner
        self.expires_at_us = expires_at_us
        self._lost = False

    @property
    def session_id(self) -> str:
        return self._session_id

    @property
    def lost(self) -> bool:
        return self._lost

    @property
    def expires_at(self) -> datetime:
        return from_us(self.expires_at_us)

    def _mine(self) -> Any:
        return (LOCKS.c.session_id == self._session_id) & (LOCKS.c.owner == self.owner)

    def renew(self) -> bool:
        expires = self._store.now_us() + self._store.lease_us
        with self._store.engine.begin() as conn:
            renewed = conn.execute(sa.update(LOCKS).where(self._mine()).values(expires_at_us=expires))
        if renewed.rowcount == 1:
            self.expires_at_us = expires
        else:
            self._lost = True
            log.warning("session lease lost before renewal", extra={"session_id": self._session_id})
        return not self._lost

    def release(self) -> None:
        try:
            with self._store.engine.begin() as conn:
                freed = conn.execute(sa.update(LOCKS).where(self._mine()).values(owner=None, expires_at_us=0))
        except SQLAlchemyError:
            log.exception("could not release a session lease", extra={"session_id": self._session_id})
            return  # the lease expires on its own
        if freed.rowcount != 1:
            self._lost = True
            log.warning(
                "session lease expired and was taken before release; turns may have overlapped",
                extra={"session_id": self._session_id},
            )
