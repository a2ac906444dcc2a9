"""A store that cannot be written stops ``serve`` and ``migrate`` at once with one clear line and
a non-zero exit, not a traceback. The data directory is made read-only for real: with chmod, and
since root ignores file modes, the commands then run as an unprivileged user (``nobody``)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

NOBODY = 65534


@pytest.fixture
def read_only_data(_template_db: Path) -> Iterator[Path]:
    """A data directory with a migrated store, then made read-only (directory and files).
    Outside pytest's 0700 temporary root, so ``nobody`` can reach it."""
    root = Path(tempfile.mkdtemp(prefix="shopassist-ro-"))
    try:
        data = root / "data"
        data.mkdir()
        shutil.copy(_template_db, data / "shop.db")
        (root / "config.yaml").write_text(
            f"data_dir: {data}\npolicy:\n  secret_key: read-only-test-secret-0123456789\nllm:\n  enabled: false\n"
            "speech:\n  enabled: false\nlogging:\n  level: WARNING\n"
        )
        if os.geteuid() == 0:
            os.chown(data, NOBODY, NOBODY)
            os.chown(data / "shop.db", NOBODY, NOBODY)
        (data / "shop.db").chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        data.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        root.chmod(0o755)
        yield root
    finally:
        for path in (root / "data", root):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(root)


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "HOME": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "shopassist.cli.main", "--config", str(root / "config.yaml"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
        user=NOBODY if os.geteuid() == 0 else None,
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]])
def test_a_read_only_store_stops_the_command_with_one_clear_line(read_only_data: Path, command: list[str]) -> None:
    result = _run(read_only_data, *command)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error (storage_unavailable):"), result.stderr
    assert str(read_only_data / "data") in lines[0] and "cannot be written" in lines[0]
