"""Telegram updates, written down before anyone is told they arrived: a crash loses none, and
an update delivered twice is handled once.

Telegram forgets an update once it is acknowledged: the webhook's 200, or the next
``getUpdates`` offset in long polling. So every update is recorded in the conversation
database first (:class:`InboxQueue` does it as the update enters the Application's queue,
which the webhook route and the polling Updater both await before they acknowledge), then
claimed, handled and marked done (:class:`InboxProcessor`). An update id seen before is not
queued again.

What a crash leaves behind is handled by :meth:`UpdateInbox.due`: updates recorded but never
claimed, and claims whose lease ran out (the worker holding it renews the lease while it
works, so only a dead worker's claims run out). They are queued again, each claim is an atomic
update so only one worker gets it, and an update that failed ``max_attempts`` times is given
up and logged rather than retried forever. The assistant is given the update id as the
message key, so a turn that was recorded before the crash is not run a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from store.locks import hold_advisory_lock

log = logging.getLogger(__name__)

RECEIVED = "received"
HANDLING = "handling"
DONE = "done"
FAILED = "failed"

METADATA = sa.MetaData()
UPDATES = sa.Table(
    "telegram_updates",
    METADATA,
    sa.Column("bot", sa.String(32), primary_key=True),
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("received_at_us", sa.BigInteger, nullable=False),
    sa.Column("lease_until_us", sa.BigInteger, nullable=False, default=0),
    sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_telegram_updates_state", "bot", "state", "lease_until_us"),
)


def _now_us() -> int:
    return round(time.time() * 1_000_000)


@dataclass(frozen=True)
class DueUpdate:
    update_id: int
    payload: dict[str, Any]


class UpdateInbox:
    """The ``telegram_updates`` table: one row per update of ``bot``, from received to done."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        bot: str = "",
        lease_seconds: float = 60.0,
        unclaimed_seconds: float = 30.0,
        max_attempts: int = 3,
        keep_hours: float = 48.0,
    ) -> None:
        """``lease_seconds``: how long a claim holds without renewal. ``unclaimed_seconds``: how
        long a recorded update may wait for its claim before it is queued again. ``keep_hours``:
        how long finished updates are kept to recognise a redelivery (Telegram retries a webhook
        for about a day). ``bot``: the bot's id (update ids count per bot, so a new token starts
        afresh)."""
        self.engine = engine
        self.bot = bot
        self.lease_us = round(lease_seconds * 1_000_000)
        self.unclaimed_us = round(unclaimed_seconds * 1_000_000)
        self.max_attempts = max_attempts
        self.keep_us = round(keep_hours * 3600 * 1_000_000)
        with engine.begin() as conn:  # two processes starting at once: one creates the table
            hold_advisory_lock(conn, "shopassist:telegram:schema")
            METADATA.create_all(conn, checkfirst=True)

    def record(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Write the update down; False when this update id was recorded before (a redelivery)."""
        now = _now_us()
        row = {
            "bot": self.bot,
            "update_id": update_id,
            "payload": json.dumps(payload, separators=(",", ":")),
            "state": RECEIVED,
            "attempts": 0,
            "received_at_us": now,
            "lease_until_us": 0,
            "updated_at_us": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(UPDATES).values(**row))
        except IntegrityError:
            return False
        return True

    def key(self, update_id: int) -> str:
        """The assistant's message key for an update (see ``Assistant.handle``)."""
        return f"tg:{self.bot}:{update_id}"

    def _one(self, update_id: int) -> sa.ColumnElement[bool]:
        return sa.and_(UPDATES.c.bot == self.bot, UPDATES.c.update_id == update_id)

    def claim(self, update_id: int) -> bool:
        """Take the update for handling: True for exactly one caller while it is received (or
        its last claim ran out); False when it is done, failed, or held by a live worker."""
        now = _now_us()
        claimable = sa.or_(
            UPDATES.c.state == RECEIVED, sa.and_(UPDATES.c.state == HANDLING, UPDATES.c.lease_until_us < now)
        )
        with self.engine.begin() as conn:
            claimed = conn.execute(
                sa.update(UPDATES)
                .where(self._one(update_id), claimable, UPDATES.c.attempts < self.max_attempts)
                .values(
                    state=HANDLING,
                    attempts=UPDATES.c.attempts + 1,
                    lease_until_us=now + self.lease_us,
                    updated_at_us=now,
                )
            )
        return claimed.rowcount == 1

    def renew(self, update_id: int) -> None:
        now = _now_us()
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(UPDATES)
                .where(self._one(update_id), UPDATES.c.state == HANDLING)
                .values(lease_until_us=now + self.lease_us, updated_at_us=now)
            )

    def finish(self, update_id: int) -> None:
        self._set(update_id, DONE)

    def give_back(self, update_id: int) -> None:
        """Handling was interrupted (shutdown): claimable again at once, the attempt not counted."""
        now = _now_us()
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(UPDATES)
                .where(self._one(update_id), UPDATES.c.state == HANDLING)
                .values(state=RECEIVED, attempts=UPDATES.c.attempts - 1, lease_until_us=0, updated_at_us=now)
            )

    def _set(self, update_id: int, state: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(UPDATES)
                .where(self._one(update_id))
                .values(state=state, lease_until_us=0, updated_at_us=_now_us())
            )

    def state(self, update_id: int) -> tuple[str, int] | None:
        """(state, attempts) of one update, or None if it was never recorded."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(UPDATES.c.state, UPDATES.c.attempts).where(self._one(update_id))
            ).first()
        return (row.state, row.attempts) if row is not None else None

    def due(self, *, at_start: bool = False) -> list[DueUpdate]:
        """Updates a crash left behind, oldest first; gives up (state ``failed``, logged) those
        that ran out of attempts, and forgets finished ones past ``keep_hours``. ``at_start``:
        every unclaimed update is due, however recent (nothing of this worker's is queued yet)."""
        now = _now_us()
        wait_us = 0 if at_start else self.unclaimed_us
        mine = UPDATES.c.bot == self.bot
        unclaimed = sa.and_(UPDATES.c.state == RECEIVED, UPDATES.c.updated_at_us <= now - wait_us)
        expired = sa.and_(UPDATES.c.state == HANDLING, UPDATES.c.lease_until_us < now)
        with self.engine.begin() as conn:
            spent = conn.execute(
                sa.select(UPDATES.c.update_id).where(mine, expired, UPDATES.c.attempts >= self.max_attempts)
            ).all()
            if spent:
                ids = [row.update_id for row in spent]
                conn.execute(
                    sa.update(UPDATES)
                    .where(mine, UPDATES.c.update_id.in_(ids), expired)
                    .values(state=FAILED, lease_until_us=0, updated_at_us=now)
                )
                for update_id in ids:
                    log.error(
                        "telegram update given up after repeated crashes",
                        extra={"update_id": update_id, "attempts": self.max_attempts},
                    )
            conn.execute(
                sa.delete(UPDATES).where(
                    mine, UPDATES.c.state.in_([DONE, FAILED]), UPDATES.c.updated_at_us < now - self.keep_us
                )
            )
            rows = conn.execute(
                sa.select(UPDATES.c.update_id, UPDATES.c.payload)
                .where(mine, sa.or_(unclaimed, expired), UPDATES.c.attempts < self.max_attempts)
                .order_by(UPDATES.c.update_id)
            ).all()
        return [DueUpdate(row.update_id, json.loads(row.payload)) for row in rows]


class InboxQueue(asyncio.Queue[object]):
    """The Application's update queue: an :class:`Update` is recorded in the inbox before it
    is queued (so before the webhook answers or the Updater confirms it), and an update id the
    inbox has seen is not queued again. Other objects pass through."""

    def __init__(self, inbox: UpdateInbox) -> None:
        super().__init__()
        self.inbox = inbox
        self.waiting: set[int] = set()  # queued here and not yet taken: the sweep skips these

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            fresh = await asyncio.to_thread(self.inbox.record, item.update_id, item.to_dict())
            if not fresh:
                log.info("telegram update seen before; not queued", extra={"update_id": item.update_id})
                return
            self.waiting.add(item.update_id)
        await super().put(item)

    async def requeue(self, due: DueUpdate, bot: Bot) -> bool:
        """Queue an update already in the inbox (left behind by a crash); False when it is
        already waiting in this queue (a backlog, not a crash)."""
        if due.update_id in self.waiting:
            return False
        self.waiting.add(due.update_id)
        await super().put(Update.de_json(due.payload, bot))
        return True


class InboxProcessor(BaseUpdateProcessor):
    """Handles an update only after claiming it, renews the claim while handling, and marks it
    done afterwards. Updates of one chat are handled one at a time, in the order they were
    queued; different chats run concurrently (up to ``max_concurrent_updates``)."""

    def __init__(
        self, queue: InboxQueue, max_concurrent_updates: int, *, renew_seconds: float = 20.0
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.queue = queue
        self.inbox = queue.inbox
        self.renew_seconds = renew_seconds
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def _in_order(self, update: object) -> AsyncIterator[None]:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            yield
            return
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = self._locks[chat.id] = asyncio.Lock()
        async with lock:
            yield

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        update_id = update.update_id
        self.queue.waiting.discard(update_id)
        async with self._in_order(update):
            try:
                claimed = await asyncio.to_thread(self.inbox.claim, update_id)
            except Exception:  # the database is away: the update stays recorded for the sweep
                log.exception("telegram update could not be claimed", extra={"update_id": update_id})
                claimed = False
            if not claimed:
                if asyncio.iscoroutine(coroutine):
                    coroutine.close()
                log.info("telegram update not claimed: done or held", extra={"update_id": update_id})
                return
            try:
                await self._renewing(update_id, coroutine)
            except asyncio.CancelledError:
                await asyncio.shield(asyncio.to_thread(self.inbox.give_back, update_id))
                raise
            await asyncio.to_thread(self.inbox.finish, update_id)

    async def _renewing(self, update_id: int, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        try:
            while True:
                done, _pending = await asyncio.wait({task}, timeout=self.renew_seconds)
                if done:
                    task.result()
                    return
                await asyncio.to_thread(self.inbox.renew, update_id)
        finally:
            if not task.done():
                task.cancel()

    async def initialize(self) -> None:
        """Nothing to set up: the inbox table exists once :class:`UpdateInbox` is made."""

    async def shutdown(self) -> None:
        """Nothing to free: the engine belongs to the conversation store."""


async def sweep_forever(
    inbox: UpdateInbox, requeue: Callable[[DueUpdate], Awaitable[bool]], *, every_seconds: float
) -> None:
    """Queue what crashes left behind, now and every ``every_seconds``; errors are logged."""
    at_start = True
    while True:
        try:
            for due in await asyncio.to_thread(inbox.due, at_start=at_start):
                log.warning(
                    "telegram update left unfinished; queued again", extra={"update_id": due.update_id}
                )
                await requeue(due)
            at_start = False
        except Exception:
            log.exception("telegram inbox sweep failed")
        await asyncio.sleep(every_seconds)
