"""Voice dialogue over the real engine (fixture shop, rules only), from transcripts."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from assistant.engine import Assistant
from core.config import SpeechSettings
from eval.dialogue.runner import ScenarioHarness
from speech.holds import VoiceHolds
from speech.recognizer import Transcript
from speech.turns import VoiceAssistant
from tests.shop_fixture import ALICE


class NoRecognizer:
    def transcribe(self, *, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        raise AssertionError("not used: these tests start from transcripts")


class NoTTS:
    def synthesize(self, *, text: str) -> bytes:
        return b""


@pytest.fixture
def voice(harness: ScenarioHarness) -> Iterator[VoiceAssistant]:
    with harness.assistant() as (assistant, services):
        assert services.sessions is not None
        yield VoiceAssistant(
            assistant,
            recognizer=NoRecognizer(),
            tts=NoTTS(),
            holds=VoiceHolds(services.sessions.engine),
            settings=SpeechSettings(),
        )


def heard(text: str, logprob: float = -0.2) -> Transcript:
    return Transcript(text=text, avg_logprob=logprob, no_speech_prob=0.01)


def test_spelled_email_authenticates_and_a_spoken_yes_confirms(voice: VoiceAssistant) -> None:
    store = voice.assistant.store
    first = voice.respond(None, heard("I want to cancel order W zero zero zero zero zero zero one"))
    sid = first.session_id
    assert first.transcript == "I want to cancel order #W0000001"
    # the id is read back digit by digit before anything acts on it
    assert first.awaiting_confirmation and "order W, 0, 0, 0, 0, 0, 0, 1" in first.reply_text
    assert voice.assistant.store.state(session_id=sid).pending_confirmation is None
    voice.respond(sid, heard("Yes."))
    email = voice.respond(sid, heard("my email is alice at example dot com, zip code 10001"))
    assert email.awaiting_confirmation and "a, l, i, c, e, at example dot com" in email.reply_text
    assert store.state(session_id=sid).slots.customer_id is None
    voice.respond(sid, heard("Yes, that's right."))
    assert store.state(session_id=sid).slots.customer_id == ALICE
    asked = voice.respond(sid, heard("It was ordered by mistake."))
    assert "Please say yes or no." in asked.reply_text and "W 0 0 0 0 0 0 1" in asked.reply_text
    done = voice.respond(sid, heard("Yeah."))
    assert done.reply is not None and done.reply.template == "cancel_done"


def test_a_doubtful_yes_is_checked_and_nothing_happens_until_confirmed(voice: VoiceAssistant) -> None:
    sid = voice.respond(None, heard("cancel order #W0000001")).session_id
    voice.respond(sid, heard("yes"))
    voice.respond(sid, heard("alice@example.com, zip 10001"))
    voice.respond(sid, heard("yes"))
    voice.respond(sid, heard("ordered by mistake"))
    check = voice.respond(sid, heard("yes", logprob=-1.5))
    assert check.awaiting_confirmation and check.reply_text.startswith("I'm not sure I heard you right")
    assert voice.assistant.store.state(session_id=sid).pending_confirmation is not None
    done = voice.respond(sid, heard("confirm", logprob=-1.4))  # the answer to the check itself
    assert done.reply is not None and done.reply.template == "cancel_done"


def test_the_check_reads_the_transcript_without_its_trailing_punctuation(voice: VoiceAssistant) -> None:
    check = voice.respond(None, heard("Is the black water bottle in stock,", logprob=-1.5))
    assert check.awaiting_confirmation
    assert "Did you say: Is the black water bottle in stock? Please say yes or no." in check.reply_text


def test_more_reads_the_next_products(voice: VoiceAssistant) -> None:
    sid = voice.respond(None, heard("do you have running shoes")).session_id
    voice.holds.set_more(sid, ["Fourth, a.", "Fifth, b.", "Sixth, c.", "Seventh, d."])
    more = voice.respond(sid, heard("More."))
    assert more.reply_text == "Fourth, a. Fifth, b. Sixth, c. There is 1 more. Say 'more' to hear it."
    assert voice.respond(sid, heard("more please")).reply_text == "Seventh, d."


def test_the_engine_sees_voice_as_the_channel(voice: VoiceAssistant, harness: ScenarioHarness) -> None:
    reply = voice.respond(None, heard("do you have running shoes"))
    assert isinstance(voice.assistant, Assistant)
    assert voice.assistant.store.state(session_id=reply.session_id).channel == "voice"
    assert reply.products and "First, Trailblazer Running Shoe" in reply.reply_text


def test_a_misheard_id_read_back_and_denied_changes_nothing(voice: VoiceAssistant) -> None:
    first = voice.respond(None, heard("cancel order W one, W nine, three five one eight"))
    sid = first.session_id
    assert first.awaiting_confirmation and "order W, 1, 9, 9, 3, 5, 1, 8" in first.reply_text
    again = voice.respond(sid, heard("No."))
    assert again.reply_text == voice.phrases.say_again
    state = voice.assistant.store.state(session_id=sid)
    assert state.slots.current_order is None and state.pending_confirmation is None
    assert voice.holds.held(sid) is None


def test_an_id_the_conversation_already_uses_is_not_read_back_again(voice: VoiceAssistant) -> None:
    sid = voice.respond(None, heard("where is my order W zero zero zero zero zero zero two")).session_id
    voice.respond(sid, heard("yes"))
    voice.respond(sid, heard("alice@example.com, zip 10001"))
    voice.respond(sid, heard("yes"))
    assert voice.assistant.store.state(session_id=sid).slots.current_order == "#W0000002"
    again = voice.respond(sid, heard("and is order W zero zero zero zero zero zero two delivered?"))
    assert not again.awaiting_confirmation and again.reply is not None
