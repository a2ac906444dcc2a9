"""One voice turn: audio -> transcript -> (check) -> assistant -> reply for the ear -> audio.

The routes (REST and WebSocket) call only this, and this calls only the ``Assistant`` API.

A low-confidence transcript is not sent to the assistant: the customer is asked "did you say
...?" and the transcript is held in the conversation database. "Yes" runs the held transcript,
"no" asks the customer to say it again, anything else is taken as a new utterance. So nothing
happens on a misheard sentence. An order id or email the conversation has not used yet is read
back the same way first, digit by digit and letter by letter ("order W, 4, 4, 0, ... Is that
right?"), whatever the confidence: ids are what recognizers get wrong most.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.engine import Assistant
from assistant.reply.message import Reply
from assistant.sessions.shown import ProductCard
from assistant.sessions.slots import Mode
from core.config import SpeechSettings
from core.errors import NoSpeechError
from core.logging import redact_text
from dialogue_rules.intents import IntentRule, default_intent_config
from speech.audio import Audio, check_speech_present
from speech.for_ear import for_ear, more_prompt
from speech.holds import VoiceHolds
from speech.normalize import WRITTEN_EMAIL, WRITTEN_ORDER_ID, normalize_transcript
from speech.phrases import Phrases, load_phrases
from speech.recognizer import SpeechRecognizer, Transcript
from speech.rehear import hear_again
from speech.tts import TTS
from speech.vocabulary import CatalogVocabulary

if TYPE_CHECKING:
    import sqlalchemy as sa

    from core.config import Settings
    from store.db import Database

log = logging.getLogger(__name__)
CHANNEL = "voice"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def spoken_id(value: str) -> str:
    """An order id or email as it is read back: "order W, 4, 4, 0, 2", "b, o, b, dot, jones at
    example dot com" (the part before the @ letter by letter, the domain in words)."""
    if value.startswith("#W"):
        return "order W, " + ", ".join(value[2:])
    local, _, domain = value.partition("@")
    letters = ", ".join("dot" if ch == "." else ch for ch in local)
    return f"{letters}, at {domain.replace('.', ' dot ')}"


@dataclass(frozen=True)
class VoiceReply:
    session_id: str
    transcript: str
    """What the recognizer heard (normalised), or the held transcript that ran."""
    reply_text: str
    """The reply as spoken (rewritten for the ear)."""
    products: tuple[ProductCard, ...] = ()
    mode: Mode = Mode.BOT
    confidence: float = 1.0
    awaiting_confirmation: bool = False
    """True while a "did you say ...?" check waits for yes or no."""
    reply: Reply | None = field(default=None, repr=False)


def _matches(rule: IntentRule, text: str) -> bool:
    lowered = text.strip().lower()
    if any(p.search(lowered) for p in rule.exclude):
        return False
    return any(p.search(lowered) for p in rule.patterns)


class VoiceAssistant:
    def __init__(
        self,
        assistant: Assistant,
        *,
        recognizer: SpeechRecognizer,
        tts: TTS,
        holds: VoiceHolds,
        settings: SpeechSettings,
        currency: str = "USD",
        prompt: str | None = None,
        vocabulary: CatalogVocabulary | None = None,
        phrases: Phrases | None = None,
    ) -> None:
        self.assistant = assistant
        self.recognizer = recognizer
        self.tts = tts
        self.holds = holds
        self.settings = settings
        self.currency = currency
        self._prompt = prompt
        self.vocabulary = vocabulary
        self.phrases = phrases or load_phrases()
        intents = default_intent_config()
        self._affirm = intents.get("affirm")
        self._deny = intents.get("deny")

    # -- recognition ---------------------------------------------------------------------------
    @property
    def prompt(self) -> str | None:
        """The recognizer's vocabulary prompt: the catalog's (rebuilt when it changed), or the
        one given."""
        if self.vocabulary is None:
            return self._prompt
        self.vocabulary.refresh()
        return self.vocabulary.prompt

    def understand(self, text: str) -> str:
        """A transcript as the assistant gets it: ids, emails and digits written as typed
        (:mod:`speech.normalize`), then words put back into the catalog's spelling where that is
        sure (:mod:`speech.correction`)."""
        normal = normalize_transcript(text)
        if self.vocabulary is None:
            return normal
        corrected, changes = self.vocabulary.corrector.correct(normal)
        if changes:
            log.info(
                "transcript corrected to the catalog's words",
                extra={"corrections": [f"{c.kind}: {c.heard} -> {c.corrected}" for c in changes]},
            )
        return corrected

    def hear(self, samples: np.ndarray) -> Transcript:
        """The transcript of 16 kHz samples: the catalog vocabulary as the prompt, and a second
        hearing when the first came out cut short or with an order id not whole
        (:mod:`speech.rehear`)."""
        prompt = self.prompt
        first = self.recognizer.transcribe(audio=samples, prompt=prompt)
        return hear_again(
            self.recognizer,
            samples,
            first,
            understand=self.understand,
            prompt=prompt,
            phrases=self.phrases,
            terms=self.vocabulary.terms if self.vocabulary is not None else None,
        )

    def recognize(self, audio: Audio) -> Transcript:
        """Transcribe checked audio; silence or an empty transcript is a ``NoSpeechError``."""
        check_speech_present(audio, self.settings)
        heard = self.hear(audio.samples)
        if not re.search(r"\w", heard.text):
            raise NoSpeechError("I could not make out any words in the audio", audio_seconds=audio.seconds)
        log.info(
            "speech recognised",
            extra={
                "audio_s": round(heard.audio_seconds, 2),
                "asr_ms": round(heard.seconds * 1000, 1),
                "avg_logprob": round(heard.avg_logprob, 3),
                "no_speech_prob": round(heard.no_speech_prob, 3),
                "transcript": redact_text(heard.text),
            },
        )
        return heard

    def partial(self, samples: np.ndarray) -> str:
        """A quick transcript of the audio so far (for streaming clients); never raises on silence."""
        if samples.size < 8000:
            return ""
        return self.recognizer.transcribe(audio=samples, prompt=self.prompt).text

    def low_confidence(self, heard: Transcript) -> bool:
        return (
            heard.avg_logprob < self.settings.min_avg_logprob
            or heard.no_speech_prob > self.settings.max_no_speech_prob
        )

    # -- dialogue ------------------------------------------------------------------------------
    def respond(self, session_id: str | None, heard: Transcript, *, client: str | None = None) -> VoiceReply:
        """Decide what the heard utterance does, and the spoken reply. ``client``: who spoke, as
        the channel knows them ("ip:203.0.113.7"), passed to the assistant's turn."""
        text = self.understand(heard.text)
        sid = session_id or self.assistant.start_session(channel=CHANNEL)
        confidence = heard.confidence
        held = self.holds.take_held(sid)
        if held is not None:
            if _matches(self._affirm, text):
                return self._turn(sid, held, confidence, client)
            if _matches(self._deny, text):
                return self._say(sid, text, self.phrases.say_again, confidence)
            # Neither: the customer said something new; judge it on its own.
        if self.phrases.is_more(text):
            items, left = self.holds.take_more(sid, self.settings.max_products_read)
            if items:
                spoken = " ".join([*items, more_prompt(left, self.phrases) if left else ""]).strip()
                return self._say(sid, text, spoken, confidence)
        unconfirmed = self._new_ids(sid, text)
        if unconfirmed:
            # An order id or email heard by voice is read back before anything acts on it.
            self.holds.hold(sid, text)
            said = self.phrases.read_back.format(items=", and ".join(spoken_id(i) for i in unconfirmed))
            return self._say(sid, text, said, confidence, check=True)
        if self.low_confidence(heard):
            self.holds.hold(sid, text)
            asked = self.phrases.did_you_say.format(text=text.rstrip(".?!,;: "))
            return self._say(sid, text, asked, confidence, check=True)
        return self._turn(sid, text, confidence, client)

    def _new_ids(self, sid: str, text: str) -> list[str]:
        """Order ids and emails in ``text`` that this conversation has not used yet."""
        slots = self.assistant.store.state(session_id=sid).slots
        known = {slots.current_order, *slots.last_order_ids}
        found = [m[0] for m in WRITTEN_ORDER_ID.finditer(text)]
        found += [m[0].lower() for m in WRITTEN_EMAIL.finditer(text)]
        return [i for i in dict.fromkeys(found) if i not in known]

    def _say(self, sid: str, text: str, spoken: str, confidence: float, *, check: bool = False) -> VoiceReply:
        mode = self.assistant.store.state(session_id=sid).mode
        return VoiceReply(sid, text, spoken, mode=mode, confidence=confidence, awaiting_confirmation=check)

    def _turn(self, sid: str, text: str, confidence: float, client: str | None = None) -> VoiceReply:
        reply = self.assistant.handle(sid, text, channel=CHANNEL, client=client)
        spoken = for_ear(
            reply.text,
            currency=self.currency,
            max_items=self.settings.max_products_read,
            phrases=self.phrases,
        )
        self.holds.set_more(sid, spoken.more)
        said = spoken.text or (self.phrases.agent_mode if reply.mode is Mode.AGENT else "")
        return VoiceReply(
            reply.session_id,
            text,
            said,
            products=reply.products,
            mode=reply.mode,
            confidence=confidence,
            reply=reply,
        )

    # -- synthesis -----------------------------------------------------------------------------
    def speak(self, text: str) -> bytes:
        return self.tts.synthesize(text=text or ".")

    @staticmethod
    def sentences(text: str) -> list[str]:
        """The reply cut into sentences, so a streaming client hears the first one sooner."""
        return [s for s in _SENTENCE.split(text) if s.strip()]


def build_voice(
    assistant: Assistant,
    *,
    settings: Settings,
    engine: sa.Engine,
    database: Database,
    recognizer: SpeechRecognizer | None = None,
) -> VoiceAssistant:
    """The voice channel over a running assistant: the recognizer (loaded here unless given),
    espeak-ng, the holds table in the conversation database (``engine``) and the catalog
    vocabulary from the shop's store."""
    from speech.recognizer import WhisperRecognizer
    from speech.tts import EspeakTTS

    recognizer = recognizer if recognizer is not None else WhisperRecognizer(settings.speech)
    count = getattr(recognizer, "count_tokens", None)
    vocabulary = CatalogVocabulary(
        database,
        max_tokens=settings.speech.vocabulary_tokens,
        extra=load_phrases().prompt_words,
        **({"count": count} if callable(count) else {}),
    )
    return VoiceAssistant(
        assistant,
        recognizer=recognizer,
        tts=EspeakTTS(settings.speech),
        holds=VoiceHolds(engine),
        settings=settings.speech,
        currency=settings.shop.currency,
        vocabulary=vocabulary,
    )
