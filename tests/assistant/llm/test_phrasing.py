from __future__ import annotations

from assistant.llm.phrasing import phrase_messages
from assistant.llm.prompts import prompts


def test_the_phrasing_prompt_gives_the_facts_the_draft_and_the_question_last() -> None:
    facts = ["Trail Runner 2 costs $79.00", "Trail Runner 2 is in stock in red"]
    draft = "The Trail Runner 2 costs $79.00 and is in stock in red."
    messages = phrase_messages(facts=facts, draft=draft, user_text="red running shoes under 80?")
    assert messages[0] == {"role": "system", "content": prompts()["phrase"]["system"]}
    examples = prompts()["phrase"]["examples"]
    assert [m["role"] for m in messages[1:-1]] == ["user", "assistant"] * len(examples)
    last = messages[-1]
    assert last["role"] == "user"
    for fact in facts:
        assert f"- {fact}" in last["content"]
    assert draft in last["content"]
    assert "red running shoes under 80?" in last["content"]


def test_no_facts_are_shown_as_none() -> None:
    last = phrase_messages(facts=[], draft="Hello!", user_text="hi")[-1]
    assert "- (none)" in last["content"]
