"""Keeps this process's search index current with catalog changes made by any process.

A process's own writes reach its index at once (the store's commit listener). Changes written
by another process on the same store (a second server, an import, an admin script) reach it
through the store's change feed (:mod:`store.changes`): :class:`CatalogFollower` reads the feed
every ``retrieval.feed_interval_seconds`` on a background thread and re-indexes the products
named there (a product gone from the store is removed from the index). So a change committed
anywhere is searchable here within the interval plus the time to re-index it. :meth:`wake`
lets a notification (a Redis message, a PostgreSQL NOTIFY) start the next read at once.

Re-indexing is idempotent and compares hashes first, so the rows of this process's own writes,
read back from the feed, write nothing; with a shared Chroma server the vectors another process
already wrote are not written again (see ``SearchIndex._write_documents``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from store.changes import ChangeFeed

if TYPE_CHECKING:
    from retrieval.index import SearchIndex

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 600.0


class CatalogFollower:
    """Call :meth:`start` once the index is ready and :meth:`stop` at shutdown."""

    def __init__(
        self, index: SearchIndex, feed: ChangeFeed, *, interval_seconds: float, retention: timedelta
    ) -> None:
        if not interval_seconds > 0:
            raise ValueError("the feed interval must be positive")
        self.index = index
        self.feed = feed
        self.interval = interval_seconds
        self.retention = retention
        self.polls = 0
        self.failures = 0
        self.refreshed = 0  # products re-indexed from the feed
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0
        self._polled_at: float | None = None  # monotonic time of the last poll that read the feed
        self._more = False  # the last poll left rows for the next (a bulk write): no wait before it

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="catalog-follower", daemon=True)
        self._thread.start()
        log.info("following the catalog change feed", extra={"interval_seconds": self.interval})

    def wake(self) -> None:
        """Read the feed now instead of at the end of the interval (for a change notification)."""
        self._wake.set()

    def poll(self) -> int:
        """Read the feed once and re-index what it names; the number of products re-indexed.

        While the index is rebuilt nothing is read: the rebuild's closing sync covers the changes
        meanwhile, and the feed is read on from where it was after. Raises what the store or the
        index raised; nothing is marked read then, so the next poll tries the same rows again."""
        self.polls += 1
        self._more = False
        if self.index.state != "ok":
            return 0
        batch = self.feed.read()
        if batch.product_ids:
            self.index.on_catalog_change(set(batch.product_ids), bulk=False)
        self.feed.advance(batch)
        self._more = batch.more
        self._polled_at = time.monotonic()
        self.refreshed += len(batch.product_ids)
        return len(batch.product_ids)

    def status(self) -> dict[str, Any]:
        """For ``/readyz``: how far the feed is read, and how it went."""
        polled = self._polled_at
        return {
            "last_seq": self.feed.last,
            "pending_gaps": len(self.feed.gaps),
            "seconds_since_poll": None if polled is None else round(time.monotonic() - polled, 3),
            "polls": self.polls,
            "failures": self.failures,
            "refreshed": self.refreshed,
            "indexed_products": self.index.lexical.count(),
        }

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._more:
                self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.poll()
                self._prune_now_and_then()
            except Exception:
                self.failures += 1
                log.exception("reading the catalog change feed failed; retrying in %.1f s", self.interval)

    def _prune_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            deleted = self.feed.prune(older_than=self.retention)
            if deleted:
                log.info("catalog change feed pruned", extra={"rows": deleted})

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread (a running poll finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the catalog follower did not stop within %.0f s", timeout)
