"""An order id heard part by part: the audio cut at its pauses, each short part decoded as
digits only.

Why: read out in one piece, a run of one digit loses a digit ("three, nine, zero, nine, nine,
six, zero" heard as "390960"), a lone "nine" becomes "I" or "Dine", and after "W" the
recognizer sometimes invents digits ("5000200291"). On the spoken test set (demo shop, eight
voices) 88 of 144 ids were heard whole and right that way. People read ids with a short pause
between digits or groups; cut there, each part is a second or less, and a decoding that may
write only digits and "double"/"triple" (:class:`speech.recognizer.DigitsRecognizer`) reads it
well: with this hearing taken where the transcript's id does not have exactly the id's digits,
112 of 144 (README, "Hearing the catalog's words", has the figures since).

Parts longer than ``MAX_PART_SECONDS`` are words ("Where is my order W"), not digits, and are
left to the first transcript. The digits of every short part, in order, are one reading of the
id; each part's next likeliest readings give others (:func:`likeliest_of_length`), and
:mod:`speech.order_ids` chooses among them and the transcript's. The voice channel reads the id
back before acting on it.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.normalize import digits_said
from speech.recognizer import DigitsRecognizer, Transcript

MIN_PAUSE_MS = 100  # espeak-ng's comma is 220-380 ms; the gap between words about 60
MAX_PART_SECONDS = 1.5  # "double seven" is about 1.1 s, "zero for me" 1.3
PAD_SECONDS = 0.03  # audio kept around each part
WORDS_MARGIN = 0.5  # a last part heard this much likelier as words than as digits is words
READINGS = 3  # readings of each part weighed for an id's count of digits
_HANGING = re.compile(r"\b(double|triple)\W*$", re.IGNORECASE)


def parts(samples: np.ndarray) -> list[np.ndarray]:
    """The stretches of speech between pauses of ``MIN_PAUSE_MS`` or more (Silero VAD, bundled
    with faster-whisper)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_PAUSE_MS, min_speech_duration_ms=50, speech_pad_ms=30)
    pad = int(PAD_SECONDS * SAMPLE_RATE)
    return [
        samples[max(0, span["start"] - pad) : span["end"] + pad]
        for span in get_speech_timestamps(samples, options)
    ]


@dataclass(frozen=True)
class HeardDigits:
    digits: str
    """The likeliest reading of each part, in order."""
    readings: tuple[tuple[Transcript, ...], ...]
    """Each part's readings, likeliest first (as many as were asked for)."""
    seconds: float
    """What the decodings took."""

    def of_length(self, length: int, *, count: int = 1) -> list[str]:
        """The ``count`` likeliest choices of one reading per part that give exactly ``length``
        digits (:func:`likeliest_of_length`)."""
        return likeliest_of_length(self.readings, length, count=count)


def heard_digits(recognizer: DigitsRecognizer, samples: np.ndarray, *, readings: int = 1) -> HeardDigits:
    """The digits of every short part of the audio, in order (a "double" at the end of one part
    repeats the first digit of the next), and the ``readings`` likeliest of each part. The last
    part is left out when it is a word said after the id ("..., zero, please"): decoded freely
    it holds no digit and is likelier by ``WORDS_MARGIN`` (mean log-probability per token) than
    as digits ("please": -0.3 against -1.5 as "3"; a lone "nine" is likelier as "9" than as
    "behind")."""
    found: list[tuple[Transcript, ...]] = []
    spent = 0.0
    cut = parts(samples)
    for k, part in enumerate(cut):
        if len(part) / SAMPLE_RATE > MAX_PART_SECONDS + 2 * PAD_SECONDS:
            continue
        heard = recognizer.digits(audio=part, count=readings)
        if not heard:
            continue
        spent += heard[0].seconds
        if k == len(cut) - 1 and heard[0].text:
            free = recognizer.transcribe(audio=part, prompt=None)
            spent += free.seconds
            if not digits_said(free.text) and free.avg_logprob - heard[0].avg_logprob > WORDS_MARGIN:
                continue
        found.append(tuple(heard))
    likeliest = digits_said(" ".join(heard[0].text for heard in found))
    return HeardDigits(likeliest, tuple(found), spent)


def likeliest_of_length(
    readings: Sequence[Sequence[Transcript]], length: int, *, count: int = 1
) -> list[str]:
    """The digits of the ``count`` likeliest choices of one reading per part that together give
    exactly ``length`` digits (sum of their log-probabilities), likeliest first; none when no
    choice gives as many ("zero, nine" said in one breath and read "0" beside "0 9"; "nine,
    nine" read "9 9 9" beside "9 9"). Dynamic programming over (digits so far, a
    "double"/"triple" left hanging at a part's end), keeping the ``count`` best of each."""
    Found = tuple[float, tuple[str, ...]]
    best: dict[tuple[int, str], list[Found]] = {(0, ""): [(0.0, ())]}
    for options in readings:
        reached: dict[tuple[int, str], list[Found]] = {}
        for (so_far, hanging), founds in best.items():
            for score, texts in founds:
                for reading in options:
                    said = digits_said(f"{hanging} {reading.text}")
                    left = _HANGING.search(reading.text)
                    state = (so_far + len(said), left[1].lower() if left else "")
                    if state[0] <= length:
                        reached.setdefault(state, []).append(
                            (score + reading.logprob, (*texts, reading.text))
                        )
        best = {state: heapq.nlargest(count, founds) for state, founds in reached.items()}
    ends = heapq.nlargest(
        count, (found for (so_far, _), founds in best.items() if so_far == length for found in founds)
    )
    return list(dict.fromkeys(digits_said(" ".join(texts)) for _score, texts in ends))
