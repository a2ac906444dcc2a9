"""`shopassist telegram --polling`: the Telegram connector on its own, with long polling."""

from __future__ import annotations

from typing import Annotated

import typer

from shopassist.cli.console import err, out, state


def telegram(
    polling: Annotated[
        bool,
        typer.Option("--polling", help="Fetch updates with long polling (removes a registered webhook)."),
    ] = False,
) -> None:
    """Run the Telegram bot. Webhook mode needs no command: `shopassist serve` with a token serves
    /api/v1/telegram/webhook."""
    from connectors.telegram.runner import run_polling
    from core.errors import ConfigError
    from services import Services

    settings = state.settings()
    if not polling:
        err.print(
            "Webhook mode runs inside `shopassist serve` (route /api/v1/telegram/webhook, set "
            "telegram.webhook_url and SHOPASSIST_TELEGRAM__WEBHOOK_SECRET). Use --polling to run "
            "the bot here with long polling."
        )
        raise typer.Exit(2)
    if not settings.telegram.enabled:
        raise ConfigError(
            "No Telegram bot token: set SHOPASSIST_TELEGRAM__TOKEN (from @BotFather)", key="telegram.token"
        )
    services = Services.from_settings(settings, with_dialogue=True)
    try:
        if services.index is not None:
            services.index.ensure_ready()
            services.follow_catalog()
        out.print("Telegram bot running with long polling. Ctrl-C stops it.")
        run_polling(settings, services.require_assistant())
    finally:
        services.close()
