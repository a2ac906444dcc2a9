"""A second hearing for utterances that name an order id the first one did not get whole.

Why: the recognizer's prompt is the catalog's vocabulary, which primes Whisper for product words.
After "Where is my order" it often stops before the digits or drops some of them (measured on
the spoken test set: about a third of the ids were heard whole). The same audio decoded again
with a prompt that shows what an id sounds like ("Order W 1 2 3 ...", "double", "as in
William"), or with none, often has them.

So when the first transcript hints at an id (a digit, or a cue word such as "order" or "double")
but its normalised form holds no whole one, the audio is decoded again with ``phrases.yaml``'s
``id_prompts`` in turn, and the first transcript that holds a whole id is taken. Otherwise the
first transcript stands. Questions about products rarely hint at an id, so they pay nothing;
the read-back still confirms any id before an action uses it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import numpy as np

from speech.recognizer import SpeechRecognizer, Transcript
from tools.arguments import ORDER_ID_DIGITS

WHOLE_ID = re.compile(rf"#W\d{{{ORDER_ID_DIGITS}}}(?!\d)")


def holds_whole_id(text: str) -> bool:
    return WHOLE_ID.search(text) is not None


def hints_at_id(text: str, cues: Sequence[str]) -> bool:
    """A digit, or one of the cue words ("order", "number", "double", ...), in the transcript."""
    lowered = text.lower()
    return any(ch.isdigit() for ch in text) or any(re.search(rf"\b{re.escape(c)}\b", lowered) for c in cues)


def hear_again_for_id(
    recognizer: SpeechRecognizer,
    samples: np.ndarray,
    first: Transcript,
    *,
    understand: Callable[[str], str],
    prompts: Sequence[str | None],
    cues: Sequence[str],
) -> Transcript:
    """``first``, or the first re-decoding (with each of ``prompts``) whose understood text holds
    a whole order id. The returned transcript's ``seconds`` count every decoding."""
    if holds_whole_id(understand(first.text)) or not hints_at_id(first.text, cues):
        return first
    spent = first.seconds
    for prompt in prompts:
        again = recognizer.transcribe(audio=samples, prompt=prompt)
        spent += again.seconds
        if holds_whole_id(understand(again.text)):
            return dataclasses.replace(again, seconds=spent)
    return dataclasses.replace(first, seconds=spent)
