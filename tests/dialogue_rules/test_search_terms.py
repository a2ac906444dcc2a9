"""The search vocabulary: product words out of a message, refinements, policy questions."""

from __future__ import annotations

from dialogue_rules.entities.extract import extract_all
from dialogue_rules.search_terms import default_search_terms

TERMS = default_search_terms()


def _words(text: str) -> str:
    return TERMS.query_words(text, [e.span for e in extract_all(text).items])


def test_filler_and_entities_are_dropped() -> None:
    assert _words("do you have red running shoes under $80?") == "running shoes"
    assert _words("I'm looking for a cotton t-shirt in size M") == "cotton t-shirt"
    assert _words("yes") == ""
    # who it is for is no product word
    assert _words("I need a pair of jeans for my sister.") == "jeans"
    assert _words("any good headphones for me?") == "headphones"


def test_refinements() -> None:
    assert TERMS.wants_cheaper("anything cheaper?")
    assert TERMS.is_refinement("in blue") and TERMS.is_refinement("under 50")
    assert not TERMS.is_refinement("I want a tent for four people")
    assert TERMS.wants_in_stock("only in stock ones")


def test_policy_questions() -> None:
    assert TERMS.is_policy_question("how long is shipping")
    assert not TERMS.is_policy_question("a warm winter jacket")
