"""Shared fixtures: a migrated store seeded with the fixture shop (SQLite, or PostgreSQL in modules
marked ``databases``: see :mod:`tests.databases`), settings, executor."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `shopassist` sets it at start

from core.bundled_models import bundled_embedding_path, bundled_llm_path
from core.config import Settings, SpeechSettings
from eval.dialogue.runner import ScenarioHarness
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services
from speech.recognizer import WhisperRecognizer
from store.db import Database
from tests.backends import OwnRedis, new_postgres_database, redis_prefix
from tests.index_damage import built_index_shop, damaged  # noqa: F401  (fixtures: a broken index)
from tests.servers import LlamaServer, chroma_server_process, free_port, llama_server_process
from tests.shop_fixture import ALICE, BOB, build_fixture_database, build_fixture_shop
from tools.base import ToolContext
from tools.policy import ToolExecutor, ToolOutcome

# The backend matrix: backend, postgres_server, new_postgres, empty_db_url, and its hook.
pytest_plugins = ("tests.databases",)
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
#: A test that uses one of these fixtures gets the marker (see pyproject's markers).
MARKER_OF_FIXTURE = {"llm": "llm", "llama_server": "llm", "recognizer": "speech", "browser": "browser"}
LLAMA_SERVER_KEY = "test-llama-server-key"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in MARKER_OF_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's config.yaml or SHOPASSIST_* variables."""
    for key in list(os.environ):
        if key.startswith("SHOPASSIST_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded once for every test that embeds."""
    return SentenceTransformerEmbedder(bundled_embedding_path())


@pytest.fixture(scope="session")
def harness(embedder: SentenceTransformerEmbedder) -> Iterator[ScenarioHarness]:
    """The fixture shop with its search index and the rules-only dialogue engine, built once;
    ``harness.assistant()`` gives each test a fresh copy of the shop and its conversations."""
    built = ScenarioHarness(embedder=embedder, llm=None)
    yield built
    built.close()


@pytest.fixture(scope="session")
def recognizer() -> WhisperRecognizer:
    """The bundled Whisper tiny.en, loaded once for every test that listens."""
    return WhisperRecognizer(SpeechSettings())


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """A real Chroma server (``chroma run``, a child process) for one test, storing under
    tmp_path; its URL is what ``retrieval.chroma.url`` is set to. Several ``Services`` or
    ``shopassist serve`` processes given the URL share it."""
    with chroma_server_process(tmp_path / "chroma-server", tmp_path / "chroma-server.log") as url:
        yield url


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama.cpp's OpenAI-compatible server (llama-cpp-python's, a child process) serving the
    bundled GGUF for the whole session: ``llm.backend: openai`` with ``llm.base_url`` =
    ``base_url``, ``llm.api_key`` = ``api_key``. One or two threads, a small context."""
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server_process(bundled_llm_path(), log, api_key=LLAMA_SERVER_KEY, n_ctx=2048) as server:
        yield server


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "shop.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    with database.transaction() as session:
        build_fixture_shop(session)
    database.dispose()
    return path


build_shop_database = build_fixture_database
"""The fixture shop and the conversation store's tables in the database at a URL (templates)."""


@pytest.fixture
def shop_db_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """On PostgreSQL: a database of this test's own holding the fixture shop and the conversation
    store (a copy of a template built once per test process). On SQLite: None (the data
    directory's files, copied from ``_template_db``)."""
    if backend != "postgresql":
        return None
    new_postgres = request.getfixturevalue("new_postgres")
    return str(new_postgres("shop", build_shop_database))


@pytest.fixture
def settings(tmp_path: Path, _template_db: Path, shop_db_url: str | None) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    options: dict[str, Any] = {"data_dir": data_dir, "policy": {"secret_key": "test-secret-key-0123456789"}}
    if shop_db_url is None:
        shutil.copy(_template_db, data_dir / "shop.db")
    else:
        options |= {"store": {"url": shop_db_url}, "sessions": {"url": shop_db_url}}
    return Settings(**options)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.from_settings(settings)
    yield built
    built.close()


@pytest.fixture
def database(services: Services) -> Database:
    return services.database


@pytest.fixture
def executor(services: Services) -> ToolExecutor:
    return services.executor


@pytest.fixture
def alice() -> ToolContext:
    return ToolContext(session_id="sess-alice", customer_id=ALICE)


@pytest.fixture
def bob() -> ToolContext:
    return ToolContext(session_id="sess-bob", customer_id=BOB)


@pytest.fixture
def anonymous() -> ToolContext:
    return ToolContext(session_id="sess-anon")


def confirmed_run(executor: ToolExecutor, name: str, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
    """Prepare a side-effect call, then run it with the token, as the dialogue layer does on "yes"."""
    pending = executor.prepare(name, args, ctx=ctx)
    return executor.run(name, args, ctx=ctx.confirmed(pending.token))


@pytest.fixture
def confirm(executor: ToolExecutor) -> Any:
    def _confirm(name: str, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        return confirmed_run(executor, name, args, ctx)

    return _confirm


@pytest.fixture
def redis_key_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the test Redis (``tests.backends.REDIS_URL``); its
    keys are deleted after the test."""
    with redis_prefix() as prefix:
        yield prefix


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of this test's own, running; the test may stop and start it."""
    server = OwnRedis(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database of this test's own, dropped after it."""
    with new_postgres_database() as url:
        yield url


def require_shared(*parts: str) -> Path:
    """Path to a file in ../shared/data, or skip the test with a clear reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (clone the project beside ../shared)")
    return path


@pytest.fixture(scope="session")
def tau_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The tau retail shop imported into SQLite once per test process; for tests that only read."""
    from tools.importers import ImportOptions, run_import

    path = tmp_path_factory.mktemp("tau-store") / "shop.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    run_import(database, "tau", require_shared("tau_retail"), options=ImportOptions(default_stock=10))
    yield database
    database.dispose()
