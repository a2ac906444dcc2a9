"""A misheard product type put back (speech/rescore.py): the candidates, and the choice from
the recognizer's scores. The recognizer's side (Whisper's forced alignment) is in
tests/speech/test_recognizer.py; the whole of it on spoken questions in
tests/eval/test_speech_eval.py."""

from __future__ import annotations

from speech.recognizer import Likelihood
from speech.rescore import (
    MARGIN,
    MAX_CANDIDATES,
    MAX_LOSS,
    TOKEN_BONUS,
    Candidate,
    CatalogTerms,
    candidates,
    chosen,
    score,
    sound_alike,
)

FORMS = {
    "desk lamp": "desk lamp",
    "desk lamps": "desk lamp",
    "running shoe": "running shoe",
    "running shoes": "running shoe",
    "running sock": "running sock",
    "yoga mat": "yoga mat",
    "backpack": "backpack",
    "office chair": "office chair",
    "water bottle": "water bottle",
    "cookware": "cookware",
}
GRAMMAR = {"a", "and", "of", "the", "to", "you", "do", "have", "my", "for", "is", "i"}


def _texts(text: str, *, keep: frozenset[str] = frozenset()) -> list[str]:
    return [c.text for c in candidates(text, FORMS, grammar=GRAMMAR, keep=keep)]


def test_words_that_sound_like_a_type_give_a_candidate_with_it():
    assert sound_alike("of this care", "office chair") > sound_alike("of this care", "desk lamp")
    assert "How much is the office chair?" in _texts("How much is the of this care?")
    assert "I need a water bottle for my sister." in _texts("I need a Wager model for my sister.")
    assert "I'm looking for a cookware" in _texts("I'm looking for a codeware")
    assert "Do you have a backpack?" in _texts("Do you have a back?")


def test_a_type_with_one_word_misheard_or_a_grammar_word_run_into_it_gives_a_candidate():
    made = candidates("Show me, best lamps in black.", FORMS, grammar=GRAMMAR)
    assert made[0].text == "Show me, desk lamps in black." and made[0].form == "desk lamps"
    jeans = candidates("Show meetings in light wash", {"jeans": "jean"}, grammar={"me"})
    assert "Show me jeans in light wash" in [c.text for c in jeans]


def test_grammar_words_alone_brands_and_sentence_breaks_are_never_replaced():
    assert _texts("do you have the") == []
    assert not any(
        "cookware" in t.lower() for t in _texts("Is Cookwell in stock?", keep=frozenset({"cookwell"}))
    )
    assert "Is cookware in stock?" in _texts("Is Cookwell in stock?")
    across = _texts("Where is my desk? Lamp please.")
    assert across and not any(t.startswith("Where is my desk lamp") and "?" not in t for t in across)


def test_a_type_already_named_gives_no_candidate_of_itself_and_the_list_is_capped():
    assert "Show me desk lamps" not in _texts("Show me desk lamps")
    long = " ".join(["backpack bag rucksack, a water jug, office chair, desk lamp, coat"] * 4)
    made = candidates(long, FORMS, grammar=GRAMMAR)
    assert len(made) == MAX_CANDIDATES
    assert [c.alike for c in made] == sorted((c.alike for c in made), reverse=True)


def _said(total: float, tokens: int = 10) -> Likelihood:
    return Likelihood(total - TOKEN_BONUS * tokens, tokens)  # scores ``total`` with the bonus


def test_the_best_candidate_is_taken_only_when_nearly_as_likely_and_clear_of_other_types():
    shoe = Candidate("I need running shoe", "running shoe")
    shoes = Candidate("I need running shoes", "running shoes")
    sock = Candidate("I need running sock", "running sock")
    heard = _said(-8.0)
    near = -8.0 - MAX_LOSS / 2
    assert chosen(heard, [(shoe, _said(near)), (sock, _said(near - 2 * MARGIN))], FORMS) == shoe
    # singular and plural are one type: no rival
    assert chosen(heard, [(shoe, _said(near)), (shoes, _said(near - 0.01))], FORMS) == shoe
    assert chosen(heard, [(shoe, _said(-8.0 - 2 * MAX_LOSS))], FORMS) is None  # far less likely
    assert chosen(heard, [(shoe, _said(near)), (sock, _said(near - MARGIN / 2))], FORMS) is None  # two close
    assert chosen(heard, [(shoe, _said(-5.0))], FORMS) == shoe  # likelier than what was heard
    assert chosen(heard, [], FORMS) is None


def test_fewer_tokens_are_not_by_themselves_likelier():
    garbled = Likelihood(-22.0, 9)  # "Mied and Pervs broken,"
    tents = Candidate("tents broken,", "tents")
    assert score(Likelihood(-19.0, 3)) < score(garbled) - MAX_LOSS  # likelier in total, yet
    assert chosen(garbled, [(tents, Likelihood(-19.0, 3))], {"tents": "tent"}) is None


def test_a_type_the_named_brand_sells_gains_how_much_likelier_the_brand_makes_it():
    import math
    import re

    types = len(set(FORMS.values()))
    terms = CatalogTerms(
        re.compile(r"\boffice chairs?\b"),
        FORMS,
        brand_types={
            "ergonomix": {"office chair": 1.0},
            "alder outfitters": {"backpack": 0.5, "yoga mat": 0.5},
        },
    )
    assert terms.prior("How much is the Ergonomix of this care?") == {"office chair": math.log(types)}
    # a brand of two types: each half as likely; a brand of two words, as words
    assert terms.prior("is alder outfitters, good?") == {
        "backpack": math.log(types / 2),
        "yoga mat": math.log(types / 2),
    }
    assert terms.prior("Do you have an ergonomic chair?") == {}  # no brand named
    assert terms.prior("Is Alder good?") == {}
    # the gain takes a candidate that was just too unlikely, and can beat a rival of another type
    chair = Candidate("How much is the Ergonomix office chair?", "office chair")
    skin = Candidate("How much is the Ergonomix of cookware?", "cookware")
    heard = _said(-3.0)
    close = -3.0 - MAX_LOSS - 1.0
    scored = [(chair, _said(close)), (skin, _said(close))]
    assert chosen(heard, scored, FORMS) is None
    assert chosen(heard, scored, FORMS, terms.prior("the Ergonomix of this care")) == chair
