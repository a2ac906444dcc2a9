"""A second hearing for transcripts that came out cut short or with an order id not whole.

Why: the recognizer's prompt is the catalog's vocabulary, which primes Whisper for product
words. Measured on the spoken test set, that prompt sometimes makes it stop early: "What fleece
jacket do you have under fifty dollars?" heard as "What?", and after "Where is my order" the
digits dropped or cut off (about a third of the ids were heard whole). The same audio decoded
again without the prompt, or with one that shows what an id sounds like ("Order W 1 2 3 ...",
"double", "as in William"), usually has the rest.

So the audio is decoded again, with ``phrases.yaml``'s prompts in turn, when

- the transcript hints at an id (a digit, or a cue word such as "order" or "double") but its
  understood form holds no whole one: ``id_prompts``, the first with a whole id is taken;
- or it has fewer words than the speech in the audio would carry (under
  ``MIN_WORDS_PER_SECOND`` of voiced speech, measured with faster-whisper's Silero VAD):
  ``rehear_prompts``, the first that is not cut short is taken.

Otherwise, or when no second hearing does better, the first transcript stands. Most questions
trigger neither and pay nothing; the read-back still confirms any id before an action uses it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.recognizer import SpeechRecognizer, Transcript, degenerate
from tools.arguments import ORDER_ID_DIGITS

WHOLE_ID = re.compile(rf"#W\d{{{ORDER_ID_DIGITS}}}(?!\d)")
MIN_WORDS_PER_SECOND = 1.0  # espeak-ng at 140 wpm says about 2.3; people about 2.5
MIN_SPEECH_SECONDS = 1.5  # shorter speech is too short to be cut short


def holds_whole_id(text: str) -> bool:
    return WHOLE_ID.search(text) is not None


def hints_at_id(text: str, cues: Sequence[str]) -> bool:
    """A digit, or one of the cue words ("order", "number", "double", ...), in the transcript."""
    lowered = text.lower()
    return any(ch.isdigit() for ch in text) or any(re.search(rf"\b{re.escape(c)}\b", lowered) for c in cues)


def speech_seconds(samples: np.ndarray) -> float:
    """Seconds of voiced speech in 16 kHz samples (faster-whisper's bundled Silero VAD)."""
    from faster_whisper.vad import get_speech_timestamps

    spans = get_speech_timestamps(samples, sampling_rate=SAMPLE_RATE)
    return sum(s["end"] - s["start"] for s in spans) / SAMPLE_RATE


def cut_short(text: str, samples: np.ndarray) -> bool:
    """Fewer words than the audio's speech would carry ("What?" for a four-second question)."""
    words = len(text.split())
    audio = len(samples) / SAMPLE_RATE
    if audio < MIN_SPEECH_SECONDS or words >= MIN_WORDS_PER_SECOND * audio:
        return False  # the cheap test: not short even against the whole audio, silence and all
    voiced = speech_seconds(samples)
    return voiced >= MIN_SPEECH_SECONDS and words < MIN_WORDS_PER_SECOND * voiced


def hear_again(
    recognizer: SpeechRecognizer,
    samples: np.ndarray,
    first: Transcript,
    *,
    understand: Callable[[str], str],
    id_prompts: Sequence[str | None],
    rehear_prompts: Sequence[str | None],
    cues: Sequence[str],
) -> Transcript:
    """``first``, or a second hearing that does better (see the module's docstring). The
    returned transcript's ``seconds`` count every decoding."""
    if not holds_whole_id(understand(first.text)) and hints_at_id(first.text, cues):
        prompts, better = id_prompts, lambda t: holds_whole_id(understand(t.text))
    elif cut_short(first.text, samples):
        prompts, better = rehear_prompts, lambda t: not degenerate(t.text) and not cut_short(t.text, samples)
    else:
        return first
    spent = first.seconds
    for prompt in prompts:
        again = recognizer.transcribe(audio=samples, prompt=prompt)
        spent += again.seconds
        if better(again):
            return dataclasses.replace(again, seconds=spent)
    return dataclasses.replace(first, seconds=spent)
