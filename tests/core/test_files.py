"""Private data files: created 0600 in 0700 directories whatever the umask; what exists is left
alone; PostgreSQL URLs are not touched."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.files import private_dir, private_file, private_sqlite


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_private_dir_makes_every_missing_level_0700(tmp_path: Path, umask: int) -> None:
    os.chmod(tmp_path, 0o755)
    target = tmp_path / "a" / "b" / "c"
    assert private_dir(target) == target
    for level in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert _mode(level) == 0o700, level
    assert _mode(tmp_path) == 0o755  # an existing parent keeps its mode


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    private_dir(shared)
    assert _mode(shared) == 0o755


def test_private_file_and_sqlite(tmp_path: Path, umask: int) -> None:
    path = private_file(tmp_path / "data" / "secret")
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    path.write_text("kept")
    private_file(path)
    assert path.read_text() == "kept"  # never truncated

    private_sqlite(f"sqlite:///{tmp_path / 'db' / 'shop.db'}")
    assert _mode(tmp_path / "db" / "shop.db") == 0o600 and _mode(tmp_path / "db") == 0o700


def test_other_databases_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    private_sqlite("postgresql+psycopg://postgres@127.0.0.1:5432/shop")
    private_sqlite("sqlite:///:memory:")
    private_sqlite("sqlite://")
    assert list(tmp_path.iterdir()) == []
