"""The second hearing for order ids (speech/ids.py): when it runs, what it keeps.

The recognizer here is scripted (one transcript per prompt, as Whisper would give for that
prompt): these tests are about the choice, not about Whisper; the real model's side is in
tests/eval/test_speech_eval.py.
"""

from __future__ import annotations

import numpy as np

from speech.ids import hear_again_for_id, hints_at_id, holds_whole_id
from speech.normalize import normalize_transcript
from speech.phrases import load_phrases
from speech.recognizer import Transcript

AUDIO = np.zeros(16000, dtype=np.float32)
CUES = load_phrases().id_cues


class ScriptedRecognizer:
    """What a recognizer hears for each prompt; counts its decodings."""

    def __init__(self, heard: dict[str | None, str]) -> None:
        self.heard = heard
        self.prompts: list[str | None] = []

    def transcribe(self, *, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        self.prompts.append(prompt)
        return Transcript(text=self.heard[prompt], avg_logprob=-0.3, seconds=0.1)


def _hear(recognizer: ScriptedRecognizer) -> Transcript:
    first = recognizer.transcribe(audio=AUDIO, prompt="catalog")
    prompts = load_phrases().id_prompts_for("catalog")
    return hear_again_for_id(
        recognizer, AUDIO, first, understand=normalize_transcript, prompts=prompts, cues=CUES
    )


def test_ids_prompts_fill_in_the_catalog_and_end_without_a_prompt():
    prompts = load_phrases().id_prompts_for("water bottle, backpack")
    assert prompts[0] is not None and prompts[0].startswith("water bottle, backpack ")
    assert prompts[-1] is None
    assert load_phrases().id_prompts_for(None)[0] == prompts[0].removeprefix("water bottle, backpack ")


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
    assert heard.seconds == 0.1 * 3  # every decoding counts in the time spent


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
