"""The ``shopassist`` command line."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopassist.config import CONFIG_ENV, Settings, load_settings
from shopassist.errors import ShopassistError
from shopassist.logging import configure_logging
from shopassist.services import Services

os.environ.setdefault("HF_HUB_OFFLINE", "1")

app = typer.Typer(
    help="Shopassist: a self-hosted conversational shopping assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
log = logging.getLogger("shopassist.cli")


class State:
    config: Path | None = None
    _settings: Settings | None = None

    def load(self, config: Path | None) -> Settings:
        """Load and validate the config once, at start: a bad key fails every command."""
        self.config = config
        self._settings = load_settings(config)
        configure_logging(self._settings.logging)
        return self._settings

    def settings(self) -> Settings:
        return self._settings if self._settings is not None else self.load(self.config)


state = State()


def _register_groups() -> None:
    from shopassist.cli_agents import agents_app
    from shopassist.cli_chat import chat
    from shopassist.cli_eval import bench_app, eval_app
    from shopassist.cli_telegram import telegram

    app.command("chat")(chat)
    app.command("telegram")(telegram)
    app.add_typer(agents_app, name="agents")
    app.add_typer(eval_app, name="eval")
    app.add_typer(bench_app, name="bench")


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="config.yaml to load (default: $SHOPASSIST_CONFIG or ./config.yaml)."
        ),
    ] = None,
) -> None:
    state.load(config)


@contextmanager
def _services(*, with_index: bool = False) -> Iterator[Services]:
    services = Services.from_settings(state.settings(), with_index=with_index)
    try:
        yield services
    finally:
        services.close()


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar; the yielded callback takes (stage, done, total)."""
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield update


@app.command("migrate")
def migrate() -> None:
    """Create or upgrade the store's schema (make run does this for you)."""
    with _services() as services:
        out.print(f"Store schema at revision {services.database.current_revision()}")


@app.command("demo-data")
def demo_data(
    products: Annotated[int, typer.Option(min=1, help="Products to generate.")] = 2000,
    customers: Annotated[int, typer.Option(min=1, help="Customers to generate.")] = 200,
    orders: Annotated[int, typer.Option(min=0, help="Orders to generate.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same shop.")] = 7,
    replace: Annotated[bool, typer.Option("--replace", help="Delete the current shop first.")] = False,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (successfully) when the store has products.")
    ] = False,
) -> None:
    """Generate the deterministic demo shop into the store."""
    from sqlalchemy import func, select

    from tools.demo import generate_demo_shop
    from tools.store.models import Product

    with _services() as services:
        with services.database.session() as session:
            existing = session.scalar(select(func.count()).select_from(Product)) or 0
        if existing and if_empty:
            out.print(f"The store already has {existing} products; keeping them.")
            return
        with progress_bar() as update:
            report = generate_demo_shop(
                services.database,
                products=products,
                customers=customers,
                orders=orders,
                seed=seed,
                replace=replace,
                progress=update,
            )
    out.print(f"Demo shop ready: {report}")
    _sync_index_if_built()


@app.command("import")
def import_data(
    path: Annotated[Path, typer.Argument(help="File or directory to import.", exists=True)],
    fmt: Annotated[str, typer.Option("--format", "-f", help="tau, shopify or csv.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="csv only: FIELD=Column, e.g. --map title='Product Name'. Repeatable."),
    ] = None,
    mapping_file: Annotated[
        Path | None, typer.Option("--mapping", help="csv only: YAML file of FIELD: Column.", exists=True)
    ] = None,
    default_stock: Annotated[
        int, typer.Option(min=0, help="Stock for items whose source has none (tau, csv).")
    ] = 10,
    show_errors: Annotated[int, typer.Option(help="How many bad rows to list.")] = 20,
) -> None:
    """Import products (and, for tau, customers and orders) into the store."""
    from tools.importers import ImportOptions, load_mapping_file, parse_mapping_pairs, run_import

    columns: dict[str, str] = load_mapping_file(mapping_file) if mapping_file is not None else {}
    columns.update(parse_mapping_pairs(mapping or []))
    options = ImportOptions(default_stock=default_stock, mapping=columns)
    with _services() as services, progress_bar() as update:
        report = run_import(
            services.database,
            fmt,
            path,
            options=options,
            progress=lambda done, total: update(fmt, done, total),
        )
    out.print(report.summary())
    for note in report.notes:
        err.print(f"  note: {note}")
    _sync_index_if_built()
    for row_error in report.errors[:show_errors]:
        err.print(f"  [yellow]{row_error.source} row {row_error.row}[/]: {row_error.reason}")
    if len(report.errors) > show_errors:
        err.print(f"  ... and {len(report.errors) - show_errors} more")


def _sync_index_if_built() -> None:
    """After bulk writes, bring an existing search index up to date (a new one is built by `index`)."""
    keyword_db = state.settings().index_dir / "keyword.db"
    if not keyword_db.is_file():
        return
    with _services(with_index=True) as services, progress_bar() as update:
        if services.index is not None:
            out.print(f"Search index {services.index.ensure_ready(update)}")


@app.command("index")
def index_command(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild from the store from scratch.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Only show the index's state.")] = False,
) -> None:
    """Build the search index if absent, else catch up with the store (or --rebuild it)."""
    with _services(with_index=True) as services:
        index = services.index
        if index is None:  # pragma: no cover - with_index always opens one
            raise typer.Exit(1)
        if not status:
            with progress_bar() as update:
                if rebuild:
                    report = index.rebuild(update)
                    out.print(
                        f"Rebuilt: {report.products} products, {report.policy_passages} policy passages "
                        f"in {report.seconds:.1f} s ({report.products_per_second:.0f} products/s)"
                    )
                else:
                    out.print(f"Search index {index.ensure_ready(update)}")
        sys.stdout.write(json.dumps(index.status(), indent=2) + "\n")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Most results.")] = 10,
    max_price: Annotated[
        float | None, typer.Option("--max-price", min=0, help="Highest variant price.")
    ] = None,
    min_price: Annotated[
        float | None, typer.Option("--min-price", min=0, help="Lowest variant price.")
    ] = None,
    in_stock: Annotated[bool, typer.Option("--in-stock", help="Only products in stock.")] = False,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of a table.")] = False,
) -> None:
    """Search the catalog like the API does (GET /api/v1/catalog/search)."""
    from decimal import Decimal

    from retrieval.types import SearchFilters, SearchResponse

    filters = SearchFilters(
        category=category,
        brand=brand,
        min_price=Decimal(str(min_price)) if min_price is not None else None,
        max_price=Decimal(str(max_price)) if max_price is not None else None,
        in_stock=in_stock,
    )
    with _services(with_index=True) as services:
        index = services.index
        if index is None:  # pragma: no cover - with_index always opens one
            raise typer.Exit(1)
        with progress_bar() as update:
            index.ensure_ready(update)
        response = SearchResponse(
            query=query, k=k, filters=filters, results=index.search_products(query, filters, k=k)
        )
    if as_json:
        sys.stdout.write(response.model_dump_json(indent=2) + "\n")
        return
    table = Table("#", "product", "title", "brand", "price", "stock", "found by")
    for rank, hit in enumerate(response.results, start=1):
        price = f"{hit.min_price}" if hit.min_price == hit.max_price else f"{hit.min_price}-{hit.max_price}"
        table.add_row(
            str(rank), hit.product_id, hit.title, hit.brand, price, str(hit.stock), "+".join(hit.matched_by)
        )
    out.print(table)


@app.command("tools")
def list_tools() -> None:
    """List the commerce tools."""
    from tools.registry import default_registry

    table = Table("name", "auth", "confirm", "description")
    for tool in default_registry():
        table.add_row(
            tool.name,
            "yes" if tool.requires_auth else "",
            "yes" if tool.side_effect else "",
            tool.description,
        )
    out.print(table)


@app.command("tool")
def run_tool(
    name: Annotated[str, typer.Argument(help="Tool name (see `shopassist tools`).")],
    args: Annotated[str, typer.Option("--args", help="Arguments as a JSON object.")] = "{}",
    customer: Annotated[
        str | None, typer.Option("--customer", help="Act as this authenticated customer id.")
    ] = None,
    session: Annotated[str, typer.Option("--session", help="Conversation id (carts belong to one).")] = "cli",
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Confirm a side-effect tool (you are the operator saying yes).")
    ] = False,
) -> None:
    """Run one tool through the policy layer and print its result as JSON."""
    from tools.base import ToolContext

    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="--args") from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--args")
    ctx = ToolContext(session_id=session, customer_id=customer, channel="cli")
    with _services() as services:
        executor = services.executor
        tool = services.registry.get(name)
        if tool.side_effect and confirm:
            pending = executor.prepare(name, parsed, ctx=ctx)
            err.print(f"Confirmed: {pending.summary}")
            ctx = ctx.confirmed(pending.token)
        outcome = executor.run(name, parsed, ctx=ctx)
    sys.stdout.write(json.dumps(outcome.to_dict(), indent=2) + "\n")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: server.port).")] = None,
) -> None:
    """Run the HTTP server."""
    import uvicorn

    from connectors.web.app import create_app

    settings = state.settings()
    bind_host, bind_port = host or settings.server.host, port or settings.server.port
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
            log_config=None,
        )
    else:
        uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_config=None)


_register_groups()


def main() -> None:
    try:
        app()
    except ShopassistError as exc:
        err.print(f"[red]error[/] ({exc.code}): {exc.message}")
        sys.exit(2)


if __name__ == "__main__":
    main()
