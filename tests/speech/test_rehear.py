"""The second hearing (speech/rehear.py): when it runs, what it keeps.

The recognizer here is scripted (one transcript per prompt, as Whisper would give for that
prompt): these tests are about the choice, not about Whisper; the real model's side is in
tests/eval/test_speech_eval.py. The cut-short check runs on real espeak-ng speech and the real
Silero VAD.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from core.config import SpeechSettings
from speech.audio import SAMPLE_RATE, decode
from speech.normalize import digits_read_out, normalize_transcript
from speech.order_ids import hints_at_id
from speech.phrases import load_phrases
from speech.recognizer import Likelihood, Transcript
from speech.rehear import (
    MAX_SCORE_GAP,
    cut_short,
    hear_again,
    speech_seconds,
    words_changed,
)
from speech.rescore import MAX_LOSS, CatalogTerms
from tests.speech.voices import say

QUIET = np.zeros(SAMPLE_RATE, dtype=np.float32)  # one second: too short to be cut short
CUES = load_phrases().id_cues
QUESTION = "What fleece jacket do you have under fifty dollars?"


class ScriptedRecognizer:
    """What a recognizer hears for each prompt; counts its decodings."""

    def __init__(self, heard: dict[str | None, str]) -> None:
        self.heard = heard
        self.prompts: list[str | None] = []

    def transcribe(self, *, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        self.prompts.append(prompt)
        return Transcript(text=self.heard[prompt], avg_logprob=-0.3, seconds=0.1)


class BeamRecognizer(ScriptedRecognizer):
    """Scripted, with beam search's runner-ups: (text, score) best first."""

    def __init__(self, heard: dict[str | None, str], beam: list[tuple[str, float]]) -> None:
        super().__init__(heard)
        self.beam = beam
        self.asked_alternatives = 0

    def alternatives(
        self, *, audio: np.ndarray, prompt: str | None = None, count: int = 5
    ) -> list[Transcript]:
        self.asked_alternatives += 1
        return [Transcript(text=t, avg_logprob=score, seconds=0.2) for t, score in self.beam[:count]]


Reading = str | tuple[str, float]  # a part's reading: text, or text and log-probability


class DigitsScripted(ScriptedRecognizer):
    """Scripted, and hearing each short part of an id as the next of ``parts`` (a reading, or
    a list of readings most likely first); a part decoded freely (no prompt, unless scripted)
    is heard as nothing likely."""

    def __init__(self, heard: dict[str | None, str], parts: Sequence[Reading | list[Reading]]) -> None:
        super().__init__(heard)
        self.parts = list(parts)
        self.asked_digits = 0

    def digits(self, *, audio: np.ndarray, count: int = 1) -> list[Transcript]:
        self.asked_digits += 1
        part = self.parts.pop(0) if self.parts else ""
        readings = part if isinstance(part, list) else [part]
        found = []
        for reading in readings[:count]:
            text, score = reading if isinstance(reading, tuple) else (reading, -0.3)
            found.append(Transcript(text=text, avg_logprob=score, seconds=0.05, tokens=1))
        return found

    def transcribe(self, *, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        if prompt is None and None not in self.heard:
            return Transcript(text="", avg_logprob=-9.0)
        return super().transcribe(audio=audio, prompt=prompt)


TYPES = re.compile(r"\b(?:running socks?|water bottles?|backpacks?)\b", re.IGNORECASE)
TYPE_FORMS = {
    "running sock": "running sock",
    "running socks": "running sock",
    "water bottle": "water bottle",
    "water bottles": "water bottle",
    "backpack": "backpack",
    "backpacks": "backpack",
}


class ScoringScripted(ScriptedRecognizer):
    """Scripted, and scoring sentences against the audio from a table (unlisted: far below)."""

    def __init__(self, heard: dict[str | None, str], scores: dict[str, float]) -> None:
        super().__init__(heard)
        self.scores = scores
        self.scored: list[str] = []

    def likelihoods(self, *, audio: np.ndarray, texts: Sequence[str]) -> list[Likelihood]:
        self.scored += texts
        return [Likelihood(self.scores.get(text, -30.0), 1) for text in texts]


def _hear(
    recognizer: ScriptedRecognizer,
    samples: np.ndarray = QUIET,
    understand: Callable[[str], str] = normalize_transcript,
) -> Transcript:
    first = recognizer.transcribe(audio=samples, prompt="catalog")
    return hear_again(
        recognizer,
        samples,
        first,
        understand=understand,
        prompt="catalog",
        phrases=load_phrases(),
        terms=CatalogTerms(TYPES, TYPE_FORMS),
    )


def _spoken(text: str, *, silence: float = 0.0) -> np.ndarray:
    samples = decode(say(text), SpeechSettings()).samples
    pad = np.zeros(int(silence * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, samples, pad])


def test_the_prompts_fill_in_the_catalog_and_an_empty_one_is_no_prompt():
    phrases = load_phrases()
    prompts = phrases.id_prompts_for("water bottle, backpack")
    assert prompts[0] is not None and prompts[0].startswith("water bottle, backpack ")
    assert prompts[-1] is None
    assert phrases.id_prompts_for(None)[0] == prompts[0].removeprefix("water bottle, backpack ")
    assert phrases.rehear_prompts_for("water bottle") == [None]


def test_a_cut_off_id_is_heard_again_and_the_whole_one_kept():
    prompts = load_phrases().id_prompts_for("catalog")
    recognizer = ScriptedRecognizer(
        {
            "catalog": "Where is my order?",
            prompts[0]: "Where is my order W55",
            None: "where is my order W5560181",
        }
    )
    heard = _hear(recognizer)
    assert normalize_transcript(heard.text) == "where is my order #W5560181"
    assert recognizer.prompts == ["catalog", *prompts]
    assert heard.seconds == pytest.approx(0.1 * 3)  # every decoding counts in the time spent


def test_a_whole_id_or_a_product_question_is_not_heard_again():
    for said in ("Where is my order W5560181?", "Do you have a waterproof backpack?"):
        recognizer = ScriptedRecognizer({"catalog": said})
        assert _hear(recognizer).text == said
        assert recognizer.prompts == ["catalog"]


def test_when_no_hearing_has_a_whole_id_the_first_stands():
    prompts = load_phrases().id_prompts_for("catalog")
    recognizer = ScriptedRecognizer(
        {"catalog": "cancel order W 5 5", prompts[0]: "cancel order W", None: "cancel"}
    )
    assert _hear(recognizer).text == "cancel order W 5 5"
    assert len(recognizer.prompts) == 3


def test_hints_and_whole_ids():
    assert hints_at_id("Where is my order?", CUES) and hints_at_id("under $50", CUES)
    assert not hints_at_id("Do you have running shoes?", CUES)
    assert hints_at_id("Where is my honor, none of you, two, one, two, two, three, three, zero.", CUES)
    assert not hints_at_id("I want one or two of them", CUES)


@pytest.mark.speech
def test_a_question_heard_as_one_word_is_cut_short_and_silence_does_not_count():
    question = _spoken(QUESTION)
    assert cut_short("What?", question)
    assert not cut_short("What fleece jacket do you have under $50?", question)
    # an id's digits are words said: "W5560181" read out is not cut short
    assert not cut_short("Where is my order W5560181?", _spoken(ORDER_READ_OUT))
    assert cut_short("Where is my order?", _spoken(ORDER_READ_OUT))
    padded = _spoken("Yes.", silence=2.0)  # a short answer in a long recording
    assert speech_seconds(padded) < 1.5 < len(padded) / SAMPLE_RATE
    assert not cut_short("Yes.", padded)


@pytest.mark.speech
def test_a_cut_short_question_is_heard_again_without_the_prompt():
    question = _spoken(QUESTION)
    recognizer = ScriptedRecognizer({"catalog": "What?", None: "What fleece jacket do you have under $50?"})
    assert _hear(recognizer, question).text == "What fleece jacket do you have under $50?"
    assert recognizer.prompts == ["catalog", None]
    # A second hearing that is no better (a loop, or as short) leaves the first.
    for worse in ("What? What? What? What? What? What? What? What?", "What"):
        recognizer = ScriptedRecognizer({"catalog": "What?", None: worse})
        assert _hear(recognizer, question).text == "What?"


def test_a_runner_up_that_names_a_product_type_is_taken():
    said = "What running talks do you have in red?"
    recognizer = BeamRecognizer(
        {"catalog": said},
        [(said, -0.44), ("What running socks, do you have in red?", -0.50), ("What running", -0.9)],
    )
    heard = _hear(recognizer)
    assert heard.text == "What running socks, do you have in red?"
    assert heard.seconds == pytest.approx(0.1 + 0.2)


def test_a_runner_up_too_unlikely_or_too_different_is_not_taken():
    said = "What running talks do you have in red?"
    far = ("What running socks do you have in red?", -0.44 - MAX_SCORE_GAP - 0.01)
    other = ("Show me backpacks and water bottles in red please", -0.45)
    for beam in ([(said, -0.44), far], [(said, -0.44), other]):
        recognizer = BeamRecognizer({"catalog": said}, beam)
        heard = _hear(recognizer)
        assert heard.text == said and recognizer.asked_alternatives == 1
        assert heard.seconds == pytest.approx(0.1 + 0.2)  # the runner-ups' time counts


def test_runner_ups_are_not_read_for_answers_ids_or_named_types():
    for said in ("Yes please.", "Where is my order W5560181?", "Do you have a backpack?"):
        recognizer = BeamRecognizer({"catalog": said}, [("Do you have a backpack?", 0.0)])
        assert _hear(recognizer).text == said
        assert recognizer.asked_alternatives == 0


def test_words_changed_counts_replaced_dropped_and_added_words():
    assert words_changed("what running talks do you have", "what running socks do you have") == 1
    assert words_changed("a b c", "a c") == 1 and words_changed("a b", "a b c d") == 2
    assert words_changed("Show me that", "show me, that") == 0


def test_a_price_is_no_id_so_the_runner_ups_are_still_read():
    said = "What running talks do you have under $50?"
    prompts = load_phrases().id_prompts_for("catalog")
    recognizer = BeamRecognizer(
        {"catalog": said, prompts[0]: said, None: said},
        [(said, -0.44), ("What running socks do you have under $50?", -0.5)],
    )
    assert _hear(recognizer).text == "What running socks do you have under $50?"
    assert recognizer.prompts == ["catalog", *prompts] and recognizer.asked_alternatives == 1


def test_an_order_question_is_never_turned_into_a_product_question():
    prompts = load_phrases().id_prompts_for("catalog")
    said = "Where is my order?"
    recognizer = BeamRecognizer(
        {"catalog": said, prompts[0]: said, None: said}, [("Where is my water bottle?", 0.0)]
    )
    assert _hear(recognizer).text == said
    assert recognizer.asked_alternatives == 0


ORDER_READ_OUT = "Where is my order W, five, five, six, zero, one, eight, one?"


@pytest.mark.speech
def test_an_id_not_heard_exactly_is_heard_part_by_part():
    samples = _spoken(ORDER_READ_OUT)
    for first in ("Where is my order W556018?", "Where is my order W55600201811?"):  # short, long
        recognizer = DigitsScripted({"catalog": first}, ["5", "5", "6", "0", "1", "8", "1"])
        heard = _hear(recognizer, samples)
        assert normalize_transcript(heard.text) == "Where is my order #W5560181?"
        assert recognizer.asked_digits == 7 and recognizer.prompts == ["catalog"]
        assert heard.seconds == pytest.approx(0.1 + 7 * 0.05)


@pytest.mark.speech
def test_a_double_at_the_end_of_one_part_repeats_the_next_parts_digit():
    recognizer = DigitsScripted({"catalog": "Where is my order W5"}, ["Double", "5", "6", "0", "1", "8", "1"])
    heard = _hear(recognizer, _spoken(ORDER_READ_OUT))
    assert normalize_transcript(heard.text) == "Where is my order #W5560181"


@pytest.mark.speech
def test_too_few_digits_part_by_part_are_made_an_id_by_the_parts_readings_and_the_id_prompts():
    # "zero, one" said in one breath, likeliest as "0" beside "0 1": six digits in all
    samples = _spoken(ORDER_READ_OUT)
    prompts = load_phrases().id_prompts_for("catalog")
    parts: list[Reading | list[Reading]] = ["5", "5", "6", [("0", -0.2), ("0 1", -0.9), ("", -3.0)], "8", "1"]
    heard = {"catalog": "Where is my order W55", prompts[0]: "Where is my order W55", None: "order"}
    recognizer = DigitsScripted(heard, parts)
    assert normalize_transcript(_hear(recognizer, samples).text) == "Where is my order #W5560181"
    assert recognizer.prompts == ["catalog", *prompts]  # the id prompts were tried too
    # an id the id prompts hear whole is one more reading; the recognizer's scores choose
    heard[prompts[0]] = "Where is my order W5560111"
    for prompted_score, kept in ((-0.5, "#W5560111"), (-2.0, "#W5560181")):
        recognizer = IdScripted(heard, parts, {"5560111": prompted_score, "5560181": -1.0})
        assert normalize_transcript(_hear(recognizer, samples).text) == f"Where is my order {kept}"
    # no choice of readings makes an id's digits: nothing made up
    recognizer = DigitsScripted({**heard, prompts[0]: "order"}, ["5", "5", [("6", -0.1), ("", -2.0)]])
    assert "#W" not in normalize_transcript(_hear(recognizer, samples).text)


@pytest.mark.speech
def test_too_few_digits_part_by_part_leave_it_to_the_id_prompts():
    samples = _spoken(ORDER_READ_OUT)
    prompts = load_phrases().id_prompts_for("catalog")
    recognizer = DigitsScripted(
        {"catalog": "Where is my order W55", prompts[0]: "Where is my order W5560181", None: "order"},
        ["5", "", "6"],
    )
    assert normalize_transcript(_hear(recognizer, samples).text) == "Where is my order #W5560181"
    assert recognizer.prompts == ["catalog", prompts[0]]


class IdScripted(DigitsScripted):
    """Scripted parts, and a score for the sentence with each id read out (digit by digit or
    with "double"/"triple"; unlisted: far below)."""

    def __init__(
        self, heard: dict[str | None, str], parts: Sequence[Reading | list[Reading]], scores: dict[str, float]
    ) -> None:
        super().__init__(heard, parts)
        self.scores = scores
        self.scored: list[str] = []

    def likelihoods(self, *, audio: np.ndarray, texts: Sequence[str]) -> list[Likelihood]:
        self.scored += texts
        return [Likelihood(self._score(t), 1) for t in texts]

    def _score(self, text: str) -> float:
        for digits, score in self.scores.items():
            if digits_read_out(digits) in text or digits_read_out(digits, grouped=True) in text:
                return score
        return -30.0


@pytest.mark.speech
def test_a_whole_id_is_checked_part_by_part_and_the_likelier_kept():
    samples = _spoken(ORDER_READ_OUT)
    first = "Where is my order W5560181?"
    same = IdScripted({"catalog": first}, list("5560181"), {})
    assert _hear(same, samples).text == first and same.scored == []  # the same id: nothing to pick
    for parts_score, kept in ((-0.4, "#W5560187"), (-0.9, "#W5560181")):
        recognizer = IdScripted(
            {"catalog": first}, list("5560187"), {"5560181": -0.6, "5560187": parts_score}
        )
        assert kept in normalize_transcript(_hear(recognizer, samples).text)
        # each sentence is scored with its id's digits as words, one by one and grouped
        assert sorted(recognizer.scored) == [
            "Where is my order W double five, six, zero, one, eight, one?",
            "Where is my order W double five, six, zero, one, eight, seven?",
            "Where is my order W five, five, six, zero, one, eight, one?",
            "Where is my order W five, five, six, zero, one, eight, seven?",
        ]


@pytest.mark.speech
def test_digits_read_out_without_an_order_are_not_made_an_id():
    samples = _spoken("My phone number is five, five, five, one, two, three, four, five, six, seven.")
    said = "My phone number is 555 123 4567."
    prompts = load_phrases().id_prompts_for("catalog")
    recognizer = DigitsScripted({"catalog": said, prompts[0]: said, None: said}, ["5"] * 10)
    heard = _hear(recognizer, samples)
    assert recognizer.asked_digits == 0
    assert "#W" not in normalize_transcript(heard.text)


@pytest.mark.speech
def test_digits_read_out_with_order_and_w_misheard_are_an_id_when_exactly_an_ids_digits():
    samples = _spoken(ORDER_READ_OUT)
    said = "Where is my honor, none of you, 5, 6, 0, 1, 8, 1."
    prompts = load_phrases().id_prompts_for("catalog")
    heard = {"catalog": said, prompts[0]: said, None: said}
    recognizer = DigitsScripted(heard, list("5560181"))
    heard_as = normalize_transcript(_hear(recognizer, samples).text)
    assert heard_as == "Where is my honor, none of you, #W5560181."
    # parts giving more digits than an id has: no id is made of them
    recognizer = DigitsScripted(heard, ["5 5", *"560181"])
    assert "#W" not in normalize_transcript(_hear(recognizer, samples).text)
    assert recognizer.asked_digits == 7


@pytest.mark.speech
def test_digits_beside_a_not_id_word_are_not_heard_part_by_part():
    said = "My zip code is 5, 5, 6, 0, 1, 8, 1."
    prompts = load_phrases().id_prompts_for("catalog")
    recognizer = DigitsScripted({"catalog": said, prompts[0]: said, None: said}, list("5560181"))
    assert "#W" not in normalize_transcript(_hear(recognizer, _spoken(ORDER_READ_OUT)).text)
    assert recognizer.asked_digits == 0


def test_a_type_with_one_word_misheard_is_put_back_when_nearly_as_likely():
    said = "Do you have running tubes in black?"
    socks = "Do you have running socks in black?"
    recognizer = ScoringScripted({"catalog": said}, {said: -10.0, socks: -10.0 - MAX_LOSS / 2})
    assert _hear(recognizer).text == socks
    # much less likely than what was heard: the transcript stands
    recognizer = ScoringScripted({"catalog": said}, {said: -10.0, socks: -10.0 - 2 * MAX_LOSS})
    assert _hear(recognizer).text == said


def test_a_type_misheard_as_other_words_is_put_back_when_the_recognizer_finds_it_likelier():
    said = "I need a Wager model for my sister."
    bottle = "I need a water bottle for my sister."
    recognizer = ScoringScripted({"catalog": said}, {said: -5.0, bottle: -4.0})
    assert _hear(recognizer).text == bottle
    # the transcript first, then the most alike candidate
    assert recognizer.scored[:2] == [said, bottle]


def test_the_candidates_are_made_of_the_recognizers_own_words_not_the_corrected_ones():
    said = "I want it back, please."
    recognizer = ScoringScripted({"catalog": said}, {said: -3.0, "I want it backpack, please.": -3.5})
    heard = _hear(recognizer, understand=lambda text: text.replace("please", "pulse"))  # a brand
    assert heard.text == "I want it backpack, please."
    assert recognizer.scored[0] == said and not any("pulse" in text for text in recognizer.scored)


def test_sentences_that_name_a_type_or_an_order_are_not_scored():
    for said in ("Do you have running socks?", "Where is my order?", "yes please"):
        recognizer = ScoringScripted({"catalog": said, None: said}, {})
        recognizer.heard.update({p: said for p in load_phrases().id_prompts_for("catalog") if p})
        assert _hear(recognizer).text == said
        assert recognizer.scored == []


@pytest.mark.speech
def test_two_ids_are_left_as_heard():
    said = "Move the items of order W5560181 to order W1234567."
    recognizer = IdScripted({"catalog": said}, list("55601811234567"), {})
    assert _hear(recognizer, _spoken(ORDER_READ_OUT)).text == said
    assert recognizer.asked_digits == 0


@pytest.mark.speech
def test_a_word_said_after_the_id_is_no_digit():
    samples = _spoken("Where is my order W, five, five, six, zero, one, eight, one, please?")
    parts = [*"556018", ("1", -0.3), ("3", -1.5)]  # "please" forced into a digit scores low
    recognizer = DigitsScripted({"catalog": "Where is my order W556018, please?"}, parts)
    recognizer.heard[None] = "Please."  # ... and freely it is a likely word
    assert "#W5560181" in normalize_transcript(_hear(recognizer, samples).text)
    # a last part likelier as a digit than as words stays a digit
    recognizer = DigitsScripted({"catalog": "Where is my order W556018"}, [*"556018", ("9", -0.5)])
    recognizer.heard[None] = "behind"
    assert "#W5560189" in normalize_transcript(_hear(recognizer, _spoken(ORDER_READ_OUT)).text)
