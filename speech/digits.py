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
left to the first transcript. The digits of every short part, in order, are the id; the voice
channel reads it back before acting on it.
"""

from __future__ import annotations

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.normalize import digits_said
from speech.recognizer import DigitsRecognizer

MIN_PAUSE_MS = 100  # espeak-ng's comma is 220-380 ms; the gap between words about 60
MAX_PART_SECONDS = 1.5  # "double seven" is about 1.1 s, "zero for me" 1.3
PAD_SECONDS = 0.03  # audio kept around each part
WORDS_MARGIN = 0.5  # a last part heard this much likelier as words than as digits is words


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


def heard_digits(recognizer: DigitsRecognizer, samples: np.ndarray) -> tuple[str, float]:
    """The digits of every short part of the audio, in order (a "double" at the end of one part
    repeats the first digit of the next), and the seconds the decodings took. The last part
    is left out when it is a word said after the id ("..., zero, please"): decoded freely it
    holds no digit and is likelier by ``WORDS_MARGIN`` (mean log-probability per token) than as
    digits ("please": -0.3 against -1.5 as "3"; a lone "nine" is likelier as "9" than as
    "behind")."""
    found = []
    spent = 0.0
    cut = parts(samples)
    for k, part in enumerate(cut):
        if len(part) / SAMPLE_RATE > MAX_PART_SECONDS + 2 * PAD_SECONDS:
            continue
        heard = recognizer.digits(audio=part)
        spent += heard.seconds
        if k == len(cut) - 1 and heard.text:
            free = recognizer.transcribe(audio=part, prompt=None)
            spent += free.seconds
            if not digits_said(free.text) and free.avg_logprob - heard.avg_logprob > WORDS_MARGIN:
                continue
        found.append(heard.text)
    return digits_said(" ".join(found)), spent
