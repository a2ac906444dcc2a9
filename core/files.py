"""Private data files: what Shopassist creates in the data directory holds customers' personal
data (the shop's database, conversations, the search index) or a secret (the policy key), so it
is created readable by its owner only: directories 0700, files 0600, whatever the umask.

Only what is created here gets these modes: an existing directory keeps its own (it may be a
directory the operator shares on purpose), and so does an existing database file.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path | str) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (an existing one is left alone)."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it at the same moment
            continue
        os.chmod(directory, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path | str) -> Path:
    """Create an empty ``path`` with mode 0600 unless it exists (its directory private too)."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def private_sqlite(url: str) -> None:
    """Before an engine opens a SQLite URL: create its file 0600 (its directory 0700), so SQLite
    finds it and keeps that mode (its -wal and -shm files copy the database file's mode). Other
    databases (PostgreSQL) and in-memory SQLite are left alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    private_file(database)
