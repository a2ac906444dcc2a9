"""A second hearing for transcripts that came out cut short, with an order id not whole, or
with no product type where one was probably said.

Why: the recognizer's prompt is the catalog's vocabulary, which primes Whisper for product
words. Measured on the spoken test set, that prompt sometimes makes it stop early: "What fleece
jacket do you have under fifty dollars?" heard as "What?", and after "Where is my order" the
digits dropped or cut off (about a third of the ids were heard whole). The same audio decoded
again without the prompt, or with one that shows what an id sounds like ("Order W 1 2 3 ...",
"double", "as in William"), usually has the rest. And greedy decoding often misses a product
type that beam search ranks first or close behind.

So the audio is decoded again, in this order (a later step still runs when an earlier one
found nothing better), when

- the transcript hints at an id (a digit, or a cue word such as "order" or "double"): the id is
  heard again part by part, its readings gathered and the likeliest chosen by the recognizer's
  scores, with the ``id_prompts`` as one more hearing where neither gives an id's digits
  (:mod:`speech.order_ids`);
- it has fewer words than the speech in the audio would carry (under
  ``MIN_WORDS_PER_SECOND`` of voiced speech, measured with faster-whisper's Silero VAD): with
  ``rehear_prompts`` in turn, and the first that is not cut short is taken;
- it names no product type of the catalog though it is a sentence (``MIN_WORDS`` words or
  more) with no id, email or id cue word in it: beam search's ``NBEST`` best are read, and the
  most likely one that names a product type is taken when it is nearly as likely as the best
  (``MAX_SCORE_GAP``) and differs from it in a few words only (``MAX_WORDS_CHANGED``): "what
  running talks do you have" has "what running socks do you have" among them. Measured on the
  demo shop's spoken questions (three voices), 29 of 46 misses had the product type among the
  five best, 17 of them as the very best;
- it still names no product type: a misheard type ("best lamps" for "desk lamps", "of this
  care" for "office chair") is put back when the recognizer scores the sentence with it nearly
  as likely (:mod:`speech.rescore`).

Otherwise the first transcript stands; answers such as "yes" pay nothing. The read-back still
confirms any id before an action uses it.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import time
from collections.abc import Callable, Collection, Sequence

import numpy as np

from speech import rescore
from speech.audio import SAMPLE_RATE
from speech.normalize import WHOLE_ORDER_ID
from speech.order_ids import cue_word, hear_id, hints_at_id
from speech.phrases import Phrases
from speech.recognizer import (
    AlternativesRecognizer,
    SentenceScorer,
    SpeechRecognizer,
    Transcript,
    degenerate,
)
from speech.rescore import CatalogTerms

MIN_WORDS_PER_SECOND = 1.0  # espeak-ng at 140 wpm says about 2.3; people about 2.5
MIN_SPEECH_SECONDS = 1.5  # shorter speech is too short to be cut short
NBEST = 5  # runner-up transcripts read for a product type
MIN_WORDS = 3  # "yes", "no thanks" are not product questions
MAX_SCORE_GAP = 0.25  # of the length-normalised log-probability, below the best
MAX_WORDS_CHANGED = 3  # words of the best transcript a runner-up may differ in
_SAID = re.compile(r"\d|[^\s\d]*[^\W\d][^\s\d]*")  # a digit, or a word (letters and what clings to them)


def speech_seconds(samples: np.ndarray) -> float:
    """Seconds of voiced speech in 16 kHz samples (faster-whisper's bundled Silero VAD)."""
    from faster_whisper.vad import get_speech_timestamps

    spans = get_speech_timestamps(samples, sampling_rate=SAMPLE_RATE)
    return sum(s["end"] - s["start"] for s in spans) / SAMPLE_RATE


def cut_short(text: str, samples: np.ndarray, *, voiced: Callable[[], float] | None = None) -> bool:
    """Fewer words than the audio's speech would carry ("What?" for a four-second question).
    Each digit counts as a word said ("W5000021" is eight). ``voiced``: the samples'
    :func:`speech_seconds`, when the caller keeps it for several checks."""
    words = len(_SAID.findall(text))
    audio = len(samples) / SAMPLE_RATE
    if audio < MIN_SPEECH_SECONDS or words >= MIN_WORDS_PER_SECOND * audio:
        return False  # the cheap test: not short even against the whole audio, silence and all
    speech = voiced() if voiced is not None else speech_seconds(samples)
    return speech >= MIN_SPEECH_SECONDS and words < MIN_WORDS_PER_SECOND * speech


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'$-]+", text.lower())


def words_changed(a: str, b: str) -> int:
    """Words of ``a`` replaced, dropped or added to make ``b``."""
    matcher = difflib.SequenceMatcher(a=_words(a), b=_words(b), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal")


def _could_name_a_type(understood: str, product_types: re.Pattern[str], cues: Sequence[str]) -> bool:
    """A sentence (``MIN_WORDS`` or more) that names no product type and is no id, email or
    order question."""
    return not (
        len(_words(understood)) < MIN_WORDS
        or product_types.search(understood)
        or cue_word(understood, cues)
        or WHOLE_ORDER_ID.search(understood)
        or "@" in understood
    )


def type_put_back(
    recognizer: SpeechRecognizer,
    samples: np.ndarray,
    heard: Transcript,
    *,
    understand: Callable[[str], str],
    terms: CatalogTerms | None,
    cues: Sequence[str],
    grammar: Collection[str] = (),
) -> Transcript:
    """``heard`` with a misheard product type put back, when the recognizer scores that nearly
    as likely (:mod:`speech.rescore`), else ``heard``."""
    if terms is None or not isinstance(recognizer, SentenceScorer):
        return heard
    understood = understand(heard.text)
    if not _could_name_a_type(understood, terms.product_types, cues):
        return heard
    # The candidates are made of the recognizer's own words, not the corrected ones: a catalog
    # spelling fits the audio worse than the word it replaced ("ergonomics" -> the brand
    # "Ergonomix", "please" -> "Pulse"), so it would tilt the scores. The caller understands
    # the transcript taken, as any other.
    found = rescore.candidates(heard.text, terms.type_forms, grammar=grammar, keep=terms.keep)
    if not found:
        return heard
    started = time.perf_counter()
    heard_score, *scores = recognizer.likelihoods(audio=samples, texts=[heard.text, *(c.text for c in found)])
    spent = heard.seconds + time.perf_counter() - started
    best = rescore.chosen(
        heard_score, list(zip(found, scores, strict=True)), terms.type_forms, terms.prior(understood)
    )
    if best is None:
        return dataclasses.replace(heard, seconds=spent)
    return dataclasses.replace(heard, text=best.text, seconds=spent)


def runner_up_with_type(
    recognizer: SpeechRecognizer,
    samples: np.ndarray,
    first: Transcript,
    *,
    prompt: str | None,
    understand: Callable[[str], str],
    product_types: re.Pattern[str] | None,
    cues: Sequence[str],
) -> Transcript:
    """The runner-up transcript that names a product type where ``first`` names none (see the
    module's docstring), else ``first`` (its ``seconds`` with the runner-ups' time added)."""
    if product_types is None or not isinstance(recognizer, AlternativesRecognizer):
        return first
    if not _could_name_a_type(understand(first.text), product_types, cues):
        return first
    found = recognizer.alternatives(audio=samples, prompt=prompt, count=NBEST)
    if not found:
        return first
    best = found[0]
    spent = first.seconds + best.seconds
    for candidate in found:
        if best.avg_logprob - candidate.avg_logprob > MAX_SCORE_GAP:
            break
        heard = understand(candidate.text)
        if product_types.search(heard) and words_changed(best.text, candidate.text) <= MAX_WORDS_CHANGED:
            return dataclasses.replace(candidate, seconds=spent)
    return dataclasses.replace(first, seconds=spent)


def _first_better(
    recognizer: SpeechRecognizer,
    samples: np.ndarray,
    heard: Transcript,
    prompts: Sequence[str | None],
    better: Callable[[Transcript], bool],
) -> tuple[Transcript, bool]:
    """The first decoding with ``prompts`` that is ``better``, else ``heard``; either with the
    time of every decoding added. True when one was better."""
    spent = heard.seconds
    for prompt in prompts:
        again = recognizer.transcribe(audio=samples, prompt=prompt)
        spent += again.seconds
        if better(again):
            return dataclasses.replace(again, seconds=spent), True
    return dataclasses.replace(heard, seconds=spent), False


def hear_again(
    recognizer: SpeechRecognizer,
    samples: np.ndarray,
    first: Transcript,
    *,
    understand: Callable[[str], str],
    prompt: str | None,
    phrases: Phrases,
    terms: CatalogTerms | None = None,
) -> Transcript:
    """``first``, or a second hearing that does better (see the module's docstring), tried in
    that order: a whole id, then a transcript not cut short, then a product type named (from the
    runner-ups, else put back by the recognizer's scores). ``prompt`` is the one ``first`` was
    heard with; ``phrases`` gives the second hearing's prompts and word lists, ``terms`` the
    catalog's product types (none: no product type is looked for). The returned
    transcript's ``seconds`` count every decoding."""
    # Each transcript is understood, and the audio's speech measured, at most once.
    understand = functools.lru_cache(maxsize=None)(understand)
    voiced = functools.cache(lambda: speech_seconds(samples))
    cues = phrases.id_cues
    heard = first
    if hints_at_id(heard.text, cues):
        heard, whole = hear_id(
            recognizer, samples, heard, understand=understand, prompt=prompt, phrases=phrases
        )
        if whole:
            return heard
    if cut_short(heard.text, samples, voiced=voiced):
        heard, _ = _first_better(
            recognizer,
            samples,
            heard,
            phrases.rehear_prompts_for(prompt),
            lambda t: not degenerate(t.text) and not cut_short(t.text, samples, voiced=voiced),
        )
    heard = runner_up_with_type(
        recognizer,
        samples,
        heard,
        prompt=prompt,
        understand=understand,
        product_types=terms.product_types if terms is not None else None,
        cues=cues,
    )
    return type_put_back(
        recognizer,
        samples,
        heard,
        understand=understand,
        terms=terms,
        cues=cues,
        grammar=phrases.grammar_words,
    )
