"""The notification bus's seam and what every backend shares: the :class:`EventBus` protocol,
the waiters of one process (:class:`Hub`) and one waiter (:class:`Subscription`).

A notification says only "conversation S has events up to seq N"; the events themselves are
always read from the conversation store, so a lost or doubled notification costs a delay or a
needless read, never a wrong or missing event (the sockets also read on a slow timer).

Notifications come from any thread (a turn's thread that appended, a backend's listener
thread); waiters are asyncio tasks (the sockets). A :class:`Subscription` belongs to the event
loop that made it and is woken with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Protocol


class EventBus(Protocol):
    """Tells the waiters of every process that a conversation has new events."""

    @property
    def backend(self) -> str:
        """Where notifications travel: ``in-process``, ``redis`` or ``postgresql``."""
        ...

    @property
    def crosses_processes(self) -> bool:
        """True when waiters in other processes hear this process's notifications."""
        ...

    def publish(self, *, session_id: str, seq: int) -> None:
        """Conversation ``session_id`` has committed events up to ``seq``. Never raises: a
        notification that cannot be sent is lost (the readers' slow timer catches up)."""
        ...

    def subscribe(self) -> Subscription:
        """A new waiter, in the running event loop; it hears nothing until it watches."""
        ...

    def close(self) -> None: ...


class Hub:
    """The waiters of one process, by conversation; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_session: dict[str, set[Subscription]] = {}
        self._everything: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        return Subscription(self, asyncio.get_running_loop())

    def deliver(self, *, session_id: str, seq: int) -> None:
        """Wake the waiters on ``session_id`` that have not seen ``seq``, and those watching all."""
        with self._lock:
            woken = [*self._by_session.get(session_id, ()), *self._everything]
        for subscription in woken:
            subscription.notify(session_id=session_id, seq=seq)

    def wake_everyone(self) -> None:
        """Wake every waiter: notifications may have been lost (a backend reconnected)."""
        with self._lock:
            woken = [*self._everything, *(s for subs in self._by_session.values() for s in subs)]
        for subscription in woken:
            subscription.wake()

    def waiters(self) -> int:
        with self._lock:
            return len(self._everything) + sum(len(subs) for subs in self._by_session.values())

    def move(self, subscription: Subscription, old: str | None, new: str | None, *, everything: bool) -> None:
        with self._lock:
            if old is not None:
                subs = self._by_session.get(old)
                if subs is not None:
                    subs.discard(subscription)
                    if not subs:
                        del self._by_session[old]
            if new is not None:
                self._by_session.setdefault(new, set()).add(subscription)
            if everything:
                self._everything.add(subscription)
            else:
                self._everything.discard(subscription)


class Subscription:
    """One waiter: a socket waiting for news of the conversation it shows (or of all of them)."""

    def __init__(self, hub: Hub, loop: asyncio.AbstractEventLoop) -> None:
        self._hub = hub
        self._loop = loop
        self._event = asyncio.Event()
        self._session: str | None = None
        self._everything = False
        self._seen = 0

    def watch(self, *, session_id: str | None, seen_seq: int = 0) -> None:
        """Hear about ``session_id`` (None: nothing) from now on, past ``seen_seq``."""
        if session_id != self._session or self._everything:
            self._hub.move(self, self._session, session_id, everything=False)
            self._session, self._everything = session_id, False
        self._seen = seen_seq

    def watch_everything(self) -> None:
        """Hear about every conversation (the agent console's list)."""
        if self._everything:
            return
        self._hub.move(self, self._session, None, everything=True)
        self._session, self._everything = None, True

    def notify(self, *, session_id: str, seq: int) -> None:
        """From any thread: news of ``session_id`` up to ``seq``."""
        if self._everything or (session_id == self._session and seq > self._seen):
            self.wake()

    def wake(self) -> None:
        """From any thread: make :meth:`wait` return (now, or at its next call)."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, *, timeout: float | None) -> bool:
        """Until news arrives (True; it may have come before this call) or ``timeout`` seconds
        pass (False; None: no limit).
        Read the store after it returns: everything notified before was committed before."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout=timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._hub.move(self, self._session, None, everything=False)
        self._session, self._everything = None, False
