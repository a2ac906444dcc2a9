"""The shipped query set: valid, big and varied enough, and answerable in the default demo shop."""

from __future__ import annotations

from collections import Counter

from eval.retrieval.labels import QUERY_TYPES, Catalog, CatalogProduct, load_queries, resolve
from eval.retrieval.metrics import RELEVANT_GRADE
from retrieval.filters import SearchFilters


def test_query_set_size_and_types() -> None:
    specs = load_queries()
    assert len(specs) >= 110
    counts = Counter(spec.type for spec in specs)
    assert set(counts) == set(QUERY_TYPES)
    assert all(count >= 10 for count in counts.values()), counts
    assert {spec.id_lookup for spec in specs if spec.type == "id"} == {"product", "variant", "sku"}


def test_filtered_attribute_queries_have_an_unfiltered_twin() -> None:
    specs = {spec.id: spec for spec in load_queries()}
    filtered = [spec for spec in specs.values() if spec.filters is not None]
    assert len(filtered) >= 10
    for spec in filtered:
        assert spec.type == "attribute" and spec.id.endswith("+f"), spec.id
        twin = specs.get(spec.id.removesuffix("+f"))
        assert twin is not None and twin.filters is None, spec.id
        assert (twin.query, twin.relevant) == (spec.query, spec.relevant), spec.id


def test_every_query_has_a_relevant_product_in_the_default_demo_shop(demo_catalog: Catalog) -> None:
    labelled = resolve(load_queries(), demo_catalog)
    missing = [q.id for q in labelled if not any(g >= RELEVANT_GRADE for g in q.judgments.values())]
    assert missing == []
    products = {p.id: p for p in demo_catalog.products}
    for query in labelled:
        # A filtered query's relevant products must be reachable through its filters.
        if query.filters.is_empty():
            continue
        reachable = [
            pid
            for pid, grade in query.judgments.items()
            if grade >= RELEVANT_GRADE and _passes(products[pid], query.filters)
        ]
        assert reachable, query.id


def _passes(product: CatalogProduct, filters: SearchFilters) -> bool:
    if filters.category and product.category.lower() != filters.category.lower():
        return False
    if filters.brand and product.brand.lower() != filters.brand.lower():
        return False
    for variant in product.variants:
        if filters.in_stock and variant.stock <= 0:
            continue
        if filters.min_price is not None and variant.price < filters.min_price:
            continue
        if filters.max_price is not None and variant.price > filters.max_price:
            continue
        if all(variant.options.get(name) == value for name, value in filters.options.items()):
            return True
    return False
