"""The importer registry keyed by format name, and :func:`run_import`, the one entry point."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from core.errors import InvalidArgumentsError, RegistryError, UnknownNameError
from store.db import Database
from tools.importers.base import Importer, ImportOptions, ImportReport, Progress


class ImporterRegistry:
    """Importers by format name. Registering a name twice fails; a failed lookup lists the names."""

    def __init__(self, importers: Iterable[Importer] = ()) -> None:
        self._importers: dict[str, Importer] = {}
        for importer in importers:
            self.register(importer)

    def register(self, importer: Importer) -> Importer:
        name = getattr(importer, "name", None)
        if not isinstance(name, str) or not name:
            raise RegistryError(f"{type(importer).__qualname__} has no format name", importer=repr(importer))
        if name in self._importers:
            existing = type(self._importers[name])
            raise RegistryError(
                f"Import format {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}",
                format=name,
            )
        self._importers[name] = importer
        return importer

    def get(self, name: str) -> Importer:
        try:
            return self._importers[name]
        except KeyError:
            raise UnknownNameError("import format", name, self._importers) from None

    def names(self) -> list[str]:
        return sorted(self._importers)

    def __contains__(self, name: object) -> bool:
        return name in self._importers

    def __iter__(self) -> Iterator[Importer]:
        return iter(self._importers[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._importers)


def default_registry() -> ImporterRegistry:
    """A new registry holding the built-in formats: tau, shopify, csv."""
    from tools.importers.csv_generic import GenericCsvImporter
    from tools.importers.shopify import ShopifyImporter
    from tools.importers.tau import TauImporter

    return ImporterRegistry([TauImporter(), ShopifyImporter(), GenericCsvImporter()])


def run_import(
    database: Database,
    format: str,
    path: Path | str,
    *,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
    registry: ImporterRegistry | None = None,
) -> ImportReport:
    """Import ``path`` in ``format`` into ``database`` and report what happened.

    Raises UnknownNameError for an unknown format (listing the valid ones), ImportFailedError
    when the file cannot be read or has the wrong structure; bad rows are in the report.
    """
    importer = (registry or default_registry()).get(format)
    options = options or ImportOptions()
    if options.mapping and not importer.accepts_mapping:
        raise InvalidArgumentsError(
            f"The {format!r} format takes no column mapping",
            errors=[{"argument": "mapping", "message": f"not used by the {format!r} format"}],
        )
    report = importer.run(database, Path(path), options, progress)
    report.format = importer.name
    report.source = str(path)
    return report
