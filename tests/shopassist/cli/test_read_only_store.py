"""A store that cannot be written stops ``serve`` and ``migrate`` at once with one clear line and
a non-zero exit, not a traceback. The data directory is made read-only for real: with chmod, or,
since root ignores file modes, as a read-only bind mount of itself."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shopassist.cli.process import run_cli


@pytest.fixture
def read_only_data(tmp_path: Path, _template_db: Path) -> Iterator[Path]:
    """A data directory holding a migrated store, then made read-only; yields its parent, which
    holds the config."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(_template_db, data / "shop.db")
    (tmp_path / "config.yaml").write_text(
        f"data_dir: {data}\npolicy:\n  secret_key: read-only-test-secret-0123456789\nllm:\n  enabled: false\n"
        "speech:\n  enabled: false\nlogging:\n  level: WARNING\n"
    )
    if os.geteuid() != 0:
        (data / "shop.db").chmod(stat.S_IRUSR)
        data.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            yield tmp_path
        finally:
            data.chmod(0o700)
            (data / "shop.db").chmod(0o600)
        return
    bind = subprocess.run(["mount", "--bind", str(data), str(data)], capture_output=True, check=False)
    if bind.returncode != 0:
        pytest.skip(f"root, and no read-only bind mount here: {bind.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(data)], capture_output=True, check=True)
        with pytest.raises(OSError):  # really read-only, even for root
            (data / "probe").write_text("x")
        yield tmp_path
    finally:
        subprocess.run(["umount", str(data)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]])
def test_a_read_only_store_stops_the_command_with_one_clear_line(
    read_only_data: Path, command: list[str]
) -> None:
    result = run_cli(read_only_data, *command)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error (storage_unavailable):"), result.stderr
    assert str(read_only_data / "data") in lines[0] and "cannot be written" in lines[0]
