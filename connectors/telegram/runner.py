"""Starting the connector: inside the web app (webhook) or on its own (long polling)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from assistant.engine import Assistant
from connectors.telegram.bot import ALLOWED_UPDATES, TelegramConnector
from connectors.telegram.chats import ChatDirectory
from connectors.telegram.supervisor import TelegramSupervisor
from core.config import Settings
from core.health import ComponentHealth

log = logging.getLogger(__name__)


def build_connector(settings: Settings, assistant: Assistant, *, polling: bool) -> TelegramConnector:
    # The chat table lives beside the conversations: share the store's engine when it has one.
    engine = getattr(assistant.store, "engine", None)
    directory = (
        ChatDirectory(engine)
        if isinstance(engine, sa.Engine)
        else ChatDirectory.from_url(settings.sessions_url)
    )
    return TelegramConnector(settings=settings, assistant=assistant, directory=directory, polling=polling)


async def start_telegram(
    settings: Settings, assistant: Assistant | None, health: ComponentHealth
) -> TelegramSupervisor | None:
    """The connector in webhook mode, starting (see :class:`TelegramSupervisor`: it never stops
    the server from starting); None (and ``health`` off, and a log line) without a token."""
    if not settings.telegram.enabled:
        log.info("Telegram connector off: no bot token (set SHOPASSIST_TELEGRAM__TOKEN to turn it on)")
        health.off("no bot token (telegram.token)")
        return None
    if assistant is None:
        log.warning("Telegram connector off: the dialogue engine is not loaded")
        health.off("the dialogue engine is not loaded")
        return None
    if settings.telegram.webhook_secret is None:
        log.warning(
            "Telegram webhook has no secret (SHOPASSIST_TELEGRAM__WEBHOOK_SECRET): "
            "the webhook route rejects every update"
        )
    supervisor = TelegramSupervisor(build_connector(settings, assistant, polling=False), health)
    await supervisor.start()
    return supervisor


def run_polling(settings: Settings, assistant: Assistant) -> None:
    """Long polling until interrupted (Ctrl-C); removes a registered webhook first."""
    connector = build_connector(settings, assistant, polling=True)
    app = connector.application

    async def post_init(_app: object) -> None:
        await connector.set_commands()
        connector.start_delivery()

    async def post_stop(_app: object) -> None:
        await connector.stop_delivery()

    app.post_init = post_init  # type: ignore[assignment]
    app.post_stop = post_stop  # type: ignore[assignment]
    log.info("Telegram connector polling")
    try:
        app.run_polling(allowed_updates=ALLOWED_UPDATES, close_loop=False)
    finally:
        connector.directory.close()
