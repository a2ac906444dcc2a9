"""The data files a fresh install creates are private: shop.db, sessions.db and the secret key
0600, the data and index directories 0700 (with the ordinary umask 022)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.sessions.sql_store import SqlSessionStore
from core.config import Settings
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_fresh_data_files_are_private(
    tmp_path: Path, umask_022: None, embedder: SentenceTransformerEmbedder
) -> None:
    data_dir = tmp_path / "fresh" / "data"
    settings = Settings(data_dir=data_dir)  # no policy.secret_key: one is generated
    services = Services.from_settings(settings, with_index=True, embedder=embedder)
    sessions = SqlSessionStore.from_settings(settings)
    try:
        sessions.create(channel="web")  # writes, so SQLite's -wal file exists too
        with services.database.transaction() as session:
            session.connection().exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
        assert _mode(tmp_path / "fresh") == 0o700
        assert _mode(data_dir) == 0o700
        assert _mode(data_dir / "index") == 0o700
        for name in ("shop.db", "sessions.db", "secret_key", "sessions.db-wal", "shop.db-wal"):
            assert _mode(data_dir / name) == 0o600, name
    finally:
        sessions.close()
        services.close()
