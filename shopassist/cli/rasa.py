"""Rasa interop commands: serve the tools as a Rasa action server, export a starter Rasa project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopassist.cli.console import err, out, require_writable_stores, state


def rasa_actions(
    host: Annotated[str | None, typer.Option(help="Bind address (default: rasa.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: rasa.port, 5055).")] = None,
) -> None:
    """Serve the shop's tools as Rasa custom actions (rasa-sdk's action server: /webhook,
    /actions, /health)."""
    from connectors.rasa.server import require_token_off_loopback, serve, shop_actions
    from services import Services

    settings = state.settings()
    require_writable_stores(settings)
    rasa = settings.rasa.model_copy(
        update={"host": host or settings.rasa.host, "port": port or settings.rasa.port}
    )
    require_token_off_loopback(rasa)  # before anything loads
    services = Services.from_settings(settings, with_index=True)
    try:
        if services.index is not None:
            err.print(f"Search index {services.index.ensure_ready()}")
            services.follow_catalog()
        actions = shop_actions(services)
        err.print(f"Rasa action server on http://{rasa.host}:{rasa.port}/webhook")
        serve(actions, rasa)
    finally:
        services.close()


def rasa_export(
    target: Annotated[Path, typer.Argument(help="Directory to write the Rasa project into.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the project files if DIR already has them.")
    ] = False,
) -> None:
    """Write a starter Rasa project (domain, endpoints, config, NLU, rules, stories) for the
    action server, with search examples from this shop's catalog."""
    from sqlalchemy import func, select

    from connectors.rasa.project import Catalog, export
    from services import Services
    from store.models import Product

    settings = state.settings()
    if (target / "domain.yml").exists() and not force:
        raise typer.BadParameter(f"{target} already holds a Rasa project; add --force to overwrite it")
    services = Services.from_settings(settings)
    try:
        with services.database.session() as session:
            by_size = func.count(Product.id).desc()
            categories = session.scalars(
                select(Product.category).group_by(Product.category).order_by(by_size)
            )
            brands = session.scalars(select(Product.brand).group_by(Product.brand).order_by(by_size))
            catalog = Catalog(tuple(c for c in categories if c), tuple(b for b in brands if b))
        written = export(target, registry=services.registry, settings=settings, catalog=catalog)
    finally:
        services.close()
    for path in written:
        out.print(str(path))
    err.print(
        f"Rasa project written to {target}: start the action server with `shopassist rasa-actions`, "
        "then `rasa train` and `rasa shell` in that directory."
    )
