"""Agent APIs: log in, list live conversations, read one in full, take over, reply, hand back,
close, export. Every route but login needs an agent token (``CurrentAgentDep``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from connectors.web.agent_auth import AGENT_COOKIE, AgentSigner, CurrentAgentDep
from connectors.web.deps import AssistantDep, SettingsDep
from connectors.web.ratelimit import client_address
from connectors.web.schemas import SessionIdPath, error_responses
from core.errors import AuthenticationRequiredError
from support.desk import SupportDesk, desk_state, holder_of

router = APIRouter(
    prefix="/api/v1/agent",
    tags=["agent"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503, 507),
)


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginResult(BaseModel):
    agent: str
    display_name: str
    token: str


class ConversationRow(BaseModel):
    session_id: str
    channel: str
    state: str = Field(description="bot, waiting, with_agent or closed")
    holder: str | None
    waiting_seconds: float | None
    reason: str | None
    customer_id: str | None
    updated_at: str


class ConversationDetail(BaseModel):
    session_id: str
    state: str
    holder: str | None
    customer_id: str | None = Field(description="The customer the bot verified, if any.")
    customer_name: str | None
    events: list[dict[str, Any]] = Field(description="The full log: messages, tool calls, results, slots.")


class AgentText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)
    draft: str | None = Field(
        default=None, max_length=4000, description="The suggested draft it started from."
    )


class Suggestion(BaseModel):
    text: str = Field(description="A draft reply to the customer's last message, grounded like bot replies.")
    template: str | None
    source: str
    products: list[dict[str, Any]]


def _desk(request: Request) -> SupportDesk:
    desk: SupportDesk = request.app.state.desk
    return desk


@router.post("/login", response_model=LoginResult, summary="Log in as a support agent")
def login(body: Login, request: Request, response: Response, settings: SettingsDep) -> LoginResult:
    request.app.state.login_limits.check(ip=client_address(request), session_id=None)
    info = request.app.state.agent_accounts.verify(body.name, body.password)
    if info is None:
        raise AuthenticationRequiredError("Unknown agent or wrong password")
    signer: AgentSigner = request.app.state.agent_signer
    token = signer.token(info.name, credential=info.credential)
    response.set_cookie(
        AGENT_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.web.secure_cookies,
        max_age=signer.ttl,
    )
    return LoginResult(agent=info.name, display_name=info.display_name, token=token)


@router.get(
    "/conversations", response_model=list[ConversationRow], summary="Live conversations, waiting first"
)
def conversations(agent: CurrentAgentDep, request: Request, limit: int = 100) -> list[ConversationRow]:
    rows = _desk(request).conversations(limit=max(1, min(limit, 500)))
    return [
        ConversationRow(
            session_id=c.summary.session_id,
            channel=c.summary.channel,
            state=c.state.value,
            holder=c.holder,
            waiting_seconds=c.waiting_seconds,
            reason=c.reason,
            customer_id=c.summary.customer_id,
            updated_at=c.summary.updated_at.isoformat(),
        )
        for c in rows
    ]


def _detail(request: Request, assistant: Any, session_id: str) -> ConversationDetail:
    state = assistant.store.state(session_id=session_id)
    events = [
        {"seq": e.seq, "at": e.at.isoformat(), **e.event.model_dump(mode="json")}
        for e in _desk(request).events(session_id)
    ]
    return ConversationDetail(
        session_id=session_id,
        state=desk_state(state).value,
        holder=holder_of(state),
        customer_id=state.customer_id,
        customer_name=state.slots.customer_name,
        events=events,
    )


@router.get(
    "/conversations/{session_id}", response_model=ConversationDetail, summary="One conversation in full"
)
def conversation(
    session_id: SessionIdPath, agent: CurrentAgentDep, request: Request, assistant: AssistantDep
) -> ConversationDetail:
    return _detail(request, assistant, session_id)


@router.get("/conversations/{session_id}/export", summary="The transcript as a JSON download")
def export(
    session_id: SessionIdPath, agent: CurrentAgentDep, request: Request, assistant: AssistantDep
) -> Response:
    detail = _detail(request, assistant, session_id)
    headers = {"Content-Disposition": f'attachment; filename="conversation-{session_id}.json"'}
    return Response(detail.model_dump_json(indent=2), media_type="application/json", headers=headers)


@router.post("/conversations/{session_id}/take-over", response_model=ConversationDetail, summary="Take over")
def take_over(
    session_id: SessionIdPath, agent: CurrentAgentDep, request: Request, assistant: AssistantDep
) -> ConversationDetail:
    _desk(request).take_over(session_id, agent)
    return _detail(request, assistant, session_id)


@router.post(
    "/conversations/{session_id}/reply", response_model=ConversationDetail, summary="Reply as the agent"
)
def reply(
    session_id: SessionIdPath,
    body: AgentText,
    agent: CurrentAgentDep,
    request: Request,
    assistant: AssistantDep,
) -> ConversationDetail:
    _desk(request).reply(session_id, agent, body.text, draft=body.draft)
    return _detail(request, assistant, session_id)


@router.post("/conversations/{session_id}/hand-back", response_model=ConversationDetail, summary="Hand back")
def hand_back(
    session_id: SessionIdPath, agent: CurrentAgentDep, request: Request, assistant: AssistantDep
) -> ConversationDetail:
    _desk(request).hand_back(session_id, agent)
    return _detail(request, assistant, session_id)


@router.post("/conversations/{session_id}/close", response_model=ConversationDetail, summary="Close")
def close(
    session_id: SessionIdPath, agent: CurrentAgentDep, request: Request, assistant: AssistantDep
) -> ConversationDetail:
    _desk(request).close(session_id, agent)
    return _detail(request, assistant, session_id)


@router.post(
    "/conversations/{session_id}/suggest", response_model=Suggestion, summary="The bot's draft reply"
)
def suggest(session_id: SessionIdPath, agent: CurrentAgentDep, assistant: AssistantDep) -> Suggestion:
    draft = assistant.suggest(session_id)
    return Suggestion(
        text=draft.text,
        template=draft.template,
        source=draft.source.value,
        products=[p.model_dump(mode="json") for p in draft.products],
    )


@router.get("/feedback", summary="Agent edits of bot drafts, as examples for evaluation")
def feedback(agent: CurrentAgentDep, request: Request) -> list[dict[str, Any]]:
    return [dict(item) for item in _desk(request).feedback()]
