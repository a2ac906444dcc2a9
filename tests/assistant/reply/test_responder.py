"""The responder keeps an LLM rewrite only when it is grounded, in full and in stream.

Most tests here use ``ScriptedLLM``, an object implementing the ``LLM`` protocol that returns
a fixed text: the point is to feed the grounding check a wrong rewrite on purpose, which the
real model does only by chance. One test runs the real bundled model end to end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.llm.protocol import ChatMessage, Completion, LLMError
from assistant.reply.draft import Drafts
from assistant.reply.responder import Responder
from assistant.reply.templates import default_templates
from assistant.sessions.shown import ReplySource
from tools.catalog import ProductSummary

pytest_plugins = ("tests.assistant.llm.stub_server",)

DRAFTS = Drafts(templates=default_templates(), currency="USD")
LAMP = ProductSummary(
    product_id="P-LAMP",
    title="Arc Desk Lamp",
    brand="Lumenor",
    category="Home Office",
    min_price=Decimal("45.00"),
    max_price=Decimal("45.00"),
    in_stock=True,
)


class ScriptedLLM:
    """Returns ``text`` (streamed word by word); ``fail`` raises LLMError instead."""

    def __init__(self, text: str, *, fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.calls = 0

    @property
    def name(self) -> str:
        return "scripted"

    def chat(self, *, messages: list[ChatMessage], max_tokens: int, **_: object) -> Completion:
        self.calls += 1
        return Completion(self.text, "stop", 10, 10)

    def stream(self, *, messages: list[ChatMessage], max_tokens: int, **_: object) -> Iterator[str]:
        self.calls += 1
        if self.fail:
            raise LLMError("backend down")
        for word in self.text.split(" "):
            yield word + " "


def _draft():
    return DRAFTS.draft(
        "price_answer", title="Arc Desk Lamp", price="$45.00", stock_line=" 3 in stock.", results=[LAMP]
    )


def test_template_only_drafts_never_call_the_llm() -> None:
    llm = ScriptedLLM("anything")
    phrased = Responder(llm).respond(DRAFTS.draft("thanks"), user_text="thanks")
    assert phrased.source is ReplySource.TEMPLATE and llm.calls == 0


def test_grounded_rewrite_is_used() -> None:
    llm = ScriptedLLM("Sure! The Arc Desk Lamp costs $45.00, and 3 are in stock.")
    phrased = Responder(llm).respond(_draft(), user_text="how much is the lamp?")
    assert phrased.source is ReplySource.LLM
    assert phrased.text == "Sure! The Arc Desk Lamp costs $45.00, and 3 are in stock."


def test_wrong_price_falls_back_to_the_template() -> None:
    llm = ScriptedLLM("The Arc Desk Lamp costs $39.00 right now.")
    draft = _draft()
    phrased = Responder(llm).respond(draft, user_text="how much is the lamp?")
    assert phrased.source is ReplySource.TEMPLATE
    assert phrased.text == draft.text == "Arc Desk Lamp costs $45.00. 3 in stock."


def test_dropping_the_price_falls_back() -> None:
    phrased = Responder(ScriptedLLM("The Arc Desk Lamp is lovely.")).respond(_draft(), user_text="price?")
    assert phrased.source is ReplySource.TEMPLATE


def test_backend_error_falls_back() -> None:
    phrased = Responder(ScriptedLLM("x", fail=True)).respond(_draft(), user_text="price?")
    assert phrased.source is ReplySource.TEMPLATE


def test_stream_resets_when_a_later_sentence_is_wrong() -> None:
    llm = ScriptedLLM("The Arc Desk Lamp costs $45.00. It is 20% off today.")
    chunks = list(Responder(llm).stream(_draft(), user_text="price?"))
    assert chunks[0].text == "The Arc Desk Lamp costs $45.00." and not chunks[0].reset
    assert chunks[-1].reset and chunks[-1].text == _draft().text


def test_the_bundled_model_output_is_grounded_or_replaced(llm: LlamaCppLLM) -> None:
    draft = _draft()
    phrased = Responder(llm).respond(draft, user_text="how much is the arc desk lamp?")
    from assistant.reply.grounding import check_grounding

    if phrased.source is ReplySource.LLM:
        assert check_grounding(phrased.text, draft.sheet()).ok
        assert "45.00" in phrased.text
    else:
        assert phrased.text == draft.text


class SlowLLM(ScriptedLLM):
    """Streams its words ``pause`` seconds apart, and records whether its stream was closed."""

    def __init__(self, text: str, pause: float) -> None:
        super().__init__(text)
        self.pause = pause
        self.closed = False

    def stream(self, *, messages: list[ChatMessage], max_tokens: int, **_: object) -> Iterator[str]:
        try:
            for word in self.text.split(" "):
                time.sleep(self.pause)
                yield word + " "
        finally:
            self.closed = True


def test_a_rewrite_past_its_deadline_is_given_up_for_the_template() -> None:
    text = "Sure! The Arc Desk Lamp costs $45.00, and 3 are in stock."
    slow = SlowLLM(text, pause=0.1)
    phrased = Responder(slow, deadline_seconds=0.25).respond(_draft(), user_text="how much is the lamp?")
    assert phrased.source is ReplySource.TEMPLATE and phrased.text == _draft().text
    assert slow.closed  # the model is freed for the next turn
    in_time = Responder(SlowLLM(text, pause=0.01), deadline_seconds=30).respond(_draft(), user_text="price?")
    assert in_time.source is ReplySource.LLM and in_time.text == text
