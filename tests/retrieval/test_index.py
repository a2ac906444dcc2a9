"""The search index against the fixture shop, with real Chroma, tantivy, SQLite and the bundled MiniLM."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
import tantivy
from sqlalchemy import update

from retrieval import query as query_module
from retrieval.filters import SearchFilters
from retrieval.index import SCHEMA_VERSION, SearchIndex
from retrieval.lexical import LexicalIndex
from retrieval.vector import PRODUCTS
from services import Services
from store.models import Product, Variant


def ids(hits) -> list[str]:
    return [h.product_id for h in hits]


def test_build_indexes_every_product_and_policy_passage(index: SearchIndex):
    status = index.status()
    assert status["products"] == 5
    assert status["policy_passages"] >= 3
    assert (
        status["embedding_model"].endswith("all-MiniLM-L6-v2") and status["schema_version"] == SCHEMA_VERSION
    )


def test_queries_find_products_by_words_meaning_and_typos(index: SearchIndex):
    assert ids(index.search_products("trail running shoe"))[0] == "P-SHOE"
    assert ids(index.search_products("desk light for my office"))[0] == "P-LAMP"
    assert ids(index.search_products("insulated botle"))[0] == "P-BOTTLE"  # typo: dense finds it
    assert ids(index.search_products("tee shirt"))[0] == "P-TEE"


def test_exact_ids_skus_and_brands_win(index: SearchIndex):
    by_variant = index.search_products("V-LAMP-BK")
    assert ids(by_variant)[0] == "P-LAMP" and by_variant[0].matched_by[0] == "exact"
    assert ids(index.search_products("SKU-V-TEE-RD-S"))[0] == "P-TEE"
    assert ids(index.search_products("p-bottle"))[0] == "P-BOTTLE"
    assert set(ids(index.search_products("stridewell", k=2))) == {"P-SHOE", "P-SOCK"}


def test_results_carry_price_range_stock_score_and_snippet(index: SearchIndex):
    hit = index.search_products("trail running shoe")[0]
    assert (hit.min_price, hit.max_price) == (Decimal("79.99"), Decimal("84.99"))
    assert hit.stock == 7 and hit.in_stock  # 5 + 0 + 2 in the fixture
    assert hit.score > 0 and "trail" in hit.snippet.lower()
    assert hit.brand == "Stridewell" and hit.category == "Running Shoes"


def test_filters_apply_to_variants(index: SearchIndex):
    cheap = index.search_products("running", SearchFilters(max_price=Decimal("50")))
    assert ids(cheap) == ["P-SOCK"]
    red_in_stock = index.search_products("shoe", SearchFilters(options={"color": "red"}, in_stock=True))
    assert "P-SHOE" not in ids(red_in_stock)  # the red shoe has no stock
    blue = index.search_products("shoe", SearchFilters(options={"Color": "Blue", "size": "10"}))[0]
    assert blue.product_id == "P-SHOE" and blue.min_price == blue.max_price == Decimal("84.99")
    assert ids(index.search_products("shirt", SearchFilters(category="t-shirts"))) == ["P-TEE"]
    assert ids(index.search_products("running", SearchFilters(brand="Hydrapeak"))) == []
    assert ids(index.search_products("shoe", SearchFilters(min_price=Decimal("80"))))[0] == "P-SHOE"


def test_prices_and_stock_come_from_the_store_at_query_time(index: SearchIndex, database):
    with database.engine.begin() as conn:  # behind the index's back: no listener sees this
        conn.execute(update(Variant).where(Variant.id == "V-LAMP-BK").values(price=Decimal("39.50"), stock=0))
    hit = index.search_products("desk lamp")[0]
    assert hit.product_id == "P-LAMP" and hit.min_price == Decimal("39.50") and not hit.in_stock
    assert "P-LAMP" not in ids(index.search_products("desk lamp", SearchFilters(in_stock=True)))


def test_store_changes_reach_the_index_without_a_rebuild(index: SearchIndex, database):
    with database.transaction() as session:
        session.get(Product, "P-SOCK").title = "Merino Marathon Socks"
        session.add(
            Product(
                id="P-KETTLE",
                title="Gooseneck Pour-Over Kettle",
                category="Kitchen",
                brand="Brewline",
                variants=[Variant(id="V-KET", price=Decimal("59.00"), stock=4)],
            )
        )
    assert ids(index.search_products("marathon"))[0] == "P-SOCK"
    assert ids(index.search_products("gooseneck kettle"))[0] == "P-KETTLE"
    with database.transaction() as session:
        session.delete(session.get(Product, "P-KETTLE"))
    assert "P-KETTLE" not in ids(index.search_products("gooseneck kettle"))
    assert "P-KETTLE" not in index.lexical.product_ids()
    assert index.status()["products"] == 5


def test_stock_change_by_bulk_statement_updates_filter_metadata(index: SearchIndex, database):
    with database.transaction() as session:  # a Core UPDATE inside a session, as checkout does
        session.execute(update(Variant).where(Variant.product_id == "P-LAMP").values(stock=0))
    row = index.lexical._conn.execute("SELECT in_stock FROM docs WHERE product_id = 'P-LAMP'").fetchone()
    assert row == (0,)


def test_sync_catches_changes_made_outside_any_session(index: SearchIndex, database):
    with database.engine.begin() as conn:
        conn.execute(update(Product).where(Product.id == "P-BOTTLE").values(title="Summit Thermos Flask"))
    assert "P-BOTTLE" not in ids(index.search_products("thermos flask", mode="bm25"))
    report = index.sync()
    assert report.updated >= 1 and report.deleted == 0
    assert ids(index.search_products("thermos flask", mode="bm25"))[0] == "P-BOTTLE"


def test_index_persists_across_restart(index_settings, embedder, indexed: Services):
    built_at = indexed.index.status()["built_at"]
    indexed.close()
    reopened = Services.from_settings(index_settings, with_index=True, embedder=embedder)
    try:
        assert reopened.index.mismatch() is None
        assert reopened.index.ensure_ready().startswith("up to date")
        assert reopened.index.status()["built_at"] == built_at
        assert ids(reopened.index.search_products("desk lamp"))[0] == "P-LAMP"
    finally:
        reopened.close()


class RenamedModel:
    """The real embedder under another model name: what a config change of the model looks like."""

    def __init__(self, inner):
        self.inner = inner

    model_name = "another-model@v2"

    @property
    def dimension(self):
        return self.inner.dimension

    def embed_documents(self, **kwargs):
        return self.inner.embed_documents(**kwargs)

    def embed_query(self, **kwargs):
        return self.inner.embed_query(**kwargs)


def test_model_mismatch_triggers_a_clear_message_and_rebuild(index_settings, embedder, indexed, caplog):
    indexed.close()
    other = Services.from_settings(index_settings, with_index=True, embedder=RenamedModel(embedder))
    try:
        reason = other.index.mismatch()
        assert reason is not None and "embedding_model" in reason and "another-model@v2" in reason
        with caplog.at_level("WARNING"):
            outcome = other.index.ensure_ready()
        assert outcome.startswith("rebuilt") and "rebuilding" in caplog.text
        assert other.index.mismatch() is None
        assert other.index.status()["embedding_model"] == "another-model@v2"
        assert ids(other.index.search_products("desk lamp"))[0] == "P-LAMP"
    finally:
        other.close()


def test_search_modes_run_each_retriever_alone(index: SearchIndex):
    bm25 = index.search_products("lamp", mode="bm25")
    dense = index.search_products("something to light my desk", mode="dense")
    assert ids(bm25)[0] == "P-LAMP" and bm25[0].matched_by == ["bm25"]
    assert ids(dense)[0] == "P-LAMP" and dense[0].matched_by == ["dense"]
    assert index.search_products("   ") == []


def test_policy_search_cites_page_and_section(index: SearchIndex):
    hits = index.search_policies("how long does delivery take", k=2)
    assert hits[0].page == "Shipping" and hits[0].section == "Delivery times"
    assert "business days" in hits[0].text and hits[0].source == "returns.md"
    refund = index.search_policies("where does my refund go", k=1)[0]
    assert (refund.page, refund.section) == ("Returns", "Refunds")


def test_policy_page_changes_are_picked_up_by_sync(index: SearchIndex, policy_dir):
    before = index.status()["policy_passages"]
    (policy_dir / "gift-wrap.md").write_text(
        "# Gift wrapping\n\nWe wrap any order in recycled paper for free.\n"
    )
    report = index.sync()
    assert report.policy_passages == before + 1
    hit = index.search_policies("can you gift wrap my order", k=1)[0]
    assert hit.page == "Gift wrapping" and hit.source == "gift-wrap.md"
    assert index.sync().policy_passages is None  # unchanged pages are not re-indexed


def test_price_only_change_keeps_the_vector_and_updates_filters(index: SearchIndex, database, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(index.embedder, "embed_documents", lambda **kw: calls.append("embed") or None)
    with database.transaction() as session:
        session.get(Variant, "V-SOCK-M").price = Decimal("99.00")
    assert calls == []  # text unchanged: no re-embedding
    assert ids(index.search_products("socks", SearchFilters(min_price=Decimal("90")), mode="dense")) == [
        "P-SOCK"
    ]


def test_an_index_of_an_older_schema_is_rebuilt(index: SearchIndex):
    conn = index.lexical._conn  # make the keyword index look like one from schema version 1
    conn.executescript(
        "DROP TABLE docs; CREATE TABLE docs (product_id TEXT PRIMARY KEY, category TEXT, brand TEXT, "
        "min_price REAL, max_price REAL, in_stock INTEGER, options TEXT, text_hash TEXT);"
        "UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    )
    assert "schema_version='1'" in index.mismatch()
    assert index.ensure_ready().startswith("rebuilt")
    assert index.status()["products"] == 5 and ids(index.search_products("desk lamp"))[0] == "P-LAMP"


def test_a_version_2_index_with_products_in_fts5_is_rebuilt_into_tantivy(index: SearchIndex):
    conn = index.lexical._conn  # schema version 2 kept products' BM25 in an FTS5 table
    conn.executescript(
        "CREATE VIRTUAL TABLE product_fts USING fts5(product_id UNINDEXED, title, brand, category, body);"
        "UPDATE meta SET value = '2' WHERE key = 'schema_version';"
    )
    index.lexical.keywords.reset()  # and had no tantivy index
    assert "schema_version='2'" in index.mismatch()
    assert index.ensure_ready().startswith("rebuilt")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "product_fts" not in tables
    assert index.lexical.keywords.count() == 5
    assert ids(index.search_products("desk lamp", mode="bm25"))[0] == "P-LAMP"


def test_an_older_keyword_index_loses_its_redundant_category_index_on_open(index: SearchIndex):
    path = index.lexical.path
    index.lexical._conn.execute("CREATE INDEX ix_docs_category ON docs (category)")  # as before 12-02
    reopened = LexicalIndex(path)
    try:
        rows = reopened._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        names = {row[0] for row in rows}
        assert "ix_docs_category" not in names
        assert {"ix_docs_filter", "ix_docs_lookup"} <= names
        assert reopened.product_ids() == index.lexical.product_ids(), "the data is untouched"
    finally:
        reopened.close()


@pytest.mark.parametrize("overfetch", [10**6, 0], ids=["broad-path", "narrow-path"])
def test_dense_candidates_under_filters_match_chromas_own_filtering(
    index: SearchIndex, monkeypatch, overfetch
):
    """Both ways of narrowing the nearest-neighbour search (over-fetch then filter, or search
    only the ids the filters let through) give what a Chroma ``where`` on the same metadata
    gives."""
    monkeypatch.setattr(query_module, "MAX_OVERFETCH", overfetch)
    collection = index.vectors._collection(PRODUCTS)
    vector = index.embedder.embed_query(text="something warm to wear for running")
    cases = [
        (SearchFilters(in_stock=True), {"in_stock": True}),
        (SearchFilters(max_price=Decimal("50")), {"min_price": {"$lte": 50.0}}),
        (SearchFilters(category="Running Shoes"), {"category": "running shoes"}),
        (
            SearchFilters(options={"color": "red"}, min_price=Decimal("10")),
            {"$and": [{"opt:color=red": True}, {"max_price": {"$gte": 10.0}}]},
        ),
        (SearchFilters(brand="nobody"), {"brand": "nobody"}),
    ]
    for filters, where in cases:
        reference = collection.query(
            query_embeddings=[vector], n_results=10, where=where, include=["distances"]
        )["ids"][0]
        found = [pid for pid, _ in index._dense_candidates(vector, filters, 10)]
        assert found == reference, filters


def test_a_keyword_index_of_another_layout_is_started_afresh_and_rebuilt(
    index_settings, embedder, indexed: Services, caplog
):
    path = indexed.index.lexical.keywords.path
    indexed.close()
    shutil.rmtree(path)
    path.mkdir()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("something_else", stored=True)
    tantivy.Index(builder.build(), path=str(path))
    with caplog.at_level("WARNING"):
        reopened = Services.from_settings(index_settings, with_index=True, embedder=embedder)
    try:
        assert "another layout" in caplog.text
        assert "holds 0 of the 5" in reopened.index.mismatch()
        assert reopened.index.ensure_ready().startswith("rebuilt")
        assert reopened.index.mismatch() is None
        assert ids(reopened.index.search_products("desk lamp", mode="bm25"))[0] == "P-LAMP"
    finally:
        reopened.close()


def test_a_change_that_moves_nothing_indexed_writes_nothing(index: SearchIndex, database, monkeypatch):
    writes: list[str] = []
    monkeypatch.setattr(index.lexical.keywords, "upsert", lambda docs: writes.append("bm25"))
    monkeypatch.setattr(index.embedder, "embed_documents", lambda **kw: writes.append("embed"))
    with database.transaction() as session:  # 30 -> 29 in stock: still in stock, same price
        session.get(Variant, "V-SOCK-M").stock = 29
    assert writes == []


def test_a_new_sku_with_the_same_text_is_found_by_exact_lookup(index: SearchIndex, database):
    with database.transaction() as session:
        session.add(
            Variant(
                id="V-SOCK-M2",
                product_id="P-SOCK",
                sku="SKU-SOCK-TWIN",
                options={"size": "M"},
                price=Decimal("12.00"),
                stock=3,
            )
        )
    hit = index.search_products("SKU-SOCK-TWIN")[0]
    assert hit.product_id == "P-SOCK" and hit.matched_by[0] == "exact"
