from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from dialogue_rules.sentiment import load_sentiment_lexicon, score_sentiment


@pytest.mark.parametrize(
    ("text", "strong_negative"),
    [
        ("this is ridiculous", True),
        ("worst service ever", True),
        ("I am very disappointed with this order", True),
        ("wtf, where is my package", True),
        ("this is bullshit", True),
        ("You guys are useless and rude", True),
        ("I've been waiting 3 weeks, this is unacceptable", True),
        ("I want my money back, this is a rip off", True),
        ("where is my order?", False),
        ("thanks, that's great", False),
        ("not bad at all", False),
        ("the shoes were a bit small", False),
        ("damn, these shoes are nice", False),
        ("is the jacket waterproof", False),
        ("I'm not unhappy, just asking", False),
    ],
)
def test_strong_negative_table(text: str, strong_negative: bool) -> None:
    assert score_sentiment(text).strong_negative is strong_negative


def test_scores_are_bounded_and_signed() -> None:
    positive = score_sentiment("this is amazing, I love it, thank you!")
    negative = score_sentiment("terrible, awful, the worst, I hate it")
    neutral = score_sentiment("what sizes do you have")
    assert 0 < positive.score <= 1
    assert -1 <= negative.score < 0
    assert neutral.score == 0 and neutral.terms == ()


def test_negation_and_intensifiers_change_the_score() -> None:
    assert score_sentiment("I am not happy").score < 0 < score_sentiment("I am happy").score
    assert score_sentiment("very disappointed").score < score_sentiment("disappointed").score


def test_shouting_and_exclamations_make_it_stronger() -> None:
    calm = score_sentiment("this is awful")
    loud = score_sentiment("this is AWFUL!!!")
    assert loud.score < calm.score


def test_terms_explain_the_score() -> None:
    assert "worst service" in score_sentiment("worst service I have seen").terms


def test_bad_lexicon_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sentiment.yaml"
    path.write_text("alpha: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sentiment\.yaml: alpha: Input should be greater than 0"):
        load_sentiment_lexicon(path)
