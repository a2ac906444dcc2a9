"""The FastAPI application factory. Routers are combined here and nowhere else."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request, Response

from connectors.telegram import webhook as telegram_webhook
from connectors.telegram.runner import start_telegram
from connectors.web.agent_auth import AgentSigner
from connectors.web.body_limit import BodyLimit, body_caps
from connectors.web.errors import install_error_handlers
from connectors.web.metrics import WebMetrics
from connectors.web.ratelimit import RateLimits, shared_storage
from connectors.web.routers import agent, agent_ws, catalog, chat, health, pages, speech, speech_ws, tools, ws
from connectors.web.session_auth import SessionSigner
from connectors.web.socket_guard import SocketSlots
from core import VERSION
from core.config import ServerSettings, Settings, load_settings
from core.health import ComponentHealth
from core.logging import REQUEST_ID, configure_logging
from privacy.periodic import PeriodicSweep
from services import Services, load_secret

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the web app. ``services`` may be passed in (tests, benchmarks); otherwise they are
    built at start-up with the dialogue engine and, with ``speech.enabled``, the voice channel."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        built = services or Services.from_settings(
            settings, with_dialogue=True, with_voice=settings.speech.enabled
        )
        if owned and built.index is not None:
            # A broken index is rebuilt in the background; searches answer from the store meanwhile.
            log.info("search index: %s", built.index.ensure_ready(background=True))
            built.follow_catalog()  # other processes' catalog changes (retrieval.feed_interval_seconds)
        if owned and built.assistant is not None:
            # The model's first command prompt costs seconds: evaluate it before a customer waits.
            threading.Thread(target=built.assistant.warm_up, name="llm-warm-up", daemon=True).start()
        app.state.services = built
        app.state.events = built.events
        app.state.login_limits, app.state.rate_limits = _rate_limits(settings, built, app.state.metrics)
        app.state.metrics.watch_llm(built.llm_gate)
        app.state.assistant = built.assistant
        app.state.agent_accounts = built.agent_accounts
        app.state.desk = built.desk
        app.state.voice = built.voice if settings.speech.enabled else None
        app.state.telegram_health = ComponentHealth("telegram")
        app.state.telegram = await start_telegram(settings, built.assistant, app.state.telegram_health)
        app.state.sweeper = PeriodicSweep.start_if_enabled(
            built.database, built.sessions, privacy=settings.privacy, data_dir=settings.data_dir
        )
        try:
            yield
        finally:
            if app.state.sweeper is not None:
                app.state.sweeper.stop()
            if app.state.telegram is not None:
                await app.state.telegram.stop()
            if owned:
                built.close()

    app = FastAPI(title="Shopassist", version=VERSION, lifespan=lifespan)
    app.state.settings = settings
    secret = load_secret(settings)
    app.state.signer = SessionSigner(secret, ttl_seconds=settings.web.session_token_ttl_seconds)
    app.state.agent_signer = AgentSigner(secret)
    app.state.socket_slots = SocketSlots(settings.web.ws_max_per_client)
    app.state.metrics = WebMetrics()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, cap_for=body_caps(settings).for_path)  # inside the request log
    app.middleware("http")(_request_context)
    for module in (
        health,
        tools,
        catalog,
        chat,
        ws,
        agent,
        agent_ws,
        speech,
        speech_ws,
        pages,
        telegram_webhook,
    ):
        app.include_router(module.router)
    return app


def _rate_limits(
    settings: Settings, services: Services, metrics: WebMetrics
) -> tuple[RateLimits, RateLimits]:
    """The agents' log-in limits and the customers' message limits, in Redis when configured."""
    shared = shared_storage(settings.redis)

    def fallback(scope: str) -> None:
        metrics.rate_limit_fallbacks.labels(scope=scope).inc()

    limits = partial(RateLimits, shared=shared, health=services.redis_health, on_fallback=fallback)
    web = settings.web
    return (
        limits(per_session="10/minute", per_ip="10/minute", scope="login"),
        limits(per_session=web.rate_limit_per_session, per_ip=web.rate_limit_per_ip),
    )


async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """A request id (the client's X-Request-ID or a new one) on every log line and response."""
    request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    token = REQUEST_ID.set(request_id)
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        REQUEST_ID.reset(token)
    response.headers["X-Request-ID"] = request_id
    route = getattr(request.scope.get("route"), "path", "unmatched")
    request.app.state.metrics.requests.labels(
        method=request.method, route=route, status=str(response.status_code)
    ).inc()
    log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": request.method,
            "path": route,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


def uvicorn_options(server: ServerSettings) -> dict[str, Any]:
    """What uvicorn is told about proxies, always explicitly: its own defaults believe
    X-Forwarded-For from 127.0.0.1 (or $FORWARDED_ALLOW_IPS), so any local process could pick the
    client address the rate limits count. Here the headers count only with
    ``server.proxy_headers`` on, and then only from ``server.forwarded_allow_ips``."""
    return {
        "proxy_headers": server.proxy_headers,
        "forwarded_allow_ips": list(server.forwarded_allow_ips) if server.proxy_headers else [],
        "log_config": None,
    }


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes: loads config.yaml / $SHOPASSIST_CONFIG itself."""
    settings = load_settings()
    configure_logging(settings.logging)
    return create_app(settings)
