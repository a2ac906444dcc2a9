"""Products' BM25 in tantivy, against the fixture shop's real index."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from retrieval.documents import ProductDocument, product_document
from retrieval.filters import SearchFilters
from retrieval.index import SearchIndex
from retrieval.keywords import ProductKeywords
from store.models import Product, Variant


def store_documents(database):
    with database.session() as session:
        products = session.scalars(select(Product).options(selectinload(Product.variants)))
        return {p.id: product_document(p) for p in products}


def test_bm25_ranks_title_words_and_stems(index: SearchIndex):
    found = index.lexical.search_products("running shoes", SearchFilters(), 10)
    assert found[0][0] == "P-SHOE" and found[0][1] > 0
    assert len({pid for pid, _ in found}) == len(found)
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    # "lamps" stems to "lamp"; accents fold: "lámp" is "lamp"
    assert index.lexical.search_products("lamps", SearchFilters(), 3)[0][0] == "P-LAMP"
    assert index.lexical.search_products("lámp", SearchFilters(), 3)[0][0] == "P-LAMP"


@pytest.mark.parametrize(
    "query",
    ['title:lamp AND "', "lamp OR (", "-lamp +lamp", "lamp^100 *", 'category:"x" lamp~2', "lamp\x00"],
)
def test_query_syntax_is_taken_as_words(index: SearchIndex, query: str):
    found = index.lexical.search_products(query, SearchFilters(), 5)
    assert found and found[0][0] == "P-LAMP"


def test_queries_without_words_find_nothing(index: SearchIndex):
    assert index.lexical.search_products("?!  ...", SearchFilters(), 5) == []
    assert index.lexical.search_products("lamp", SearchFilters(), 0) == []


def test_filter_counts_agree_with_the_store(index: SearchIndex, database):
    documents = store_documents(database)
    cases = [
        (SearchFilters(), lambda d: True),
        (SearchFilters(in_stock=True), lambda d: d.in_stock),
        (SearchFilters(max_price=Decimal("50")), lambda d: d.min_price <= 50),
        (SearchFilters(min_price=Decimal("80")), lambda d: d.max_price >= 80),
        (SearchFilters(category="running shoes"), lambda d: d.category.lower() == "running shoes"),
        (SearchFilters(brand="STRIDEWELL"), lambda d: d.brand.lower() == "stridewell"),
        (SearchFilters(options={"color": "red"}), lambda d: "opt:color=red" in d.option_flags),
    ]
    for filters, expected in cases:
        wanted = {pid for pid, d in documents.items() if expected(d)}
        assert index.lexical.count_matching(filters) == len(wanted), filters
        assert set(index.lexical.filtered_ids(filters)) == wanted, filters
        assert index.lexical.passing(sorted(documents), filters) == wanted, filters


def test_a_bulk_stock_change_reaches_the_bm25_filters(index: SearchIndex, database):
    before = index.lexical.count_matching(SearchFilters(in_stock=True))
    assert "P-LAMP" in dict(index.lexical.search_products("lamp", SearchFilters(in_stock=True), 5))
    with database.transaction() as session:
        session.execute(update(Variant).where(Variant.product_id == "P-LAMP").values(stock=0))
    assert index.lexical.count_matching(SearchFilters(in_stock=True)) == before - 1
    assert "P-LAMP" not in dict(index.lexical.search_products("lamp", SearchFilters(in_stock=True), 5))


def test_another_writer_on_the_same_directory_can_write_and_be_seen(index: SearchIndex, database):
    """As `shopassist index` would beside a running server: the writer lock is not held between
    writes, and the server's searches see the other writer's commits."""
    other = ProductKeywords(index.lexical.keywords.path)
    doc = store_documents(database)["P-TEE"]
    renamed = type(doc)(**{**doc.__dict__, "title": "Zephyr Tee", "text": doc.text + "\nZephyr"})
    other.upsert([renamed])
    assert index.lexical.search_products("zephyr", SearchFilters(), 5)[0][0] == "P-TEE"
    with database.transaction() as session:  # and the server's own writes still go through
        session.get(Product, "P-TEE").title = "Quokka Tee"
    assert index.lexical.search_products("zephyr", SearchFilters(), 5) == []
    assert index.lexical.search_products("quokka", SearchFilters(), 5)[0][0] == "P-TEE"


def test_repeated_single_product_updates_do_not_pile_up_segments(index: SearchIndex, database):
    for i in range(40):
        with database.transaction() as session:
            session.get(Variant, "V-SOCK-M").stock = 10 + i
    keywords = index.lexical.keywords
    assert keywords.count() == 5
    assert keywords.segments() < 12  # merged as they come, not one segment per update


def test_reset_empties_the_index(tmp_path):
    keywords = ProductKeywords(tmp_path / "kw")
    doc = ProductDocument(
        product_id="P-1",
        text="Brass Lamp",
        title="Brass Lamp",
        brand="",
        category="Lighting",
        min_price=10.0,
        max_price=10.0,
        in_stock=True,
        option_flags=(),
        codes=("p-1",),
    )
    keywords.upsert([doc])
    assert keywords.count() == 1 and keywords.search("lamp", SearchFilters(), 5)[0][0] == "P-1"
    keywords.reset()
    assert keywords.count() == 0 and keywords.search("lamp", SearchFilters(), 5) == []
    keywords.upsert([doc])  # and it is usable again
    assert keywords.count() == 1
