"""An order id read out by voice: its readings gathered, and the likeliest chosen.

Why: no one hearing of a spoken id is right often enough. The transcript drops one of "nine,
nine" or invents a digit after "W"; heard part by part (:mod:`speech.digits`) a part that holds
two digits said in one breath is read as one ("zero, nine" as "0"), and "eight, for me" as "8
4". But an id has a known count of digits, and the right reading is usually among a few (on the
spoken test set, eight voices, 134 of 144 ids on the demo shop): the transcript's id, the parts'
likeliest digits, the likeliest choices of each part's readings that give exactly an id's digits
(:func:`speech.digits.likeliest_of_length`), and, where the parts give too many, the first or
last of them. The recognizer then scores the sentence with each reading said as words
(:func:`speech.normalize.read_out_as`, digit by digit and with "double"/"triple", the likelier
of the two), and the likeliest is taken.

The transcript's id is taken without a choice when the parts give exactly the same digits (two
hearings that agree). Where neither gives an id's digits, the audio is decoded again with the
``id_prompts`` (a prompt that shows what an id sounds like), and the first id heard whole joins
the readings. The voice channel reads the id back before acting on it.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence

import numpy as np

from speech.digits import READINGS, HeardDigits, heard_digits
from speech.normalize import (
    WHOLE_ORDER_ID,
    digits_said,
    order_id_digits,
    read_out_as,
    with_order_id,
)
from speech.phrases import Phrases
from speech.recognizer import DigitsRecognizer, SentenceScorer, SpeechRecognizer, Transcript
from tools.arguments import ORDER_ID_DIGITS

MIN_BARE_DIGITS = 5  # digits read out with no id lead word that are heard part by part


def cue_word(text: str, cues: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(re.search(rf"\b{re.escape(c)}\b", lowered) for c in cues)


def hints_at_id(text: str, cues: Sequence[str]) -> bool:
    """A digit, ``MIN_BARE_DIGITS`` digit words ("two, one, two, two, three"), or one of the cue
    words ("order", "number", "double", ...) in the transcript."""
    return (
        any(ch.isdigit() for ch in text) or cue_word(text, cues) or len(digits_said(text)) >= MIN_BARE_DIGITS
    )


def readings_of(found: HeardDigits) -> list[str]:
    """The parts' readings of an id (see the module's docstring), each once, likeliest first:
    their likeliest digits when they are exactly an id's; the likeliest reading of each part by
    its whole log-probability (beam search ranks by the mean, so an empty reading can come
    first); the ``READINGS`` likeliest choices that give an id's digits; and, when the likeliest
    digits are more, their first and last."""
    made: list[str] = []
    if len(found.digits) == ORDER_ID_DIGITS:
        made.append(found.digits)
    surest = digits_said(" ".join(max(part, key=lambda r: r.logprob).text for part in found.readings))
    if len(surest) == ORDER_ID_DIGITS:
        made.append(surest)
    made += found.of_length(ORDER_ID_DIGITS, count=READINGS)
    if len(found.digits) > ORDER_ID_DIGITS:
        made += [found.digits[:ORDER_ID_DIGITS], found.digits[-ORDER_ID_DIGITS:]]
    return list(dict.fromkeys(made))


def hear_id(
    recognizer: SpeechRecognizer,
    samples: np.ndarray,
    heard: Transcript,
    *,
    understand: Callable[[str], str],
    prompt: str | None,
    phrases: Phrases,
) -> tuple[Transcript, bool]:
    """``heard`` with the likeliest reading of the order id it hints at, and whether it now holds
    a whole one (see the module's docstring). The returned transcript's ``seconds`` count every
    decoding and scoring.

    Heard part by part only with an id's "W" or a word of ``phrases.id_leads`` and not more than
    one id (the parts cannot tell two apart). Digits read out with no "W" and no lead word ("Where
    is my honor, none of you, 2, 1, 2, ...": "order" and "W" misheard), ``MIN_BARE_DIGITS`` or
    more, are heard part by part too, but taken only when that gives exactly an id's digits, and
    never beside a word of ``phrases.not_id_words`` ("phone")."""
    ids = order_id_digits(heard.text)
    exact = [d for d in ids if len(d) == ORDER_ID_DIGITS]
    if len(ids) > 1 and exact:
        return heard, True
    spent = heard.seconds
    found: dict[str, Transcript] = {exact[0]: heard} if exact else {}
    bare = not (ids or cue_word(heard.text, phrases.id_leads))
    whole_parts = False
    if (
        isinstance(recognizer, DigitsRecognizer)
        and len(ids) <= 1
        and not (
            bare
            and (len(digits_said(heard.text)) < MIN_BARE_DIGITS or cue_word(heard.text, phrases.not_id_words))
        )
    ):
        parts = heard_digits(recognizer, samples, readings=1 if bare else READINGS)
        spent += parts.seconds
        whole_parts = len(parts.digits) == ORDER_ID_DIGITS
        if exact and parts.digits == exact[0]:  # two hearings agree
            return dataclasses.replace(heard, seconds=spent), True
        # with no lead word, only exactly an id's digits make one
        only_whole = [parts.digits] if whole_parts else []
        for digits in only_whole if bare else readings_of(parts):
            found.setdefault(digits, dataclasses.replace(heard, text=with_order_id(heard.text, digits)))
    if not (exact or whole_parts):
        for id_prompt in phrases.id_prompts_for(prompt):
            again = recognizer.transcribe(audio=samples, prompt=id_prompt)
            spent += again.seconds
            whole = WHOLE_ORDER_ID.search(understand(again.text))
            if whole is not None:
                found.setdefault(whole[0].removeprefix("#W"), again)
                break
    if not found:
        return dataclasses.replace(heard, seconds=spent), False
    chosen, spent = _likeliest(recognizer, samples, heard.text, list(found), spent)
    return dataclasses.replace(found[chosen], seconds=spent), True


def _likeliest(
    recognizer: SpeechRecognizer, samples: np.ndarray, text: str, readings: list[str], spent: float
) -> tuple[str, float]:
    """The reading of the id the recognizer scores likeliest in the sentence ``text`` (the first
    when there is one, or no scorer), and ``spent`` with the scoring's time added."""
    if len(readings) == 1 or not isinstance(recognizer, SentenceScorer):
        return readings[0], spent
    started = time.perf_counter()
    said = {
        (digits, read_out_as(text, digits, grouped=grouped))
        for digits in readings
        for grouped in (False, True)
    }
    pairs = sorted(said)
    scores = recognizer.likelihoods(audio=samples, texts=[sentence for _, sentence in pairs])
    best: dict[str, float] = {}
    for (digits, _), score in zip(pairs, scores, strict=True):
        best[digits] = max(best.get(digits, -np.inf), score.total)
    chosen = max(readings, key=lambda digits: best[digits])  # the first of equals
    return chosen, spent + time.perf_counter() - started
