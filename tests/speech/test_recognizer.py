import pytest

from core.config import SpeechSettings
from speech.audio import decode
from speech.recognizer import WhisperRecognizer, cut_repetition
from speech.vocabulary import vocabulary_prompt
from tests.speech.voices import say

PROMPT = vocabulary_prompt(
    [
        "Stridewell",
        "Hydrapeak",
        "Lumenor",
        "Trailblazer Running Shoe",
        "Merino Running Socks",
        "Arc Desk Lamp",
    ],
    max_tokens=160,
)


@pytest.mark.parametrize("fmt", ["wav", "ogg", "webm", "mp3"])
def test_a_spoken_request_is_transcribed_in_each_format(recognizer: WhisperRecognizer, fmt: str) -> None:
    audio = decode(say("do you have running shoes", fmt), SpeechSettings())
    heard = recognizer.transcribe(audio=audio.samples, prompt=PROMPT)
    assert heard.text.lower().strip(" ?.") == "do you have running shoes"
    assert heard.avg_logprob > -0.8
    assert 0 < heard.confidence <= 1


def test_catalog_vocabulary_gets_product_names_right(recognizer: WhisperRecognizer) -> None:
    audio = decode(say("do you have merino running socks"), SpeechSettings())
    assert "Merino Running Socks" in recognizer.transcribe(audio=audio.samples, prompt=PROMPT).text
    assert "Merino" not in recognizer.transcribe(audio=audio.samples, prompt=None).text


def test_the_full_window_mode_transcribes_too() -> None:
    full = WhisperRecognizer(SpeechSettings(window="full"))
    audio = decode(say("what is your return policy"), SpeechSettings())
    heard = full.transcribe(audio=audio.samples, prompt=PROMPT)
    assert heard.text.lower().strip("?") == "what is your return policy"


def test_a_transcript_that_starts_over_is_cut() -> None:
    assert cut_repetition("Do you have shoes? Do you have shoes? Do you") == "Do you have shoes?"
    assert cut_repetition("Where is my order? Where is my order? Where is my order") == "Where is my order?"
    assert cut_repetition("Do you have Socks, Do you have Socks, Do you have So") == "Do you have Socks"
    assert cut_repetition("Hi. Any shoes? Any shoes? Any sh") == "Hi. Any shoes?"
    assert cut_repetition("More. More. More.") == "More."
    assert cut_repetition("zero, zero, zero, zero, one") == "zero, zero, zero, zero, one"
    assert cut_repetition("zero zero zero zero one") == "zero zero zero zero one"
    assert cut_repetition("Yes. Yes, please do.") == "Yes. Yes, please do."


def test_alternatives_are_the_beam_s_best_first(recognizer: WhisperRecognizer) -> None:
    audio = decode(say("What running socks do you have under fifty dollars?"), SpeechSettings()).samples
    found = recognizer.alternatives(audio=audio, prompt="running socks, water bottle", count=4)
    assert 1 <= len(found) <= 4
    scores = [t.avg_logprob for t in found]
    assert scores == sorted(scores, reverse=True)
    assert "socks" in found[0].text.lower()
    assert all(t.audio_seconds == found[0].audio_seconds > 2 for t in found)
    long_audio = audio.repeat(12)  # past Whisper's window: no alternatives
    assert recognizer.alternatives(audio=long_audio, count=4) == []


def test_a_sentence_said_scores_above_one_not_said(recognizer: WhisperRecognizer) -> None:
    audio = decode(say("show me desk lamps in black"), SpeechSettings()).samples
    said, other = recognizer.likelihoods(
        audio=audio, texts=["show me desk lamps in black", "show me floor lamps in black"]
    )
    assert said.total > other.total and said.total <= 0 and said.tokens == other.tokens > 0
    assert said.mean == pytest.approx(said.total / said.tokens)
    assert recognizer.likelihoods(audio=audio, texts=[]) == []
