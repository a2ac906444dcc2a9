"""Test databases on SQLite and on PostgreSQL, so the tests of whatever touches the database run
on both.

The store and the conversation store promise to work on SQLite (the embedded default) and on
PostgreSQL (several processes sharing one server). A test module opts in with
``pytestmark = pytest.mark.databases``: each of its tests that uses the ``backend`` fixture (often
indirectly: ``settings``, ``sessions_url``, ``empty_db_url``...) then runs twice, with ids
``sqlite`` and ``postgresql``. Other tests get ``backend == "sqlite"`` and run once.

Each PostgreSQL test gets a database of its own, so parallel workers and runs never collide: a
template is built once per test process (per xdist worker; named with the worker id and a random
suffix) and each test clones it (``CREATE DATABASE ... TEMPLATE``, about 0.2 s, instead of
migrating and seeding again); the clone is dropped ``WITH (FORCE)`` after the test (on a
background thread), and the templates at the end of the session.

Without a PostgreSQL server the PostgreSQL tests skip, except under ``CI=true``, where they fail:
CI must have started one. ``TEST_POSTGRES_URL`` names the server (any database on it; the user
must be allowed to create databases).
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.backends import POSTGRES_URL, unavailable

BACKENDS = ("sqlite", "postgresql")
PREFIX = "shopassist_t"


def postgres_unavailable(reason: str) -> NoReturn:
    """Without PostgreSQL a test skips, except in CI, where it must have been started."""
    unavailable("PostgreSQL", reason)


class PostgresServer:
    """Creates, clones and drops this test process's databases on the test server."""

    def __init__(self, url: str = POSTGRES_URL) -> None:
        self.base = sa.make_url(url)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"{PREFIX}_{worker}_{uuid.uuid4().hex[:6]}"
        self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._templates: dict[str, str] = {}
        self._doomed: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._dropper: threading.Thread | None = None

    def check(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str | None = None) -> str:
        """A new database (a copy of ``template``, a database of this server); returns its name."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        clone = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{clone}'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop_later(self, name: str) -> None:
        """Drop ``name`` on a background thread: a test's teardown need not wait for it (0.01 s
        on a quiet server, up to a minute on a busy one). :meth:`close` waits for every drop."""
        if self._dropper is None:
            self._dropper = threading.Thread(
                target=self._drop_queued, name="drop-test-databases", daemon=True
            )
            self._dropper.start()
        self._doomed.put(name)

    def _drop_queued(self) -> None:
        while (name := self._doomed.get()) is not None:
            try:
                self.drop(name)
            except Exception as exc:  # a leftover database is harmless; say so
                warnings.warn(f"could not drop test database {name}: {exc}", stacklevel=1)

    def template(self, key: str, build: Callable[[str], None]) -> str:
        """The template database ``key``, built by ``build(url)`` the first time it is asked for.
        ``build`` must close every connection it opens (a template with a connection cannot be
        copied)."""
        if key not in self._templates:
            name = self.create()
            try:
                build(self.url(name))
            except BaseException:
                self.drop(name)
                raise
            self._templates[key] = name
        return self._templates[key]

    def close(self) -> None:
        if self._dropper is not None:
            self._doomed.put(None)
            self._dropper.join()
        for name in self._templates.values():
            self.drop(name)
        self._templates.clear()
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """This test process's handle on the PostgreSQL test server (skips, or fails in CI, without it)."""
    server = PostgresServer()
    try:
        server.check()
    except Exception as exc:  # driver missing, server down, no permission
        server.admin.dispose()
        postgres_unavailable(f"{type(exc).__name__}: {exc} ({POSTGRES_URL}; set TEST_POSTGRES_URL)")
    yield server
    server.close()


#: ``new_postgres(template_key=None, build=None) -> url``: a database of the test's own.
NewPostgres = Callable[..., str]


@pytest.fixture
def new_postgres(postgres_server: PostgresServer) -> Iterator[NewPostgres]:
    """Make PostgreSQL databases for this test, dropped after it: empty, or a copy of the
    template ``template_key`` (built once per test process by ``build(url)``)."""
    created: list[str] = []

    def make(template_key: str | None = None, build: Callable[[str], None] | None = None) -> str:
        template = None
        if template_key is not None:
            if build is None:
                raise TypeError("a template needs its build function")
            template = postgres_server.template(template_key, build)
        name = postgres_server.create(template=template)
        created.append(name)
        return postgres_server.url(name)

    yield make
    for name in created:
        postgres_server.drop_later(name)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: both in modules marked ``databases``, else ``sqlite``."""
    return str(getattr(request, "param", "sqlite"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test of a ``databases`` module on each backend."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("databases"):
        metafunc.parametrize("backend", BACKENDS, indirect=True, ids=BACKENDS)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database on the backend under test: a new SQLite file, or a PostgreSQL database."""
    if backend == "postgresql":
        make: NewPostgres = request.getfixturevalue("new_postgres")
        return make()
    return f"sqlite:///{tmp_path / 'empty.db'}"
