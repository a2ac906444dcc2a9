"""The catalog's words for speech (lexicon, vocabulary prompt, correction) on the fixture shop and
the tau retail import; nothing here names a word the test did not read from the store first."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import SpeechSettings
from speech.correction import CatalogCorrector
from speech.lexicon import Lexicon, read_lexicon, singular
from speech.vocabulary import CatalogVocabulary, lexicon_prompt, ranked_terms
from store.db import Database
from store.models import Product


def categories(database: Database) -> Counter[str]:
    with database.session() as session:
        return Counter(session.scalars(select(Product.category)))


def test_product_types_come_from_the_categories_singular_and_plural(database: Database):
    lexicon = read_lexicon(database)
    forms = lexicon.type_forms()
    for category in categories(database):
        written = category.lower()
        assert written in forms and forms[written] == singular(written)
    assert "t-shirt" in forms and forms["t-shirts"] == "t-shirt"


def test_every_product_type_is_in_the_prompt_at_the_default_budget(
    database: Database, tau_database: Database
):
    for db in (database, tau_database):
        prompt = (
            lexicon_prompt(read_lexicon(db), max_tokens=SpeechSettings().vocabulary_tokens) or ""
        ).lower()
        missing = [c for c in categories(db) if singular(c.lower()) not in prompt]
        assert not missing, f"product types left out of the prompt: {missing}"


def test_a_type_outranks_a_brand_or_option_as_common_as_it():
    lexicon = Lexicon(
        types=Counter({"backpack": 20}), brands=Counter({"Trailhaus": 20}), options=Counter({"black": 20})
    )
    assert ranked_terms(lexicon)[0] == "backpack"


def test_the_prompt_keeps_to_its_budget_and_an_empty_catalog_has_none(tmp_path: Path):
    lexicon = Lexicon(types=Counter({f"type{k}": 10 - k for k in range(10)}))
    assert len(lexicon_prompt(lexicon, max_tokens=10) or "") <= 40
    assert lexicon_prompt(lexicon, max_tokens=0) is None
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    empty.migrate()
    assert lexicon_prompt(read_lexicon(empty), max_tokens=160) is None


def test_split_words_are_joined_to_the_catalogs_spelling(database: Database, tau_database: Database):
    for db in (database, tau_database):
        lexicon = read_lexicon(db)
        corrector = CatalogCorrector(lexicon)
        word = next(w for w in sorted(lexicon.words, key=len, reverse=True) if w.isalpha() and len(w) >= 8)
        split = f"{word[:4]} {word[4:]}"
        fixed, changes = corrector.correct(f"Do you have a {split}?")
        assert fixed == f"Do you have a {word}?" and changes[0].kind == "joined"


def test_a_question_cut_short_is_completed_only_when_one_type_fits(database: Database):
    corrector = CatalogCorrector(read_lexicon(database))
    fixed, changes = corrector.correct("Do you have a trail sho?")
    assert fixed == "Do you have a trail shoe?" and [c.kind for c in changes] == ["completed"]
    assert corrector.correct("Can I send it sho?") == ("Can I send it sho?", [])  # not a product question
    assert corrector.correct("Do you have any t?")[1] == []  # "t-shirt" and others: too short


def test_a_brand_that_sounds_alike_gets_the_catalogs_spelling(database: Database):
    lexicon = read_lexicon(database)
    brand = max(lexicon.brands, key=len)
    misheard = brand[:-2] + ("a" if brand[-2] != "a" else "e") + brand[-1]
    fixed, changes = CatalogCorrector(lexicon).correct(f"anything from {misheard.lower()}?")
    assert fixed == f"anything from {brand}?" and changes[0].kind == "sounds_like"


def test_a_product_type_heard_nearly_right_gets_its_spelling(database: Database, tau_database: Database):
    for db in (database, tau_database):
        lexicon = read_lexicon(db)
        two_words = sorted(t for t in lexicon.type_forms() if len(t.split()) == 2 and len(t.split()[1]) >= 5)
        form = two_words[0]
        first, second = form.split()
        misheard = f"{first} {second[:-1]}{'x' if second[-1] != 'x' else 'z'}"
        fixed, changes = CatalogCorrector(lexicon).correct(f"I'm looking for {misheard}.")
        assert fixed == f"I'm looking for {form}." and changes[0].kind == "sounds_like"


def test_catalog_words_near_a_type_are_not_made_into_it(database: Database):
    """ "Merino Running Socks" is a title: "running socks" stays, though "running shoes" is a type."""
    corrector = CatalogCorrector(read_lexicon(database))
    assert corrector.correct("do you have merino running socks") == ("do you have merino running socks", [])


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order?",
        "I want to return the lamp",
        "Can you check it for me please",
        "yes",
        "thanks a lot",
    ],
)
def test_ordinary_sentences_are_left_alone(database: Database, text: str):
    assert CatalogCorrector(read_lexicon(database)).correct(text) == (text, [])


def test_the_vocabulary_is_rebuilt_when_the_catalog_changes(database: Database):
    now = [0.0]
    vocabulary = CatalogVocabulary(database, max_tokens=160, recheck_seconds=30, clock=lambda: now[0])
    assert "telescope" not in (vocabulary.prompt or "").lower()
    with database.transaction() as session:
        product = session.get(Product, "P-LAMP")
        assert product is not None
        product.category = "Telescopes"
    now[0] = 10.0
    assert not vocabulary.refresh()  # not checked again before recheck_seconds
    now[0] = 31.0
    assert vocabulary.refresh() and "telescope" in (vocabulary.prompt or "").lower()
    assert vocabulary.corrector.correct("Do you have a telesc?")[0] == "Do you have a telescope?"
    # the second hearing's catalog terms are rebuilt with it
    assert vocabulary.terms is not None and vocabulary.terms.type_forms["telescopes"] == "telescope"
    assert vocabulary.terms.product_types.search("any telescopes?")
    now[0] = 62.0
    assert not vocabulary.refresh()  # nothing changed since


def test_the_second_hearing_keeps_the_catalogs_brand_words(database: Database, tmp_path: Path):
    lexicon = read_lexicon(database)
    terms = CatalogVocabulary(database, max_tokens=160).terms
    assert terms is not None and lexicon.brands
    assert all(word in terms.keep for brand in lexicon.brands for word in brand.lower().split())
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    empty.migrate()
    assert CatalogVocabulary(empty, max_tokens=160).terms is None  # no product types: none


def test_the_words_ids_are_spoken_with_are_never_corrected_to_catalog_words():
    """A catalog with a "Tri-Ply" pan and a "Doubles" brand: "triple" and "double" in an order
    id stay, or the normaliser could not read the id."""
    from collections import Counter

    from speech.correction import CatalogCorrector
    from speech.lexicon import Lexicon

    lexicon = Lexicon(
        types=Counter({"saucepan": 3}),
        brands=Counter({"Doubles": 2}),
        options=Counter({"tri-ply": 4}),
        words=Counter({"tri-ply": 4, "saucepan": 3}),
    )
    corrector = CatalogCorrector(lexicon)
    text, changes = corrector.correct("cancel order W, triple five, double nine, one")
    assert text == "cancel order W, triple five, double nine, one" and changes == []
    assert corrector.correct("a tripple saucepan")[0] != "a tripple saucepan"  # it still corrects


def test_emails_and_order_ids_are_left_as_the_normaliser_wrote_them():
    from collections import Counter

    from speech.correction import CatalogCorrector
    from speech.lexicon import Lexicon

    lexicon = Lexicon(types=Counter({"jeans": 5}), words=Counter({"jeans": 5}))
    corrector = CatalogCorrector(lexicon)
    assert corrector.correct("do you have jones?")[0] == "do you have jeans?"  # it corrects
    text, changes = corrector.correct("it's bob.jones@example.com, order #W1234567, any jones?")
    assert text == "it's bob.jones@example.com, order #W1234567, any jeans?"
    assert [c.heard for c in changes] == ["jones"]


def test_a_word_whose_plural_or_singular_the_catalog_has_is_not_corrected():
    from collections import Counter

    from speech.correction import CatalogCorrector
    from speech.lexicon import Lexicon

    lexicon = Lexicon(words=Counter({"lanterns": 3}))
    corrector = CatalogCorrector(lexicon)
    assert corrector.correct("a lantern for camping")[0] == "a lantern for camping"
    assert corrector.correct("do you have lanterms")[0] == "do you have lanterns"  # it still corrects


def test_a_misheard_word_joined_to_a_catalog_word_is_split_off(database: Database, tau_database: Database):
    for db in (database, tau_database):
        lexicon = read_lexicon(db)
        word = sorted(t for t in lexicon.type_forms() if " " not in t and "-" not in t)[0]
        fixed, changes = CatalogCorrector(lexicon).correct(f"Can you recommend a blood-{word}?")
        assert fixed == f"Can you recommend a blood {word}?" and changes[0].kind == "split"


def test_hyphenated_words_are_split_or_corrected_only_when_sure():
    from collections import Counter

    lexicon = Lexicon(
        types=Counter({"t-shirts": 5, "e-readers": 2}), words=Counter({"shirt": 1, "organic": 3})
    )
    corrector = CatalogCorrector(lexicon)
    assert corrector.correct("a white D-shirt")[0].lower() == "a white t-shirt"  # sounds like one type
    assert corrector.correct("any e-readers or t-shirts?") == ("any e-readers or t-shirts?", [])
    assert corrector.correct("an un-organic one")[0] == "an un organic one"
    assert corrector.correct("a well-made bag") == ("a well-made bag", [])  # "made" is no catalog word


def test_a_product_word_with_no_singular_keeps_its_one_form():
    from speech.lexicon import plural, plural_only, singular

    assert singular("jeans") == "jeans" and plural("jeans") == "jeans"
    assert singular("Skinny Jeans") == "Skinny Jeans" and plural_only("skinny jeans")
    assert singular("sunglasses") == "sunglasses" and singular("headphones") == "headphones"
    assert singular("yoga mats") == "yoga mat" and plural("yoga mat") == "yoga mats"  # others as before
    assert not plural_only("jean jacket") and not plural_only("")
    lexicon = Lexicon(types=Counter({"jeans": 4, "yoga mat": 2}), plurals={"yoga mat": "yoga mats"})
    assert lexicon.type_forms() == {"jeans": "jeans", "yoga mat": "yoga mat", "yoga mats": "yoga mat"}


def test_each_brands_product_types_are_read_from_its_products(database: Database):
    import math
    import re

    from sqlalchemy import func

    from speech.vocabulary import catalog_terms

    lexicon = read_lexicon(database)
    with database.session() as session:
        pairs = session.execute(
            select(Product.brand, Product.category)
            .where(Product.brand.is_not(None))
            .group_by(Product.brand, Product.category)
        ).all()
        assert session.scalar(select(func.count(func.distinct(Product.brand)))) == len(lexicon.brand_types)
    for brand, category in pairs:
        assert singular(category.lower()) in lexicon.brand_types[brand]
    assert all(set(kinds) <= set(lexicon.types) for kinds in lexicon.brand_types.values())
    # what the second hearing gets: each brand's shares, in lower case
    terms = CatalogVocabulary(database, max_tokens=160).terms
    assert terms is not None
    for brand, kinds in lexicon.brand_types.items():
        shares = terms.brand_types[" ".join(re.findall(r"[a-z][a-z'\-]*", brand.lower()))]
        assert abs(sum(shares.values()) - 1) < 1e-9 and set(shares) == set(kinds)
    # a brand with signs in its name is found by its words, as a transcript writes them
    odd = Lexicon(
        types=Counter({"ice cream": 3, "cone": 2}), brand_types={"Ben & Jerry's": Counter({"ice cream": 3})}
    )
    found = catalog_terms(odd, {"ice cream": "ice cream", "cone": "cone"}, re.compile("ice cream|cone"))
    assert found is not None
    assert found.prior("Any Ben & Jerry's, please?") == {"ice cream": pytest.approx(math.log(2))}
    assert found.prior("Any Ben or Jerry's, please?") == {}
