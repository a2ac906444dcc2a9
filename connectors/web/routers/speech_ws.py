"""The speech WebSocket: stream audio in, hear the answer as soon as it is ready.

Client: ``start`` {format: wav|ogg|webm|mp3|pcm_s16le, sample_rate? (PCM only, default 16000),
session_token?}, then binary frames of audio, then ``end``; ``cancel`` drops the utterance;
``ping``. Several utterances may follow each other on one socket.

Server: ``ready`` (after start), ``partial`` {text} about once a second while audio arrives,
``transcript`` {text, confidence, awaiting_confirmation}, ``session`` {session_id,
session_token}, ``reply`` {text, products, mode, awaiting_confirmation}, then for each sentence
of the reply ``audio`` {index, format: wav, bytes} followed by one binary frame holding that
WAV, then ``audio_end``; ``error`` {code, message}; ``pong``. Bad input gets an ``error`` event
and the connection stays open (events are validated against :mod:`connectors.web.socket_events`;
an ill-typed one is ``invalid_event``). The first event must come within
``web.ws_hello_timeout_seconds`` and only allowed origins may open the socket, as on the chat
socket (:mod:`connectors.web.socket_guard`).

A shop's logged-in customer arrives with the shop's signed token in the upgrade URL
(``/ws/speech?shop_token=<JWT>``), as on the chat socket: the conversation (the session token's,
or a new one) is signed in as that customer when the socket opens, before any utterance, and again
when a ``start`` switches to another conversation; a conversation that is new or changed is
announced with a ``session`` event. A token that does not verify gets an ``error`` event with the
chat's code (``invalid_shop_token``, ``shop_tokens_off``), records nothing, and the customer goes
on anonymously; a stored conversation of another customer is left alone and a new one starts.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from connectors.web.event_socket import EventSocket
from connectors.web.socket_events import SPEECH_EVENTS, ClientEvent, SpeechStart
from core.errors import AudioTooLongError, EmptyAudioError, ShopassistError, SpeechUnavailableError
from speech.audio import PCM_FORMAT, STREAM_FORMATS, decode_any
from speech.turns import CHANNEL, VoiceAssistant

router = APIRouter()
log = logging.getLogger(__name__)
PARTIAL_EVERY_SECONDS = 1.0
# Rough byte rates, only to pace partial transcripts (16 kHz 16-bit WAV; ~32 kbit/s compressed).
_BYTES_PER_SECOND = {"wav": 32_000, "ogg": 4_000, "webm": 4_000, "mp3": 4_000}


class SpeechSocket(EventSocket):
    client_events = SPEECH_EVENTS
    channel = CHANNEL

    def __init__(self, ws: WebSocket) -> None:
        super().__init__(ws)
        self.voice: VoiceAssistant | None = getattr(ws.app.state, "voice", None)
        self.format: str | None = None
        self.sample_rate = 16_000
        self.buffer = bytearray()
        self.partial_at = 0
        self.partial_task: asyncio.Task[None] | None = None

    async def opened(self) -> bool:
        if self.voice is None:
            await self.error(SpeechUnavailableError.code, "The speech API is not available in this process")
            await self.ws.close()
            return False
        if await self.sign_in(self.voice.assistant):
            await self.announce()
        return True

    async def failed(self, exc: ShopassistError | None) -> None:
        self.reset()  # a failed utterance is dropped; the next one starts clean
        await super().failed(exc)

    def reset(self) -> None:
        self.format, self.buffer, self.partial_at = None, bytearray(), 0

    async def on_event(self, kind: str, event: ClientEvent) -> None:
        if kind == "ping":
            await self.send("pong")
        elif isinstance(event, SpeechStart):
            await self.on_start(event)
        elif kind == "cancel":
            self.reset()
        elif kind == "end":
            await self.on_end()

    async def on_start(self, event: SpeechStart) -> None:
        fmt = event.format
        if fmt not in STREAM_FORMATS:
            await self.error("unsupported_audio_format", f"Use a format of {', '.join(STREAM_FORMATS)}")
            return
        rate = 16_000 if event.sample_rate is None else event.sample_rate
        if fmt == PCM_FORMAT and not 8000 <= rate <= 48000:
            await self.error("unsupported_audio_format", "sample_rate must be 8000 to 48000 for PCM")
            return
        token = event.session_token
        if token is not None:
            before = self.session_id
            if not await self.resume(token):
                self.session_id = None
            voice = self.voice
            if voice is not None and self.session_id != before and await self.sign_in(voice.assistant):
                await self.announce()
        self.reset()
        self.format, self.sample_rate = fmt, rate if fmt == PCM_FORMAT else 16_000
        await self.send("ready", format=fmt)

    async def on_bytes(self, chunk: bytes) -> None:
        if self.format is None or self.voice is None:
            await self.error("not_started", "Send a 'start' event before audio")
            return
        self.buffer.extend(chunk)
        if len(self.buffer) > self.voice.settings.max_bytes:
            raise AudioTooLongError(f"The audio is larger than {self.voice.settings.max_bytes} bytes")
        seconds_per_byte = 1 / (
            2 * self.sample_rate if self.format == PCM_FORMAT else _BYTES_PER_SECOND[self.format]
        )
        due = (len(self.buffer) - self.partial_at) * seconds_per_byte >= PARTIAL_EVERY_SECONDS
        if due and (self.partial_task is None or self.partial_task.done()):
            self.partial_at = len(self.buffer)
            self.partial_task = asyncio.create_task(self.partial(bytes(self.buffer), self.format))

    async def partial(self, data: bytes, fmt: str) -> None:
        voice = self.voice
        if voice is None:
            return
        try:
            audio = await run_in_threadpool(decode_any, data, fmt, self.sample_rate, voice.settings)
            text = await run_in_threadpool(voice.partial, audio.samples)
        except ShopassistError:
            return  # a partial is best effort; the final transcript reports problems
        if text and self.format is not None:
            await self.send("partial", text=text)

    async def on_end(self) -> None:
        voice = self.voice
        if self.format is None or voice is None:
            await self.error("not_started", "Send a 'start' event and audio before 'end'")
            return
        data, fmt = bytes(self.buffer), self.format
        if self.partial_task is not None:
            await self.partial_task  # it holds the recognizer now anyway; its text comes first
            self.partial_task = None
        self.reset()
        if not data:
            raise EmptyAudioError("No audio arrived between 'start' and 'end'")
        self.limits.check(ip=self.client, session_id=self.session_id)
        audio = await run_in_threadpool(decode_any, data, fmt, self.sample_rate, voice.settings)
        heard = await run_in_threadpool(voice.recognize, audio)
        key = f"ip:{self.client}" if self.client else None
        reply = await run_in_threadpool(voice.respond, self.session_id, heard, client=key)
        await self.send(
            "transcript",
            text=reply.transcript,
            confidence=round(reply.confidence, 4),
            awaiting_confirmation=reply.awaiting_confirmation,
        )
        if reply.session_id != self.session_id:
            if self.session_id is None:
                self.limits.count_first(reply.session_id)
            self.session_id = reply.session_id
            await self.send(
                "session", session_id=reply.session_id, session_token=self.signer.token(reply.session_id)
            )
        await self.send(
            "reply",
            text=reply.reply_text,
            products=[p.model_dump(mode="json") for p in reply.products],
            mode=reply.mode.value,
            awaiting_confirmation=reply.awaiting_confirmation,
        )
        for index, sentence in enumerate(voice.sentences(reply.reply_text) or ["."]):
            wav = await run_in_threadpool(voice.speak, sentence)
            await self.send("audio", index=index, format="wav", bytes=len(wav))
            await self.ws.send_bytes(wav)
        await self.send("audio_end")


@router.websocket("/ws/speech")
async def speech_socket(ws: WebSocket) -> None:
    await SpeechSocket(ws).run()
