"""The FastAPI application factory. Routers are combined here and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from connectors.web.errors import install_error_handlers
from connectors.web.routers import catalog, health, tools
from shopassist import __version__
from shopassist.config import Settings, load_settings
from shopassist.logging import configure_logging
from shopassist.services import Services

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the web app. ``services`` may be passed in (tests); otherwise built at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        if services is None:
            built = Services.from_settings(settings, with_index=True)
            if built.index is not None:
                log.info("search index: %s", built.index.ensure_ready())
            app.state.services = built
        else:
            app.state.services = services
        try:
            yield
        finally:
            if owned:
                app.state.services.close()

    app = FastAPI(title="Shopassist", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(tools.router)
    app.include_router(catalog.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes: loads config.yaml / $SHOPASSIST_CONFIG itself."""
    settings = load_settings()
    configure_logging(settings.logging)
    return create_app(settings)
