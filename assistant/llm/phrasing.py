"""The phrasing prompt: the chat messages that ask the model to rewrite a templated draft in a
friendly tone, using only the draft's facts. The responder (:mod:`assistant.reply.responder`)
streams the answer and checks it against the facts."""

from __future__ import annotations

from collections.abc import Sequence
from string import Template

from assistant.llm.prompts import prompts
from assistant.llm.protocol import ChatMessage


def _phrase_turn(facts: Sequence[str], text: str, draft: str) -> str:
    listed = "\n".join(f"- {fact}" for fact in facts) or "- (none)"
    return Template(prompts()["phrase"]["user"]).substitute(facts=listed, text=text, draft=draft)


def phrase_messages(*, facts: list[str], draft: str, user_text: str) -> list[ChatMessage]:
    """The chat messages that ask the model to rewrite ``draft`` using only ``facts``."""
    p = prompts()["phrase"]
    messages: list[ChatMessage] = [{"role": "system", "content": p["system"]}]
    for example in p["examples"]:
        messages.append(
            {"role": "user", "content": _phrase_turn(example["facts"], example["text"], example["draft"])}
        )
        messages.append({"role": "assistant", "content": example["reply"]})
    messages.append({"role": "user", "content": _phrase_turn(facts, user_text, draft)})
    return messages
