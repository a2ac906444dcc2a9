"""The one place that maps Shopassist errors to HTTP responses.

Request validation errors (FastAPI's ``RequestValidationError``) are answered here too, in the
same shape as :class:`InvalidArgumentsError` (422 ``invalid_arguments``): each bad field and what
is wrong with it, never the value that was sent. Echoing the input is what turned a lone
surrogate (``"\\ud800"``) or ``NaN`` in a JSON body into a 500: neither can be written back as
JSON. Starlette's own HTTP errors (unknown route 404, wrong method 405, an unreadable body 400)
get the same ``{"error": {...}}`` shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import InvalidArgumentsError, ShopassistError

log = logging.getLogger(__name__)
_MAX_REPORTED = 20


def error_body(exc: ShopassistError) -> dict[str, object]:
    return {"error": exc.to_dict()}


def error_response(exc: ShopassistError, *, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The response for ``exc``: its status and ``{"error": {code, message, context}}``."""
    return JSONResponse(error_body(exc), status_code=exc.http_status, headers=headers)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ShopassistError):  # pragma: no cover - FastAPI only routes ours here
        raise exc
    if exc.http_status >= 500:
        log.error("request failed", extra={"path": request.url.path, "code": exc.code})
    return error_response(exc)


def validation_error(errors: Sequence[Any]) -> InvalidArgumentsError:
    """The hierarchy's error for pydantic's ``errors()``: field paths and messages only."""
    reported = []
    for error in list(errors)[:_MAX_REPORTED]:
        if not isinstance(error, dict):
            continue
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":  # loc is ("body", <character position>)
            reported.append({"field": "body", "message": f"{message} at character {loc[-1]}"})
            continue
        field = ".".join(str(part) for part in loc if part != "body") or "body"
        reported.append({"field": field, "message": message})
    fields = ", ".join(sorted({e["field"] for e in reported}))
    return InvalidArgumentsError(f"The request is not valid: {fields}", errors=reported)


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return error_response(validation_error(errors))


class HttpError(ShopassistError):
    """Starlette's own refusals (no such route, method not allowed, unreadable body)."""

    code = "http_error"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status  # type: ignore[misc]  # per instance: Starlette chose it
        self.code = _code(status)  # type: ignore[misc]


def _code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover - only routed here for those
        raise exc
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(HttpError(exc.status_code, detail), headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ShopassistError, _handle)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
