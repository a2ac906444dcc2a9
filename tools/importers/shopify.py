"""Importer for Shopify's product export CSV (Products > Export in the Shopify admin).

Rows with the same Handle are one product; its first row carries the product (Title, Body
(HTML), Vendor, Product Category, Type, Tags, Published, Status, Option names), later rows
("continuation rows", empty Title) carry more variants, and rows with no variant data at all
only add images. The product id is the handle; a variant's id is its Variant SKU, or
``{handle}-{n}`` for the n-th variant row of the product when it has no SKU.

- Option names come from the product's first row and are lower-cased (``Size`` -> ``size``);
  Shopify's placeholder option ``Title: Default Title`` of single-variant products is dropped.
- Body (HTML) becomes plain text (the standard library's HTML parser; block elements and
  list items become lines).
- Category is the last segment of Product Category (``Apparel & Accessories > Clothing >
  Shirts & Tops`` -> ``Shirts & Tops``), else Type, else "Uncategorized".
- Stock is Variant Inventory Qty; empty means ``default_stock``; negative (oversold) means 0.
- Products whose Status is draft or archived, or whose Published is false, are not for sale
  and are skipped with a note, unless ``include_unpublished`` is set.
- A bad variant row is reported and skipped; the product's other rows still land.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from core.errors import ImportFailedError
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
    parse_money,
    parse_stock,
    read_csv,
)
from tools.importers.records import ProductRecord, VariantRecord
from tools.importers.writer import Entry, write_products

REQUIRED_COLUMNS = ("Handle", "Title", "Variant Price")
VARIANT_COLUMNS = (
    "Option1 Value",
    "Option2 Value",
    "Option3 Value",
    "Variant SKU",
    "Variant Price",
    "Variant Inventory Qty",
    "Variant Grams",
)
Row = dict[str, str]


class ShopifyImporter(Importer):
    name = "shopify"
    description = "Shopify product export CSV (Handle, Title, Body (HTML), Variant Price...)"

    def run(
        self, database: Database, path: Path, options: ImportOptions, progress: Progress | None
    ) -> ImportReport:
        table = read_csv(path)
        missing = [c for c in REQUIRED_COLUMNS if c not in table.header]
        if missing:
            raise ImportFailedError(
                f"{table.name} is not a Shopify product export: it has no {', '.join(missing)} column",
                path=str(path),
            )
        report = ImportReport()
        problems: list[tuple[int, str]] = list(table.bad_rows.items())
        groups: dict[str, list[tuple[int, Row]]] = {}
        for number, row in table.rows:
            handle = row["Handle"].strip()
            if handle:
                groups.setdefault(handle, []).append((number, row))
            else:
                problems.append((number, "Handle is missing; every row must name its product's handle"))
        entries: list[Entry[ProductRecord]] = []
        skipped: list[str] = []
        seen_variants: dict[str, int] = {}
        for handle, rows in groups.items():
            if not _for_sale(rows[0][1]) and not options.include_unpublished:
                skipped.append(handle)
                continue
            try:
                record = _product(handle, rows, options, problems, seen_variants)
                entries.append(Entry(rows[0][0], record))
            except RowRejected as exc:
                problems.append((rows[0][0], exc.reason))
        if skipped:
            report.notes.append(
                f"skipped {len(skipped)} product(s) that are draft, archived or unpublished: "
                f"{', '.join(skipped)}"
            )
        report.errors.extend(RowError(n, reason, table.name) for n, reason in sorted(problems))
        report.merge(
            write_products(
                database, entries, source=table.name, batch_size=options.batch_size, progress=progress
            )
        )
        return report


def _for_sale(first: Row) -> bool:
    status = first.get("Status", "").strip().lower() or "active"
    published = first.get("Published", "").strip().lower() not in ("false", "no", "0")
    return status == "active" and published


def _product(
    handle: str,
    rows: list[tuple[int, Row]],
    options: ImportOptions,
    problems: list[tuple[int, str]],
    seen_variants: dict[str, int],
) -> ProductRecord:
    first = rows[0][1]
    title = first["Title"].strip()
    if not title:
        raise RowRejected(
            f"the first row of product {handle!r} has no Title; its {len(rows)} row(s) are skipped"
        )
    option_names = [first.get(f"Option{i} Name", "").strip() for i in (1, 2, 3)]
    variants: list[VariantRecord] = []
    position = 0
    for index, (number, row) in enumerate(rows):
        if index and not any(row.get(c, "").strip() for c in VARIANT_COLUMNS):
            continue  # an image row
        position += 1
        try:
            variant = _variant(handle, position, row, option_names, options.default_stock)
        except RowRejected as exc:
            problems.append((number, exc.reason))
            continue
        if variant.id in seen_variants:
            problems.append((number, f"variant id {variant.id!r} repeats row {seen_variants[variant.id]}"))
            continue
        seen_variants[variant.id] = number
        variants.append(variant)
    if not variants:
        raise RowRejected(f"product {handle!r} has no valid variant row")
    category_path = first.get("Product Category", "").strip()
    category = category_path.split(">")[-1].strip() or first.get("Type", "").strip() or UNCATEGORIZED
    images = [row.get("Image Src", "").strip() for _, row in rows]
    return ProductRecord(
        id=fit(handle, 64, "Handle"),
        title=fit(title, 300, "Title"),
        category=fit(category, 120, "category"),
        variants=tuple(variants),
        description=html_to_text(first.get("Body (HTML)", "")),
        brand=fit(first.get("Vendor", ""), 120, "Vendor"),
        image_url=fit(next((i for i in images if i), ""), 500, "Image Src") or None,
        tags=tuple(t.strip() for t in first.get("Tags", "").split(",") if t.strip()),
        source="shopify",
    )


def _variant(handle: str, position: int, row: Row, names: list[str], default_stock: int) -> VariantRecord:
    chosen: dict[str, str] = {}
    for i, name in enumerate(names, start=1):
        value = row.get(f"Option{i} Value", "").strip()
        if not value:
            continue
        if not name:
            raise RowRejected(f"Option{i} Value {value!r} has no Option{i} Name on the product's first row")
        if name.lower() == "title" and value == "Default Title":
            continue
        chosen[name.lower()] = value
    sku = fit(row.get("Variant SKU", ""), 120, "Variant SKU") or None
    return VariantRecord(
        id=fit(sku or f"{handle}-{position}", 64, "variant id (Variant SKU)"),
        price=parse_money(row.get("Variant Price", ""), what="Variant Price"),
        stock=parse_stock(
            row.get("Variant Inventory Qty", ""), default=default_stock, what="Variant Inventory Qty"
        ),
        options=chosen,
        sku=sku,
    )


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset(
        {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "blockquote", "pre", "hr"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "header", "footer"}
    )
    HIDDEN = frozenset({"script", "style", "template", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "li":
            self._parts.append("\n- ")
        elif tag in self.BLOCKS:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in self.BLOCKS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self._parts).split("\n"))
        return "\n".join(line for line in lines if line and line != "-")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML fragment: tags dropped, entities decoded, one block per line."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()
