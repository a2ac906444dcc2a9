"""The speech API end to end: utterances synthesised with espeak-ng, recognised by the bundled
Whisper model, run through the real dialogue engine over the fixture shop, replies spoken."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import unquote

import numpy as np
import pytest
from fastapi.testclient import TestClient

from assistant.sessions.events import UserMessage
from connectors.web.app import create_app
from core.config import SpeechSettings
from speech.audio import SAMPLE_RATE, decode, encode
from speech.recognizer import WhisperRecognizer
from tests.connectors.web.conftest import WebShop, add_voice
from tests.shop_fixture import ALICE
from tests.speech.voices import say


def post(client: TestClient, audio: bytes, *, token: str | None = None, **headers: str) -> dict:
    if token:
        headers["X-Session-Token"] = token
    response = client.post("/api/v1/speech", files={"audio": ("u.bin", audio)}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def words(text: str) -> str:
    return " ".join(w.strip(".,?!").lower() for w in text.split())


def spoken_seconds(body: dict) -> float:
    return decode(base64.b64decode(body["audio_base64"]), SpeechSettings()).seconds


@pytest.fixture
def web_shop(web_shop: WebShop, recognizer: WhisperRecognizer) -> WebShop:
    """The web shop with its voice channel."""
    add_voice(web_shop, recognizer)
    return web_shop


@pytest.mark.parametrize("fmt", ["wav", "ogg", "webm", "mp3"])
def test_a_spoken_product_search_returns_products_and_speech(client: TestClient, fmt: str) -> None:
    body = post(client, say("do you have running shoes", fmt))
    assert words(body["transcript"]) == "do you have running shoes"
    assert [p["product_id"] for p in body["products"]][:1] == ["P-SHOE"]
    assert "Trailblazer Running Shoe" in body["reply_text"]
    assert "79 dollars 99" in body["reply_text"] and "$" not in body["reply_text"]
    assert body["mode"] == "bot" and body["awaiting_confirmation"] is False
    assert spoken_seconds(body) > 2.0


def test_accept_audio_wav_returns_the_audio_with_texts_in_headers(client: TestClient) -> None:
    response = client.post(
        "/api/v1/speech",
        files={"audio": ("u.wav", say("do you have merino running socks"), "audio/wav")},
        headers={"Accept": "audio/wav"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.content[:4] == b"RIFF"
    # (Whisper's punctuation here differs between CPUs: "?" on one, "," on another)
    transcript = unquote(response.headers["x-transcript"])
    assert words(transcript) == "do you have merino running socks"
    assert response.headers["x-transcript"].isascii()
    assert "12 dollars" in unquote(response.headers["x-reply-text"])
    assert response.headers["x-reply-text"].isascii()
    assert response.headers["x-session-token"].startswith(response.headers["x-session-id"] + ".")


def test_a_spoken_order_check_authenticates_by_two_facts(client: TestClient, web_shop: WebShop) -> None:
    first = post(client, say("Where is my order?"))
    assert first["transcript"] == "Where is my order?"
    assert "verify your identity" in first["reply_text"]
    said = "My name is Alice Smith. The zip code is 10001. My visa card ends in 4242."
    second = post(client, say(said), token=first["session_token"])
    assert second["session_id"] == first["session_id"]
    assert "10001" in second["transcript"]
    assert "Which order is it?" in second["reply_text"]
    assert "W 0 0 0 0 0 0 1, pending" in second["reply_text"]  # order ids are read digit by digit
    state = web_shop.services.sessions.state(session_id=first["session_id"])  # type: ignore[union-attr]
    assert state.slots.customer_id == ALICE and state.channel == "voice"


def test_another_visitors_session_is_refused(client: TestClient) -> None:
    body = post(client, say("do you have running shoes"))
    response = client.post(
        "/api/v1/speech",
        files={"audio": ("u.wav", say("yes"))},
        data={"session_id": body["session_id"]},
    )
    assert response.status_code == 403


def _error(client: TestClient, audio: bytes | None, status: int, code: str) -> None:
    files = {"audio": ("u.bin", audio)} if audio is not None else {"other": ("x", b"x")}
    response = client.post("/api/v1/speech", files=files)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_bad_audio_gets_a_clear_4xx_and_the_server_stays_up(
    web_shop: WebShop, recognizer: WhisperRecognizer
) -> None:
    settings = add_voice(web_shop, recognizer, SpeechSettings(max_seconds=4.0, max_bytes=300_000))
    limited = settings.model_copy(
        update={"web": settings.web.model_copy(update={"rate_limit_per_ip": "1000/minute"})}
    )
    with TestClient(create_app(limited, services=web_shop.services)) as client:
        _error(client, b"", 400, "empty_audio")
        _error(client, None, 400, "empty_audio")
        _error(client, b"just some text, not audio " * 20, 415, "unsupported_audio_format")
        _error(client, say("hello there")[:60], 400, "corrupt_audio")
        _error(client, encode(np.zeros(SAMPLE_RATE * 2, np.float32), "wav"), 422, "no_speech")
        _error(client, encode(np.zeros(SAMPLE_RATE * 2, np.float32), "ogg"), 422, "no_speech")
        _error(
            client,
            say("this is a much longer sentence that takes more than four seconds to say"),
            413,
            "audio_too_long",
        )
        _error(client, b"RIFF" + b"\0" * 300_001, 413, "audio_too_long")
        assert post(client, say("do you have running shoes"))["products"]


@pytest.fixture
def doubtful(web_shop: WebShop, recognizer: WhisperRecognizer) -> Iterator[WebShop]:
    """An app that doubts every transcript (threshold above any real confidence)."""
    settings = add_voice(web_shop, recognizer, SpeechSettings(min_avg_logprob=-0.0001))
    web_shop.app = create_app(settings, services=web_shop.services)
    yield web_shop


def _user_messages(shop: WebShop, session_id: str) -> list[str]:
    events = shop.services.sessions.events(session_id=session_id)  # type: ignore[union-attr]
    return [e.event.text for e in events if isinstance(e.event, UserMessage)]


def test_a_doubtful_transcript_is_checked_first_and_survives_a_restart(doubtful: WebShop) -> None:
    with TestClient(doubtful.app) as client:
        held = post(client, say("do you have running shoes"))
    assert held["awaiting_confirmation"] is True
    assert held["reply_text"].startswith(
        "I'm not sure I heard you right. Did you say: Do you have running shoes?"
    )
    assert held["products"] == []
    assert _user_messages(doubtful, held["session_id"]) == []  # nothing reached the assistant
    # A new app (as after a restart) finds the held transcript in the conversation database.
    settings = doubtful.services.settings
    with TestClient(create_app(settings, services=doubtful.services)) as client:
        done = post(client, say("yes"), token=held["session_token"])
    assert done["awaiting_confirmation"] is False, done["reply_text"]
    assert done["transcript"] == "Do you have running shoes?"
    assert done["products"][0]["product_id"] == "P-SHOE"
    assert _user_messages(doubtful, held["session_id"]) == ["Do you have running shoes?"]


def test_a_no_to_the_check_asks_to_repeat_and_runs_nothing(doubtful: WebShop) -> None:
    with TestClient(doubtful.app) as client:
        held = post(client, say("do you have running shoes"))
        again = post(client, say("no"), token=held["session_token"])
    assert again["reply_text"] == "Sorry about that. Please say it again."
    assert again["products"] == []
    assert _user_messages(doubtful, held["session_id"]) == []
