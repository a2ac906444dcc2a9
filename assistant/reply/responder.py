"""The responder: a templated draft, optionally phrased by the LLM, always grounding-checked.

Handlers end a turn with a :class:`~assistant.reply.draft.Draft` (a rendered template plus the
facts it states and the tool results it rests on). :class:`Responder` sends the template's text
unless the template allows phrasing and an LLM is configured; then the model rewrites it from
the facts, and :func:`~assistant.reply.grounding.check_grounding` decides: a rewrite whose every
price, stock figure, status, order id and name is backed by the facts is sent, anything else
falls back to the draft, as does a model busy past the queue budget
(:class:`~assistant.llm.admission.LLMBusyError`). :meth:`Responder.stream` does this sentence by
sentence, so a channel sees the first words early and never sees an unchecked sentence; it ends
by returning the :class:`Phrased` result, which says what was sent and where it came from.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass

from assistant.llm.admission import LLMBusyError
from assistant.llm.phrasing import phrase_messages
from assistant.llm.protocol import LLM, LLMError
from assistant.reply.draft import Draft
from assistant.reply.grounding import FactSheet, check_grounding, numbers_in
from assistant.reply.message import StreamText
from assistant.sessions.shown import ReplySource

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Phrased:
    """The reply text sent, and whether it is the template's or the model's (checked) rewrite."""

    text: str
    source: ReplySource


class Responder:
    def __init__(
        self, llm: LLM | None, *, max_tokens: int = 96, deadline_seconds: float | None = None
    ) -> None:
        """``deadline_seconds``: longest the model may take over a rewrite (``llm.phrase_deadline_ms``);
        past it the stream is closed (freeing the model) and the template is sent. On a loaded
        machine one 72-token rewrite measured over a minute; nobody waits that long for a
        friendlier wording of facts the template already states."""
        self.llm = llm
        self.max_tokens = max_tokens
        self.deadline_seconds = deadline_seconds

    def wants_llm(self, draft: Draft) -> bool:
        return self.llm is not None and draft.rendered.phrase

    def respond(self, draft: Draft, *, user_text: str) -> Phrased:
        """The final reply for ``draft`` (the stream, run to its end)."""
        stream = self.stream(draft, user_text=user_text)
        while True:
            try:
                next(stream)
            except StopIteration as done:
                phrased: Phrased = done.value
                return phrased

    def stream(self, draft: Draft, *, user_text: str) -> Generator[StreamText, None, Phrased]:
        """Checked sentences of the phrased reply as they are generated; on the first sentence
        that fails the check, a reset and then the draft. Returns what was sent in the end."""
        template = Phrased(draft.text, ReplySource.TEMPLATE)
        if self.llm is None or not self.wants_llm(draft):
            yield StreamText(draft.text)
            return template
        sent: list[str] = []
        sheet = draft.sheet()
        with closing(self._sentences(self.llm, draft, user_text)) as sentences:
            for sentence in sentences:
                if sentence is None or not _grounded(" ".join([*sent, sentence]), sheet, draft):
                    yield StreamText(draft.text, reset=bool(sent))
                    return template
                sent.append(sentence)
                yield StreamText(sentence if len(sent) == 1 else " " + sentence)
        text = " ".join(sent).strip()
        if not sent:
            yield StreamText(draft.text)
            return template
        if not _keeps_key_facts(text, draft):
            yield StreamText(draft.text, reset=True)
            return template
        return template if text == draft.text else Phrased(text, ReplySource.LLM)

    def _sentences(self, llm: LLM, draft: Draft, user_text: str) -> Generator[str | None, None, None]:
        """The model's rewrite, one sentence at a time; None when the model failed."""
        messages = phrase_messages(facts=draft.facts or [draft.text], draft=draft.text, user_text=user_text)
        try:
            pieces = llm.stream(messages=messages, max_tokens=self.max_tokens, temperature=0.0)
        except LLMBusyError:
            log.debug("model busy, sending the template")  # counted by the gate; expected under load
            yield None
            return
        except LLMError as exc:
            log.warning("phrasing failed, sending the template: %s", exc.message)
            yield None
            return
        buffer = ""
        deadline = None if self.deadline_seconds is None else time.monotonic() + self.deadline_seconds
        try:
            for piece in pieces:
                if deadline is not None and time.monotonic() > deadline:
                    log.info("phrasing ran past its deadline, sending the template")
                    yield None
                    return
                buffer += piece
                *complete, buffer = _SENTENCE_END.split(buffer)
                yield from complete
        except LLMError as exc:
            log.warning("phrasing failed, sending the template: %s", exc.message)
            yield None
            return
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # releases the model's lock when we stop early
        if buffer.strip():
            yield buffer.strip()


def _grounded(text: str, sheet: FactSheet, draft: Draft) -> bool:
    result = check_grounding(text, sheet, draft_length=len(draft.text))
    if not result.ok:
        log.info("phrased reply failed the grounding check: %s", "; ".join(result.problems))
    return result.ok


def _keeps_key_facts(text: str, draft: Draft) -> bool:
    """A rewrite must keep every price and order id of the draft (dropping them is not allowed)."""
    wanted = {n for n in numbers_in(draft.text) if n != n.to_integral_value() or n >= 10}
    return wanted <= numbers_in(text) and all(
        oid.lower() in text.lower() for oid in re.findall(r"#W\d{7}", draft.text)
    )
