"""Telegram message formatting: HTML parse mode with every piece of shop or customer text
escaped, product cards, and splitting at Telegram's length limits."""

from __future__ import annotations

import html
import re

from telegram.constants import MessageLimit

from assistant.reply.formatting import format_price_range
from assistant.sessions.shown import ProductCard

TEXT_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)  # 1024


def escape(text: str) -> str:
    """Text safe inside an HTML-mode message: ``<``, ``>`` and ``&`` become entities."""
    return html.escape(text, quote=False)


def card_html(card: ProductCard, *, currency: str) -> str:
    """A compact product card: bold title, brand, price (range) and availability."""
    price = escape(format_price_range(card.price, card.max_price, currency))
    lines = [f"<b>{escape(card.title)}</b>"]
    if card.brand:
        lines.append(escape(card.brand))
    lines.append(f"{price} · {'in stock' if card.in_stock else 'out of stock'}")
    return "\n".join(lines)


_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+"))


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` cut into pieces whose escaped HTML fits in ``limit`` characters.

    Cuts at the last paragraph break that fits, else a line break, a sentence end, a space, and
    only as a last resort inside a word; an HTML entity is never cut in half because the pieces
    are cut before escaping.
    """
    if limit < 8:
        raise ValueError("limit must be at least 8 characters")
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if len(escape(rest)) <= limit:
            pieces.append(rest)
            break
        cut = _fitting_prefix(rest, limit)
        head = rest[:cut]
        for pattern in _BREAKS:
            ends = [m.start() for m in pattern.finditer(head) if m.start() > 0]
            if ends:
                cut = ends[-1]
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [piece for piece in pieces if piece]


def _fitting_prefix(text: str, limit: int) -> int:
    """The longest prefix length whose escaped form fits in ``limit``."""
    size = 0
    for index, char in enumerate(text):
        size += len(escape(char))
        if size > limit:
            return max(index, 1)
    return len(text)
