"""Typed settings: one ``config.yaml`` plus ``SHOPASSIST_*`` environment overrides.

Sections live in :mod:`core.config.settings` (store, LLM, dialogue, retrieval...) and
:mod:`core.config.channels` (web, Telegram, speech); import them from here.
"""

from core.config.channels import RasaSettings, SpeechSettings, TelegramSettings, WebSettings
from core.config.identity import AuthLevel, AuthSettings, PrivacySettings, ShopTokenSettings, SmtpSettings
from core.config.settings import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ChromaSettings,
    DialogueSettings,
    EmbeddingSettings,
    GrammarRequest,
    LLMSettings,
    LoggingSettings,
    PolicySettings,
    QuantityDiscount,
    RedisSettings,
    RetrievalSettings,
    ServerSettings,
    SessionSettings,
    Settings,
    ShopSettings,
    StoreSettings,
    load_settings,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "AuthLevel",
    "AuthSettings",
    "ChromaSettings",
    "DialogueSettings",
    "EmbeddingSettings",
    "GrammarRequest",
    "LLMSettings",
    "LoggingSettings",
    "PolicySettings",
    "PrivacySettings",
    "QuantityDiscount",
    "RasaSettings",
    "RedisSettings",
    "RetrievalSettings",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "ShopSettings",
    "ShopTokenSettings",
    "SmtpSettings",
    "SpeechSettings",
    "StoreSettings",
    "TelegramSettings",
    "WebSettings",
    "load_settings",
]
