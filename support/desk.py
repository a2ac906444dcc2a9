"""The support desk: what agents do with conversations, on any channel.

A conversation in ``agent`` mode is *waiting* until an agent takes it over (a ``mode_change``
event ``by="agent:<name>"``); from then on only that agent may reply, hand it back to the bot
or close it. Every change is checked and written under the conversation's lock, so two agents
taking over at once get one winner and one clear refusal naming the holder. Agent messages are
events in the conversation's log: each channel delivers them from there (the web socket polls
the log; other connectors read it the same way), so none is lost or sent twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from assistant.sessions.events import (
    AgentMessage,
    ConfirmationResolved,
    Event,
    ModeChange,
    SlotSet,
    StoredEvent,
    UserMessage,
)
from assistant.sessions.slots import ConfirmationOutcome, Mode, SessionSummary, SlotName
from assistant.sessions.state import SessionState
from assistant.sessions.store import SessionStore
from core.errors import ActionRefusedError, InvalidArgumentsError

AGENT_PREFIX = "agent:"
MAX_AGENT_TEXT = 4000


class DeskState(enum.StrEnum):
    BOT = "bot"
    WAITING = "waiting"
    WITH_AGENT = "with_agent"
    CLOSED = "closed"


def holder_of(state: SessionState) -> str | None:
    """The agent holding the conversation, or None."""
    if state.mode is Mode.AGENT and state.mode_by and state.mode_by.startswith(AGENT_PREFIX):
        return state.mode_by[len(AGENT_PREFIX) :]
    return None


def desk_state(state: SessionState) -> DeskState:
    if state.mode is Mode.CLOSED:
        return DeskState.CLOSED
    if state.mode is Mode.AGENT:
        return DeskState.WITH_AGENT if holder_of(state) else DeskState.WAITING
    return DeskState.BOT


@dataclass(frozen=True)
class Conversation:
    summary: SessionSummary
    state: DeskState
    holder: str | None
    waiting_seconds: float | None
    reason: str | None


class SupportDesk:
    def __init__(self, store: SessionStore, *, lock_timeout: float = 30.0) -> None:
        self.store = store
        self.lock_timeout = lock_timeout

    def conversations(self, *, limit: int = 100) -> list[Conversation]:
        """Live conversations, most recent first, waiting ones at the top."""
        now = datetime.now(UTC)
        found = []
        for summary in self.store.list_sessions(limit=limit):
            state = self.store.state(session_id=summary.session_id)
            kind = desk_state(state)
            waiting = None
            if kind is DeskState.WAITING and state.mode_since is not None:
                waiting = round((now - state.mode_since).total_seconds(), 1)
            found.append(Conversation(summary, kind, holder_of(state), waiting, state.mode_reason))
        found.sort(key=lambda c: (c.state is not DeskState.WAITING, -c.summary.updated_at.timestamp()))
        return found

    def events(self, session_id: str, after_seq: int = 0) -> list[StoredEvent]:
        """Everything that happened (after ``after_seq``), tool calls and the verified customer
        included."""
        return self.store.events(session_id=session_id, after_seq=after_seq)

    def take_over(self, session_id: str, agent: str) -> SessionState:
        with self.store.lock(session_id=session_id, timeout=self.lock_timeout):
            state = self.store.state(session_id=session_id)
            holder = holder_of(state)
            if holder == agent:
                return state
            if holder is not None:
                raise ActionRefusedError(f"{holder} already has this conversation", holder=holder)
            events: list[Event] = [ModeChange(mode=Mode.AGENT, reason="taken over", by=AGENT_PREFIX + agent)]
            self.store.append(session_id=session_id, events=[*events, *_drop_pending(state)])
            return self.store.state(session_id=session_id)

    def _held(self, session_id: str, agent: str) -> SessionState:
        state = self.store.state(session_id=session_id)
        holder = holder_of(state)
        if holder != agent:
            who = f"{holder} has it" if holder else "take it over first"
            raise ActionRefusedError(f"You do not hold this conversation ({who})", holder=holder)
        return state

    def reply(self, session_id: str, agent: str, text: str, *, draft: str | None = None) -> StoredEvent:
        text = text.strip()
        if not text or len(text) > MAX_AGENT_TEXT:
            raise InvalidArgumentsError(
                f"An agent message needs 1 to {MAX_AGENT_TEXT} characters",
                errors=[{"field": "text", "message": "empty or too long"}],
            )
        with self.store.lock(session_id=session_id, timeout=self.lock_timeout):
            self._held(session_id, agent)
            message = AgentMessage(agent=agent, text=text, draft=draft)
            return self.store.append(session_id=session_id, events=[message])[0]

    def feedback(self, *, limit: int = 200) -> list[dict[str, object]]:
        """Agent messages that edited the bot's draft: (customer message, draft, sent) examples."""
        examples: list[dict[str, object]] = []
        for summary in self.store.list_sessions(limit=limit):
            last_customer = ""
            for stored in self.store.events(session_id=summary.session_id):
                event = stored.event
                if isinstance(event, UserMessage):
                    last_customer = event.text
                elif isinstance(event, AgentMessage) and event.edited:
                    examples.append(
                        {
                            "session_id": summary.session_id,
                            "seq": stored.seq,
                            "agent": event.agent,
                            "customer": last_customer,
                            "draft": event.draft,
                            "sent": event.text,
                        }
                    )
        return examples

    def hand_back(self, session_id: str, agent: str) -> SessionState:
        return self._change(session_id, agent, Mode.BOT, "handed back to the bot")

    def close(self, session_id: str, agent: str) -> SessionState:
        return self._change(session_id, agent, Mode.CLOSED, "closed by an agent")

    def _change(self, session_id: str, agent: str, mode: Mode, reason: str) -> SessionState:
        with self.store.lock(session_id=session_id, timeout=self.lock_timeout):
            state = self._held(session_id, agent)
            change = ModeChange(mode=mode, reason=reason, by=AGENT_PREFIX + agent)
            self.store.append(session_id=session_id, events=[change, *_drop_pending(state)])
            return self.store.state(session_id=session_id)


def _drop_pending(state: SessionState) -> list[Event]:
    """Events that void a confirmation or form left from before: a person has been involved since,
    so an old "yes" must never run an old action."""
    events: list[Event] = []
    if state.pending_confirmation is not None:
        events.append(ConfirmationResolved(outcome=ConfirmationOutcome.DECLINED))
    if state.active_form is not None:
        events.append(SlotSet(name=SlotName.ACTIVE_FORM, value=None))
    return events
