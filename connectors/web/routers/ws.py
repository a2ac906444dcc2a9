"""The chat WebSocket: typed JSON events both ways, streamed replies, replay after reconnects.

Client events: ``hello`` {session_token?, last_seq?} (optional, first), ``message`` {text,
message_id?, action?: {kind, product_id}} (``action`` when a product card's button sent it),
``typing``, ``ack`` {seq}, ``ping``. Server events: ``session`` {session_id, session_token},
``typing``, ``token`` {text, reset}, ``reply`` {seq, text, quick_replies, citations, template,
in_reply_to}, ``products`` {seq, products}, ``mode`` {seq, mode}, ``agent_message`` {seq,
agent, text}, ``received`` {message_id, replayed}, ``error`` {code, message, in_reply_to?},
``pong``.

A ``message_id`` (the REST API's pattern) makes sending a message again safe: once its turn
is done the server answers ``received``, and a message sent again with the same id after a
dropped connection is not run twice (``received`` with ``replayed: true``; its reply is in the
event log, so a ``hello`` with ``last_seq`` has already brought it). ``reply.in_reply_to`` and
``error.in_reply_to`` name the message they answer.

Every server event about the conversation carries the event log's ``seq``. A client that
reconnects sends the last ``seq`` it saw in ``hello`` and gets every reply, agent message and
mode change after it, so nothing is lost across a dropped connection. A message a support
agent wrote, on any worker, arrives without a reload: the socket reads the log when the
notification bus says its conversation has news (:mod:`assistant.sessions.notify`; within
milliseconds, across processes with Redis or PostgreSQL), and on a slow timer besides
(:func:`~connectors.web.live.safety_poll_seconds`). Bad input gets an ``error`` event; the
connection stays open. Every event is validated against its model in
:mod:`connectors.web.socket_events` (``last_seq`` and ``seq`` are 0 to 2**63-1); a ``message``
that does not validate is answered ``invalid_message`` (with its ``in_reply_to`` when its
``message_id`` is readable), any other event ``invalid_event``.

The first event (normally ``hello``) must come within ``web.ws_hello_timeout_seconds``, and only
pages of allowed origins may open the socket; see :mod:`connectors.web.socket_guard` for the
close codes.

A shop's logged-in customer arrives with the shop's signed token in the upgrade URL
(``/ws/chat?shop_token=<JWT>``; a browser's WebSocket cannot send headers): the conversation is
signed in as that customer when the socket opens and again after a ``hello`` switches
conversations. A token that does not verify gets an ``error`` event and the visitor chats
anonymously; a stored conversation of another customer (a shared browser) is left alone and a
new one starts.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from assistant.engine import Assistant
from assistant.reply.message import Reply, StreamText
from assistant.sessions.events import AgentMessage, BotReply, ModeChange
from connectors.web.event_socket import INTERNAL_ERROR, EventSocket
from connectors.web.live import safety_poll_seconds
from connectors.web.schemas import message_id_of, message_key
from connectors.web.socket_events import CHAT_EVENTS, ChatHello, ChatMessage, ClientEvent
from core.errors import NotFoundError, ShopassistError

router = APIRouter()
log = logging.getLogger(__name__)


class ChatSocket(EventSocket):
    client_events = CHAT_EVENTS

    def __init__(self, ws: WebSocket) -> None:
        super().__init__(ws)
        self.idle_seconds = safety_poll_seconds(
            ws.app.state.settings.web, getattr(ws.app.state, "events", None)
        )
        self.assistant: Assistant = ws.app.state.assistant
        self.max_chars: int = ws.app.state.settings.dialogue.max_message_chars
        self.delivered = 0
        self.client_key = f"ip:{self.client}" if self.client else None

    async def opened(self) -> bool:
        if self.shop_token is not None:
            await self.sign_in(self.assistant)
        if self.session_id is not None:
            await self.announce()
        return True

    def max_event_chars(self) -> int:
        return self.max_chars * 4 + 1024

    async def on_idle(self) -> None:
        await self.deliver_new()

    def watched(self) -> tuple[str | None, int]:
        return self.session_id, self.delivered

    async def failed(self, exc: ShopassistError | None) -> None:
        if isinstance(exc, NotFoundError):
            self.session_id, self.delivered = None, 0  # e.g. the conversation store was reset
            await self.error("invalid_session", "That conversation no longer exists; a new one starts")
            return
        await super().failed(exc)

    async def on_event(self, kind: str, event: ClientEvent) -> None:
        if isinstance(event, ChatHello):
            await self.on_hello(event)
        elif isinstance(event, ChatMessage):
            await self.on_message(event)
        elif kind == "ping":
            await self.send("pong")
        # typing and ack need no answer: acks only confirm what the client has seen

    async def on_hello(self, event: ChatHello) -> None:
        token = event.session_token
        if token is not None and not await self.resume(token):
            return
        self.delivered = event.last_seq
        if await self.sign_in(self.assistant) and token is not None:
            self.delivered = 0  # the stored conversation was another customer's: this one is new
        await self.announce()
        await self.deliver_new()

    async def on_message(self, event: ChatMessage) -> None:
        message_id, text = event.message_id, event.text
        about = {"in_reply_to": message_id} if message_id is not None else {}
        if len(text) > self.max_chars:
            await self.error(
                "message_too_long",
                f"The message is {len(text)} characters; the limit is {self.max_chars}",
                **about,
            )
            return
        try:
            self.limits.check(ip=self.client, session_id=self.session_id)
        except ShopassistError as exc:
            await self.error(exc.code, exc.message, **about)
            return
        product_id = event.action.product_id if event.action is not None else None
        await self.send("typing")
        started = time.perf_counter()
        try:
            reply = await self.turn(text, product_id, message_key(message_id))
        except ShopassistError as exc:
            await self.error(exc.code, exc.message, **about)
            return
        except WebSocketDisconnect:
            # Gone mid-turn: the turn still finishes and is recorded; the client gets its
            # reply from the log after reconnecting (and a message sent again runs once).
            log.info("chat socket closed during a turn", extra={"session_id": self.session_id})
            raise
        except Exception:  # keep the connection: the customer can try again
            log.exception("chat turn failed", extra={"session_id": self.session_id})
            await self.error("internal_error", INTERNAL_ERROR, **about)
            return
        if not reply.replayed:
            self.metrics.observe_reply(reply, "web", time.perf_counter() - started)
        await self.deliver_new(reply)
        if message_id is not None:
            await self.send("received", message_id=message_id, replayed=reply.replayed)

    async def turn(self, text: str, product_id: str | None = None, key: str | None = None) -> Reply:
        if self.session_id is None:
            # The token goes out before the turn runs: a client whose connection drops during
            # its first turn can still send the message again into the same conversation.
            self.session_id = await run_in_threadpool(self.assistant.start_session, channel="web")
            self.limits.count_first(self.session_id)
            await self.announce()
        reply: Reply | None = None
        stream = self.assistant.stream(
            self.session_id,
            text,
            channel="web",
            product_id=product_id,
            message_key=key,
            client=self.client_key,
        )
        async for item in stream:
            if isinstance(item, StreamText):
                await self.send("token", text=item.text, reset=item.reset)
            else:
                reply = item
        if reply is None:  # pragma: no cover - stream always ends with a Reply
            raise RuntimeError("no reply")
        return reply

    async def deliver_new(self, reply: Reply | None = None) -> None:
        """Send every reply, agent message and mode change logged after ``delivered``."""
        if self.session_id is None:
            return
        sid = self.session_id
        events = await run_in_threadpool(
            self.assistant.store.events, session_id=sid, after_seq=self.delivered
        )
        for stored in events:
            event = stored.event
            if isinstance(event, BotReply):
                await self.send(
                    "reply",
                    seq=stored.seq,
                    text=event.text,
                    quick_replies=[q.model_dump(mode="json") for q in event.quick_replies],
                    citations=[c.model_dump(mode="json") for c in event.citations],
                    template=event.template,
                    in_reply_to=message_id_of(event.in_reply_to),
                )
                cards = reply.products if reply is not None and reply.text == event.text else event.products
                if cards:
                    await self.send(
                        "products", seq=stored.seq, products=[c.model_dump(mode="json") for c in cards]
                    )
            elif isinstance(event, AgentMessage):
                await self.send("agent_message", seq=stored.seq, agent=event.agent, text=event.text)
            elif isinstance(event, ModeChange):
                await self.send("mode", seq=stored.seq, mode=event.mode.value, reason=event.reason)
            self.delivered = stored.seq


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket) -> None:
    await ChatSocket(ws).run()
