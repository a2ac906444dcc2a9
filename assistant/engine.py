"""The ``Assistant``: the one API every channel calls.

``Assistant.handle(session_id, text, channel=...)`` runs one customer turn under the session's
lock and returns a :class:`~assistant.types.Reply`; ``Assistant.stream(...)`` is the async
variant that yields checked reply text as it is generated and the ``Reply`` last.

A turn reads the session state (folded from its event log), decides (:mod:`assistant.router`),
phrases the reply (:mod:`assistant.responder`), and appends all of the turn's events, the
customer's message first and the bot's reply last, in one transaction. A process killed
mid-turn leaves the log as it was before the turn; a restarted process folds the same state
and goes on where the conversation stopped.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from assistant.events import MAX_KEY, BotReply, ModeChange, UserMessage
from assistant.flows import FlowRegistry, FormRunner
from assistant.flows_orders import ORDER_FLOWS
from assistant.flows_shop import SHOP_FLOWS
from assistant.kit import Kit
from assistant.llm import LLM
from assistant.responder import Chunk, Draft, Responder
from assistant.router import Router
from assistant.session_store import SessionBusyError, SessionStore
from assistant.state import SessionState
from assistant.templates import Templates, default_templates
from assistant.turn import DraftExecutor, Turn
from assistant.types import (
    ConfirmationOutcome,
    Mode,
    Reply,
    ReplySource,
    TurnStep,
    validate_channel,
    validate_session_id,
)
from dialogue_rules.entities import extract_all
from dialogue_rules.forms import FormRules, default_form_rules
from dialogue_rules.guardrails import check_input
from dialogue_rules.handoff import HandoffRules, default_handoff_rules
from dialogue_rules.intents import IntentMatcher
from dialogue_rules.search_terms import SearchTerms, default_search_terms
from dialogue_rules.types import GuardedInput, ViolationCode
from shopassist.config import Settings
from shopassist.errors import InvalidArgumentsError
from tools.policy import ToolExecutor

if TYPE_CHECKING:
    from shopassist.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamText:
    """Reply text streamed before the final :class:`Reply`; ``reset``: drop what came before."""

    text: str
    reset: bool = False


class Assistant:
    def __init__(
        self,
        *,
        settings: Settings,
        store: SessionStore,
        executor: ToolExecutor,
        matcher: IntentMatcher,
        llm: LLM | None = None,
        templates: Templates | None = None,
        forms: FormRules | None = None,
        handoff: HandoffRules | None = None,
        terms: SearchTerms | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.executor = executor
        self.matcher = matcher
        self.llm = llm
        forms = forms or default_form_rules()
        self.kit = Kit(
            templates=templates or default_templates(),
            forms=forms,
            shop=settings.shop,
            max_failed_turns=settings.dialogue.failed_turns_before_handoff,
        )
        flows = FlowRegistry(forms.forms, [cls() for cls in (*ORDER_FLOWS, *SHOP_FLOWS)])
        self.router = Router(
            kit=self.kit,
            runner=FormRunner(flows, self.kit),
            handoff=handoff or default_handoff_rules(),
            terms=terms or default_search_terms(),
            llm=llm,
        )
        self.responder = Responder(llm, max_tokens=settings.dialogue.phrase_max_tokens)
        self._clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def from_services(cls, services: Services, *, llm: LLM | None = None) -> Assistant:
        """Wire an assistant from the process's services (store, executor, index, LLM)."""
        if services.sessions is None or services.matcher is None:
            raise ValueError("Services were built without the dialogue engine (with_dialogue=False)")
        return cls(
            settings=services.settings,
            store=services.sessions,
            executor=services.executor,
            matcher=services.matcher,
            llm=llm if llm is not None else services.llm,
        )

    # Sessions ---------------------------------------------------------------------------------
    def start_session(self, *, channel: str, session_id: str | None = None) -> str:
        return self.store.create(channel=channel, session_id=session_id)

    def _ensure_session(self, session_id: str | None, channel: str) -> str:
        if session_id is None:
            return self.store.create(channel=channel)
        sid = validate_session_id(session_id)
        if not self.store.exists(session_id=sid):
            try:
                self.store.create(channel=channel, session_id=sid)
            except Exception:  # created by a concurrent first message
                if not self.store.exists(session_id=sid):
                    raise
        return sid

    # Turns ------------------------------------------------------------------------------------
    def handle(
        self,
        session_id: str | None,
        text: str,
        *,
        channel: str = "web",
        product_id: str | None = None,
        message_key: str | None = None,
    ) -> Reply:
        """Run one customer turn; returns the reply (empty text while an agent has the session).

        ``product_id``: the message came from that product card's button ("Details", "Add to
        cart"), so "it" and "this one" mean that product even if it is no longer on screen.

        ``message_key``: the channel's id for the message (Telegram's update id, a web client's
        message id). When one of the conversation's recent messages has the same key, it was
        handled already (a redelivery, a client's retry, a replay after a crash): nothing is run
        again and the reply recorded then comes back, marked ``replayed``.
        """
        reply: Reply | None = None
        for item in self._run(
            session_id, text, channel, stream=False, product_id=product_id, message_key=message_key
        ):
            if isinstance(item, Reply):
                reply = item
        if reply is None:  # pragma: no cover - _run always ends with a Reply
            raise RuntimeError("turn produced no reply")
        return reply

    def handle_stream(
        self,
        session_id: str | None,
        text: str,
        *,
        channel: str = "web",
        product_id: str | None = None,
        message_key: str | None = None,
    ) -> Iterator[StreamText | Reply]:
        """Like :meth:`handle`, yielding checked reply text as it is generated, then the Reply."""
        yield from self._run(
            session_id, text, channel, stream=True, product_id=product_id, message_key=message_key
        )

    async def stream(
        self,
        session_id: str | None,
        text: str,
        *,
        channel: str = "web",
        product_id: str | None = None,
        message_key: str | None = None,
    ) -> AsyncIterator[StreamText | Reply]:
        """Async :meth:`handle_stream`: the turn runs in a worker thread, items arrive as made."""
        items: queue.Queue[object] = queue.Queue()
        done = object()

        def work() -> None:
            try:
                for item in self.handle_stream(
                    session_id, text, channel=channel, product_id=product_id, message_key=message_key
                ):
                    items.put(item)
            except BaseException as exc:
                items.put(exc)
            finally:
                items.put(done)

        threading.Thread(target=work, name="assistant-turn", daemon=True).start()
        while True:
            item = await asyncio.to_thread(items.get)
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def _run(
        self,
        session_id: str | None,
        text: str,
        channel: str,
        *,
        stream: bool,
        product_id: str | None,
        message_key: str | None,
    ) -> Iterator[StreamText | Reply]:
        channel = validate_channel(channel)
        if not isinstance(text, str):
            raise InvalidArgumentsError("message text must be a string", errors=[{"field": "text"}])
        if product_id is not None and (not isinstance(product_id, str) or not 0 < len(product_id) <= 120):
            raise InvalidArgumentsError(
                "product_id must be a product id of 1 to 120 characters",
                errors=[{"field": "product_id", "message": "invalid product id"}],
            )
        bad_key = not isinstance(message_key, str) or not 0 < len(message_key) <= MAX_KEY
        if message_key is not None and bad_key:
            raise InvalidArgumentsError(
                f"message_key must be a string of 1 to {MAX_KEY} characters",
                errors=[{"field": "message_key", "message": "invalid message key"}],
            )
        started = time.perf_counter()
        sid = self._ensure_session(session_id, channel)
        timeout = self.settings.sessions.lock_timeout_seconds
        with self.store.lock(session_id=sid, timeout=timeout) as lease:
            state = self.store.state(session_id=sid)
            previous = recorded_reply(sid, state, message_key) if message_key is not None else None
            if previous is not None:
                log.info("turn replayed", extra={"session_id": sid, "message_key": message_key})
                yield previous
                return
            guarded = check_input(text, settings=self.settings.dialogue)
            if guarded.violation is not None and guarded.violation.code in (
                ViolationCode.TOO_LONG,
                ViolationCode.EMPTY,
            ):
                # Refused before it enters the conversation: nothing is recorded.
                name = "too_long" if guarded.violation.code is ViolationCode.TOO_LONG else "clarify"
                step = TurnStep(kind="guardrail", name=guarded.violation.code.value, ok=False)
                message = guarded.violation.message
                yield Reply(session_id=sid, text=message, mode=state.mode, template=name, steps=(step,))
                return
            turn = self._turn(
                sid, channel, state, guarded, self.executor, product_id=product_id, message_key=message_key
            )
            intent = turn.intent
            flags = tuple(sorted({f.kind.value for f in guarded.flags}))
            if state.mode is Mode.CLOSED:
                turn.record(ModeChange(mode=Mode.BOT, reason="customer wrote again", by="customer"))
                turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
            turn.record(
                UserMessage(
                    text=guarded.text, channel=channel, flags=flags, product_id=product_id, key=message_key
                )
            )
            if turn.state.mode is Mode.AGENT:
                # A person has the conversation: the bot stays silent; the agent sees the message.
                self.store.append(session_id=sid, events=turn.events)
                yield Reply(
                    session_id=sid, text="", mode=Mode.AGENT, intent=intent.intent, steps=tuple(turn.steps)
                )
                return
            draft = self.router.route(turn)
            lease.renew()  # phrasing may wait for the model: keep the conversation's lock
            text_out, source = yield from self._phrase(draft, turn.text, stream=stream)
            turn.record(
                BotReply(
                    text=text_out,
                    products=tuple(card.shown() for card in draft.products),
                    quick_replies=draft.buttons(),
                    citations=draft.citations,
                    source=source,
                    template=draft.template,
                    in_reply_to=message_key,
                )
            )
            if lease.lost or not lease.renew():
                raise SessionBusyError(
                    f"Conversation {sid!r}: the turn outlived its lock and another turn took over; "
                    "nothing of this turn was recorded",
                    session_id=sid,
                )
            self.store.append(session_id=sid, events=turn.events)
        log.info(
            "turn",
            extra={
                "session_id": sid,
                "intent": intent.intent,
                "template": draft.template,
                "source": source.value,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        yield Reply(
            session_id=sid,
            text=text_out,
            products=draft.products,
            quick_replies=draft.buttons(),
            citations=draft.citations,
            mode=turn.state.mode,
            source=source,
            template=draft.template,
            intent=intent.intent,
            steps=tuple(turn.steps),
        )

    def _turn(
        self,
        sid: str,
        channel: str,
        state: SessionState,
        guarded: GuardedInput,
        executor: ToolExecutor,
        *,
        product_id: str | None = None,
        message_key: str | None = None,
    ) -> Turn:
        return Turn(
            session_id=sid,
            channel=channel,
            state=state,
            guarded=guarded,
            entities=extract_all(guarded.text),
            intent=self.matcher.match_guarded(guarded),
            executor=executor,
            now=self._clock(),
            product_id=product_id,
            message_key=message_key,
        )

    def suggest(self, session_id: str) -> Reply:
        """A draft answer to the customer's last message, for the agent who has the conversation.

        The engine decides and phrases it as if the bot were answering (grounding check
        included), on a copy of the state, with tools that change nothing: cart changes and side
        effects are refused in a draft, confirmations are not recorded. Nothing is written.
        """
        sid = validate_session_id(session_id)
        state = self.store.state(session_id=sid)
        last = state.last_user_message
        if last is None:
            raise InvalidArgumentsError("There is no customer message to draft a reply to", session_id=sid)
        guarded = check_input(last.text, settings=self.settings.dialogue)
        turn = self._turn(
            sid,
            last.channel,
            state.model_copy(update={"mode": Mode.BOT}),
            guarded,
            DraftExecutor(self.executor),
            product_id=last.product_id,
        )
        draft = self.router.route(turn)
        phrased = self.responder.respond(draft, user_text=turn.text)
        return Reply(
            session_id=sid,
            text=phrased.text,
            products=draft.products,
            quick_replies=draft.buttons(),
            citations=draft.citations,
            mode=state.mode,
            source=phrased.source,
            template=draft.template,
            intent=turn.intent.intent,
            steps=tuple(turn.steps),
        )

    def _phrase(
        self, draft: Draft, user_text: str, *, stream: bool
    ) -> Generator[StreamText, None, tuple[str, ReplySource]]:
        """Yield streamed text (when ``stream``); return the final text and its source."""
        if not stream:
            phrased = self.responder.respond(draft, user_text=user_text)
            return phrased.text, phrased.source
        chunks: list[Chunk] = []
        for chunk in self.responder.stream(draft, user_text=user_text):
            chunks.append(chunk)
            yield StreamText(chunk.text, chunk.reset)
        after_reset = chunks
        for index, chunk in enumerate(chunks):
            if chunk.reset:
                after_reset = chunks[index:]
        text = "".join(c.text for c in after_reset).strip()
        reset = any(c.reset for c in chunks)
        source = (
            ReplySource.TEMPLATE
            if reset or text == draft.text or not self.responder.wants_llm(draft)
            else ReplySource.LLM
        )
        return text, source


def recorded_reply(sid: str, state: SessionState, key: str) -> Reply | None:
    """The reply already recorded for the message ``key`` (empty when the bot stayed silent,
    e.g. an agent had the conversation); None when that message is new. The conversation
    remembers its last :data:`~assistant.state.KEPT_KEYS` keyed messages, so a client that
    sends several messages again after a lost connection gets each answer once."""
    turn = state.answered(key)
    if turn is None:
        return None
    answer = turn.reply
    if answer is None:
        return Reply(session_id=sid, text="", mode=state.mode, replayed=True)
    cards = tuple(card for card in (shown.card() for shown in answer.products) if card is not None)
    return Reply(
        session_id=sid,
        text=answer.text,
        products=cards,
        quick_replies=answer.quick_replies,
        citations=answer.citations,
        mode=state.mode,
        source=answer.source,
        template=answer.template,
        replayed=True,
    )
