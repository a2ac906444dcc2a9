from __future__ import annotations

from fastapi import APIRouter

from connectors.web.types import Health
from shopassist import __version__

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok", version=__version__)
