"""Catalog, customer and order importers: tau-bench retail JSON, Shopify CSV, any CSV.

``run_import(database, "csv", path, options=ImportOptions(...), progress=callback)`` imports a
file and returns an :class:`ImportReport`: created / updated / unchanged counts per entity kind
and every skipped row with its reason. Records are upserted by id, so importing again updates
instead of duplicating.
"""

from tools.importers.base import (
    EntityCounts,
    Importer,
    ImportOptions,
    ImportReport,
    Progress,
    RowError,
    parse_listed_price,
    parse_money,
)
from tools.importers.csv_generic import load_mapping_file, parse_mapping_pairs
from tools.importers.registry import ImporterRegistry, default_registry, run_import

__all__ = [
    "EntityCounts",
    "ImportOptions",
    "ImportReport",
    "Importer",
    "ImporterRegistry",
    "Progress",
    "RowError",
    "default_registry",
    "load_mapping_file",
    "parse_listed_price",
    "parse_mapping_pairs",
    "parse_money",
    "run_import",
]
