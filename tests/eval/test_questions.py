"""Variant price and availability questions, made from any catalog and asked of the assistant."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import UnknownNameError
from dialogue_rules.intents import IntentMatcher
from eval.questions.catalogs import build_shop, catalog, settings_for
from eval.questions.questions import VariantQuestion, _phrase, make_questions, spoken_name
from eval.questions.runner import ask_all
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services
from store.db import Database

SHIRT_S = VariantQuestion("price", "q", "P-TEE", "V-TEE-RD-S", "Everyday Cotton T-Shirt", "$17.99", 0)


def test_a_price_answer_must_name_the_product_and_its_exact_price() -> None:
    assert SHIRT_S.check("Everyday Cotton T-Shirt (color red, size S) costs $17.99.") is None
    assert SHIRT_S.check("Everyday Cotton T-Shirt costs $19.99.") == "the price $17.99 is not stated"
    assert SHIRT_S.check("It costs $17.99.") == "the product 'Everyday Cotton T-Shirt' is not named"


def test_a_stock_answer_must_state_the_count_or_that_it_is_sold_out() -> None:
    sold_out = VariantQuestion("stock", "q", "P", "V", "Kettle", "$1.00", 0)
    assert sold_out.check("Sorry, Kettle is not available in glass right now.") is None
    assert sold_out.check("Yes, Kettle is available: 3 in stock.") == "does not say it is out of stock"
    stocked = VariantQuestion("stock", "q", "P", "V", "Kettle", "$1.00", 7)
    assert stocked.check("Yes, Kettle is available in glass: 7 in stock at $1.00.") is None
    assert stocked.check("Kettle: 8 in stock.") == "does not say 7 in stock"
    assert stocked.check("Sorry, Kettle is not available in glass. 7 in stock instead.").startswith(
        "says not"
    )


def test_a_spoken_name_is_cut_and_grows_until_it_tells_the_product_apart() -> None:
    assert spoken_name("Luigi Skirt Version Costume, Small (4-6x)") == "Luigi Skirt Version Costume"
    others = [{"rubie", "s", "costume", "co", "batman"}, {"rubie", "s", "costume", "co", "cleopatra"}]
    said = spoken_name("Rubie's Costume Co - Batman Child Gauntlets", others)
    assert said.startswith("Rubie's Costume Co") and "Batman" in said


def test_questions_name_only_the_options_that_tell_variants_apart(database: Database) -> None:
    questions = make_questions(database, count=12, seed=3)
    assert len(questions) == 24 and {q.kind for q in questions} == {"price", "stock"}
    assert any(q.stock == 0 for q in questions if q.kind == "stock")  # sold-out variants are asked about
    assert make_questions(database, count=12, seed=3) == questions  # a seed repeats
    rng = random.Random(1)
    # A value every variant shares is never said; values alone or with their option's name are.
    texts = {_phrase("price", "Kettle", [("capacity", "1.5L")], rng) for _ in range(20)}
    assert any("capacity 1.5" in t for t in texts) and any("capacity" not in t for t in texts)
    assert all("1.5" in t for t in texts)


def test_an_unknown_catalog_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="amazon, demo, shopify, tau"):
        catalog("etsy")


@pytest.fixture(scope="module")
def matcher(embedder: SentenceTransformerEmbedder) -> IntentMatcher:
    return IntentMatcher(embedder=embedder)


def _asked(
    name: str, root: Path, embedder: SentenceTransformerEmbedder, matcher: IntentMatcher
) -> Iterator[str]:
    data_dir = root / name
    build_shop(name, data_dir, embedder=embedder)
    services = Services.from_settings(
        settings_for(data_dir), with_dialogue=True, embedder=embedder, llm=None, matcher=matcher
    )
    try:
        report = ask_all(services, make_questions(services.database, count=10, seed=11), catalog=name)
    finally:
        services.close()
    wrong = [f"{a.question.text!r}: {a.problem} | {a.reply[:200]}" for a in report.answers if not a.right]
    yield from wrong
    assert report.score("price")[1] == 10 and report.score("stock")[1] == 10


@pytest.mark.slow
@pytest.mark.parametrize("name", ["shopify", "tau", "amazon"])
def test_variant_questions_are_answered_exactly_on_imported_catalogs(
    name: str, tmp_path: Path, embedder: SentenceTransformerEmbedder, matcher: IntentMatcher
) -> None:
    if name != "shopify":
        from tests.conftest import require_shared

        require_shared("tau_retail" if name == "tau" else "amazon_products_1000.csv")
    wrong = list(_asked(name, tmp_path, embedder, matcher))
    # Measured 20/20 and 20/20 on seeds 3, 5 and 6 (README); one miss in 20 is allowed for noise
    # in the search ranking, more is a regression.
    assert len(wrong) <= 1, "\n".join(wrong)


@pytest.mark.slow
def test_a_product_title_with_a_handoff_word_is_answered_not_handed_off(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, matcher: IntentMatcher
) -> None:
    from sqlalchemy import select

    from assistant.sessions.slots import Mode
    from store.models import Product
    from tests.conftest import require_shared

    require_shared("amazon_products_1000.csv")
    build_shop("amazon", tmp_path / "amazon", embedder=embedder)
    services = Services.from_settings(
        settings_for(tmp_path / "amazon"), with_dialogue=True, embedder=embedder, llm=None, matcher=matcher
    )
    try:
        with services.database.session() as session:
            titles = session.scalars(select(Product.title).where(Product.title.ilike("%personali%"))).all()
        assert titles, "the Amazon sample has a personalised product"
        assistant = services.require_assistant()
        sid = assistant.start_session(channel="web")
        name = spoken_name(titles[0])
        reply = assistant.handle(sid, f"How much is the {name}?", channel="web")
        assert reply.mode is Mode.BOT and "$" in reply.text, reply.text
        # a request for personalisation itself still goes to a person
        asked = assistant.handle(sid, "Can you personalize it with my name?", channel="web")
        assert asked.mode is Mode.AGENT
    finally:
        services.close()
