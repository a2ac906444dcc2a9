"""The composition root: :class:`Services` builds every long-lived object once, from settings.

Transports (the web app, the Telegram bot), the CLI and the evaluations receive a ``Services``
and take what they need from it; nothing else builds a model, an index or a store, and nothing
keeps one in a module global. What it builds, by layer:

- the shop's store (migrated) and its tools behind the policy layer (``ToolExecutor``);
- with ``with_index``: the search index, kept current by the store's change events, and its
  follower of the store's change feed (other processes' writes; started by :meth:`follow_catalog`);
- with ``with_dialogue``: the conversation store, the intent matcher, the LLM (behind its
  admission gate, :class:`~assistant.llm.admission.AdmittedLLM`), the
  :class:`~assistant.engine.Assistant`, the support desk and the agent accounts, and the
  notification bus of conversation events (``events``: Redis, PostgreSQL or in-process, see
  :mod:`assistant.sessions.notify`), which the conversation store publishes to;
- with ``with_voice``: the voice channel (Whisper recognizer, espeak-ng, holds, the catalog
  vocabulary) over that assistant.

The LLM and the voice channel are optional: when one cannot load, the error is logged, its
state (``llm_health``, ``speech_health``: ok, degraded with the reason, or off) says so for
``/readyz``, and the rest serves without it (rules and templates answer without a model).
A configured Redis that cannot be reached is reported the same way (``redis_health``; the rate
limits fall back to each process's own window, the sockets to their slow timer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from core.config import Settings
from core.errors import ConfigError, ShopassistError
from core.files import private_dir
from core.health import ComponentHealth
from services.secret import load_secret
from store.db import Database
from support.accounts import AgentAccounts
from tools.policy import ToolExecutor
from tools.registry import ToolRegistry, default_registry

if TYPE_CHECKING:
    from assistant.decide.verification import IdentityChecks
    from assistant.engine import Assistant
    from assistant.llm.admission import AdmittedLLM
    from assistant.llm.protocol import LLM
    from assistant.sessions.notify import EventBus
    from assistant.sessions.sql_store import SqlSessionStore
    from dialogue_rules.intents import IntentMatcher
    from retrieval.embeddings import Embedder
    from retrieval.follower import CatalogFollower
    from retrieval.index import SearchIndex
    from speech.recognizer import SpeechRecognizer
    from speech.turns import VoiceAssistant
    from support.desk import SupportDesk
    from tools.recommend.model import ModelStore
    from tools.search import ShopSearch

log = logging.getLogger(__name__)

__all__ = ["Services", "load_secret"]


@dataclass
class Services:
    settings: Settings
    database: Database
    registry: ToolRegistry
    executor: ToolExecutor
    agent_accounts: AgentAccounts
    index: SearchIndex | None = None
    follower: CatalogFollower | None = None  # reads other processes' catalog changes into ``index``
    sessions: SqlSessionStore | None = None
    matcher: IntentMatcher | None = None
    llm: LLM | None = None
    assistant: Assistant | None = None
    desk: SupportDesk | None = None
    voice: VoiceAssistant | None = None
    owns_llm: bool = False
    llm_gate: AdmittedLLM | None = None  # the LLM (``llm`` is this gate) and its busy counts
    llm_health: ComponentHealth = field(default_factory=lambda: ComponentHealth("llm"))
    speech_health: ComponentHealth = field(default_factory=lambda: ComponentHealth("speech"))
    events: EventBus | None = None  # news of conversation events, across processes when configured
    events_health: ComponentHealth = field(default_factory=lambda: ComponentHealth("live_events"))
    redis_health: ComponentHealth = field(default_factory=lambda: ComponentHealth("redis"))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        with_index: bool = False,
        with_dialogue: bool = False,
        with_voice: bool = False,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        matcher: IntentMatcher | None = None,
        recognizer: SpeechRecognizer | None = None,
    ) -> Services:
        """Open the store (migrating it) and what the flags ask for.

        The index is opened, not built: call ``index.ensure_ready()`` before serving searches.
        ``with_dialogue`` (implies ``with_index``) loads the LLM once (unless ``llm.enabled`` is
        false, or ``llm`` is passed in). ``with_voice`` (implies ``with_dialogue``) loads the
        speech recognizer (or uses ``recognizer``); if the voice channel cannot load, the error
        is logged and ``voice`` stays None, so the rest still serves.
        """
        with_dialogue = with_dialogue or with_voice
        with_index = with_index or with_dialogue
        private_dir(settings.data_dir)
        database = Database(settings.database_url, echo=settings.store.echo)
        if migrate:
            database.migrate()
        index = _open_index(settings, database, embedder) if with_index else None
        follower = _catalog_follower(settings, database, index)
        registry = default_registry()
        executor = ToolExecutor(
            registry,
            database,
            shop=settings.shop,
            secret=load_secret(settings),
            confirmation_ttl=settings.policy.confirmation_ttl_seconds,
            search=_tool_search(index),
            privacy=settings.privacy,
            recommender=_recommender(settings),
        )
        services = cls(settings, database, registry, executor, AgentAccounts(database), index, follower)
        if settings.redis.url is None:
            services.redis_health.off("redis.url is not set")
        if with_dialogue and index is not None:
            services._load_dialogue(index, llm=llm, matcher=matcher)
        if with_voice:
            services._load_voice(recognizer)
        elif not settings.speech.enabled:
            services.speech_health.off("speech.enabled is false")
        else:
            services.speech_health.off("not loaded in this process")
        return services

    def _load_dialogue(self, index: SearchIndex, *, llm: LLM | None, matcher: IntentMatcher | None) -> None:
        from assistant.engine import Assistant
        from assistant.llm.admission import AdmittedLLM
        from assistant.sessions.notify import open_event_bus
        from assistant.sessions.sql_store import SqlSessionStore
        from dialogue_rules.intents import IntentMatcher
        from support.desk import SupportDesk

        settings = self.settings
        lock_timeout = settings.sessions.lock_timeout_seconds
        self.sessions = SqlSessionStore.from_settings(settings)
        self.events = open_event_bus(settings, health=self.events_health, redis_health=self.redis_health)
        self.sessions.add_append_listener(self.events.publish)
        self.matcher = matcher or IntentMatcher(embedder=index.embedder)
        if llm is not None:
            model: LLM | None = llm
            self.llm_health.ok()
        else:
            model = self._load_llm()
            self.owns_llm = model is not None
        # Every caller of the model passes one admission gate (see assistant.llm.admission).
        self.llm_gate = None if model is None else AdmittedLLM.from_settings(model, settings.llm)
        self.llm = self.llm_gate
        self.assistant = Assistant(
            settings=settings,
            store=self.sessions,
            executor=self.executor,
            matcher=self.matcher,
            llm=self.llm,
            identity=self._identity_checks(),
        )
        self.desk = SupportDesk(self.sessions, lock_timeout=lock_timeout)

    def _load_llm(self) -> LLM | None:
        """The configured model; None (and ``llm_health`` degraded) when it cannot load, so turns
        are answered by the rules and templates. An OpenAI-compatible server is watched: while
        it is down, calls fail fast and it is checked until it is back (``llm.probe_max_seconds``)."""
        from assistant.llm.backends import create_llm
        from assistant.llm.openai_compatible import OpenAICompatibleLLM
        from assistant.llm.watch import WatchedLLM

        settings = self.settings.llm
        if not settings.enabled:
            self.llm_health.off("llm.enabled is false")
            return None
        try:
            llm = create_llm(settings)
        except ShopassistError as exc:
            log.error("llm not loaded, rules and templates answer: %s", exc.message)
            self.llm_health.degraded(exc.message)
            return None
        if isinstance(llm, OpenAICompatibleLLM):
            return WatchedLLM(llm, self.llm_health, max_wait=settings.probe_max_seconds)
        self.llm_health.ok()
        return llm

    def _identity_checks(self) -> IdentityChecks:
        """Verification as ``auth.*`` says, with failures counted in the shop's store (so they
        hold across conversations, restarts and workers) and codes mailed when SMTP is set."""
        from assistant.decide.verification import identity_checks
        from identity.lockout import FailureGuard
        from identity.mail import SmtpMailer
        from identity.otp import OneTimeCodes

        auth = self.settings.auth
        secret = load_secret(self.settings)
        guard = FailureGuard(self.database, auth, secret=secret)
        codes = (
            OneTimeCodes(self.database, auth, SmtpMailer(auth.smtp), secret=secret)
            if auth.smtp.enabled
            else None
        )
        return identity_checks(self.settings, guard=guard, codes=codes)

    def _load_voice(self, recognizer: SpeechRecognizer | None) -> None:
        from speech.turns import build_voice

        if self.assistant is None or self.sessions is None:  # pragma: no cover - with_voice loads both
            return
        try:
            self.voice = build_voice(
                self.assistant,
                settings=self.settings,
                engine=self.sessions.engine,
                database=self.database,
                recognizer=recognizer,
            )
        except ShopassistError as exc:
            log.error("speech API off: %s", exc.message)
            self.speech_health.degraded(exc.message)
            return
        self.speech_health.ok()

    def follow_catalog(self) -> None:
        """Start reading the store's change feed into the index (after ``index.ensure_ready``), so
        catalog changes made by other processes reach it within ``retrieval.feed_interval_seconds``.
        Nothing without an index, or with the feed off. ``follower.wake()`` reads it at once."""
        if self.follower is not None:
            self.follower.start()

    def require_assistant(self) -> Assistant:
        """The assistant; a clear error when these services were built without the dialogue."""
        if self.assistant is None:
            raise ConfigError(
                "These services were built without the dialogue engine (with_dialogue=False)",
                key="services",
            )
        return self.assistant

    def close(self) -> None:
        """Release what this object opened (the LLM only if it loaded it)."""
        if self.owns_llm and self.llm is not None:
            close = getattr(self.llm, "close", None)
            if close is not None:
                close()
        if self.events is not None:
            self.events.close()
        if self.sessions is not None:
            self.sessions.close()
        if self.follower is not None:
            self.follower.stop()
        if self.index is not None:
            self.index.close()
        self.database.dispose()


def _recommender(settings: Settings) -> ModelStore:
    """The shop's recommendation model as trained by `shopassist recommend train` (loaded lazily)."""
    from tools.recommend.model import MODEL_DIR, ModelStore

    return ModelStore(settings.data_dir / MODEL_DIR)


def _tool_search(index: SearchIndex | None) -> ShopSearch | None:
    """The index as the tools see it (their ``ShopSearch`` protocol)."""
    if index is None:
        return None
    from retrieval.for_tools import ToolSearch

    return ToolSearch(index)


def _open_index(settings: Settings, database: Database, embedder: Embedder | None) -> SearchIndex:
    """The search index; with ``retrieval.live_updates`` every committed store change reaches it."""
    from retrieval.service import open_search_index

    index = open_search_index(settings, database, embedder=embedder)
    if settings.retrieval.live_updates:
        database.add_catalog_listener(index.on_catalog_change)
    return index


def _catalog_follower(
    settings: Settings, database: Database, index: SearchIndex | None
) -> CatalogFollower | None:
    """The follower of the store's change feed, its start taken now (before the index's start-up
    sync), so nothing committed from here on is missed; None without an index or with the feed off."""
    retrieval = settings.retrieval
    if index is None or not retrieval.live_updates or retrieval.feed_interval_seconds <= 0:
        return None
    from retrieval.follower import CatalogFollower
    from store.changes import ChangeFeed

    return CatalogFollower(
        index,
        ChangeFeed.start(database),
        interval_seconds=retrieval.feed_interval_seconds,
        retention=timedelta(hours=retrieval.feed_retention_hours),
    )
