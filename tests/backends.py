"""The servers tests use beside the code: PostgreSQL and Redis, real ones.

Each test gets a place of its own and leaves nothing behind: a new PostgreSQL database
(:func:`new_postgres_database`), a Redis key prefix whose keys are deleted after it
(:func:`redis_prefix`), or a Redis server of its own that it may stop and start
(:class:`OwnRedis`, for outages). A server that cannot be reached skips the test, except
under ``CI=true``, where it must have been started and the test fails (:func:`unavailable`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from eval.web.shared import new_database, redis_keys

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""A PostgreSQL server where tests may create and drop databases (``TEST_POSTGRES_URL``)."""
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
"""A Redis server tests may write keys to under prefixes of their own (``TEST_REDIS_URL``)."""


def unavailable(what: str, reason: str) -> NoReturn:
    """Without ``what`` a test skips, except in CI, where it must have been started."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required in CI: {reason}")
    pytest.skip(f"{what} not available: {reason}")


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped (with its connections) afterwards."""
    with new_database(postgres_reachable(), prefix="shopassist_test_") as url:
        yield url


def postgres_reachable() -> str:
    """``POSTGRES_URL``, once a connection to it worked (else :func:`unavailable`)."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        unavailable("PostgreSQL", f"{type(exc).__name__}: {exc} ({POSTGRES_URL}; set TEST_POSTGRES_URL)")
    return POSTGRES_URL


@contextmanager
def redis_prefix(url: str = REDIS_URL) -> Iterator[str]:
    """A key prefix of this test's own on the Redis at ``url``; its keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable("Redis", f"{exc} ({url}; set TEST_REDIS_URL)")
    finally:
        client.close()
    with redis_keys(url, prefix="shopassist-test-") as prefix:
        yield prefix


@dataclass
class OwnRedis:
    """A ``redis-server`` of the test's own on a free port of 127.0.0.1 (nothing saved to disk),
    to stop and start again: Redis going away and coming back."""

    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server", "not on PATH (Debian package redis-server)")
        log = (self.workdir / "redis.log").open("ab")
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command = [binary, *options]
        self.proc = subprocess.Popen(command, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError as exc:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    log_text = (self.workdir / "redis.log").read_text()
                    raise RuntimeError(f"redis-server did not start: {log_text}") from exc
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
