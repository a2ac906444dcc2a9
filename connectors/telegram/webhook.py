"""The Telegram webhook route. Telegram POSTs each update here with the secret set when the
webhook was registered, in ``X-Telegram-Bot-Api-Secret-Token``; anything without the right
secret is rejected before it is read, and a connector without a secret accepts nothing."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from connectors.web.deps import TelegramDep
from connectors.web.schemas import error_responses
from core.errors import InvalidArgumentsError, PermissionDeniedError

router = APIRouter(prefix="/api/v1/telegram", tags=["telegram"])
MAX_UPDATE_BYTES = 1_000_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookSecretError(PermissionDeniedError):
    code = "invalid_webhook_secret"


@router.post(
    "/webhook",
    summary="Telegram Bot API webhook (updates from Telegram; needs the secret-token header)",
    responses=error_responses(400, 403, 404, 413, 422, 503, 507),
)
async def telegram_webhook(
    request: Request,
    connector: TelegramDep,
    secret_token: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
) -> dict[str, bool]:
    expected = connector.settings.telegram.webhook_secret
    if expected is None:
        raise WebhookSecretError("No webhook secret is configured (telegram.webhook_secret); refused")
    if secret_token is None or not secrets.compare_digest(
        secret_token.encode("utf-8"), expected.get_secret_value().encode("utf-8")
    ):
        raise WebhookSecretError(f"Missing or wrong {SECRET_HEADER} header")
    body = await request.body()
    if len(body) > MAX_UPDATE_BYTES:
        raise InvalidArgumentsError("The update is too large", limit=MAX_UPDATE_BYTES)
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise InvalidArgumentsError("The update is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise InvalidArgumentsError("An update is a JSON object with an integer update_id")
    try:
        await connector.enqueue(data)
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidArgumentsError(f"Not a Telegram update: {exc}") from exc
    return {"ok": True}
