"""The serve command: the HTTP server (web widget, REST and WebSocket APIs, speech, Telegram webhook)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from core.config import CONFIG_ENV
from shopassist.cli.console import require_writable_stores, state


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: server.port).")] = None,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    from connectors.web.app import create_app, uvicorn_options

    settings = state.settings()
    require_writable_stores(settings)
    bind_host, bind_port = host or settings.server.host, port or settings.server.port
    options = uvicorn_options(settings.server)
    if settings.server.workers > 1:
        # Each worker process loads the same config itself.
        if state.config is not None:
            os.environ[CONFIG_ENV] = str(state.config.resolve())
        uvicorn.run(
            "connectors.web.app:app_from_env",
            factory=True,
            workers=settings.server.workers,
            host=bind_host,
            port=bind_port,
            **options,
        )
    else:
        uvicorn.run(create_app(settings), host=bind_host, port=bind_port, **options)
