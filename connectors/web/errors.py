"""The one place that maps Shopassist errors to HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.errors import ShopassistError

log = logging.getLogger(__name__)


def error_body(exc: ShopassistError) -> dict[str, object]:
    return {"error": exc.to_dict()}


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ShopassistError):  # pragma: no cover - FastAPI only routes ours here
        raise exc
    if exc.http_status >= 500:
        log.error("request failed", extra={"path": request.url.path, "code": exc.code})
    return JSONResponse(error_body(exc), status_code=exc.http_status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ShopassistError, _handle)
