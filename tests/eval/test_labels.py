"""Label rules resolved on a small store built here, id lookups, and query-file validation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eval.retrieval.labels import (
    Catalog,
    QuerySetError,
    Rule,
    StoreCodes,
    judge,
    load_queries,
    parse_queries,
    resolve,
)
from store.db import Database
from store.models import Product, Variant


def _variant(vid: str, sku: str, options: dict[str, str], price: str, stock: int) -> Variant:
    return Variant(id=vid, sku=sku, options=options, price=Decimal(price), stock=stock)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Database:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('labels') / 'shop.db'}")
    database.migrate()
    with database.transaction() as session:
        session.add_all(
            [
                Product(
                    id="P1",
                    title="Stridewell Apex Trail Running Shoe",
                    description="A waterproof shoe for muddy trails.",
                    category="Running Shoes",
                    brand="Stridewell",
                    variants=[
                        _variant("V11", "RUN-1-1", {"color": "Red", "size": "9"}, "70.00", 5),
                        _variant("V12", "RUN-1-2", {"color": "blue", "size": "10"}, "90.00", 0),
                    ],
                ),
                Product(
                    id="P2",
                    title="Pacefield Tempo Road Runner",
                    description="Light and fast.",
                    category="Running Shoes",
                    brand="Pacefield",
                    variants=[_variant("V21", "RUN-2-1", {"color": "red", "size": "9"}, "120.00", 3)],
                ),
                Product(
                    id="P3",
                    title="Ostra Trek Insulated Bottle",
                    description="Keeps drinks cold for 24 hours.",
                    category="Water Bottles",
                    brand="Ostra",
                    variants=[_variant("V31", "BTL-3-1", {"capacity": "500ml"}, "20.00", 0)],
                ),
            ]
        )
    return database


@pytest.fixture(scope="module")
def catalog(store: Database) -> Catalog:
    return Catalog.load(store)


def grades(catalog: Catalog, *rules: dict[str, Any]) -> dict[str, int]:
    return judge([Rule.model_validate(rule) for rule in rules], catalog)


def test_product_level_fields(catalog: Catalog) -> None:
    assert grades(catalog, {"grade": 3, "category": "running shoes"}) == {"P1": 3, "P2": 3}
    assert grades(catalog, {"grade": 2, "brand": ["OSTRA", "Pacefield"]}) == {"P2": 2, "P3": 2}
    # Whole words only: "run" is not in "Running", "runner" is a word of P2's title.
    assert grades(catalog, {"grade": 3, "title_contains": "run"}) == {}
    assert grades(catalog, {"grade": 3, "title_contains": ["runner", "insulated bottle"]}) == {
        "P2": 3,
        "P3": 3,
    }
    # text_contains also looks at the description; title_excludes drops a match.
    assert grades(catalog, {"grade": 3, "text_contains": "muddy trails"}) == {"P1": 3}
    assert grades(catalog, {"grade": 3, "category": "Running Shoes", "title_excludes": "trail"}) == {"P2": 3}


def test_variant_fields_must_hold_on_the_same_variant(catalog: Catalog) -> None:
    # P1 has a red variant at 70 (matches); P2's red one costs 120.
    assert grades(catalog, {"grade": 3, "option": {"color": "red"}, "max_price": 80}) == {"P1": 3}
    # P1 has a blue variant and a variant under 80, but not one blue variant under 80.
    assert grades(catalog, {"grade": 3, "option": {"color": "blue"}, "max_price": 80}) == {}
    # Option values are case-insensitive and may list alternatives.
    assert grades(catalog, {"grade": 1, "option": {"Color": ["RED", "green"], "size": 9}}) == {
        "P1": 1,
        "P2": 1,
    }
    assert grades(catalog, {"grade": 3, "min_price": 100}) == {"P2": 3}
    # in_stock: P1's blue variant is sold out, P3 has no stock at all.
    assert grades(catalog, {"grade": 3, "option": {"color": "blue"}, "in_stock": True}) == {}
    assert grades(catalog, {"grade": 3, "in_stock": True}) == {"P1": 3, "P2": 3}


def test_the_highest_matching_grade_wins(catalog: Catalog) -> None:
    judged = grades(
        catalog,
        {"grade": 1, "category": "Running Shoes"},
        {"grade": 3, "brand": "Stridewell"},
        {"grade": 2, "option": {"color": "red"}},
        {"grade": 0, "category": "Water Bottles"},
    )
    assert judged == {"P1": 3, "P2": 2}


def test_resolve_queries_and_id_lookups(store: Database, catalog: Catalog) -> None:
    specs = parse_queries(
        {
            "queries": [
                {"id": "p", "type": "id", "id_lookup": "product", "pick": 1},
                {"id": "v", "type": "id", "id_lookup": "variant", "pick": 5, "query": "item {code}?"},
                {"id": "s", "type": "id", "id_lookup": "sku", "pick": 0},
                {
                    "id": "red",
                    "type": "attribute",
                    "query": "red shoes",
                    "filters": {"options": {"color": "Red"}, "max_price": 100},
                    "relevant": [{"grade": 3, "option": {"color": "red"}, "max_price": 100}],
                },
            ]
        }
    )
    by_id = {q.id: q for q in resolve(specs, catalog)}
    assert (by_id["p"].text, by_id["p"].judgments) == ("P2", {"P2": 3})
    # Variant ids sorted: V11 V12 V21 V31; pick 5 wraps around to index 1.
    assert (by_id["v"].text, by_id["v"].judgments) == ("item V12?", {"P1": 3})
    assert (by_id["s"].text, by_id["s"].judgments) == ("BTL-3-1", {"P3": 3})
    assert by_id["red"].filters.options == {"color": "red"} and by_id["red"].filters.max_price == 100
    assert by_id["red"].judgments == {"P1": 3}
    # The store-backed code source agrees with the catalog snapshot.
    codes = StoreCodes(store)
    for kind in ("product", "variant", "sku"):
        assert list(codes.codes(kind)) == list(catalog.codes(kind))


def _problems(entries: list[dict[str, Any]]) -> str:
    with pytest.raises(QuerySetError) as raised:
        parse_queries({"queries": entries}, source="test.yaml")
    return raised.value.message


GOOD = {
    "id": "ok",
    "type": "typo",
    "query": "runnign shoes",
    "relevant": [{"grade": 3, "category": "Running Shoes"}],
}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({**GOOD, "relevant": [{"grade": 3, "colour": "red"}]}, "unknown key 'relevant.0.colour'"),
        ({**GOOD, "labels": []}, "unknown key 'labels'"),
        ({**GOOD, "filters": {"colour": "red"}}, "unknown key 'filters.colour'"),
        ({**GOOD, "relevant": [{"grade": 4}]}, "relevant.0.grade: Input should be less than or equal to 3"),
        ({**GOOD, "relevant": [{"grade": 0, "category": "Tents"}]}, "at least one rule with grade > 0"),
        ({**GOOD, "type": "fuzzy"}, "type: Input should be"),
        ({key: value for key, value in GOOD.items() if key != "query"}, "query is required"),
        ({"id": "ok", "type": "id", "query": "x"}, "needs id_lookup"),
        ({"id": "ok", "type": "typo", "id_lookup": "sku", "pick": 1}, "must have type: id"),
        ({"id": "ok", "type": "id", "id_lookup": "sku"}, "needs pick"),
        ({"id": "ok", "type": "id", "id_lookup": "sku", "pick": 1, "query": "sku"}, "must contain {code}"),
        ({**GOOD, "pick": 3}, "pick is only for id lookups"),
    ],
)
def test_invalid_queries_are_named(entry: dict[str, Any], expected: str) -> None:
    message = _problems([GOOD | {"id": "first"}, entry])
    assert "test.yaml" in message
    assert "query 'ok' (#2)" in message
    assert expected in message


def test_every_problem_is_reported_and_duplicates_caught() -> None:
    message = _problems([GOOD, GOOD, {**GOOD, "id": "two", "relevant": [{"grade": 3, "size": "M"}]}])
    assert "3 problem(s)" not in message  # two problems: the duplicate and the unknown key
    assert "2 problem(s)" in message
    assert "query 'ok' (#2): duplicate id" in message
    assert "query 'two' (#3): unknown key 'relevant.0.size'" in message


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(QuerySetError, match="expected a mapping with a 'queries' list"):
        parse_queries([GOOD])
    with pytest.raises(QuerySetError, match="unknown top-level key"):
        parse_queries({"queries": [GOOD], "version": 2})
    with pytest.raises(QuerySetError, match="Cannot read the query set"):
        load_queries(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("queries: [\n", encoding="utf-8")
    with pytest.raises(QuerySetError, match="Cannot read the query set"):
        load_queries(broken)
