"""The Telegram connector: python-telegram-bot's ``Application`` with handlers that pass every
customer message, command and button tap to the :class:`~assistant.engine.Assistant`.

One chat is one conversation (see :mod:`connectors.telegram.chats`). Messages of one chat are
handled in order; different chats are handled concurrently, and a failure in one never stops
the others. It runs behind the web app's webhook route (``shopassist serve``) or on its own
with long polling (``shopassist telegram --polling``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import weakref
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from pydantic import SecretStr
from telegram import BotCommand, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from assistant.engine import Assistant
from assistant.reply.message import Reply
from assistant.sessions.shown import QuickReply
from connectors.telegram.chats import ChatDirectory
from connectors.telegram.delivery import CHANNEL, AgentDelivery
from connectors.telegram.inbox import (
    DueUpdate,
    InboxProcessor,
    InboxQueue,
    UpdateInbox,
    sweep_forever,
)
from connectors.telegram.keyboards import card_keyboard, parse_callback
from connectors.telegram.retry import RetryingLimiter
from connectors.telegram.sender import ReplySender
from connectors.telegram.texts import COMMANDS, TelegramTexts, default_texts
from core.config import Settings
from core.errors import ConfigError, ShopassistError

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
_PRIVATE = filters.ChatType.PRIVATE


def bot_key(token: SecretStr) -> str:
    """The bot's public id (the token's numeric part before ``:``), never the secret itself."""
    head, sep, _rest = token.get_secret_value().partition(":")
    if sep and head.isdigit() and len(head) <= 20:
        return head
    return "h" + hashlib.sha256(token.get_secret_value().encode("utf-8")).hexdigest()[:16]


class TelegramConnector:
    def __init__(
        self,
        *,
        settings: Settings,
        assistant: Assistant,
        directory: ChatDirectory,
        polling: bool = False,
        texts: TelegramTexts | None = None,
        inbox: UpdateInbox | None = None,
    ) -> None:
        """``inbox``: where updates are recorded before they are handled (default: a table in
        the conversation database, beside the chat directory)."""
        tg = settings.telegram
        if tg.token is None or not tg.token.get_secret_value():
            raise ConfigError(
                "The Telegram connector needs a bot token: set SHOPASSIST_TELEGRAM__TOKEN",
                key="telegram.token",
            )
        self.settings = settings
        self.assistant = assistant
        self.directory = directory
        self.texts = texts or default_texts()
        self.inbox = inbox or UpdateInbox(
            directory.engine, bot=bot_key(tg.token), max_attempts=tg.max_update_attempts
        )
        self._queue = InboxQueue(self.inbox)
        api = tg.api_url.rstrip("/")
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            Application.builder()
            .token(tg.token.get_secret_value())
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .update_queue(self._queue)
            .concurrent_updates(InboxProcessor(self._queue, tg.concurrent_updates))
            .rate_limiter(
                RetryingLimiter(
                    max_retries=tg.max_retries,
                    max_wait=tg.max_retry_wait_seconds,
                    # In webhook mode TelegramSupervisor retries the start (getMe) with its own
                    # backoff, in the background; retrying here too would only delay that.
                    not_retried=frozenset() if polling else frozenset({"getMe"}),
                )
            )
        )
        if not polling:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.sender = ReplySender(self.application.bot, self.texts, currency=settings.shop.currency)
        self.delivery = AgentDelivery(
            store=assistant.store,
            directory=directory,
            send=self._send_support_text,
            texts=self.texts,
            poll_seconds=tg.delivery_poll_seconds,
            catch_up=timedelta(hours=tg.catch_up_hours),
        )
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._delivery_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self._add_handlers()

    # Wiring -----------------------------------------------------------------------------
    def _add_handlers(self) -> None:
        app = self.application
        for name in COMMANDS:
            app.add_handler(CommandHandler(name, self._on_command, filters=_PRIVATE))
        app.add_handler(MessageHandler(_PRIVATE & filters.TEXT & ~filters.COMMAND, self._on_text))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(MessageHandler(_PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, self._on_other))
        app.add_error_handler(self._on_error)

    async def start(self) -> None:
        """Start handling updates (webhook mode) and delivering agent messages."""
        await self.application.initialize()
        await self.set_commands()
        await self.register_webhook()
        await self.application.start()
        self.start_delivery()

    async def stop(self) -> None:
        await self.stop_delivery()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        # After a failed start the Application was never initialized, so it leaves its Bot's
        # connections open; closing them again is a no-op.
        await self.application.bot.shutdown()
        self.directory.close()

    def start_delivery(self) -> None:
        """Start delivering agent messages and handling updates a crash left unfinished."""
        if self._delivery_task is None:
            self._delivery_task = asyncio.create_task(self.delivery.run(), name="telegram-delivery")
        if self._sweep_task is None:
            self._sweep_task = asyncio.create_task(
                sweep_forever(
                    self.inbox, self._requeue, every_seconds=self.settings.telegram.inbox_sweep_seconds
                ),
                name="telegram-inbox",
            )

    async def stop_delivery(self) -> None:
        tasks = [t for t in (self._delivery_task, self._sweep_task) if t is not None]
        self._delivery_task = self._sweep_task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _requeue(self, due: DueUpdate) -> bool:
        return await self._queue.requeue(due, self.application.bot)

    async def set_commands(self) -> None:
        """The command menu Telegram shows next to the input field."""
        commands = [BotCommand(name, self.texts.commands[name].description) for name in COMMANDS]
        try:
            await self.application.bot.set_my_commands(commands)
        except TelegramError as exc:
            log.error("telegram setMyCommands failed", extra={"error": str(exc)})

    async def register_webhook(self) -> None:
        """Point Telegram at this server's webhook route, when a public URL is configured."""
        tg = self.settings.telegram
        if not tg.webhook_url:
            return
        secret = tg.webhook_secret.get_secret_value() if tg.webhook_secret else None
        try:
            await self.application.bot.set_webhook(
                tg.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info("telegram webhook registered", extra={"url": tg.webhook_url})
        except TelegramError as exc:
            log.error("telegram setWebhook failed", extra={"error": str(exc)})

    async def enqueue(self, data: dict[str, Any]) -> None:
        """An update from the webhook: recorded in the inbox when this returns (so the webhook
        may acknowledge it), then handled in the background like a polled one."""
        update = Update.de_json(data, self.application.bot)
        await self.application.update_queue.put(update)

    # Handlers ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _chat(self, chat_id: int) -> AsyncIterator[None]:
        """One chat's updates one at a time, in arrival order (asyncio locks are fair)."""
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        async with lock:
            yield

    async def _on_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        chat_id = message.chat.id
        async with self._chat(chat_id):
            meaning = self.sender.meaning(chat_id, message.text)
            reply = await self._turn(chat_id, meaning, key=self.inbox.key(update.update_id))
            if reply is not None:
                await self.sender.reply(chat_id, reply)

    async def _on_command(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        command = self.texts.commands.get(name)
        if command is None:
            return
        chat_id = message.chat.id
        async with self._chat(chat_id):
            if name == "reset":
                await asyncio.to_thread(self.directory.reset, chat_id)
            elif command.engine is None:
                await asyncio.to_thread(self.directory.session_for, chat_id)
            if command.engine is not None:
                reply = await self._turn(chat_id, command.engine, key=self.inbox.key(update.update_id))
                if reply is not None:
                    await self.sender.reply(chat_id, reply)
                return
            text = self.texts.fill(command.reply or "", shop=self.settings.shop.name)
            buttons = tuple(QuickReply(label=label) for label in command.quick_replies)
            await self.sender.with_buttons(chat_id, text, buttons)

    async def _on_callback(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        tap = parse_callback(query.data)
        message = query.message if isinstance(query.message, Message) else None
        if tap is None or message is None or message.chat.type != "private":
            await query.answer(self.texts.callbacks.stale)
            return
        text, toast = self.texts.callbacks.of(tap.action)
        await query.answer(toast)
        chat_id = message.chat.id
        async with self._chat(chat_id):
            reply = await self._turn(
                chat_id, text, product_id=tap.product_id, key=self.inbox.key(update.update_id)
            )
            if reply is None:
                return
            if tap.action == "details" and reply.template == "product_details":
                keyboard = card_keyboard(tap.product_id, self.texts.buttons)
                if await self.sender.replace_card_text(message, reply.text, keyboard):
                    return
            await self.sender.reply(chat_id, reply, with_cards=tap.action != "details")
            if tap.action == "add" and reply.template == "cart_added":
                await self.sender.mark_card(message, tap.product_id)

    async def _on_other(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None:
            await self.sender.text(message.chat.id, self.texts.not_text)

    async def _turn(
        self, chat_id: int, text: str, *, key: str, product_id: str | None = None
    ) -> Reply | None:
        """Run the customer's turn; a failure is told to the customer, never raised. ``key``: the
        update's message key, so an update handled again after a crash is not run twice."""
        session_id = await asyncio.to_thread(self.directory.session_for, chat_id)
        with contextlib.suppress(TelegramError):
            await self.application.bot.send_chat_action(chat_id, ChatAction.TYPING)
        try:
            return await asyncio.to_thread(
                self.assistant.handle,
                session_id,
                text,
                channel=CHANNEL,
                product_id=product_id,
                message_key=key,
                client=f"telegram:{chat_id}",
            )
        except ShopassistError as exc:
            log.warning("telegram turn refused", extra={"session_id": session_id, "code": exc.code})
            await self.sender.text(chat_id, exc.message)
        except Exception:
            log.exception("telegram turn failed", extra={"session_id": session_id})
            await self.sender.text(chat_id, self.texts.failed)
        return None

    async def _send_support_text(self, chat_id: int, text: str) -> None:
        async with self._chat(chat_id):
            await self.sender.text(chat_id, text)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Last resort for one update's failure (after retries): log it; other chats go on."""
        chat_id = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        log.error(
            "telegram update failed",
            exc_info=context.error,
            extra={"chat_id": chat_id, "error": type(context.error).__name__},
        )
