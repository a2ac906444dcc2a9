"""Index self-repair: an unreadable index is moved aside and rebuilt from the store.

The index is derived data, the store is the truth: a garbage ``keyword.db``, a broken tantivy
``meta.json`` or segment, or a damaged ``chroma.sqlite3`` should cost search quality for a
while, never the service. :class:`IndexRepair` opens the index's parts and, when opening raises,
moves the files to ``<data_dir>/index.corrupt-<time>`` (kept for a look, the oldest deleted)
and opens empty parts in their place. It keeps the index's state (``ok``, ``rebuilding``,
``failed``) and runs the one background thread a rebuild or a check runs on;
:class:`~retrieval.index.SearchIndex` decides when, and answers from the store meanwhile.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from core.errors import ConfigError, ShopassistError
from retrieval.lexical import LexicalIndex
from retrieval.vector import VectorStore, make_client

if TYPE_CHECKING:
    from retrieval.index import SearchIndex

log = logging.getLogger(__name__)

IndexState = Literal["ok", "rebuilding", "failed"]
Parts = tuple[LexicalIndex, VectorStore]
# The ONNX export of the query encoder lives under the index folder but is a model cache, not
# index state: it stays where it is (re-exporting it costs a start-up).
KEPT_IN_PLACE = frozenset({"onnx"})
CORRUPT_MARK = ".corrupt-"


def broken_file_errors() -> tuple[type[BaseException], ...]:
    """What the index's storage raises over damaged files: SQLite's errors, tantivy's
    ValueError ("Data corrupted", "Failed to open file"), OS errors and Chroma's errors. Other
    exceptions are bugs, not damage: they never move an index aside."""
    from chromadb.errors import ChromaError

    return (sqlite3.Error, ValueError, OSError, ChromaError)


def describe(exc: BaseException) -> str:
    """One log-friendly line: the error's type and the start of its message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


def open_parts(index_dir: Path, chroma_url: str | None, manifest: dict[str, str]) -> Parts:
    """The keyword side (SQLite + tantivy) and the vectors (Chroma) under ``index_dir``."""
    lexical = LexicalIndex(index_dir / "keyword.db")
    try:
        client = make_client(chroma_url, index_dir / "chroma")
        vectors = VectorStore(client, manifest=manifest, shared=bool(chroma_url))
    except Exception as exc:
        lexical.close()
        if chroma_url:  # a server that does not answer is no broken file: nothing to move aside
            raise ConfigError(
                f"The Chroma server at {chroma_url} cannot be reached ({describe(exc)})",
                key="retrieval.chroma.url",
            ) from exc
        raise
    return lexical, vectors


def move_aside(index_dir: Path, *, keep: int) -> Path | None:
    """Move the index's files into ``<index_dir>.corrupt-<UTC time>`` beside it and delete all
    but the newest ``keep`` such folders; None when there was nothing to move."""
    entries = [p for p in index_dir.iterdir() if p.name not in KEPT_IN_PLACE] if index_dir.exists() else []
    if not entries:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = index_dir.with_name(f"{index_dir.name}{CORRUPT_MARK}{stamp}")
    target.mkdir(mode=0o700)
    for entry in entries:
        entry.rename(target / entry.name)
    copies = sorted(index_dir.parent.glob(f"{index_dir.name}{CORRUPT_MARK}*"))
    for stale in copies[: max(len(copies) - keep, 0)]:
        shutil.rmtree(stale, ignore_errors=True)
    return target if target.exists() else None


class IndexRepair:
    def __init__(self, index_dir: Path, opener: Callable[[], Parts], *, keep: int) -> None:
        self.index_dir = index_dir
        self.keep = keep
        self._opener = opener
        self.state: IndexState = "ok"
        self.reason: str | None = None  # why the last repair happened
        self.pending: str | None = None  # moved aside at open: the next ensure_ready rebuilds
        self.closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def open(self) -> Parts:
        """The index's parts; unreadable ones are moved aside and opened empty (``pending`` then
        says why, for :meth:`SearchIndex.ensure_ready` to rebuild)."""
        try:
            return self._opener()
        except ShopassistError:
            raise
        except broken_file_errors() as exc:
            reason = describe(exc)
        self.move_aside(reason)
        self.pending = reason
        return self._opener()

    def move_aside(self, reason: str) -> None:
        target = move_aside(self.index_dir, keep=self.keep)
        self.reason = reason
        log.error(
            "the search index at %s is unreadable (%s); moved it aside to %s, it is rebuilt from the store",
            self.index_dir,
            reason,
            target if target is not None else "(nothing to keep)",
        )

    def start(self, name: str, work: Callable[[], None]) -> bool:
        """Run ``work`` on the repair thread; False when one is running already."""
        with self._lock:
            if self.closing.is_set() or (self._thread is not None and self._thread.is_alive()):
                return False
            self._thread = threading.Thread(target=work, name=name, daemon=True)
            self._thread.start()
            return True

    def rebuild_in_background(self, index: SearchIndex) -> None:
        """Searches answer from the store until the rebuild on the repair thread is done."""
        self.state = "rebuilding"
        if not self.start("index-rebuild", lambda: self.rebuild(index)):
            self.state = "failed"  # closing, or a check is running and decides

    def check(self, index: SearchIndex) -> None:
        """On the repair thread, after a read or write failed: probe every part; if one is
        broken, move the index aside and rebuild it (a passing failure changes nothing)."""
        broken = index.probe()
        if broken is None:
            log.info("the search index answers its probe again; the failure passed")
            return
        try:
            index.replace_broken(broken)
        except Exception as exc:  # e.g. a Chroma server that went away: the store keeps answering
            self.state = "failed"
            log.error("repairing the search index failed (%s); searches answer from the store", describe(exc))
            return
        self.state = "rebuilding"
        self.rebuild(index)

    def rebuild(self, index: SearchIndex) -> None:
        """On the repair thread: rebuild, serve from the index again, then catch up with what
        the store changed meanwhile (writes skip the index during the rebuild)."""
        try:
            report = index.rebuild()
            self.state = "ok"
            index.sync()
        except Exception as exc:
            self.state = "failed"
            if self.closing.is_set():
                log.info("the search index rebuild stopped: the index was closed")
                return
            log.error(
                "rebuilding the search index failed (%s); searches answer from the store", describe(exc)
            )
            return
        log.info(
            "search index rebuilt after a repair: %d products, %d policy passages in %.1f s",
            report.products,
            report.policy_passages,
            report.seconds,
        )

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the repair thread; True when none is running (any more)."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def close(self, timeout: float = 60.0) -> None:
        """Stop: a running rebuild gives up after its current batch."""
        self.closing.set()
        if not self.wait(timeout):
            log.warning("the index rebuild did not stop within %.0f s", timeout)
