from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from connectors.web.deps import MetricsDep, ServicesDep
from connectors.web.schemas import Health
from core import VERSION

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok", version=VERSION)


@router.get("/readyz", summary="Store, index, conversation store and models are loaded")
def readyz(services: ServicesDep, request: Request) -> JSONResponse:
    checks = {
        "store": services.database is not None,
        "index": services.index is not None,
        "sessions": services.sessions is not None,
        "dialogue": getattr(request.app.state, "assistant", None) is not None,
        "llm": services.llm is not None or not services.settings.llm.enabled,
    }
    ready = all(checks.values())
    # The index's own state: "rebuilding" (or "failed") still serves, from the store's search.
    index = services.index.state if services.index is not None else "absent"
    body = {"status": "ready" if ready else "not ready", "checks": checks, "index_state": index}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
