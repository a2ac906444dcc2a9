"""The shared engines a benchmark may run the shop on instead of the embedded default: a
database of its own on a PostgreSQL server, holding the fixture shop and the conversation store
(:func:`postgres_shop`), and a key prefix of its own on a Redis server (:func:`redis_keys`).
Both are removed afterwards, so a benchmark can be repeated against the same servers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from eval.fixture_shop import build_fixture_database


@contextmanager
def new_database(server_url: str, *, prefix: str) -> Iterator[str]:
    """A new, empty database named ``prefix`` plus a random suffix on the PostgreSQL server
    ``server_url`` (any database of it; the user may create databases); yields its URL and drops
    it, with its connections, afterwards."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def postgres_shop(server_url: str) -> Iterator[str]:
    """A new database on the PostgreSQL server ``server_url`` with the fixture shop, migrated,
    and the conversation store's tables; yields its URL and drops it afterwards."""
    with new_database(server_url, prefix="shopassist_bench_") as url:
        build_fixture_database(url)
        yield url


@contextmanager
def redis_keys(url: str, *, prefix: str = "shopassist-bench-") -> Iterator[str]:
    """A key prefix of its own (``prefix`` plus a random suffix) on the Redis at ``url``; its
    keys are deleted afterwards."""
    import redis

    own = f"{prefix}{uuid.uuid4().hex[:10]}:"
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
    try:
        client.ping()
        yield own
    finally:
        keys = list(client.scan_iter(match=f"{own}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
