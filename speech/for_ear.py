"""Replies rewritten for the ear: no markdown, lists read as "First, ...", prices read as
"49 dollars 99", ids spelled, and at most a few products read out (the rest on "more")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from speech.phrases import Currency, Phrases, load_phrases

_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")
_HEADING = re.compile(r"^\s*#+\s*")
_ITEM = re.compile(r"^\s*(?:(\d+)[.)]|[-*\u2022])\s+(.*)$")
_ORDER_ID = re.compile(r"#([A-Za-z])(\d{3,})\b")
_PARENS = re.compile(r"\s*\(([^()]*)\)")
# A parenthesis after a sentence's end ("... the return. (source: Returns, Return window)") is a
# sentence of its own.
_PARENS_AFTER_END = re.compile(r"(?<=[.!?])\s*\(([^()]*)\)")
# A list flattened into a sentence ("The order must be delivered: - If it is pending, ... - If
# ..."): each item is read as a sentence, without its mark.
_INLINE_ITEM = re.compile(r"(?<=[:.;!?])\s+[-*\u2022]\s+")
_SENTENCE_END = re.compile(r"[.!?:;]$")


@dataclass(frozen=True)
class SpokenReply:
    text: str
    more: list[str] = field(default_factory=list)
    """Further list items, already spoken, read when the customer says "more"."""


def _price_words(major: str, minor: str | None, money: Currency) -> str:
    """ "49", "99" -> "49 dollars 99"; "451", "01" -> "451 dollars and 1 cent"; "4", "5" (written
    "$4.5") -> "4 dollars 50"."""
    whole = int(major.replace(",", ""))
    words = f"{whole} {money.major_one if whole == 1 else money.major}"
    cents = int(minor.ljust(2, "0")) if minor else 0
    if cents == 0:
        return words
    if cents >= 10:
        return f"{words} {cents}"
    return f"{words} and {cents} {money.minor_one if cents == 1 else money.minor}"


def speak_prices(text: str, *, currency: str, phrases: Phrases) -> str:
    money = phrases.currencies.get(currency.upper())
    if money is None:
        return text
    symbol = re.escape(money.symbol)

    def by_symbol(match: re.Match[str]) -> str:
        return _price_words(match[1], match[2], money)

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
    line = _INLINE_ITEM.sub(" ", line)
    line = _PARENS_AFTER_END.sub(
        lambda m: f" {_sentence(_capital(m[1].strip()))}" if m[1].strip() else "", line
    )
    line = _PARENS.sub(lambda m: f", {m[1].strip()}," if m[1].strip() else "", line)
    line = re.sub(r"\s+([,.;:!?])", r"\1", line)
    line = re.sub(r",\s*,", ",", line)
    line = re.sub(r",([.!?])", r"\1", line)
    return " ".join(line.split()).strip(" ,")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


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
