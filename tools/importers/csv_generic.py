"""Importer for any product CSV, through a column mapping.

The mapping names, for each field, the column holding it: ``id``, ``title``, ``description``,
``category``, ``brand``, ``price``, ``stock``, ``sku``, ``image_url``, ``options``. Fields left
out are found by common header names, case-insensitively (see :data:`ALIASES`); a field mapped
to an empty column name is not read at all. ``title`` and ``price`` are required.

- id: without an id column, a stable id is derived from the title (``csv-`` and a digest of the
  lower-cased, whitespace-folded title), so importing the same file again updates the same
  products; two rows with the same title are then one product (or a repeat, without options).

- price: the first amount in the cell (``"$1,299.00"``). A range ``"$12.99 - $15.99"`` imports
  at its low end, the "from" price a shop shows; a repeated rendering or list price scraped
  after the amount is ignored; a cell with no leading amount ("Total price:") is a row error.
- category: the first segment of a breadcrumb ``"Toys & Games | Puzzles | Jigsaw"`` (the
  top-level department), else "Uncategorized".
- image_url: the first http(s) URL of a ``|``-separated list.
- stock: the mapped column, empty or unmapped means ``default_stock``.
- Each row is one product with one variant ``{id}-1``. With an ``options`` column, rows that
  share an id are the variants of one product (``{id}-1``, ``{id}-2``... in file order) and the
  cell reads ``color=red; size=M`` (``name: value`` works too); product fields come from the
  product's first row.
- A row without id, title or price, or with an unreadable value, is reported and skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from core.errors import ImportFailedError, InvalidArgumentsError
from store.db import Database
from tools.importers.base import (
    UNCATEGORIZED,
    Importer,
    ImportOptions,
    ImportReport,
    Progress,
    RowError,
    RowRejected,
    fit,
    parse_listed_price,
    parse_stock,
    read_csv,
    read_text,
)
from tools.importers.records import ProductRecord, VariantRecord
from tools.importers.writer import Entry, write_products

FIELDS = ("id", "title", "description", "category", "brand", "price", "stock", "sku", "image_url", "options")
REQUIRED_FIELDS = ("title", "price")
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("Uniq Id", "Id", "Product Id", "SKU"),
    "title": ("Product Name", "Title", "Name"),
    "description": ("About Product", "Description", "Product Description", "Body"),
    "category": ("Category", "Product Category", "Type"),
    "brand": ("Brand Name", "Brand", "Vendor", "Manufacturer"),
    "price": ("Selling Price", "Price", "Sale Price"),
    "stock": ("Stock", "Inventory", "Stock Quantity", "Inventory Qty"),
    "sku": ("SKU",),
    "image_url": ("Image", "Image Url", "Image Src", "Image Link"),
}
Row = dict[str, str]


class GenericCsvImporter(Importer):
    name = "csv"
    description = "Any product CSV, columns mapped to fields (id, title, price, ...) or auto-detected"
    accepts_mapping = True

    def run(
        self, database: Database, path: Path, options: ImportOptions, progress: Progress | None
    ) -> ImportReport:
        table = read_csv(path)
        columns = resolve_columns(table.header, options.mapping, source=table.name)
        report = ImportReport()
        problems: list[tuple[int, str]] = list(table.bad_rows.items())
        groups: dict[str, list[tuple[int, Row]]] = {}
        for number, row in table.rows:
            product_id = _row_id(row, columns)
            if not product_id:
                what = columns.get("id", columns["title"])
                problems.append((number, f"id ({what}) is missing"))
            elif product_id in groups and "options" not in columns:
                first = groups[product_id][0][0]
                problems.append(
                    (number, f"id {product_id!r} repeats row {first} (map an options column for variants)")
                )
            else:
                groups.setdefault(product_id, []).append((number, row))
        entries: list[Entry[ProductRecord]] = []
        skus: dict[str, int] = {}
        for product_id, rows in groups.items():
            try:
                entries.append(
                    Entry(rows[0][0], _product(product_id, rows, columns, options, problems, skus))
                )
            except RowRejected as exc:
                problems.append((rows[0][0], exc.reason))
        report.errors.extend(RowError(n, reason, table.name) for n, reason in sorted(problems))
        report.merge(
            write_products(
                database, entries, source=table.name, batch_size=options.batch_size, progress=progress
            )
        )
        return report


def _row_id(row: Row, columns: dict[str, str]) -> str:
    if "id" in columns:
        return row[columns["id"]].strip()
    title = " ".join(row[columns["title"]].lower().split())
    return f"csv-{hashlib.sha1(title.encode()).hexdigest()[:16]}" if title else ""


def resolve_columns(header: list[str], mapping: Mapping[str, str | None], *, source: str) -> dict[str, str]:
    """The column each field is read from: the mapping's, else a known header name."""
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise InvalidArgumentsError(
            f"Unknown mapping field(s) {', '.join(unknown)}. Valid fields: {', '.join(FIELDS)}",
            errors=[{"argument": f"mapping.{name}", "message": "unknown field"} for name in unknown],
        )
    by_name = {column.lower(): column for column in header if column}
    resolved: dict[str, str] = {}
    for name in FIELDS:
        if name in mapping:
            wanted = (mapping[name] or "").strip()
            if not wanted:
                continue
            if wanted.lower() not in by_name:
                raise ImportFailedError(
                    f"{source} has no column {wanted!r} (mapped to {name}). Its columns: {', '.join(header)}",
                    field=name,
                    column=wanted,
                )
            resolved[name] = by_name[wanted.lower()]
        else:
            found = next((by_name[a.lower()] for a in ALIASES.get(name, ()) if a.lower() in by_name), None)
            if found is not None:
                resolved[name] = found
    missing = [name for name in REQUIRED_FIELDS if name not in resolved]
    if missing:
        raise ImportFailedError(
            f"{source}: no column found for {', '.join(missing)}; name it with a mapping such as "
            f"{missing[0]}=COLUMN. Its columns: {', '.join(header)}",
            fields=missing,
        )
    return resolved


def _product(
    product_id: str,
    rows: list[tuple[int, Row]],
    columns: dict[str, str],
    options: ImportOptions,
    problems: list[tuple[int, str]],
    skus: dict[str, int],
) -> ProductRecord:
    def cell(row: Row, name: str) -> str:
        return row[columns[name]].strip() if name in columns else ""

    first = rows[0][1]
    title = cell(first, "title")
    if not title:
        raise RowRejected(f"title ({columns['title']}) is missing")
    variants: list[VariantRecord] = []
    for position, (number, row) in enumerate(rows, start=1):
        try:
            sku = fit(cell(row, "sku"), 120, columns.get("sku", "sku")) or None
            if sku is not None and sku in skus:
                raise RowRejected(f"SKU {sku!r} repeats row {skus[sku]}")
            variant = VariantRecord(
                id=fit(f"{product_id}-{position}", 64, f"id ({columns.get('id', 'derived')})"),
                price=parse_listed_price(cell(row, "price"), what=columns["price"]),
                stock=parse_stock(
                    cell(row, "stock"), default=options.default_stock, what=columns.get("stock", "stock")
                ),
                options=parse_options(cell(row, "options")) if "options" in columns else {},
                sku=sku,
            )
        except RowRejected as exc:
            if position == 1 and len(rows) == 1:
                raise
            problems.append((number, exc.reason))
            continue
        if sku is not None:
            skus[sku] = number
        variants.append(variant)
    if not variants:
        raise RowRejected(f"product {product_id!r} has no valid row")
    images = [u.strip() for u in cell(first, "image_url").split("|")]
    image = next((u for u in images if u.lower().startswith(("http://", "https://"))), "")
    return ProductRecord(
        id=fit(product_id, 64, f"id ({columns.get('id', 'derived')})"),
        title=fit(title, 300, columns["title"]),
        category=fit(cell(first, "category").split("|")[0].strip() or UNCATEGORIZED, 120, "category"),
        variants=tuple(variants),
        description=cell(first, "description"),
        brand=fit(cell(first, "brand"), 120, columns.get("brand", "brand")),
        image_url=fit(image, 500, columns.get("image_url", "image_url")) or None,
        source="csv",
    )


def parse_options(text: str) -> dict[str, str]:
    """``"color=red; size=M"`` or ``"Color: Red | Size: M"`` -> ``{"color": "red", "size": "M"}``."""
    chosen: dict[str, str] = {}
    for part in text.replace("|", ";").split(";"):
        if not part.strip():
            continue
        separator = "=" if "=" in part else ":"
        name, found, value = part.partition(separator)
        if not found or not name.strip() or not value.strip():
            raise RowRejected(f"option {part.strip()!r} is not written name=value")
        chosen[name.strip().lower()] = value.strip()
    return chosen


def parse_mapping_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """``["title=Product Name", "price=Selling Price"]`` (the CLI's ``--map``) as a mapping."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        name, found, column = pair.partition("=")
        if not found or not name.strip():
            raise InvalidArgumentsError(
                f"A mapping is written FIELD=COLUMN, not {pair!r}",
                errors=[{"argument": "mapping", "message": f"bad pair {pair!r}"}],
            )
        mapping[name.strip().lower()] = column.strip()
    return mapping


def load_mapping_file(path: Path) -> dict[str, str]:
    """A YAML file of ``field: column`` lines (optionally under a top-level ``mapping:`` key)."""
    try:
        data: Any = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise ImportFailedError(f"{path.name} is not valid YAML: {exc}", path=str(path)) from None
    if isinstance(data, dict) and set(data) == {"mapping"}:
        data = data["mapping"]
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise ImportFailedError(f"{path.name} must map field names to column names", path=str(path))
    return {k.strip().lower(): "" if v is None else str(v).strip() for k, v in data.items()}
