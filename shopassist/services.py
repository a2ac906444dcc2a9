"""Builds the live objects once from settings: store, tool registry, policy executor.

Transports and the CLI receive a :class:`Services` instead of reaching for globals.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shopassist.config import Settings
from tools.policy import ToolExecutor
from tools.registry import ToolRegistry, default_registry
from tools.store.db import Database

if TYPE_CHECKING:
    from retrieval.embeddings import Embedder
    from retrieval.index import SearchIndex

log = logging.getLogger(__name__)


def load_secret(settings: Settings) -> bytes:
    """The policy secret from config, or a random one kept (mode 0600) in the data directory."""
    if settings.policy.secret_key is not None:
        return settings.policy.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret_key"
    if path.is_file():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    log.info("generated a new policy secret in the data directory")
    return key


@dataclass
class Services:
    settings: Settings
    database: Database
    registry: ToolRegistry
    executor: ToolExecutor
    index: SearchIndex | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        with_index: bool = False,
        embedder: Embedder | None = None,
    ) -> Services:
        """Open the store (migrating it) and, with ``with_index``, the search index.

        The index is opened, not built: call ``index.ensure_ready()`` before serving searches.
        With ``retrieval.live_updates`` every committed store change reaches the index.
        """
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        database = Database(settings.database_url, echo=settings.store.echo)
        if migrate:
            database.migrate()
        index = None
        if with_index:
            from retrieval.service import open_search_index

            index = open_search_index(settings, database, embedder=embedder)
            if settings.retrieval.live_updates:
                database.add_catalog_listener(index.on_catalog_change)
        registry = default_registry()
        executor = ToolExecutor(
            registry,
            database,
            shop=settings.shop,
            secret=load_secret(settings),
            confirmation_ttl=settings.policy.confirmation_ttl_seconds,
            search=index,
        )
        return cls(settings, database, registry, executor, index)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
        self.database.dispose()
