"""The speech API: audio in, transcript, reply text and spoken reply out.

``POST /api/v1/speech`` takes a multipart upload (field ``audio``: WAV, OGG/Opus, WebM or MP3;
optional field ``session_id``). It answers JSON with the reply audio as base64, or, with
``Accept: audio/wav``, the WAV itself with the texts in ``X-...`` headers (percent-encoded
UTF-8, so they stay ASCII).

A shop's logged-in customer comes with the shop's signed token in ``X-Shop-Token`` (as on
``POST /api/v1/chat``; ``?shop_token=`` is not read on REST): once the utterance is heard, the
conversation is signed in as that customer before the turn runs, so a refused token (401
``invalid_shop_token``, 400 ``shop_tokens_off``, 403 for another customer's conversation) and bad
audio both leave no utterance, reply or identity recorded (see :meth:`Assistant.sign_in` for the
empty conversation a token naming no customer of the shop leaves behind).
"""

from __future__ import annotations

import base64
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from connectors.web.deps import MetricsDep, RateLimitsDep, SignerDep, VoiceDep
from connectors.web.ratelimit import client_address
from connectors.web.schemas import SpeechResponse, error_responses
from connectors.web.session_auth import (
    authorize,
    presented_shop_token,
    presented_token,
    sign_in_shop_customer,
)
from core.errors import AudioTooLongError, EmptyAudioError
from speech.audio import check_size, decode
from speech.turns import CHANNEL, VoiceAssistant, VoiceReply

router = APIRouter(prefix="/api/v1", tags=["speech"])
_CHUNK = 64 * 1024


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes, refusing more than ``limit`` without reading it all."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise AudioTooLongError(
                f"The audio is larger than {limit} bytes",
                errors=[{"field": "audio", "message": f"at most {limit} bytes"}],
                limit_bytes=limit,
            )
        parts.append(chunk)
    return b"".join(parts)


def run_voice_turn(
    voice: VoiceAssistant,
    data: bytes,
    session_id: str | None,
    client: str | None = None,
    *,
    shop_token: str | None = None,
) -> tuple[VoiceReply, bytes]:
    """Decode, recognise, sign in the shop's customer (with ``shop_token``), respond and speak
    (blocking; run it in a worker thread)."""
    audio = decode(data, voice.settings)
    heard = voice.recognize(audio)
    session_id = sign_in_shop_customer(voice.assistant, session_id, shop_token, channel=CHANNEL)
    reply = voice.respond(session_id, heard, client=client)
    return reply, voice.speak(reply.reply_text)


def _header(text: str) -> str:
    return quote(text, safe=" ,.?!:;'()-@#$")[:4000]


@router.post(
    "/speech",
    response_model=SpeechResponse,
    summary="Send one spoken customer utterance, get the transcript and the spoken reply",
    responses={
        200: {"content": {"audio/wav": {}}, "description": "JSON, or WAV with Accept: audio/wav"},
        **error_responses(400, 401, 403, 409, 413, 415, 422, 429, 503, 507),
    },
)
async def speech(
    request: Request,
    voice: VoiceDep,
    signer: SignerDep,
    limits: RateLimitsDep,
    metrics: MetricsDep,
    audio: Annotated[UploadFile | None, File(description="WAV, OGG/Opus, WebM or MP3")] = None,
    session_id: Annotated[str | None, Form()] = None,
) -> Response:
    if audio is None:
        raise EmptyAudioError(
            "Send the audio as a multipart field named 'audio'",
            errors=[{"field": "audio", "message": "missing"}],
        )
    data = await read_limited(audio, voice.settings.max_bytes)
    check_size(len(data), voice.settings)
    sid = authorize(signer, presented_token(request), session_id or None)
    client = client_address(request)
    limits.check(ip=client, session_id=sid)
    started = time.perf_counter()
    key = f"ip:{client}" if client else None
    shop_token = presented_shop_token(request)
    reply, wav = await run_in_threadpool(run_voice_turn, voice, data, sid, key, shop_token=shop_token)
    if sid is None:
        limits.count_first(reply.session_id)
    if reply.reply is not None:
        metrics.observe_reply(reply.reply, "voice", time.perf_counter() - started)
    token = signer.token(reply.session_id)
    if "audio/wav" in request.headers.get("accept", ""):
        return Response(
            content=wav,
            media_type="audio/wav",
            headers={
                "X-Session-Id": reply.session_id,
                "X-Session-Token": token,
                "X-Transcript": _header(reply.transcript),
                "X-Reply-Text": _header(reply.reply_text),
                "X-Mode": reply.mode.value,
                "X-Awaiting-Confirmation": str(reply.awaiting_confirmation).lower(),
            },
        )
    body = SpeechResponse(
        session_id=reply.session_id,
        session_token=token,
        transcript=reply.transcript,
        reply_text=reply.reply_text,
        products=list(reply.products),
        mode=reply.mode,
        confidence=round(reply.confidence, 4),
        awaiting_confirmation=reply.awaiting_confirmation,
        audio_base64=base64.b64encode(wav).decode("ascii"),
    )
    return Response(content=body.model_dump_json(), media_type="application/json")
