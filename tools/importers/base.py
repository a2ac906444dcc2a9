"""What every importer shares: the report, options, the importer contract and value parsers.

An importer turns a file into records, reports each bad row as a :class:`RowError` (row number
or record key, a readable reason, the file name) and skips it, and writes the good records
through :mod:`tools.importers.writer`, which upserts them by primary key in batches.

Value parsers raise :class:`RowRejected`; the importer turns that into a row error. Errors that
stop a whole import (missing file, wrong structure) are :class:`~core.errors.ImportFailedError`.
"""

from __future__ import annotations

import csv
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import ClassVar

from core.errors import ImportFailedError, InvalidArgumentsError
from core.money import MAX_AMOUNT, to_money
from store.db import Database

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each committed batch."""

ENTITY_KINDS = ("products", "variants", "customers", "orders")
UNCATEGORIZED = "Uncategorized"


class RowRejected(Exception):
    """A record cannot be imported; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RowError:
    """One skipped record: its 1-based data row (CSV) or record key (JSON), why, and the file."""

    row: int | str
    reason: str
    source: str

    def __str__(self) -> str:
        where = f"row {self.row}" if isinstance(self.row, int) else repr(self.row)
        return f"{self.source}, {where}: {self.reason}"


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def add(self, other: EntityCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class ImportReport:
    """What one import did: counts per entity kind, skipped rows, and notes."""

    format: str = ""
    source: str = ""
    products: EntityCounts = field(default_factory=EntityCounts)
    variants: EntityCounts = field(default_factory=EntityCounts)
    customers: EntityCounts = field(default_factory=EntityCounts)
    orders: EntityCounts = field(default_factory=EntityCounts)
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row was skipped."""
        return not self.errors

    def counts(self) -> dict[str, EntityCounts]:
        return {kind: getattr(self, kind) for kind in ENTITY_KINDS}

    def count(self, kind: str) -> EntityCounts:
        if kind not in ENTITY_KINDS:
            raise ValueError(f"unknown entity kind {kind!r}")
        counts: EntityCounts = getattr(self, kind)
        return counts

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts().values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts().values())

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self.counts().values())

    def merge(self, other: ImportReport) -> None:
        """Add another report's counts, errors and notes to this one."""
        for kind, counts in other.counts().items():
            self.count(kind).add(counts)
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)

    def summary(self) -> str:
        """One line per entity kind that was touched, then the number of skipped rows."""
        lines = [
            f"{kind}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for kind, c in self.counts().items()
            if c.total
        ]
        lines.append(f"{len(self.errors)} row(s) skipped" if self.errors else "no rows skipped")
        return "\n".join(lines)


@dataclass(frozen=True)
class ImportOptions:
    """Knobs of an import.

    ``mapping`` (field -> column) applies to the ``csv`` format only; ``include_unpublished``
    imports Shopify products whose Status is draft/archived or whose Published is false.
    """

    default_stock: int = 10
    batch_size: int = 500
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    include_unpublished: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.default_stock, bool) or self.default_stock < 0:
            raise InvalidArgumentsError(
                f"default_stock must be a whole number of 0 or more, not {self.default_stock!r}",
                errors=[{"argument": "default_stock", "message": "must be >= 0"}],
            )
        if isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise InvalidArgumentsError(
                f"batch_size must be at least 1, not {self.batch_size!r}",
                errors=[{"argument": "batch_size", "message": "must be >= 1"}],
            )


class Importer(ABC):
    """One import format. Registered by ``name`` in :class:`~tools.importers.registry.ImporterRegistry`."""

    name: ClassVar[str]
    description: ClassVar[str]
    accepts_mapping: ClassVar[bool] = False  # whether ImportOptions.mapping means anything to it

    @abstractmethod
    def run(
        self, database: Database, path: Path, options: ImportOptions, progress: Progress | None
    ) -> ImportReport:
        """Import ``path`` into ``database``; raise ImportFailedError when it cannot start."""


# Values -------------------------------------------------------------------------------------

_CURRENCY = r"(?:US\$|USD|[$£€])"
_MONEY = re.compile(rf"^{_CURRENCY}?\s*(\d{{1,3}}(?:,\d{{3}})+|\d+)(\.\d+)?\s*(?:USD)?$")
# A listed price: an amount at the start of the cell, written "$12.99", "$1,299", "$ 6 . 94" or
# Amazon's split rendering "$ 19 99" (dollars and cents in separate elements).
_LEADING = re.compile(
    rf"^\s*(?P<cur>{_CURRENCY})?\s*(?P<whole>\d{{1,3}}(?:,\d{{3}})+|\d+)"
    r"(?:\s*\.\s*(?P<cents>\d{1,2})(?!\d)|(?P<split>\s+\d{2})(?=\s|$))?"
)
# What may follow a listed price: nothing, a range "- $15.99" / "to $15.99", or another
# amount (a repeated rendering or the list price scraped with it).
_AFTER_LEADING = re.compile(rf"^\s*(?:$|-|\u2013|to\b|{_CURRENCY})")


def parse_money(value: object, *, what: str = "price") -> Decimal:
    """One amount: ``12``, ``12.5``, ``"$1,299.00"``, ``"1299 USD"``; rounded to cents."""
    if isinstance(value, bool) or value is None:
        raise RowRejected(f"{what} is missing" if value is None else f"{what} {value!r} is not an amount")
    if isinstance(value, (int, float, Decimal)):
        amount = _decimal(str(value), what)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise RowRejected(f"{what} is missing")
        match = _MONEY.match(text)
        if not match:
            raise RowRejected(f"{what} {_shorten(text)!r} is not an amount")
        amount = _decimal(match.group(1).replace(",", "") + (match.group(2) or ""), what)
    else:
        raise RowRejected(f"{what} {value!r} is not an amount")
    return _checked(amount, what)


def parse_listed_price(text: str, *, what: str = "price") -> Decimal:
    """The price a listing shows, as scraped: the first amount of the cell.

    A range ``"$12.99 - $15.99"`` gives its low end (the "from" price a shop shows); a repeated
    rendering or list price after the amount is ignored. Anything else is rejected.
    """
    stripped = text.strip()
    if not stripped:
        raise RowRejected(f"{what} is missing")
    match = _LEADING.match(stripped)
    if match and match.group("split") and not match.group("cur"):
        match = None  # "19 99" without a currency sign is not a price
    if not match or not _AFTER_LEADING.match(stripped[match.end() :]):
        raise RowRejected(f"{what} {_shorten(stripped)!r} is not an amount")
    whole = match.group("whole").replace(",", "")
    cents = match.group("cents") or (match.group("split") or "").strip() or "0"
    return _checked(_decimal(f"{whole}.{cents}", what), what)


def parse_stock(value: object, *, default: int, what: str = "stock") -> int:
    """A stock count; empty gives ``default``; negative (oversold) counts as 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        raise RowRejected(f"{what} {value!r} is not a whole number")
    text = str(value).strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowRejected(f"{what} {_shorten(text)!r} is not a whole number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise RowRejected(f"{what} {_shorten(text)!r} is not a whole number")
    return max(int(number), 0)


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise RowRejected(f"{what} {_shorten(text)!r} is not an amount") from None


def _checked(amount: Decimal, what: str) -> Decimal:
    if not amount.is_finite():
        raise RowRejected(f"{what} {amount} is not an amount")
    if amount < 0:
        raise RowRejected(f"{what} {amount} is negative")
    if amount > MAX_AMOUNT:
        raise RowRejected(f"{what} {_shorten(str(amount))} is past {MAX_AMOUNT}")
    return to_money(amount)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(value: str, limit: int, what: str) -> str:
    """``value`` stripped, or a rejection naming the field when it is longer than the column."""
    value = value.strip()
    if len(value) > limit:
        raise RowRejected(f"{what} is {len(value)} characters long; at most {limit} fit")
    return value


def required(value: object, what: str) -> str:
    """A non-empty string value, or a rejection naming the missing field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowRejected(f"{what} is missing")
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise RowRejected(f"{what} {value!r} is not text")
    return str(value).strip()


# Files --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvTable:
    """A CSV file read whole: its header and its data rows with 1-based row numbers."""

    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    bad_rows: dict[int, str] = field(default_factory=dict)


def read_csv(path: Path) -> CsvTable:
    """Read a UTF-8 CSV file; blank lines count as rows (so numbers match a spreadsheet) but are skipped.

    Rows with more cells than the header go to ``bad_rows`` with the reason, for the importer
    to report.
    """
    text = read_text(path)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportFailedError(f"{path.name} is not a readable CSV file: {exc}", path=str(path)) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise ImportFailedError(f"{path.name} is empty: no header row", path=str(path))
    header = [cell.strip() for cell in records[0]]
    seen: set[str] = set()
    for name in header:
        if name and name.lower() in seen:
            raise ImportFailedError(f"{path.name} has the column {name!r} twice", path=str(path))
        seen.add(name.lower())
    rows: list[tuple[int, dict[str, str]]] = []
    bad: dict[int, str] = {}
    for number, cells in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            bad[number] = f"the row has {len(cells)} cells but the header has {len(header)} columns"
            continue
        rows.append((number, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}))
    return CsvTable(path.name, header, rows, bad)


def read_text(path: Path) -> str:
    """A file's UTF-8 text (a byte-order mark is dropped), or ImportFailedError saying why not."""
    if not path.exists():
        raise ImportFailedError(f"{path}: no such file", path=str(path))
    if path.is_dir():
        raise ImportFailedError(f"{path} is a directory; expected a file", path=str(path))
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailedError(
            f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8", path=str(path)
        ) from None
    except OSError as exc:
        raise ImportFailedError(f"{path} cannot be read: {exc.strerror or exc}", path=str(path)) from None
