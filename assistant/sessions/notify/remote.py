"""What the two server backends (Redis pub/sub, PostgreSQL LISTEN/NOTIFY) share: the message
format, sending without ever holding up a turn, and a listener thread that reconnects.

- A message is ``<origin> <seq> <session_id>`` on one channel (``<key_prefix>events``); every
  process hears every conversation's news and wakes only its own waiters on it. A process wakes
  its own waiters directly when it publishes and skips its own messages when they come back.
- Sending happens on the appending thread, after the commit, with the backend's short timeout.
  When it fails, one log line, the component turns ``degraded`` and sends are skipped for
  :data:`RETRY_SECONDS` (turns do not wait on a dead server); waiters elsewhere catch up on
  their slow timer.
- The listener thread connects, listens, and on a lost connection retries after 0.5 s,
  doubling to :data:`MAX_BACKOFF_SECONDS`; once back it wakes every local waiter, since
  notifications may have been missed meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence

from assistant.sessions.notify.hub import Hub, Subscription
from core.health import ComponentHealth

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 5.0
LISTEN_TICK_SECONDS = 0.5
"""How long one listen call blocks, so closing the bus takes at most about this long."""


class Listener(ABC):
    """One open listening connection."""

    @abstractmethod
    def receive(self, *, timeout: float) -> list[str]:
        """Messages that arrived within ``timeout`` seconds (raises when the connection is lost)."""

    @abstractmethod
    def close(self) -> None: ...


class RemoteBus(ABC):
    """An :class:`~assistant.sessions.notify.hub.EventBus` over a server; subclasses connect."""

    backend = "remote"
    crosses_processes = True
    errors: tuple[type[BaseException], ...] = (OSError,)
    """What the server's client raises when the connection or a command fails."""

    def __init__(self, *, channel: str, healths: Sequence[ComponentHealth]) -> None:
        self.channel = channel
        self.origin = uuid.uuid4().hex[:12]
        self.hub = Hub()
        self._healths = tuple(healths)
        self._send_lock = threading.Lock()
        self._skip_sends_until = 0.0
        self._send_failed = False
        self._stop = threading.Event()
        self._connected = threading.Event()
        self.connections = 0
        """Listening connections made so far (more than one: it reconnected)."""
        for health in self._healths:
            health.starting(f"{self.backend}: connecting")
        self._thread = threading.Thread(target=self._listen, name=f"events-{self.backend}", daemon=True)
        self._thread.start()

    # The backend ----------------------------------------------------------------------------
    @abstractmethod
    def _send(self, message: str) -> None:
        """Send one message on the channel (raises one of :attr:`errors` on failure)."""

    @abstractmethod
    def _open(self) -> Listener:
        """Connect and listen on the channel (raises one of :attr:`errors` on failure)."""

    @abstractmethod
    def _closed(self) -> None:
        """Release the sending side's connections."""

    # EventBus ---------------------------------------------------------------------------------
    def publish(self, *, session_id: str, seq: int) -> None:
        self.hub.deliver(session_id=session_id, seq=seq)
        if time.monotonic() < self._skip_sends_until:
            return
        try:
            with self._send_lock:
                self._send(f"{self.origin} {seq} {session_id}")
        except self.errors as exc:
            self._skip_sends_until = time.monotonic() + RETRY_SECONDS
            self._send_failed = True
            self._degraded(f"sending failed: {exc}")
            return
        if self._send_failed and self._connected.is_set():
            self._send_failed = False
            self._ok()

    def subscribe(self) -> Subscription:
        return self.hub.subscribe()

    def wait_connected(self, timeout: float) -> bool:
        """True once the listener is connected (tests and start-up checks)."""
        return self._connected.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=LISTEN_TICK_SECONDS * 4 + 5)
        self._closed()

    # Receiving --------------------------------------------------------------------------------
    def received(self, message: str) -> None:
        """One message from the channel: wake this process's waiters (not for its own)."""
        origin, _, rest = message.partition(" ")
        seq, _, session_id = rest.partition(" ")
        if origin == self.origin or not session_id or not seq.isdigit():
            return
        self.hub.deliver(session_id=session_id, seq=int(seq))

    def _listen(self) -> None:
        backoff, lost = 0.5, False
        while not self._stop.is_set():
            try:
                listener = self._open()
            except self.errors as exc:
                self._degraded(f"cannot listen: {exc}")
                lost = True
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 0.5
            self.connections += 1
            self._connected.set()
            self._ok()
            if lost:
                self.hub.wake_everyone()  # what was published meanwhile was not heard
            try:
                while not self._stop.is_set():
                    for message in listener.receive(timeout=LISTEN_TICK_SECONDS):
                        self.received(message)
            except self.errors as exc:
                self._connected.clear()
                self._degraded(f"listening connection lost: {exc}")
                lost = True
            except Exception:  # a bug, not the server: keep listening after one log line
                log.exception("live events: listener failed", extra={"backend": self.backend})
                lost = True
                self._stop.wait(backoff)
            finally:
                listener.close()

    def _ok(self) -> None:
        for health in self._healths:
            health.ok(f"{self.backend}: connected")

    def _degraded(self, reason: str) -> None:
        """One log line per outage (the healths log the change of state, once)."""
        for health in self._healths:
            health.degraded(f"{self.backend}: {reason}")
