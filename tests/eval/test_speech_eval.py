"""``shopassist eval speech``: the spoken test set made from a catalog, its scoring on hand-made
transcripts, and one real run (espeak-ng and Whisper) over the fixture shop."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from eval.speech.evaluate import VoiceScore, _score, run_speech_eval
from eval.speech.spoken import (
    Utterance,
    Voice,
    email_utterances,
    order_utterances,
    shopping_utterances,
    synthesise,
    term_heard,
    voices,
)
from services import Services
from speech.lexicon import plural, singular
from speech.normalize import normalize_transcript
from store.db import Database
from store.models import Product
from tests.index_damage import built_index_shop, shop_settings  # noqa: F401  (fixture)


def test_sixty_shopping_questions_name_the_catalogs_own_types(tau_database: Database, small_shop):
    for database in (tau_database, Database(small_shop.database_url)):
        with database.session() as session:
            types = {singular(c.lower()) for c in session.scalars(select(Product.category))}
        made = shopping_utterances(database, count=60)
        assert len(made) >= 60 and len({u.written for u in made}) == len(made)
        assert {u.term for u in made} <= types
        assert all(term_heard(u.said, u.forms) for u in made)  # each says its own term
        # the type heard in the plural counts as named, whatever the category's number
        said_plural = [re.sub(rf"\b{re.escape(u.term)}\b", plural(u.term), u.said) for u in made]
        assert all(term_heard(said, u.forms) for said, u in zip(said_plural, made, strict=True))
    # tau sells sunglasses and headphones: a pair of them, never "a sunglass" or "a headphones"
    made = shopping_utterances(tau_database, count=60)
    pairs = [u for u in made if u.term in ("sunglasses", "headphones")]
    assert pairs and all(re.search(r"\ba (?:sunglass|headphone)", u.said.lower()) is None for u in made)
    assert any(f"a pair of {u.term}" in u.said for u in pairs)


def test_the_set_has_every_id_style_and_enough_voices():
    ids = order_utterances()
    assert {u.style for u in ids} == {"digits", "grouped", "as_in"}
    assert any("double" in u.said or "triple" in u.said for u in ids)
    assert all("W as in William" in u.said for u in ids if u.style == "as_in")
    assert {u.style for u in email_utterances()} == {"plain", "spelled"}
    heard = voices()
    assert len({v.name for v in heard}) >= 3 and {v.rate for v in heard} >= {140, 180}
    assert any(v.snr_db == 20 for v in heard)


def test_ids_and_emails_said_perfectly_are_normalised_exactly():
    for utterance in [*order_utterances(), *email_utterances()]:
        assert utterance.term in normalize_transcript(utterance.said).lower().replace("#w", "#W")


@pytest.mark.parametrize(
    ("transcript", "forms", "heard"),
    [
        ("Do you have a T shirt?", ("t-shirt",), True),
        ("do you have tshirts", ("t-shirt", "t-shirts"), True),
        ("show me the automatic one", ("mat",), False),
        ("water bottles please", ("water bottle", "water bottles"), True),
        ("a bottle of water", ("water bottle",), False),
        # an imported department of many words (the Amazon CSV's)
        (
            "I'm looking for remote & app controlled vehicles & parts.",
            ("remote & app controlled vehicles & parts",),
            True,
        ),
        (
            "I'm looking for remote app controlled vehicles.",
            ("remote & app controlled vehicles & parts",),
            False,
        ),
    ],
)
def test_a_term_counts_as_heard_only_as_whole_words(transcript, forms, heard):
    assert term_heard(transcript, forms) is heard


def test_scores_on_hand_made_transcripts():
    question = Utterance(
        "shopping", "Do you have a backpack?", "Do you have a backpack?", "backpack", ("backpack",)
    )
    score = VoiceScore("test voice")
    _score(score, question, "do you have a back")
    _score(score, question, "Do you have a backpack?")
    order = order_utterances()[0]
    _score(score, order, f"where is my order {order.term}")
    _score(score, order, "where is my order #W1234")
    report = score.to_dict()
    # 1 error (backpack heard as back) in 10 reference words
    assert report["wer"] == pytest.approx(0.1)
    assert report["product_term_hit_rate"] == 0.5 and report["order_id_exact"] == 0.5
    assert [m["heard"] for m in report["misses"]] == ["do you have a back", "where is my order #W1234"]


def test_noise_is_added_at_the_asked_ratio():
    clean = synthesise("do you have a backpack", Voice("en-us", 140, None))
    noisy = synthesise("do you have a backpack", Voice("en-us", 140, 20.0))
    noise = noisy - clean
    ratio = 10 * math.log10(float((clean**2).mean()) / float((noise**2).mean()))
    assert 19.0 < ratio < 21.0


@pytest.fixture
def voice_shop(built_index_shop: Path, tmp_path: Path, recognizer) -> Iterator[Services]:  # noqa: F811
    data_dir = tmp_path / "data"
    shutil.copytree(built_index_shop, data_dir)
    services = Services.from_settings(shop_settings(data_dir), with_voice=True, recognizer=recognizer)
    yield services
    services.close()


@pytest.mark.slow
def test_a_real_run_over_the_fixture_shop(voice_shop: Services):
    assert voice_shop.voice is not None
    report = run_speech_eval(
        voice_shop.voice, voice_shop.database, catalog="fixture", voices=[voices()[0]], count=10
    ).to_dict()
    (per_voice,) = report["voices"]
    assert per_voice["shopping"] >= 10 and 0 <= per_voice["wer"] < 0.5
    assert report["product_term_hit_rate"] >= 0.8
    assert report["first_reply_audio_ms"]["n"] >= 10 and report["first_reply_audio_ms"]["p50"] > 0
    misses = per_voice["misses"]
    shopping_missed = sum(1 for m in misses if m["style"] == "")
    assert shopping_missed == round(per_voice["shopping"] * (1 - per_voice["product_term_hit_rate"]))


@pytest.mark.slow
def test_the_second_hearing_gets_more_order_ids_whole(voice_shop: Services):
    """The voice channel's hearing (catalog prompt, then the ids' prompts when an id seems cut
    off) against the catalog prompt alone, on the spoken order ids of one fast voice."""
    voice = voice_shop.voice
    assert voice is not None
    fast = next(v for v in voices() if v.rate == 180 and v.snr_db is None)
    alone = channel = 0
    for utterance in order_utterances():
        samples = synthesise(utterance.said, fast)
        first = voice.recognizer.transcribe(audio=samples, prompt=voice.prompt)
        alone += utterance.term in voice.understand(first.text)
        channel += utterance.term in voice.understand(voice.hear(samples).text)
    assert channel > alone
