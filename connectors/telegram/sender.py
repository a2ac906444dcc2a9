"""Sending the assistant's replies to a chat: text split at Telegram's limit, quick replies as
a reply keyboard, products as compact cards (a photo when the product has one) with buttons."""

from __future__ import annotations

import logging
from collections import OrderedDict

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from assistant.reply.message import Reply
from assistant.sessions.shown import ProductCard, QuickReply
from connectors.telegram.format import CAPTION_LIMIT, TEXT_LIMIT, card_html, escape, split_text
from connectors.telegram.keyboards import card_keyboard, quick_reply_keyboard
from connectors.telegram.texts import TelegramTexts

log = logging.getLogger(__name__)
MAX_CARDS = 5
_REMEMBERED_CHATS = 10_000


class ReplySender:
    def __init__(self, bot: Bot, texts: TelegramTexts, *, currency: str) -> None:
        self.bot = bot
        self.texts = texts
        self.currency = currency
        # Quick-reply labels shown per chat -> what tapping them means (payload). Bounded.
        self._quick: OrderedDict[int, dict[str, str]] = OrderedDict()

    def meaning(self, chat_id: int, text: str) -> str:
        """What a message means: a quick-reply button's payload when its label was tapped."""
        return self._quick.get(chat_id, {}).get(text, text)

    async def text(self, chat_id: int, text: str, *, keyboard: object = None) -> list[Message]:
        """Plain text (escaped), split into as many messages as needed; keyboard on the last."""
        pieces = split_text(text) or [text or "…"]
        sent = []
        for index, piece in enumerate(pieces):
            markup = keyboard if index == len(pieces) - 1 else None
            sent.append(
                await self.bot.send_message(
                    chat_id,
                    escape(piece),
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,  # type: ignore[arg-type]
                    disable_web_page_preview=True,
                )
            )
        return sent

    async def with_buttons(self, chat_id: int, text: str, replies: tuple[QuickReply, ...]) -> None:
        """Text with quick replies as a reply keyboard (remembered: a tap sends the label)."""
        if replies:
            self._remember(chat_id, {q.label: q.value for q in replies})
        if text:
            await self.text(chat_id, text, keyboard=quick_reply_keyboard(replies))

    async def reply(self, chat_id: int, reply: Reply, *, with_cards: bool = True) -> None:
        """The reply's text with its quick replies, then its product cards."""
        await self.with_buttons(chat_id, reply.text, reply.quick_replies)
        if with_cards:
            for card in reply.products[:MAX_CARDS]:
                await self.card(chat_id, card)

    async def card(self, chat_id: int, card: ProductCard) -> Message:
        body = card_html(card, currency=self.currency)
        keyboard = card_keyboard(card.product_id, self.texts.buttons)
        if card.image_url and len(body) <= CAPTION_LIMIT:
            try:
                return await self.bot.send_photo(
                    chat_id, card.image_url, caption=body, parse_mode=ParseMode.HTML, reply_markup=keyboard
                )
            except BadRequest as exc:  # Telegram could not fetch the picture: send the card as text
                log.warning(
                    "product photo refused", extra={"product_id": card.product_id, "error": exc.message}
                )
        return await self.bot.send_message(
            chat_id, body, parse_mode=ParseMode.HTML, reply_markup=keyboard, disable_web_page_preview=True
        )

    async def replace_card_text(
        self, message: Message, text: str, keyboard: InlineKeyboardMarkup | None
    ) -> bool:
        """Show ``text`` in place of a card (its caption for a photo); False if Telegram refused."""
        pieces = split_text(text, CAPTION_LIMIT if message.photo else TEXT_LIMIT)
        if len(pieces) != 1:
            return False
        try:
            if message.photo:
                await message.edit_caption(
                    escape(pieces[0]), parse_mode=ParseMode.HTML, reply_markup=keyboard
                )
            else:
                await message.edit_text(escape(pieces[0]), parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except BadRequest as exc:  # too old to edit, deleted, or unchanged
            log.info("card not edited", extra={"error": exc.message})
            return False
        return True

    async def mark_card(self, message: Message, product_id: str) -> None:
        """Mark the card's add button as done (the product is in the cart)."""
        try:
            await message.edit_reply_markup(card_keyboard(product_id, self.texts.buttons, in_cart=True))
        except BadRequest as exc:
            log.info("card keyboard not edited", extra={"error": exc.message})

    def _remember(self, chat_id: int, labels: dict[str, str]) -> None:
        self._quick[chat_id] = labels
        self._quick.move_to_end(chat_id)
        while len(self._quick) > _REMEMBERED_CHATS:
            self._quick.popitem(last=False)
