"""The action server: ``rasa-sdk``'s own Sanic app (``rasa_sdk.endpoint.create_app``: ``/webhook``,
``/actions``, ``/health``) over our actions, with two checks in front of it.

- A shared token (``rasa.token``; Rasa sends it as ``?token=`` from ``endpoints.yml``): the
  server acts on customers' orders, so on anything but a loopback address it needs one.
- The webhook body's outer shape (a JSON object with ``next_action`` and a ``tracker`` naming
  its ``sender_id``): rasa-sdk would answer a malformed one with a 500 and a stack trace in the
  log; here it gets a 400 in Rasa's error shape (``{"error": ..., "action_name": ...}``), the
  shape rasa-sdk gives its own rejections. Bodies past ``rasa.max_request_bytes`` get 413.

It runs in one process (``single_process``): the actions hold the store's connection pool and
are not picklable into Sanic's worker processes. Tools run in threads, so calls overlap. Every
15 minutes, verifications that lapsed are deleted from the store.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
from typing import Any

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.rasa.actions import ShopActions
from connectors.rasa.identity import SenderIdentities
from connectors.rasa.messages import Messages
from connectors.rasa.verify import Verifier
from core.config import RasaSettings
from core.errors import ConfigError
from identity.lockout import FailureGuard
from identity.shop_token import ShopTokens
from services import Services, load_secret

log = logging.getLogger(__name__)

PRUNE_SECONDS = 900.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _same(given: Any, token: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode())


def _rejection(message: str, action: Any, status: int) -> HTTPResponse:
    named = action if isinstance(action, str) else None
    return response.json({"error": message, "action_name": named}, status=status)


def _webhook_problem(body: bytes) -> tuple[str, Any] | None:
    """What is wrong with a webhook body's outer shape, and the action it names; None if fine."""
    try:
        call = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return "The request body is not JSON", None
    if not isinstance(call, dict):
        return "The request body must be a JSON object", None
    action = call.get("next_action")
    if not isinstance(action, str) or not action:
        return "next_action must name an action", action
    tracker = call.get("tracker")
    if not isinstance(tracker, dict):
        return "tracker must be a JSON object", action
    if not isinstance(tracker.get("sender_id"), str) or not tracker["sender_id"]:
        return "tracker.sender_id must be a non-empty string", action
    domain = call.get("domain")
    if domain is not None and not isinstance(domain, dict):
        return "domain must be a JSON object", action
    return None


def require_token_off_loopback(settings: RasaSettings) -> str | None:
    """The shared token; :class:`ConfigError` when a non-loopback host has none."""
    token = settings.token.get_secret_value() if settings.token is not None else None
    if not token and not is_loopback(settings.host):
        raise ConfigError(
            f"rasa.host {settings.host} is reachable from other machines: set rasa.token "
            "(SHOPASSIST_RASA__TOKEN) and put it in endpoints.yml",
            key="rasa.token",
        )
    return token or None


def build_app(actions: ShopActions, settings: RasaSettings) -> Sanic:
    """rasa-sdk's app over ``actions``; fails with :class:`ConfigError` when a non-loopback
    host has no token."""
    token = require_token_off_loopback(settings)
    app = create_app(actions.action_executor(), cors_origins="")
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes
    app.config.KEEP_ALIVE_TIMEOUT = 30

    @app.on_request
    async def check(request: Request) -> HTTPResponse | None:
        if token is not None and request.path != "/health" and not _same(request.args.get("token"), token):
            log.warning("refused an action server call without the right token")
            return response.json({"error": "Missing or wrong token"}, status=401)
        if request.path == "/webhook" and request.method == "POST":
            # Request middleware runs before Sanic has read the body: read it now, within the limit.
            try:
                await request.receive_body()
            except PayloadTooLarge:
                return _rejection("The request body is larger than rasa.max_request_bytes", None, 413)
            problem = _webhook_problem(request.body)
            if problem is not None:
                message, action = problem
                return _rejection(message, action, 400)
        return None

    @app.after_server_start
    async def start_pruning(running: Sanic) -> None:
        running.add_task(_prune_forever(actions.identities), name="prune-verified-senders")

    return app


async def _prune_forever(identities: SenderIdentities) -> None:
    """Lapsed bindings of senders who never came back are deleted, not kept for ever."""
    while True:
        try:
            pruned = await asyncio.to_thread(identities.prune)
            if pruned:
                log.info("lapsed Rasa verifications removed", extra={"count": pruned})
        except Exception:
            log.exception("could not prune lapsed Rasa verifications; trying again later")
        await asyncio.sleep(PRUNE_SECONDS)


def serve(actions: ShopActions, settings: RasaSettings) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    app = build_app(actions, settings)
    log.info("Rasa action server on http://%s:%d", settings.host, settings.port)
    app.run(
        host=settings.host,
        port=settings.port,
        single_process=True,
        access_log=False,
        motd=False,
    )


def shop_actions(services: Services) -> ShopActions:
    """The actions over the services' tools, verifying at the shop's ``auth.level``, with
    failures counted in the shop's store like our own chat's."""
    settings = services.settings
    secret = load_secret(settings)
    identities = SenderIdentities(
        services.database, secret=secret, idle_seconds=settings.auth.idle_expiry_seconds
    )
    messages = Messages(currency=settings.shop.currency)
    tokens = ShopTokens(settings.auth.shop_token) if settings.auth.shop_token.enabled else None
    verifier = Verifier(
        services.executor,
        identities,
        messages,
        level=settings.auth.level,
        guard=FailureGuard(services.database, settings.auth, secret=secret),
        shop_tokens=tokens,
    )
    return ShopActions(services.executor, identities, verifier, messages)
