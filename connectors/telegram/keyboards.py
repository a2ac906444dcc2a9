"""Buttons: inline keyboards under product cards (their callback data carries the product)
and reply keyboards for the engine's quick replies."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import InlineKeyboardButtonLimit

from assistant.sessions.shown import QuickReply
from connectors.telegram.texts import CALLBACK_ACTIONS, Buttons

CALLBACK_LIMIT = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)  # 64 bytes
_PREFIX = "p1"  # bump when the format changes, so old buttons are recognised as stale
_CODES = {"details": "d", "add": "a", "more": "m"}
_ACTIONS = {code: action for action, code in _CODES.items()}


@dataclass(frozen=True)
class CardTap:
    """A tap on a product card's button."""

    action: str  # one of CALLBACK_ACTIONS
    product_id: str


def callback_data(action: str, product_id: str) -> str | None:
    """The button's callback data, or None when the product id is too long to fit."""
    if action not in CALLBACK_ACTIONS:
        raise ValueError(f"unknown card action {action!r}; use one of {', '.join(CALLBACK_ACTIONS)}")
    data = f"{_PREFIX}:{_CODES[action]}:{product_id}"
    return data if len(data.encode("utf-8")) <= CALLBACK_LIMIT else None


def parse_callback(data: object) -> CardTap | None:
    """The tap a callback's data stands for; None for anything this connector did not send."""
    if not isinstance(data, str) or len(data.encode("utf-8")) > CALLBACK_LIMIT:
        return None
    prefix, _, rest = data.partition(":")
    code, _, product_id = rest.partition(":")
    if prefix != _PREFIX or code not in _ACTIONS or not product_id or not product_id.isprintable():
        return None
    return CardTap(action=_ACTIONS[code], product_id=product_id)


def card_keyboard(product_id: str, labels: Buttons, *, in_cart: bool = False) -> InlineKeyboardMarkup | None:
    """Details / Add to cart / More like this (the middle one marked once the product was added)."""
    rows: list[list[InlineKeyboardButton]] = []
    details, add, more = (callback_data(a, product_id) for a in ("details", "add", "more"))
    if details is None or add is None or more is None:
        return None
    rows.append(
        [
            InlineKeyboardButton(labels.details, callback_data=details),
            InlineKeyboardButton(labels.added if in_cart else labels.add, callback_data=add),
        ]
    )
    rows.append([InlineKeyboardButton(labels.more, callback_data=more)])
    return InlineKeyboardMarkup(rows)


def quick_reply_keyboard(replies: tuple[QuickReply, ...]) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The quick replies as a one-time reply keyboard (two buttons a row); none removes it."""
    if not replies:
        return ReplyKeyboardRemove()
    buttons = [KeyboardButton(reply.label) for reply in replies]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
