"""An order id heard part by part (speech/digits.py): cut at its pauses, each part digits only.

The cutting runs on real espeak-ng speech and the real Silero VAD; the digits decoding on the
real Whisper model (the ``recognizer`` fixture).
"""

from __future__ import annotations

import numpy as np
import pytest

from core.config import SpeechSettings
from speech.audio import SAMPLE_RATE, decode
from speech.digits import MAX_PART_SECONDS, heard_digits, likeliest_of_length, parts
from speech.normalize import digits_said
from speech.recognizer import DigitsRecognizer, Transcript, WhisperRecognizer
from tests.speech.voices import say


def _spoken(text: str) -> np.ndarray:
    return decode(say(text), SpeechSettings()).samples


def test_a_decoding_of_digits_names_them_with_double_and_triple():
    assert digits_said("7") == "7"
    assert digits_said("Double 9.") == "99"
    assert digits_said(" triple 0") == "000"
    assert digits_said("6 4") == "64"
    assert digits_said("double") == ""  # a repeat with no digit after it names nothing
    assert digits_said("") == ""


def _readings(*options: tuple[str, float]) -> list[Transcript]:
    return [Transcript(text=text, avg_logprob=logprob, tokens=1) for text, logprob in options]


def test_the_likeliest_readings_with_an_ids_count_of_digits_are_chosen_together():
    readings = [
        _readings(("1", -0.1)),
        _readings(("Double", -0.2), ("2", -0.5)),  # a "double" left hanging repeats the next digit
        _readings(("3", -0.1), ("3 3", -0.4)),
        _readings(("9 9", -0.3), ("9", -0.6), ("", -2.0)),
    ]
    # likeliest: "1 Double 3 9 9" = 5 digits; four digits: the "double" kept, one 9 dropped
    assert likeliest_of_length(readings, 4) == ["1339"]
    assert likeliest_of_length(readings, 6) == ["133399"]
    assert likeliest_of_length(readings, 3) == ["133"]  # the last part read as nothing
    assert likeliest_of_length(readings, 9) == []  # no choice gives as many
    assert likeliest_of_length([], 1) == []
    # the next likeliest, best first: "1 Double 3 9" (-1.0), "1 2 3 9" (-1.3), "1 Double 3 3 -" (-2.7)
    assert likeliest_of_length(readings, 4, count=3) == ["1339", "1239", "1333"]


@pytest.mark.speech
def test_digits_read_out_with_pauses_are_cut_one_per_part():
    samples = _spoken("Where is my order W, five, five, six, zero, one, eight, one?")
    found = parts(samples)
    lengths = [len(p) / SAMPLE_RATE for p in found]
    # The words before the id are one long part; then one short part per digit.
    assert lengths[0] > MAX_PART_SECONDS
    assert len(found) == 8 and all(seconds < 1.0 for seconds in lengths[1:])
    assert parts(np.zeros(SAMPLE_RATE, dtype=np.float32)) == []


@pytest.mark.speech
def test_a_run_of_one_digit_is_heard_whole(recognizer: WhisperRecognizer):
    # Read in one piece, Whisper often drops one of the nines ("390960": see speech/digits.py).
    samples = _spoken("Can you check W as in William, three, nine, zero, nine, nine, six, zero?")
    assert isinstance(recognizer, DigitsRecognizer)
    found = heard_digits(recognizer, samples)
    assert found.digits == "3909960" and len(found.readings) == 7
    assert found.seconds > 0
    # with more readings of each part, the likeliest that give an id's digits are the likeliest
    assert heard_digits(recognizer, samples, readings=3).of_length(7)[0] == "3909960"


@pytest.mark.speech
def test_a_digits_decoding_writes_only_digits(recognizer: WhisperRecognizer):
    [heard] = recognizer.digits(audio=_spoken("backpack"))
    assert all(word.isdigit() or word.lower() in ("double", "triple") for word in heard.text.split())
