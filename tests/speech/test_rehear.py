"""The second hearing (speech/rehear.py): when it runs, what it keeps.

The recognizer here is scripted (one transcript per prompt, as Whisper would give for that
prompt): these tests are about the choice, not about Whisper; the real model's side is in
tests/eval/test_speech_eval.py. The cut-short check runs on real espeak-ng speech and the real
Silero VAD.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.config import SpeechSettings
from speech.audio import SAMPLE_RATE, decode
from speech.normalize import normalize_transcript
from speech.phrases import load_phrases
from speech.recognizer import Transcript
from speech.rehear import cut_short, hear_again, hints_at_id, holds_whole_id, speech_seconds
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


def _hear(recognizer: ScriptedRecognizer, samples: np.ndarray = QUIET) -> Transcript:
    first = recognizer.transcribe(audio=samples, prompt="catalog")
    phrases = load_phrases()
    return hear_again(
        recognizer,
        samples,
        first,
        understand=normalize_transcript,
        id_prompts=phrases.id_prompts_for("catalog"),
        rehear_prompts=phrases.rehear_prompts_for("catalog"),
        cues=CUES,
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
    assert holds_whole_id("order #W0066131.") and not holds_whole_id("order #W006613")
    assert not holds_whole_id("#W00661311")


@pytest.mark.speech
def test_a_question_heard_as_one_word_is_cut_short_and_silence_does_not_count():
    question = _spoken(QUESTION)
    assert cut_short("What?", question)
    assert not cut_short("What fleece jacket do you have under $50?", question)
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
