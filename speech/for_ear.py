"""Replies rewritten for the ear: no markdown, lists read as "First, ...", prices read as
"49 dollars 99", ids spelled, and at most a few products read out (the rest on "more")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from speech.phrases import Phrases, load_phrases

_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")
_HEADING = re.compile(r"^\s*#+\s*")
_ITEM = re.compile(r"^\s*(?:(\d+)[.)]|[-*\u2022])\s+(.*)$")
_ORDER_ID = re.compile(r"#([A-Za-z])(\d{3,})\b")
_PARENS = re.compile(r"\s*\(([^()]*)\)")
_SENTENCE_END = re.compile(r"[.!?:;]$")


@dataclass(frozen=True)
class SpokenReply:
    text: str
    more: list[str] = field(default_factory=list)
    """Further list items, already spoken, read when the customer says "more"."""


def _price_words(major: str, minor: str | None, *, one: str, many: str) -> str:
    whole = int(major.replace(",", ""))
    words = f"{whole} {one if whole == 1 else many}"
    cents = int(minor) if minor else 0
    if cents == 0:
        return words
    return f"{words} {cents}" if cents >= 10 else f"{words} and {cents} cents"


def speak_prices(text: str, *, currency: str, phrases: Phrases) -> str:
    money = phrases.currencies.get(currency.upper())
    if money is None:
        return text
    symbol = re.escape(money.symbol)

    def by_symbol(match: re.Match[str]) -> str:
        return _price_words(match[1], match[2], one=money.major_one, many=money.major)

    text = re.sub(rf"{symbol}\s?(\d[\d,]*)(?:\.(\d{{1,2}}))?\b", by_symbol, text)
    return re.sub(rf"\b(\d[\d,]*)(?:\.(\d{{1,2}}))?\s*{re.escape(currency.upper())}\b", by_symbol, text)


def spell_ids(text: str) -> str:
    """'#W0000001' -> 'W 0 0 0 0 0 0 1' (read digit by digit)."""
    return _ORDER_ID.sub(lambda m: f"{m[1].upper()} {' '.join(m[2])}", text)


def clean_line(line: str, *, currency: str, phrases: Phrases) -> str:
    line = _LINK.sub(r"\1", line)
    line = _URL.sub("", line)
    line = _HEADING.sub("", line)
    line = _EMPHASIS.sub("", line)
    for pattern, repl in phrases.compiled_rewrites():
        line = pattern.sub(repl, line)
    line = speak_prices(line, currency=currency, phrases=phrases)
    line = spell_ids(line)
    line = _PARENS.sub(lambda m: f", {m[1].strip()}," if m[1].strip() else "", line)
    line = re.sub(r"\s+([,.;:!?])", r"\1", line)
    line = re.sub(r",\s*,", ",", line)
    line = re.sub(r",([.!?])", r"\1", line)
    return " ".join(line.split()).strip(" ,")


def _sentence(text: str) -> str:
    return text if not text or _SENTENCE_END.search(text) else text + "."


def for_ear(
    text: str, *, currency: str = "USD", max_items: int = 3, phrases: Phrases | None = None
) -> SpokenReply:
    """The reply as it should be spoken, and the list items held back for "more"."""
    phrases = phrases or load_phrases()
    spoken: list[str] = []
    items: list[str] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        item = _ITEM.match(raw)
        if item is None:
            spoken.append(_sentence(clean_line(raw, currency=currency, phrases=phrases)))
            continue
        body = _sentence(clean_line(item[2], currency=currency, phrases=phrases))
        if item[1] is not None:
            body = f"{phrases.ordinal(len(items))}, {body}"
        items.append(body)
        if len(items) <= max_items:
            spoken.append(body)
    more = items[max_items:]
    if more:
        spoken.append(more_prompt(len(more), phrases))
    return SpokenReply(text=" ".join(s for s in spoken if s), more=more)


def more_prompt(count: int, phrases: Phrases) -> str:
    return phrases.more_products.format(
        verb="is" if count == 1 else "are", count=count, pronoun="it" if count == 1 else "them"
    )
