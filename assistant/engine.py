"""The ``Assistant``: the one API every channel calls.

``Assistant.handle(session_id, text, channel=...)`` runs one customer turn under the session's
lock and returns a :class:`~assistant.reply.message.Reply`; ``Assistant.stream(...)`` is the
async variant that yields checked reply text as it is generated and the ``Reply`` last.

Where one turn goes:

1. :mod:`assistant.sessions`: the conversation's state, folded from its event log, under its lock;
2. :mod:`dialogue_rules`: guardrails, entities and the intent of the message;
3. :mod:`assistant.decide`: the router picks the rule, form or action that answers and runs the
   tools through the policy layer, ending in a draft (:mod:`assistant.reply.draft`);
4. :mod:`assistant.reply`: the responder phrases the draft (the LLM may rewrite it; the
   grounding check decides);
5. the turn's events, the customer's message first and the bot's reply last, are appended in
   one transaction. A process killed mid-turn leaves the log as it was before the turn; a
   restarted process folds the same state and goes on where the conversation stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import replace
from datetime import UTC, datetime

from assistant.decide.actions import ActionRegistry
from assistant.decide.context import Context
from assistant.decide.picks import offered
from assistant.decide.router import build_router
from assistant.decide.turn import Turn
from assistant.decide.verification import IdentityChecks, identity_checks
from assistant.llm.admission import turn_waited
from assistant.llm.protocol import LLM
from assistant.reply.draft import Draft
from assistant.reply.message import Reply, StreamText, TurnStep, recorded_reply
from assistant.reply.responder import Phrased, Responder
from assistant.reply.templates import Templates, default_templates
from assistant.sessions.events import MAX_KEY, BotReply, ModeChange, UserMessage
from assistant.sessions.slots import ConfirmationOutcome, Mode, validate_channel, validate_session_id
from assistant.sessions.state import SessionState
from assistant.sessions.store import SessionBusyError, SessionLease, SessionStore
from assistant.sign_in import ShopSignIn
from core.config import Settings
from core.errors import InvalidArgumentsError
from dialogue_rules.entities.extract import extract_all
from dialogue_rules.forms import FormRules, default_form_rules
from dialogue_rules.guardrails import GuardedInput, ViolationCode, check_input
from dialogue_rules.handoff import HandoffRules, default_handoff_rules
from dialogue_rules.intents import IntentMatcher
from dialogue_rules.search_terms import SearchTerms, default_search_terms
from tools.policy import ToolExecutor

log = logging.getLogger(__name__)


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
        actions: ActionRegistry | None = None,
        clock: Callable[[], datetime] | None = None,
        identity: IdentityChecks | None = None,
    ) -> None:
        """Build the turn pipeline once; an action registry that does not fit the intents, forms
        or handoff triggers fails here, at start-up (:meth:`ActionRegistry.check`).

        ``identity``: how customers are verified (the level, and the store-backed failure
        counters and one-time codes); default: ``auth.level`` without counters or codes."""
        self.settings = settings
        self.store = store
        self.executor = executor
        self.matcher = matcher
        self.llm = llm
        forms = forms or default_form_rules()
        ctx = Context(
            templates=templates or default_templates(),
            currency=settings.shop.currency,
            forms=forms,
            terms=terms or default_search_terms(),
            shop=settings.shop,
        )
        self.router = build_router(
            ctx,
            intents=matcher.config,
            handoff=handoff or default_handoff_rules(),
            llm=llm,
            max_failed_turns=settings.dialogue.failed_turns_before_handoff,
            actions=actions,
            identity=identity or identity_checks(settings),
        )
        self.responder = Responder(
            llm,
            max_tokens=settings.dialogue.phrase_max_tokens,
            deadline_seconds=settings.llm.phrase_deadline_ms / 1000,
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        # Streamed turns that run at once (the others wait before starting): more threads than
        # this only fight over the GIL and the cores, and every turn gets slower.
        self._running = threading.BoundedSemaphore(settings.dialogue.concurrent_turns)
        self.shop_sign_in = ShopSignIn(settings, store, executor, self._clock)

    def warm_up(self) -> None:
        """Have the model evaluate its long fixed prompts now, before the first customer needs
        them (a served process calls it in the background at start; without a model, nothing)."""
        self.router.warm_up()

    # Sessions ---------------------------------------------------------------------------------
    def start_session(self, *, channel: str, session_id: str | None = None) -> str:
        return self.store.create(channel=channel, session_id=session_id)

    def sign_in(self, session_id: str | None, *, shop_token: str, channel: str = "web") -> str:
        """Verify the conversation's customer with the shop's own sign-in token (a JWT the shop's
        website signed for its logged-in customer, ``auth.shop_token``); returns the session id,
        creating the session if ``session_id`` is None or new.

        The token's customer must exist in the store; then ``customer_id`` and ``customer_name``
        are recorded under the conversation's lock, so the customer is never asked who they are.
        Signing in again as the same customer records nothing (unless the identity has been idle
        for ``auth.idle_expiry_seconds``: a fresh token renews it). Raises
        :class:`~identity.shop_token.ShopTokensOffError` when no key is configured,
        :class:`~identity.shop_token.InvalidShopTokenError` for a token that does not verify or
        names no customer of the shop, and :class:`PermissionDeniedError` when the conversation
        is already verified as another customer (one customer per conversation). The work is in
        :mod:`assistant.sign_in`.
        """
        customer_id = self.shop_sign_in.customer_of(shop_token)  # before anything is created
        channel = validate_channel(channel)
        sid = self._ensure_session(session_id, channel)
        self.shop_sign_in.record(sid, customer_id, channel)
        return sid

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
        client: str | None = None,
    ) -> Reply:
        """Run one customer turn; returns the reply (empty text while an agent has the session).

        ``product_id``: the message came from that product card's button ("Details", "Add to
        cart"), so "it" and "this one" mean that product even if it is no longer on screen.

        ``message_key``: the channel's id for the message (Telegram's update id, a web client's
        message id). When one of the conversation's recent messages has the same key, it was
        handled already (a redelivery, a client's retry, a replay after a crash): nothing is run
        again and the reply recorded then comes back, marked ``replayed``.

        ``client``: who sent it as the channel knows them ("ip:203.0.113.7", "telegram:12345");
        failed identity checks are counted per client address as well as per customer.
        """
        reply: Reply | None = None
        for item in self._run(
            session_id,
            text,
            channel,
            stream=False,
            product_id=product_id,
            message_key=message_key,
            client=client,
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
        client: str | None = None,
    ) -> Iterator[StreamText | Reply]:
        """Like :meth:`handle`, yielding checked reply text as it is generated, then the Reply."""
        yield from self._run(
            session_id,
            text,
            channel,
            stream=True,
            product_id=product_id,
            message_key=message_key,
            client=client,
        )

    async def stream(
        self,
        session_id: str | None,
        text: str,
        *,
        channel: str = "web",
        product_id: str | None = None,
        message_key: str | None = None,
        client: str | None = None,
    ) -> AsyncIterator[StreamText | Reply]:
        """Async :meth:`handle_stream`: the turn runs in a worker thread of its own, items arrive
        as made. The worker hands items to the event loop (``call_soon_threadsafe``); waiting for
        them in ``asyncio.to_thread`` would hold one of the loop's few default executor threads
        (cores + 4) per running turn, and 50 concurrent turns queued behind six."""
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[StreamText | Reply | BaseException | None] = asyncio.Queue()

        def put(item: StreamText | Reply | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed (shutdown): nobody waits
                loop.call_soon_threadsafe(items.put_nowait, item)

        def work() -> None:
            try:
                queued = time.monotonic()
                # A turn that queued past the model's budget for its slot finds the process
                # saturated: it runs without the model (assistant.llm.admission).
                with self._running, turn_waited(time.monotonic() - queued):
                    for item in self.handle_stream(
                        session_id,
                        text,
                        channel=channel,
                        product_id=product_id,
                        message_key=message_key,
                        client=client,
                    ):
                        put(item)
            except BaseException as exc:
                put(exc)
            finally:
                put(None)

        threading.Thread(target=work, name="assistant-turn", daemon=True).start()
        while True:
            item = await items.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _run(
        self,
        session_id: str | None,
        text: str,
        channel: str,
        *,
        stream: bool,
        product_id: str | None,
        message_key: str | None,
        client: str | None = None,
    ) -> Iterator[StreamText | Reply]:
        channel = validate_channel(channel)
        _check_message(text, product_id, message_key)
        started = time.perf_counter()
        sid = self._ensure_session(session_id, channel)
        with self.store.lock(session_id=sid, timeout=self.settings.sessions.lock_timeout_seconds) as lease:
            state = self.store.state(session_id=sid)
            early = self._answered_or_refused(sid, state, text, message_key)
            if isinstance(early, Reply):
                yield early
                return
            turn = self._turn(sid, channel, state, early, self.executor, product_id, message_key, client)
            self._record_message(turn, channel, product_id, message_key)
            if turn.state.mode is Mode.AGENT:
                # A person has the conversation: the bot stays silent; the agent sees the message.
                self.store.append(session_id=sid, events=turn.events)
                yield Reply(
                    session_id=sid,
                    text="",
                    mode=Mode.AGENT,
                    intent=turn.intent.intent,
                    steps=tuple(turn.steps),
                )
                return
            turn = self._offered(turn)
            draft = self.router.route(turn)
            phrased = yield from self._phrase(draft, turn.text, stream=stream)
            turn.record(_bot_reply(draft, phrased, message_key))
            self._append(sid, turn, lease)
        log.info(
            "turn",
            extra={
                "session_id": sid,
                "intent": turn.intent.intent,
                "template": draft.template,
                "source": phrased.source.value,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        yield _reply(sid, turn, draft, phrased, turn.state.mode)

    def _answered_or_refused(
        self, sid: str, state: SessionState, text: str, message_key: str | None
    ) -> Reply | GuardedInput:
        """The reply recorded for a message sent again, or the refusal of a message that never
        enters the conversation (too long, empty); otherwise the guarded message to run."""
        previous = recorded_reply(sid, state, message_key) if message_key is not None else None
        if previous is not None:
            log.info("turn replayed", extra={"session_id": sid, "message_key": message_key})
            return previous
        guarded = check_input(text, settings=self.settings.dialogue)
        violation = guarded.violation
        if violation is not None and violation.code in (ViolationCode.TOO_LONG, ViolationCode.EMPTY):
            name = "too_long" if violation.code is ViolationCode.TOO_LONG else "clarify"
            step = TurnStep(kind="guardrail", name=violation.code.value, ok=False)
            return Reply(
                session_id=sid, text=violation.message, mode=state.mode, template=name, steps=(step,)
            )
        return guarded

    def _offered(self, turn: Turn) -> Turn:
        """A plain "yes" to a reply that offered one thing to do is a tap on that button
        (:func:`~assistant.decide.picks.offered`): the turn goes on as the button's words, while
        the log keeps the customer's "yes"."""
        words = offered(turn)
        if words is None:
            return turn
        guarded = check_input(words, settings=self.settings.dialogue)
        turn.step("offer", "taken", text=guarded.text)
        return replace(
            turn,
            guarded=guarded,
            entities=extract_all(guarded.text),
            intent=self.matcher.match_guarded(guarded),
        )

    @staticmethod
    def _record_message(turn: Turn, channel: str, product_id: str | None, message_key: str | None) -> None:
        """The customer's message opens the turn's events (reopening a closed conversation)."""
        if turn.state.mode is Mode.CLOSED:
            turn.record(ModeChange(mode=Mode.BOT, reason="customer wrote again", by="customer"))
            turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
        flags = tuple(sorted({f.kind.value for f in turn.guarded.flags}))
        turn.record(
            UserMessage(text=turn.text, channel=channel, flags=flags, product_id=product_id, key=message_key)
        )

    def _append(self, sid: str, turn: Turn, lease: SessionLease) -> None:
        """Append the turn's events, unless the turn outlived its lock (then nothing is kept)."""
        if lease.lost or not lease.renew():
            raise SessionBusyError(
                f"Conversation {sid!r}: the turn outlived its lock and another turn took over; "
                "nothing of this turn was recorded",
                session_id=sid,
            )
        self.store.append(session_id=sid, events=turn.events)

    def _turn(
        self,
        sid: str,
        channel: str,
        state: SessionState,
        guarded: GuardedInput,
        executor: ToolExecutor,
        product_id: str | None = None,
        message_key: str | None = None,
        client: str | None = None,
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
            client=client,
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
        as_bot = state.model_copy(update={"mode": Mode.BOT})
        turn = self._turn(sid, last.channel, as_bot, guarded, self.executor.drafting(), last.product_id)
        draft = self.router.route(turn)
        return _reply(sid, turn, draft, self.responder.respond(draft, user_text=turn.text), state.mode)

    def _phrase(self, draft: Draft, user_text: str, *, stream: bool) -> Generator[StreamText, None, Phrased]:
        """Yield streamed text (when ``stream``); return the final text and its source."""
        if not stream:
            return self.responder.respond(draft, user_text=user_text)
        return (yield from self.responder.stream(draft, user_text=user_text))


def _check_message(text: object, product_id: object, message_key: object) -> None:
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


def _bot_reply(draft: Draft, phrased: Phrased, message_key: str | None) -> BotReply:
    return BotReply(
        text=phrased.text,
        products=tuple(card.shown() for card in draft.products),
        quick_replies=draft.buttons(),
        citations=draft.citations,
        source=phrased.source,
        template=draft.template,
        in_reply_to=message_key,
    )


def _reply(sid: str, turn: Turn, draft: Draft, phrased: Phrased, mode: Mode) -> Reply:
    return Reply(
        session_id=sid,
        text=phrased.text,
        products=draft.products,
        quick_replies=draft.buttons(),
        citations=draft.citations,
        mode=mode,
        source=phrased.source,
        template=draft.template,
        intent=turn.intent.intent,
        steps=tuple(turn.steps),
    )
