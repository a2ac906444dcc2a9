"""The responder: a templated draft, optionally phrased by the LLM, always grounding-checked.

Handlers end a turn with a :class:`Draft` (a rendered template plus the facts it states and the
tool results it rests on). :class:`Responder` sends the template's text unless the template
allows phrasing and an LLM is configured; then the model rewrites it from the facts, and
:func:`~assistant.grounding.check_grounding` decides: a rewrite whose every price, stock figure,
status, order id and name is backed by the facts is sent, anything else falls back to the
draft. :meth:`Responder.stream` does the same sentence by sentence, so a channel sees the first
words early and never sees an unchecked sentence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.commands import phrase_messages
from assistant.grounding import FactSheet, GroundingResult, check_grounding, numbers_in
from assistant.llm import LLM, LLMError
from assistant.templates import Rendered
from assistant.types import Citation, ProductCard, QuickReply, ReplySource
from tools.types import FactValue

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Draft:
    """A reply before phrasing: the template's text, and what it is allowed to state."""

    rendered: Rendered
    facts: list[str] = field(default_factory=list)
    values: list[FactValue] = field(default_factory=list)
    products: tuple[ProductCard, ...] = ()
    citations: tuple[Citation, ...] = ()
    quick_replies: tuple[QuickReply, ...] | None = None
    failed: bool = False  # the turn did not understand or could not help (handoff counting)

    @property
    def template(self) -> str:
        return self.rendered.name

    @property
    def text(self) -> str:
        return self.rendered.text

    def buttons(self) -> tuple[QuickReply, ...]:
        return self.rendered.quick_replies if self.quick_replies is None else self.quick_replies

    def sheet(self) -> FactSheet:
        return FactSheet.build(draft=self.text, facts=self.facts, values=self.values)


@dataclass(frozen=True)
class Phrased:
    text: str
    source: ReplySource
    grounding: GroundingResult | None = None


@dataclass(frozen=True)
class Chunk:
    """A piece of streamed reply text; ``reset`` means: discard what was streamed so far."""

    text: str
    reset: bool = False


class Responder:
    def __init__(self, llm: LLM | None, *, max_tokens: int = 96) -> None:
        self.llm = llm
        self.max_tokens = max_tokens

    def wants_llm(self, draft: Draft) -> bool:
        return self.llm is not None and draft.rendered.phrase

    def respond(self, draft: Draft, *, user_text: str) -> Phrased:
        """The final reply text for ``draft``."""
        if not self.wants_llm(draft):
            return Phrased(draft.text, ReplySource.TEMPLATE)
        chunks = list(self.stream(draft, user_text=user_text))
        return self._result(draft, chunks)

    def stream(self, draft: Draft, *, user_text: str) -> Iterator[Chunk]:
        """Checked sentences of the phrased reply as they are generated; on the first sentence
        that fails the check, a reset chunk and then the draft. Without phrasing: the draft."""
        if not self.wants_llm(draft) or self.llm is None:
            yield Chunk(draft.text)
            return
        sheet = draft.sheet()
        messages = phrase_messages(facts=draft.facts or [draft.text], draft=draft.text, user_text=user_text)
        buffer = ""
        sent: list[str] = []
        pieces = self.llm.stream(messages=messages, max_tokens=self.max_tokens, temperature=0.0)
        try:
            for piece in pieces:
                buffer += piece
                *complete, buffer = _SENTENCE_END.split(buffer)
                for sentence in complete:
                    if not self._emit_ok(sentence, sheet, sent, draft):
                        yield from self._fallback(sent, draft)
                        return
                    sent.append(sentence)
                    yield Chunk(sentence if len(sent) == 1 else " " + sentence)
        except LLMError as exc:
            log.warning("phrasing failed, sending the template: %s", exc.message)
            yield from self._fallback(sent, draft)
            return
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # releases the model's lock when we stop early
        tail = buffer.strip()
        if tail:
            if not self._emit_ok(tail, sheet, sent, draft):
                yield from self._fallback(sent, draft)
                return
            sent.append(tail)
            yield Chunk(tail if len(sent) == 1 else " " + tail)
        if not sent:
            yield Chunk(draft.text)
        elif not _keeps_key_facts(" ".join(sent), draft):
            yield Chunk(draft.text, reset=True)

    @staticmethod
    def _emit_ok(sentence: str, sheet: FactSheet, sent: list[str], draft: Draft) -> bool:
        so_far = " ".join([*sent, sentence])
        result = check_grounding(so_far, sheet, draft_length=len(draft.text))
        if not result.ok:
            log.info("phrased reply failed the grounding check: %s", "; ".join(result.problems))
        return result.ok

    @staticmethod
    def _fallback(sent: list[str], draft: Draft) -> Iterator[Chunk]:
        yield Chunk(draft.text, reset=bool(sent))

    @staticmethod
    def _result(draft: Draft, chunks: list[Chunk]) -> Phrased:
        if any(c.reset for c in chunks) or not chunks:
            return Phrased(draft.text, ReplySource.TEMPLATE)
        text = "".join(c.text for c in chunks).strip()
        if text == draft.text:
            return Phrased(draft.text, ReplySource.TEMPLATE)
        final = check_grounding(text, draft.sheet(), draft_length=len(draft.text))
        if not final.ok or not _keeps_key_facts(text, draft):
            return Phrased(draft.text, ReplySource.TEMPLATE, final)
        return Phrased(text, ReplySource.LLM, final)


def _keeps_key_facts(text: str, draft: Draft) -> bool:
    """A rewrite must keep every price and order id of the draft (dropping them is not allowed)."""
    wanted = {n for n in numbers_in(draft.text) if n != n.to_integral_value() or n >= 10}
    return wanted <= numbers_in(text) and all(
        oid.lower() in text.lower() for oid in re.findall(r"#W\d{7}", draft.text)
    )
