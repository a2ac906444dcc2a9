"""A disk that fills up during a confirmed cancel: the customer gets 507 ``storage_full`` with a
message the widget can show, nothing is half-written, and the failure is logged once.

The disk is real: a small tmpfs holding the database, filled with a file right before the
customer's "yes" (mounting needs root; the store-level tests in tests/store/test_failures.py
cover the same errors with SQLite's own size limit everywhere)."""

from __future__ import annotations

import errno
import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.sessions.events import UserMessage
from connectors.web.app import create_app
from eval.dialogue.runner import ScenarioHarness
from services import Services
from store.models import Order, OrderStatus

TURNS = ["I want to cancel an order", "alice@example.com, zip 10001", "#W0000001", "ordered by mistake"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; returns the filler file."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return filler


@pytest.mark.slow
@pytest.mark.parametrize("full", ["store", "sessions"])
def test_a_full_disk_during_a_confirmed_cancel_is_a_clear_507_and_nothing_is_half_written(
    harness: ScenarioHarness,
    tmp_path: Path,
    small_disk: Path,
    full: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data_dir = tmp_path / "shop"
    shutil.copytree(harness.workdir / "template", data_dir)
    base = harness.settings_for(data_dir)
    store_path = data_dir / "shop.db"
    sessions_path = data_dir / "sessions.db"
    if full == "store":
        store_path = small_disk / "shop.db"
        shutil.move(data_dir / "shop.db", store_path)
    else:
        sessions_path = small_disk / "sessions.db"
    settings = base.model_copy(
        update={
            "store": base.store.model_copy(update={"url": f"sqlite:///{store_path}"}),
            "sessions": base.sessions.model_copy(update={"url": f"sqlite:///{sessions_path}"}),
        }
    )
    services = Services.from_settings(settings, with_dialogue=True, embedder=harness.embedder, llm=None)
    try:
        assert services.index is not None and services.sessions is not None
        services.index.ensure_ready()
        with TestClient(create_app(settings, services=services)) as client:
            sid = None
            for text in TURNS:
                response = client.post("/api/v1/chat", json={"message": text, "session_id": sid})
                assert response.status_code == 200, response.text
                sid = response.json()["session_id"]
            assert "Shall I" in response.json()["reply"] or "confirm" in response.json()["reply"].lower()
            recorded = len(services.sessions.events(session_id=sid))
            # The disk fills up between the offer and the yes. (Checkpointed first, so the
            # databases' write-ahead logs must grow to take the next write, as after a restart.)
            services.database.checkpoint()
            with services.sessions.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = _fill(small_disk)
            caplog.clear()
            with caplog.at_level(logging.ERROR):
                refused = client.post("/api/v1/chat", json={"message": "yes", "session_id": sid})
            assert refused.status_code == 507, refused.text
            error = refused.json()["error"]
            assert error["code"] == "storage_full"
            assert "nothing was changed" in error["message"] and "try again" in error["message"]
            assert "sqlite" not in error["message"].lower()
            failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(failures) == 1 and getattr(failures[0], "code", None) == "storage_full", failures

            filler.unlink()  # space again: nothing of the failed turn is there, and it can be redone
            with services.database.session() as session:
                order = session.get(Order, "#W0000001")
                assert order is not None and order.status is OrderStatus.PENDING
            events = services.sessions.events(session_id=sid)
            assert len(events) == recorded
            assert [e.event.text for e in events if isinstance(e.event, UserMessage)] == TURNS
            done = client.post("/api/v1/chat", json={"message": "yes", "session_id": sid})
            assert done.status_code == 200, done.text
            with services.database.session() as session:
                order = session.get(Order, "#W0000001")
                assert order is not None and order.status is OrderStatus.CANCELLED
    finally:
        services.close()
