"""REST chat: one turn per request, and the transcript of a conversation for its owner.

A shop whose visitor is logged in on its own site sends its signed customer token (a JWT,
``auth.shop_token``) in ``X-Shop-Token``: the conversation is signed in as that customer before
the message is handled, so the customer is never asked who they are. The same header lets that
customer read the transcript of a conversation their token signed into, without its session token.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response

from connectors.web.deps import AssistantDep, MetricsDep, RateLimitsDep, SettingsDep, SignerDep
from connectors.web.ratelimit import client_address
from connectors.web.schemas import (
    ChatRequest,
    ChatResponse,
    SessionIdPath,
    Transcript,
    TranscriptEntry,
    error_responses,
    message_key,
    transcript_entry,
)
from connectors.web.session_auth import (
    COOKIE,
    authorize,
    authorize_reader,
    presented_shop_token,
    presented_token,
    sign_in_shop_customer,
)
from core.errors import InvalidArgumentsError

router = APIRouter(prefix="/api/v1", tags=["chat"])
_STORE_ERRORS = error_responses(503, 507)


class MessageTooLongError(InvalidArgumentsError):
    http_status = 413
    code = "message_too_long"


def check_length(text: str, limit: int) -> None:
    if len(text) > limit:
        raise MessageTooLongError(
            f"The message is {len(text)} characters; the limit is {limit}",
            errors=[{"field": "message", "message": f"at most {limit} characters"}],
            limit=limit,
        )


def set_session_cookie(response: Response, token: str, *, secure: bool, max_age: int) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=max_age)


def client_key(request: Request) -> str | None:
    """Who sent the request, as the assistant counts failed identity checks: ``ip:<address>``."""
    client = client_address(request)
    return f"ip:{client}" if client else None


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="Send one customer message, get the reply",
    responses=error_responses(400, 401, 403, 409, 413, 422, 429) | _STORE_ERRORS,
)
def chat(
    body: ChatRequest,
    request: Request,
    response: Response,
    assistant: AssistantDep,
    signer: SignerDep,
    limits: RateLimitsDep,
    metrics: MetricsDep,
    settings: SettingsDep,
) -> ChatResponse:
    check_length(body.message, settings.dialogue.max_message_chars)
    session_id = authorize(signer, presented_token(request), body.session_id)
    client = client_address(request)
    limits.check(ip=client, session_id=session_id)
    started = time.perf_counter()
    fresh = session_id is None
    session_id = sign_in_shop_customer(assistant, session_id, presented_shop_token(request), channel="web")
    key = message_key(body.message_id)
    reply = assistant.handle(
        session_id,
        body.message,
        channel="web",
        product_id=body.product_id,
        message_key=key,
        client=client_key(request),
    )
    if fresh:
        limits.count_first(reply.session_id)
    if not reply.replayed:
        metrics.observe_reply(reply, "web", time.perf_counter() - started)
    token = signer.token(reply.session_id)
    set_session_cookie(response, token, secure=settings.web.secure_cookies, max_age=signer.ttl_seconds)
    return ChatResponse.from_reply(reply, token)


@router.get(
    "/sessions/{session_id}",
    response_model=Transcript,
    summary="The conversation's transcript (only for the visitor who owns it, or its signed-in customer)",
    responses=error_responses(400, 401, 403, 404, 422) | _STORE_ERRORS,
)
def transcript(
    session_id: SessionIdPath, request: Request, assistant: AssistantDep, signer: SignerDep
) -> Transcript:
    authorize_reader(signer, assistant, request, session_id)
    events = assistant.store.events(session_id=session_id)
    entries: list[TranscriptEntry] = [e for e in (transcript_entry(s) for s in events) if e is not None]
    state = assistant.store.state(session_id=session_id)
    return Transcript(session_id=session_id, mode=state.mode, entries=entries)
