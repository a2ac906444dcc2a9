"""The retention sweep on a timer, for ``serve``: a daemon thread that runs
:func:`privacy.retention.sweep` every ``privacy.sweep_interval_seconds``.

A thread, not an asyncio task: the sweep is blocking database work and must not hold up the
event loop that serves customers. A failing sweep is logged and the next one runs on time; no
error leaves the thread, so the server never stops because of it. The first sweep runs one
interval after start, not at start, so a restart loop cannot turn into a sweep loop.
Several workers each run their own timer; that is safe (deletions are idempotent, and a request
is marked done once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from assistant.sessions.store import SessionStore
from core.config.identity import PrivacySettings
from privacy.retention import SweepResult, sweep
from store.db import Database

log = logging.getLogger(__name__)


class PeriodicSweep:
    """Call :meth:`start` once and :meth:`stop` at shutdown (it waits for a running sweep)."""

    def __init__(
        self,
        database: Database,
        sessions: SessionStore,
        *,
        privacy: PrivacySettings,
        data_dir: Path | str,
        interval_seconds: float | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``interval_seconds`` overrides ``privacy.sweep_interval_seconds`` (tests); ``clock``
        gives the sweep's ``now``."""
        self.database = database
        self.sessions = sessions
        self.privacy = privacy
        self.data_dir = data_dir
        self.interval = privacy.sweep_interval_seconds if interval_seconds is None else interval_seconds
        self.clock = clock
        self.runs = 0
        self.failures = 0
        self.last_result: SweepResult | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def start_if_enabled(
        cls,
        database: Database,
        sessions: SessionStore | None,
        *,
        privacy: PrivacySettings,
        data_dir: Path | str,
    ) -> PeriodicSweep | None:
        """A started sweeper, or None when the interval is 0 or there is no conversation store."""
        if privacy.sweep_interval_seconds <= 0 or sessions is None:
            return None
        sweeper = cls(database, sessions, privacy=privacy, data_dir=data_dir)
        sweeper.start()
        return sweeper

    def start(self) -> None:
        if self._thread is not None:
            return
        if not self.interval > 0:
            raise ValueError("the sweep interval must be positive")
        self._thread = threading.Thread(target=self._loop, name="retention-sweep", daemon=True)
        self._thread.start()
        log.info("retention sweep scheduled", extra={"interval_seconds": self.interval})

    def run_once(self) -> SweepResult | None:
        """One sweep; an error is logged and counted, never raised."""
        try:
            now = self.clock() if self.clock is not None else None
            result = sweep(
                self.database, self.sessions, privacy=self.privacy, data_dir=self.data_dir, now=now
            )
        except Exception:
            self.failures += 1
            log.exception("retention sweep failed; the next one runs as scheduled")
            return None
        finally:
            self.runs += 1
        self.last_result = result
        return result

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
