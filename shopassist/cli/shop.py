"""Store commands: migrate the schema, generate the demo shop, import a catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopassist.cli.console import command_services, err, out, progress_bar, require_writable_stores, state


def migrate() -> None:
    """Create or upgrade the store's schema (make run does this for you)."""
    require_writable_stores(state.settings())
    with command_services() as services:
        out.print(f"Store schema at revision {services.database.current_revision()}")


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

    from store.models import Product
    from tools.demo import generate_demo_shop

    with command_services() as services:
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
    with command_services() as services, progress_bar() as update:
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
    with command_services(with_index=True) as services, progress_bar() as update:
        if services.index is not None:
            out.print(f"Search index {services.index.ensure_ready(update)}")
