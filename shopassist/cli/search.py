"""Search commands: build or catch up the index, search the catalog like the API does."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from shopassist.cli.console import command_services, out, progress_bar


def index_command(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild from the store from scratch.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Only show the index's state.")] = False,
) -> None:
    """Build the search index if absent, else catch up with the store (or --rebuild it)."""
    with command_services(with_index=True) as services:
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

    from retrieval.filters import SearchFilters
    from retrieval.hits import SearchResponse

    filters = SearchFilters(
        category=category,
        brand=brand,
        min_price=Decimal(str(min_price)) if min_price is not None else None,
        max_price=Decimal(str(max_price)) if max_price is not None else None,
        in_stock=in_stock,
    )
    with command_services(with_index=True) as services:
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
