"""The admission gate in front of the bundled model: a call that would wait past the queue budget
is refused at once (and counted), a call within it gets the model, and a stream holds the model
until it is closed. The model is held busy by a real llama.cpp stream admitted through the gate
and not yet read."""

from __future__ import annotations

import threading

import pytest

from assistant.llm.admission import AdmittedLLM, LLMBusyError, turn_waited
from assistant.llm.commands import AskClarification, CommandContext, propose_command
from assistant.llm.llama_cpp import LlamaCppLLM
from assistant.llm.protocol import ChatMessage, LLMError
from core.config import LLMSettings
from core.errors import InvalidArgumentsError

pytest_plugins = ("tests.assistant.llm.stub_server",)

HELLO: list[ChatMessage] = [{"role": "user", "content": "Say hello."}]


def test_a_call_past_the_budget_is_refused_and_counted(llm: LlamaCppLLM) -> None:
    gate = AdmittedLLM(llm, budget_seconds=0.05)
    held = gate.stream(messages=HELLO, max_tokens=4)  # another conversation has the model
    try:
        with pytest.raises(LLMBusyError) as refused_chat:
            gate.chat(messages=HELLO, max_tokens=2)
        with pytest.raises(LLMBusyError):
            gate.stream(messages=HELLO, max_tokens=2)  # refused when asked, not at the first piece
    finally:
        held.close()
    assert isinstance(refused_chat.value, LLMError) and refused_chat.value.code == "llm_busy"
    assert gate.counts() == {"admitted": {"stream": 1}, "refused": {"chat": 1, "stream": 1}}
    assert gate.chat(messages=HELLO, max_tokens=2).completion_tokens > 0  # free again
    assert gate.counts()["admitted"] == {"stream": 1, "chat": 1}


def test_a_turn_that_queued_past_the_budget_is_refused_the_idle_model(llm: LlamaCppLLM) -> None:
    gate = AdmittedLLM(llm, budget_seconds=0.3)
    with turn_waited(0.31), pytest.raises(LLMBusyError) as refused:
        gate.chat(messages=HELLO, max_tokens=2)
    assert "turns queued" in refused.value.message
    assert gate.counts() == {"admitted": {}, "refused": {"chat": 1}}
    with turn_waited(0.29):  # within the budget: the idle model answers
        assert gate.chat(messages=HELLO, max_tokens=2).completion_tokens > 0
    assert gate.chat(messages=HELLO, max_tokens=2).completion_tokens > 0  # outside any turn
    assert gate.counts() == {"admitted": {"chat": 2}, "refused": {"chat": 1}}


def test_a_stream_read_to_its_end_or_closed_unread_frees_the_model(llm: LlamaCppLLM) -> None:
    gate = AdmittedLLM(llm, budget_seconds=0.0)
    assert "".join(gate.stream(messages=HELLO, max_tokens=4))
    gate.stream(messages=HELLO, max_tokens=4).close()  # never started
    pieces = gate.stream(messages=HELLO, max_tokens=8)
    next(pieces)
    pieces.close()  # stopped early
    assert gate.chat(messages=HELLO, max_tokens=2).completion_tokens > 0
    assert gate.counts()["refused"] == {}


def test_a_caller_within_the_budget_waits_for_the_model(llm: LlamaCppLLM) -> None:
    gate = AdmittedLLM(llm, budget_seconds=60)
    held = gate.stream(messages=HELLO, max_tokens=4)
    started = threading.Event()
    result: list[int] = []

    def waiter() -> None:
        started.set()
        result.append(gate.chat(messages=HELLO, max_tokens=2).completion_tokens)

    thread = threading.Thread(target=waiter)
    thread.start()
    started.wait()
    assert "".join(held)  # this conversation finishes; the waiter gets the model next
    thread.join(timeout=60)
    assert result and result[0] > 0
    assert gate.counts() == {"admitted": {"stream": 1, "chat": 1}, "refused": {}}


def test_a_busy_model_turns_a_command_proposal_into_the_rules_fallback(llm: LlamaCppLLM) -> None:
    gate = AdmittedLLM(llm, budget_seconds=0.01)
    held = gate.stream(messages=HELLO, max_tokens=4)
    try:
        proposal = propose_command(gate, user_text="something blue for my desk", context=CommandContext())
    finally:
        held.close()
    assert proposal.command == AskClarification(reason="llm_busy") and proposal.reason == "llm_busy"
    assert gate.counts()["refused"] == {"chat": 1}


def test_settings_give_the_budget_and_the_slots(llm: LlamaCppLLM) -> None:
    gate = AdmittedLLM.from_settings(llm, LLMSettings(queue_budget_ms=250, max_concurrent_calls=2))
    assert gate.budget_seconds == 0.25 and gate.slots == 2 and gate.name == llm.name
    first = gate.stream(messages=HELLO, max_tokens=2)
    second = gate.stream(messages=HELLO, max_tokens=2)  # two slots: both admitted
    first.close()
    second.close()
    assert LLMSettings().queue_budget_ms == 300 and LLMSettings().max_concurrent_calls == 1
    with pytest.raises(InvalidArgumentsError):
        AdmittedLLM(llm, budget_seconds=-1)


class _Clock:
    """The gate's clock, moved by hand: hold times and expected waits without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_call_expected_to_wait_past_the_budget_is_refused_without_waiting(llm: LlamaCppLLM) -> None:
    clock = _Clock()
    # A budget long enough that a refusal after waiting it out would not be "at once" (and the
    # test would hang for it): the refusal below must come from the expected wait.
    gate = AdmittedLLM(llm, budget_seconds=600, clock=clock)
    assert gate.expected_wait() == 0.0  # free
    first = gate.stream(messages=HELLO, max_tokens=2)
    assert gate.expected_wait() is None  # busy, and no history yet: nobody can tell
    clock.now += 5.0
    first.close()  # one stream held the model 5 s
    held = gate.stream(messages=HELLO, max_tokens=2)
    clock.now += 1.0
    assert gate.expected_wait() == pytest.approx(4.0)
    gate.budget_seconds = 3.0  # 4 s expected > 3 s budget: refused at once
    with pytest.raises(LLMBusyError):
        gate.chat(messages=HELLO, max_tokens=2)
    assert gate.refused_at_once == 1 and gate.counts()["refused"] == {"chat": 1}
    gate.budget_seconds = 600
    clock.now += 3.5  # 0.5 s left of the typical hold: within the budget, the caller waits
    assert gate.expected_wait() == pytest.approx(0.5)
    threading.Timer(0.2, held.close).start()
    gate.chat(messages=HELLO, max_tokens=2)
    assert gate.refused_at_once == 1 and gate.counts()["admitted"] == {"stream": 2, "chat": 1}
