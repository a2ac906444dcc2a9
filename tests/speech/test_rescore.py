"""A product type heard with one word wrong (speech/rescore.py): the candidates, and the choice
from the recognizer's scores. The recognizer's side (Whisper's forced alignment) is in
tests/speech/test_recognizer.py."""

from __future__ import annotations

from speech.rescore import MARGIN, MAX_SCORE_GAP, Candidate, candidates, chosen

FORMS = {
    "desk lamp": "desk lamp",
    "desk lamps": "desk lamp",
    "running shoe": "running shoe",
    "running shoes": "running shoe",
    "running sock": "running sock",
    "yoga mat": "yoga mat",
    "backpack": "backpack",
}


def test_a_window_with_one_word_of_a_type_in_its_place_gives_a_candidate():
    made = candidates("Show me, best lamps in black.", FORMS)
    assert [c.text for c in made] == ["Show me, desk lamps in black."]
    assert made[0].form == "desk lamps"


def test_every_type_sharing_the_word_is_a_candidate_and_one_word_types_none():
    made = {c.text for c in candidates("I need running tube for my sister", FORMS)}
    assert made == {
        "I need running shoe for my sister",
        "I need running shoes for my sister",
        "I need running sock for my sister",
    }
    assert candidates("Do you have a back?", FORMS) == []
    # a grammar word is never replaced; a short word that is none may be ("B lamps", "Yes, lamp")
    assert candidates("opening hours, and lamp all", FORMS, grammar={"and"}) == []
    assert [c.text for c in candidates("Show me, B lamps", FORMS, grammar={"and"})] == ["Show me, desk lamps"]


def test_no_candidate_across_a_sentence_break_or_for_a_type_already_named():
    assert candidates("Where is my desk? Lamp please.", {"desk lamp": "desk lamp"}) == []
    assert candidates("Show me desk lamps", {"desk lamps": "desk lamp"}) == []


def test_the_best_candidate_is_taken_only_when_nearly_as_likely_and_clear_of_other_types():
    shoe = Candidate("I need running shoe", "running shoe")
    shoes = Candidate("I need running shoes", "running shoes")
    sock = Candidate("I need running sock", "running sock")
    heard = -0.8
    near = heard - MAX_SCORE_GAP / 2
    assert chosen(heard, [(shoe, near), (sock, near - 2 * MARGIN)], FORMS) == shoe
    # singular and plural are one type: no rival
    assert chosen(heard, [(shoe, near), (shoes, near - 0.01)], FORMS) == shoe
    assert chosen(heard, [(shoe, heard - 2 * MAX_SCORE_GAP)], FORMS) is None  # far less likely
    assert chosen(heard, [(shoe, near), (sock, near - MARGIN / 2)], FORMS) is None  # two types close
    assert chosen(heard, [], FORMS) is None
