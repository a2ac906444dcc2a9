"""Dependencies for the web routers, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistant.engine import Assistant
from connectors.telegram.bot import TelegramConnector
from connectors.telegram.supervisor import TelegramSupervisor
from connectors.web.metrics import WebMetrics
from connectors.web.ratelimit import RateLimits
from connectors.web.session_auth import SessionSigner
from core.config import Settings
from core.errors import (
    ConnectorUnavailableError,
    NotFoundError,
    ShopassistError,
    SpeechUnavailableError,
)
from retrieval.index import SearchIndex
from services import Services
from speech.turns import VoiceAssistant
from tools.policy import ToolExecutor


class NotReadyError(ShopassistError):
    """A part the request needs is not loaded (yet)."""

    code = "not_ready"
    http_status = 503


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_executor(services: Annotated[Services, Depends(get_services)]) -> ToolExecutor:
    return services.executor


def get_search_index(services: Annotated[Services, Depends(get_services)]) -> SearchIndex:
    if services.index is None:
        raise NotReadyError("The search index is not loaded")
    return services.index


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ExecutorDep = Annotated[ToolExecutor, Depends(get_executor)]
SearchIndexDep = Annotated[SearchIndex, Depends(get_search_index)]


def get_assistant(request: Request) -> Assistant:
    assistant: Assistant | None = getattr(request.app.state, "assistant", None)
    if assistant is None:
        raise NotReadyError("The dialogue engine is not loaded in this process")
    return assistant


def get_signer(request: Request) -> SessionSigner:
    signer: SessionSigner = request.app.state.signer
    return signer


def get_rate_limits(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


def get_metrics(request: Request) -> WebMetrics:
    metrics: WebMetrics = request.app.state.metrics
    return metrics


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SignerDep = Annotated[SessionSigner, Depends(get_signer)]
RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]
MetricsDep = Annotated[WebMetrics, Depends(get_metrics)]


def get_voice(request: Request) -> VoiceAssistant:
    voice: VoiceAssistant | None = getattr(request.app.state, "voice", None)
    if voice is None:
        raise SpeechUnavailableError(
            "The speech API is not available in this process (speech.enabled, or see the log)"
        )
    return voice


VoiceDep = Annotated[VoiceAssistant, Depends(get_voice)]


def get_telegram(request: Request) -> TelegramConnector:
    """The started connector; 404 when it is off, 503 while it is not connected to the Bot API
    (Telegram delivers the update again later)."""
    supervisor: TelegramSupervisor | None = getattr(request.app.state, "telegram", None)
    if supervisor is None:
        raise NotFoundError(
            "The Telegram connector is off: set SHOPASSIST_TELEGRAM__TOKEN and "
            "SHOPASSIST_TELEGRAM__WEBHOOK_SECRET and restart"
        )
    if not supervisor.running:
        raise ConnectorUnavailableError(
            f"The Telegram connector is not started: {supervisor.health.status.reason}"
        )
    return supervisor.connector


TelegramDep = Annotated[TelegramConnector, Depends(get_telegram)]
