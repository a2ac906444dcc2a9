"""``shopassist eval speech``: how well the voice channel hears this shop's words.

For each voice of the spoken test set (:mod:`eval.speech.spoken`), every utterance goes through
what the voice channel does with audio: recognition with the catalog vocabulary, then the
transcript's normalisation and catalog correction. Per voice:

- word error rate of the shopping questions (jiwer; case and punctuation aside);
- product-term hit rate: the product type the question names is in the transcript (brands and
  colors reported apart);
- order-id and email exact match: the id or address, exactly, in the normalised transcript.

Over the first voice, end of speech to first reply audio: recognition, the assistant's turn and
the synthesis of the reply's first sentence, each utterance in a new conversation.
The speech is synthetic (espeak-ng), and so are the noise and the ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jiwer

from eval.latency import percentile
from eval.speech.spoken import (
    Utterance,
    Voice,
    email_utterances,
    order_utterances,
    shopping_utterances,
    synthesise,
    term_heard,
)
from speech.audio import Audio
from speech.normalize import WRITTEN_ORDER_ID
from speech.turns import VoiceAssistant
from store.db import Database

Progress = Callable[[str, int, int], None]
_WER = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


def _share(hit: int, total: int) -> float | None:
    return round(hit / total, 3) if total else None


@dataclass
class VoiceScore:
    voice: str
    references: list[str] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)
    terms: list[bool] = field(default_factory=list)
    extras: list[bool] = field(default_factory=list)
    order_ids: list[bool] = field(default_factory=list)
    emails: list[bool] = field(default_factory=list)
    misses: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        wer = (
            jiwer.wer(self.references, self.transcripts, reference_transform=_WER, hypothesis_transform=_WER)
            if self.references
            else None
        )
        return {
            "voice": self.voice,
            "shopping": len(self.terms),
            "wer": round(wer, 3) if wer is not None else None,
            "product_term_hit_rate": _share(sum(self.terms), len(self.terms)),
            "brand_color_hit_rate": _share(sum(self.extras), len(self.extras)),
            "order_id_exact": _share(sum(self.order_ids), len(self.order_ids)),
            "email_exact": _share(sum(self.emails), len(self.emails)),
            "misses": self.misses,
        }


@dataclass
class SpeechEval:
    catalog: str
    voices: list[VoiceScore]
    latency_ms: list[float]

    def to_dict(self) -> dict[str, Any]:
        def pooled(name: str) -> list[bool]:
            return [x for v in self.voices for x in getattr(v, name)]

        timed = self.latency_ms
        p50 = percentile(timed, 0.5) if timed else None
        p95 = percentile(timed, 0.95) if timed else None
        return {
            "catalog": self.catalog,
            "synthetic": "espeak-ng voices, white noise and generated ids: synthetic speech, not customers",
            "product_term_hit_rate": _share(sum(pooled("terms")), len(pooled("terms"))),
            "order_id_exact": _share(sum(pooled("order_ids")), len(pooled("order_ids"))),
            "email_exact": _share(sum(pooled("emails")), len(pooled("emails"))),
            "first_reply_audio_ms": {"p50": p50, "p95": p95, "n": len(timed)},
            "voices": [v.to_dict() for v in self.voices],
        }


def heard_text(voice: VoiceAssistant, samples: Any) -> str:
    """The transcript as the voice channel passes it on (normalised and corrected)."""
    return voice.understand(voice.hear(samples).text)


def _score(score: VoiceScore, utterance: Utterance, transcript: str) -> None:
    if utterance.kind == "shopping":
        score.references.append(utterance.written)
        score.transcripts.append(transcript)
        hit = term_heard(transcript, utterance.forms)
        score.terms.append(hit)
        score.extras.extend(term_heard(transcript, (extra,)) for extra in utterance.extra_terms)
    elif utterance.kind == "order_id":
        hit = utterance.term in WRITTEN_ORDER_ID.findall(transcript)
        score.order_ids.append(hit)
    else:
        hit = utterance.term in transcript.lower()
        score.emails.append(hit)
    if not hit:
        score.misses.append({"said": utterance.written, "heard": transcript, "style": utterance.style})


def run_speech_eval(
    voice: VoiceAssistant,
    database: Database,
    *,
    catalog: str,
    voices: list[Voice],
    count: int = 60,
    latency: bool = True,
    progress: Progress | None = None,
) -> SpeechEval:
    utterances = [*shopping_utterances(database, count=count), *order_utterances(), *email_utterances()]
    scores = []
    total = len(voices) * len(utterances)
    done = 0
    for spoken_by in voices:
        score = VoiceScore(spoken_by.label)
        for utterance in utterances:
            _score(score, utterance, heard_text(voice, synthesise(utterance.said, spoken_by)))
            done += 1
            if progress is not None:
                progress(f"{catalog} speech", done, total)
        scores.append(score)
    latencies = []
    if latency and voices:
        for k, utterance in enumerate(u for u in utterances if u.kind == "shopping"):
            samples = synthesise(utterance.said, voices[0])
            started = time.perf_counter()
            heard = voice.recognize(Audio(samples, "wav"))
            reply = voice.respond(None, heard)
            first = (voice.sentences(reply.reply_text) or ["."])[0]
            voice.speak(first)
            latencies.append(round((time.perf_counter() - started) * 1000, 1))
            if progress is not None:
                progress(f"{catalog} latency", k + 1, count)
    return SpeechEval(catalog, scores, latencies)
