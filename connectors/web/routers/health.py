"""Liveness, readiness and metrics.

``/readyz`` is 200 ("ready") when what every answer needs is up: the store, the search index,
the conversation store and the dialogue engine (``checks``). The optional parts are listed in
``components`` with their state (``ok``, ``degraded`` with a reason, ``off``) but never make the
service unready: without the LLM the rules and templates answer, without speech or Telegram the
web chat still serves, and each degraded part retries or says why it does not. ``redis`` (off
unless ``redis.url`` is set) is degraded while Redis does not answer: rate limits count in each
process's memory and sockets hear other processes' events on their slow timer; ``live_events``
names where event notifications travel (in-process, redis, postgresql) and is degraded while
that connection is lost.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from connectors.web.deps import MetricsDep, ServicesDep
from connectors.web.schemas import Health
from core import VERSION
from core.health import ComponentHealth, ComponentState, ComponentStatus
from services import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok", version=VERSION)


@router.get(
    "/readyz",
    summary="Ready when the store, index, conversations and dialogue are up; the LLM, speech and "
    "Telegram each reported as ok, degraded (with the reason) or off",
)
def readyz(services: ServicesDep, request: Request) -> JSONResponse:
    checks = {
        "store": services.database is not None,
        "index": services.index is not None,
        "sessions": services.sessions is not None,
        "dialogue": getattr(request.app.state, "assistant", None) is not None,
    }
    ready = all(checks.values())
    components = {name: status.to_dict() for name, status in component_states(services, request).items()}
    # The index's own state: "rebuilding" (or "failed") still serves, from the store's search.
    index = services.index.state if services.index is not None else "absent"
    body: dict[str, Any] = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "components": components,
        "index_state": index,
        # Other processes' catalog changes read into this index (None: the feed is off).
        "catalog_feed": services.follower.status() if services.follower is not None else None,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


def component_states(services: Services, request: Request) -> dict[str, ComponentStatus]:
    state = request.app.state
    telegram: ComponentHealth | None = getattr(state, "telegram_health", None)
    return {
        "llm": services.llm_health.status,
        "speech": _speech(services, voice_loaded=getattr(state, "voice", None) is not None),
        "telegram": telegram.status if telegram is not None else ComponentStatus(ComponentState.OFF),
        "redis": services.redis_health.status,
        "live_events": services.events_health.status,
    }


def _speech(services: Services, *, voice_loaded: bool) -> ComponentStatus:
    """What the speech routes will do: serve (ok), answer 503 (degraded), or nothing (off)."""
    if voice_loaded:
        return ComponentStatus(ComponentState.OK)
    if not services.settings.speech.enabled:
        return ComponentStatus(ComponentState.OFF, "speech.enabled is false")
    status = services.speech_health.status
    return ComponentStatus(ComponentState.DEGRADED, status.reason or "not loaded")


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
