"""The speech WebSocket with a real websockets client against uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from core.config import SpeechSettings
from speech.audio import decode
from speech.recognizer import WhisperRecognizer
from tests.connectors.web.conftest import WebShop, add_voice
from tests.speech.voices import say

CHUNK = 4000


@pytest.fixture
def web_shop(web_shop: WebShop, recognizer: WhisperRecognizer) -> WebShop:
    """The web shop with its voice channel."""
    add_voice(web_shop, recognizer)
    return web_shop


async def _events_until(ws: Any, kind: str) -> tuple[list[dict[str, Any]], list[bytes]]:
    events: list[dict[str, Any]] = []
    frames: list[bytes] = []
    while not events or events[-1]["type"] not in (kind, "error"):
        message = await asyncio.wait_for(ws.recv(), timeout=60)
        if isinstance(message, bytes):
            frames.append(message)
        else:
            events.append(json.loads(message))
    return events, frames


async def _utterance(
    ws: Any, audio: bytes, fmt: str, **start: Any
) -> tuple[list[dict[str, Any]], list[bytes]]:
    await ws.send(json.dumps({"type": "start", "format": fmt, **start}))
    assert json.loads(await ws.recv())["type"] == "ready"
    for offset in range(0, len(audio), CHUNK):
        await ws.send(audio[offset : offset + CHUNK])
        await asyncio.sleep(0.01)
    await ws.send(json.dumps({"type": "end"}))
    return await _events_until(ws, "audio_end")


def test_streamed_audio_gets_partials_transcript_reply_and_audio(live_server: str) -> None:
    url = live_server.replace("http://", "ws://") + "/ws/speech"

    async def talk() -> tuple[list[dict[str, Any]], list[bytes], list[dict[str, Any]]]:
        async with websockets.connect(url, max_size=None) as ws:
            events, frames = await _utterance(ws, say("do you have running shoes", "ogg"), "ogg")
            token = next(e for e in events if e["type"] == "session")["session_token"]
            # bad input on the same socket: an error event, the connection stays open
            await ws.send(b"audio before start")
            errors, _ = await _events_until(ws, "error")
            await ws.send(json.dumps({"type": "start", "format": "flac"}))
            errors += (await _events_until(ws, "error"))[0]
            await ws.send(json.dumps({"type": "start", "format": "wav"}))
            await ws.recv()
            await ws.send(json.dumps({"type": "end"}))
            errors += (await _events_until(ws, "error"))[0]
            second, _ = await _utterance(ws, say("Where is my order?"), "wav", session_token=token)
            return events, frames, errors + second

    events, frames, later = asyncio.run(talk())
    kinds = [e["type"] for e in events]
    assert "partial" in kinds
    assert kinds.index("transcript") < kinds.index("reply") < kinds.index("audio") < kinds.index("audio_end")
    transcript = next(e for e in events if e["type"] == "transcript")
    assert transcript["text"].lower().strip("?.,") == "do you have running shoes"
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["products"][0]["product_id"] == "P-SHOE"
    assert "79 dollars 99" in reply["text"]
    announced = [e for e in events if e["type"] == "audio"]
    assert len(frames) == len(announced) >= 2  # one WAV per sentence
    assert [len(f) for f in frames] == [e["bytes"] for e in announced]
    assert all(decode(f, SpeechSettings()).seconds > 0.3 for f in frames)
    assert [e["code"] for e in later if e["type"] == "error"] == [
        "not_started",
        "unsupported_audio_format",
        "empty_audio",
    ]
    assert "verify your identity" in next(e for e in later if e["type"] == "reply")["text"]
    assert not any(e["type"] == "session" for e in later)  # the token kept the conversation
