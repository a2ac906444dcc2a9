"""Leases on a conversation's lock row, the heartbeat that keeps them, and the in-process queue
in front of them.

A turn holds its conversation's lease while it runs and releases it at the end. The lease is
short (``sessions.lease_seconds``, 6 s by default) and :class:`LeaseKeeper` renews every lease
its store holds every third of that, for as long as the holding process lives. A crashed
holder's lease therefore runs out within one lease time and the customer's retry is answered
seconds later; a 60 s lease, as before, made that retry wait out a 30 s lock timeout and fail
with ``session_busy``. A heartbeat works across hosts sharing the database, where checking the
holder's process id would not.

A holder that stalls past its lease (the heartbeat could not reach the database) finds the lease
lost at its next renewal; the engine then records nothing of the turn.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
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


def claim(clock: LeaseClock, sid: str, deadline: float) -> SqlLease | None:
    """Take ``sid``'s lease once it is free or expired, polling until ``deadline`` (monotonic
    time); None if it stayed taken. One atomic UPDATE that only matches a free or expired lease
    decides between processes. The owner id names the host and process, for people reading the
    table."""
    owner = f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"
    delay = 0.005
    while True:
        now = clock.now_us()
        free = sa.or_(LOCKS.c.owner.is_(None), LOCKS.c.expires_at_us <= now)
        take = (
            sa.update(LOCKS)
            .where(LOCKS.c.session_id == sid, free)
            .values(owner=owner, expires_at_us=now + clock.lease_us)
        )
        with clock.engine.begin() as conn:
            if conn.execute(take).rowcount == 1:
                return SqlLease(clock, sid, owner, now + clock.lease_us)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.1)


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


class LeaseKeeper:
    """Renews every lease one store holds, every ``interval`` seconds, on one daemon thread.

    One thread and one UPDATE per beat for all of the store's leases, however many turns run: a
    thread per turn would cost 50 threads and 50 write transactions at 50 concurrent turns. A
    lease is added when taken and discarded before it is released; the thread sleeps while the
    store holds none.
    """

    def __init__(self, clock: LeaseClock, interval: float) -> None:
        self._store = clock
        self._interval = interval
        self._wake = threading.Condition()
        self._held: dict[str, SqlLease] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, lease: SqlLease) -> None:
        with self._wake:
            if self._closed:
                return
            idle = not self._held
            self._held[lease.owner] = lease
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="session-lease-heartbeat", daemon=True)
                self._thread.start()
            if idle:
                self._wake.notify()

    def discard(self, lease: SqlLease) -> None:
        with self._wake:
            self._held.pop(lease.owner, None)

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._held.clear()
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._held and not self._closed:
                    self._wake.wait()
                # A whole interval, whatever adds wake us meanwhile: one beat per interval.
                due = time.monotonic() + self._interval
                while not self._closed and (left := due - time.monotonic()) > 0:
                    self._wake.wait(left)
                if self._closed:
                    return
                leases = list(self._held.values())
            if leases:
                self._beat(leases)

    def _beat(self, leases: list[SqlLease]) -> None:
        """Renew ``leases`` in one transaction; mark those no longer ours as lost."""
        expires = self._store.now_us() + self._store.lease_us
        owners = [lease.owner for lease in leases]
        try:
            with self._store.engine.begin() as conn:
                renew = sa.update(LOCKS).where(LOCKS.c.owner.in_(owners)).values(expires_at_us=expires)
                renewed = conn.execute(renew).rowcount
                ours = set(owners)
                if renewed != len(owners):
                    found = conn.execute(sa.select(LOCKS.c.owner).where(LOCKS.c.owner.in_(owners)))
                    ours = set(found.scalars())
        except SQLAlchemyError:
            log.warning("session lease heartbeat failed; retrying at the next beat", exc_info=True)
            return
        with self._wake:
            for lease in leases:
                if lease.owner in ours:
                    lease.expires_at_us = max(lease.expires_at_us, expires)
                elif lease.owner in self._held:  # still held by its turn, but no longer ours
                    lease.mark_lost()


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

    def mark_lost(self) -> None:
        if not self._lost:
            self._lost = True
            log.warning("session lease lost to another turn", extra={"session_id": self.session_id})

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
