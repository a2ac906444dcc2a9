"""Delivery of what happens on the support side to Telegram chats: messages agents write in
the console, and an agent joining, handing back or closing the conversation.

The conversation log is the source: every ``delivery_poll_seconds`` the loop asks the store
for Telegram sessions with new events, and sends each agent message and agent mode change the
chat has not had yet. The chat's cursor (``delivered_seq``) is claimed in the database before
sending, so two workers never send the same message; a send that fails puts the cursor back
and the next poll tries again. A failure in one chat never stops delivery to the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from telegram.error import Forbidden

from assistant.sessions.events import AgentMessage, Event, ModeChange
from assistant.sessions.slots import Mode
from assistant.sessions.store import SessionStore
from connectors.telegram.chats import ChatDirectory, ChatLink
from connectors.telegram.texts import TelegramTexts
from support.desk import AGENT_PREFIX

log = logging.getLogger(__name__)
CHANNEL = "telegram"
_SLACK = timedelta(seconds=5)  # clock steps and commits that land just after a poll
SendText = Callable[[int, str], Awaitable[None]]


def agent_text(event: Event, texts: TelegramTexts) -> str | None:
    """What the customer is told about a support-side event, or None (not theirs to see)."""
    if isinstance(event, AgentMessage):
        return texts.fill(texts.agent_message, agent=event.agent, text=event.text)
    if isinstance(event, ModeChange) and event.by.startswith(AGENT_PREFIX):
        agent = event.by.removeprefix(AGENT_PREFIX)
        if event.mode is Mode.AGENT:
            return texts.fill(texts.mode.agent_joined, agent=agent)
        if event.mode is Mode.BOT:
            return texts.mode.bot_again
        return texts.mode.closed
    return None


class AgentDelivery:
    def __init__(
        self,
        *,
        store: SessionStore,
        directory: ChatDirectory,
        send: SendText,
        texts: TelegramTexts,
        poll_seconds: float = 1.0,
        catch_up: timedelta = timedelta(hours=24),
    ) -> None:
        self.store = store
        self.directory = directory
        self.send = send
        self.texts = texts
        self.poll_seconds = poll_seconds
        self._since = datetime.now(UTC) - catch_up
        self._retry: set[str] = set()

    async def run(self) -> None:
        """Poll until cancelled; an error in one round is logged and the next round goes on."""
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telegram delivery round failed")
            await asyncio.sleep(self.poll_seconds)

    async def poll_once(self) -> int:
        """One round; returns how many messages were sent."""
        started = datetime.now(UTC)
        summaries = await asyncio.to_thread(
            self.store.list_sessions, channel=CHANNEL, updated_after=self._since - _SLACK, limit=10_000
        )
        wanted = {s.session_id for s in summaries if s.last_seq > 0} | self._retry
        links = await asyncio.to_thread(self.directory.links_for, sorted(wanted))
        last_seq = {s.session_id: s.last_seq for s in summaries}
        self._retry = set()
        sent = 0
        for session_id, link in links.items():
            if last_seq.get(session_id, link.delivered_seq + 1) <= link.delivered_seq:
                continue
            try:
                sent += await self._deliver(link)
            except Exception:
                self._retry.add(session_id)
                log.exception("telegram delivery failed", extra={"session_id": session_id})
        self._since = started
        return sent

    async def _deliver(self, link: ChatLink) -> int:
        stored = await asyncio.to_thread(
            self.store.events, session_id=link.session_id, after_seq=link.delivered_seq
        )
        if not stored:
            return 0
        top = stored[-1].seq
        if not await asyncio.to_thread(self.directory.claim, link, top):
            return 0  # another worker delivers these
        sent = 0
        for item in stored:
            text = agent_text(item.event, self.texts)
            if text is None:
                continue
            try:
                await self.send(link.chat_id, text)
            except Forbidden:  # the customer blocked the bot: nothing can reach them
                log.warning("telegram chat unreachable", extra={"session_id": link.session_id})
                return sent
            except Exception:
                # Put the cursor back to just before this event: the next round sends it again.
                claimed = ChatLink(link.chat_id, link.session_id, top)
                await asyncio.to_thread(self.directory.release, claimed, item.seq - 1)
                raise
            sent += 1
        return sent
