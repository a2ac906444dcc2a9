"""The top-level packages form layers: a package imports only packages of lower layers, so the
import graph between them has no cycle. Imports under ``if TYPE_CHECKING:`` are annotations only
and do not count. The imports are read with ``ast``, nothing is imported.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Bottom first. Packages in one layer may not import each other either.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("store",),
    ("retrieval", "tools", "identity"),
    ("dialogue_rules",),
    ("assistant",),
    ("speech", "support", "privacy"),
    ("services",),
    ("connectors",),
    ("eval",),
    ("shopassist",),
)
LAYER_OF = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def imported_packages(path: Path) -> set[str]:
    """Top-level packages of this project that ``path`` imports at run time (lazy imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(LAYER_OF)


@cache
def import_graph() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) -> the importing files, for every pair of different packages."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for package in LAYER_OF:
        for path in sorted((REPO / package).rglob("*.py")):
            for target in imported_packages(path) - {package}:
                edges[(package, target)].append(str(path.relative_to(REPO)))
    return edges


def test_every_top_level_package_has_a_layer() -> None:
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests"}
    assert packages == set(LAYER_OF), "add new top-level packages to LAYERS"


def test_packages_import_only_lower_layers() -> None:
    upward = [
        f"{importer} -> {imported} ({', '.join(files[:3])})"
        for (importer, imported), files in sorted(import_graph().items())
        if LAYER_OF[imported] >= LAYER_OF[importer]
    ]
    assert upward == []


def test_retrieval_and_tools_meet_only_through_a_protocol() -> None:
    graph = import_graph()
    assert ("tools", "retrieval") not in graph
    assert ("retrieval", "tools") not in graph


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import tools.cart\nfrom store.db import Database\n", {"tools", "store"}),
        ("def f():\n    from assistant.engine import Assistant\n", {"assistant"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from services import Services\n", set()),
        ("from . import sibling\nimport numpy\n", set()),
    ],
)
def test_the_import_reader(tmp_path: Path, source: str, expected: set[str]) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    assert imported_packages(path) == expected
