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
    from assistant.llm import LLM
    from assistant.session_store import SqlSessionStore
    from dialogue_rules.intents import IntentMatcher
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
    sessions: SqlSessionStore | None = None
    matcher: IntentMatcher | None = None
    llm: LLM | None = None
    owns_llm: bool = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        with_index: bool = False,
        with_dialogue: bool = False,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        matcher: IntentMatcher | None = None,
    ) -> Services:
        """Open the store (migrating it) and, with ``with_index``, the search index.

        The index is opened, not built: call ``index.ensure_ready()`` before serving searches.
        With ``retrieval.live_updates`` every committed store change reaches the index.
        ``with_dialogue`` (implies ``with_index``) also opens the conversation store, builds the
        intent matcher on the index's embedder and loads the LLM once (unless ``llm.enabled`` is
        false, or ``llm`` is passed in).
        """
        with_index = with_index or with_dialogue
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
        services = cls(settings, database, registry, executor, index)
        if with_dialogue and index is not None:
            from assistant.llm import create_llm
            from assistant.session_store import SqlSessionStore
            from dialogue_rules.intents import IntentMatcher

            services.sessions = SqlSessionStore.from_settings(
                settings, lease_seconds=max(60.0, settings.sessions.lock_timeout_seconds * 2)
            )
            services.matcher = matcher or IntentMatcher(embedder=index.embedder)
            services.llm = llm if llm is not None else create_llm(settings.llm)
            services.owns_llm = llm is None and services.llm is not None
        return services

    def close(self) -> None:
        """Release what this object opened (the LLM only if it loaded it)."""
        if self.owns_llm and self.llm is not None:
            close = getattr(self.llm, "close", None)
            if close is not None:
                close()
        if self.sessions is not None:
            self.sessions.close()
        if self.index is not None:
            self.index.close()
        self.database.dispose()
