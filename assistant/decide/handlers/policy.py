"""Policy answers: the shop's policy and FAQ passages that answer a question, with citations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.decide.context import Context
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.sessions.shown import Citation
from core.words import stems
from tools.knowledge import PolicyLookup, PolicyPassage

_MARKDOWN = re.compile(r"[*_`#>]+|\[([^\]]*)\]\([^)]*\)")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_POLICY = re.compile(r"\bpolic(?:y|ies)\b", re.I)


def _plain(text: str) -> str:
    return " ".join(_MARKDOWN.sub(lambda m: m.group(1) or "", text).split())


def rank_passages(question: str, passages: Sequence[PolicyPassage]) -> list[PolicyPassage]:
    """Search order, nudged towards passages whose page or section title the question names;
    a question about a whole policy ("your return policy") prefers the page's opening passage."""
    asked = stems(question)
    general = bool(_POLICY.search(question))

    def score(item: tuple[int, PolicyPassage]) -> float:
        rank, passage = item
        titles = stems(f"{passage.page} {passage.section}")
        bonus = 0.5 * len(asked & titles) + (1.0 if general and not passage.section else 0.0)
        return bonus - rank * 0.3

    return [p for _, p in sorted(enumerate(passages), key=score, reverse=True)]


def policy_answer(turn: Turn, ctx: Context, *, question: str | None = None) -> Draft:
    asked = (question or turn.text)[:500]
    keywords = ctx.terms.query_words(asked, [])  # "what is your return policy?" -> "return policy"
    query = keywords if len(keywords) >= 2 else asked
    outcome = turn.call(PolicyLookup, {"question": query, "limit": 8})
    if isinstance(outcome, ToolError) or not outcome.result.passages:
        return ctx.draft("policy_none", failed=True)
    passages = rank_passages(asked, outcome.result.passages)
    best = passages[0]
    sentences = _SENTENCES.split(_plain(best.text))
    answer = " ".join(sentences[:3])[:600]
    citation = Citation(source=best.source, page=best.page, section=best.section)
    return ctx.draft(
        "policy_answer",
        answer=answer,
        page=best.page + (f", {best.section}" if best.section and best.section != best.page else ""),
        facts=[_plain(p.text)[:600] for p in passages[:2]],
        citations=[citation],
    )
