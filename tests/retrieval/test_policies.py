from __future__ import annotations

from retrieval.policies import DEMO_POLICY_DIR, load_policy_pages, split_page
from services import Services
from tests.conftest import require_shared


def test_pages_split_at_headings_keep_page_and_section():
    text = "# Returns\n\nIntro.\n\n## Refunds\n\nMoney back.\n\n### Gift cards\n\nInstant.\n"
    chunks = split_page(text, "returns.md")
    assert [(c.page, c.section, c.text) for c in chunks] == [
        ("Returns", "", "Intro."),
        ("Returns", "Refunds", "Money back."),
        ("Returns", "Refunds > Gift cards", "Instant."),
    ]
    assert len({c.chunk_id for c in chunks}) == 3 and all(c.chunk_id.startswith("returns-") for c in chunks)


def test_long_sections_become_overlapping_passages():
    body = " ".join(f"Sentence number {i} about parcels and couriers." for i in range(120))
    chunks = split_page(f"# Shipping\n\n## Couriers\n\n{body}\n", "shipping.md", chunk_size=400, overlap=80)
    assert len(chunks) > 5 and all(len(c.text) <= 400 for c in chunks)
    assert all(c.section == "Couriers" for c in chunks)


def test_page_without_heading_is_named_after_its_file():
    (chunk,) = split_page("Just one paragraph.", "privacy-notice.md")
    assert chunk.page == "Privacy Notice" and chunk.section == ""


def test_demo_shop_ships_policy_pages():
    pages = {c.source for c in load_policy_pages([DEMO_POLICY_DIR])}
    assert {"shipping.md", "returns.md", "exchanges.md", "payment.md", "privacy.md"} <= pages


def test_real_world_policy_is_searchable(index_settings, embedder):
    tau_dir = require_shared("tau_retail", "policy.md").parent
    retrieval = index_settings.retrieval.model_copy(update={"policy_dirs": [tau_dir]})
    services = Services.from_settings(
        index_settings.model_copy(update={"retrieval": retrieval}), with_index=True, embedder=embedder
    )
    try:
        services.index.ensure_ready()
        hit = services.index.search_policies("can I cancel an order that is still pending?", k=1)[0]
        assert hit.page == "Retail agent policy" and hit.section == "Cancel pending order"
        assert hit.source == "policy.md" and "pending" in hit.text
        exchange = services.index.search_policies("swap an item for a different size", k=3)
        assert "Exchange delivered order" in {h.section for h in exchange}
    finally:
        services.close()
