"""Knowledge tools: answers from the shop's own policy and FAQ pages, with citations."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.errors import ToolFailedError
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult


class PolicyLookupArgs(ArgsModel):
    question: str = Field(
        min_length=2, max_length=500, description="The customer's question, in their words."
    )
    limit: int = Field(default=3, ge=1, le=10, description="Most passages to return.")


class PolicyPassage(ToolResult):
    page: str = Field(description="Page title to cite, e.g. 'Returns'.")
    source: str = Field(description="Page file name.")
    section: str = Field(description="Heading path inside the page.")
    text: str
    score: float


class PolicyLookupResult(ToolResult):
    passages: list[PolicyPassage]


class PolicyLookup(Tool[PolicyLookupArgs, PolicyLookupResult]):
    name = "policy_lookup"
    description = (
        "Find the passages of the shop's policy and FAQ pages (shipping, returns, exchanges, "
        "payment, privacy) that answer a question; each passage names its page and section."
    )
    args_model = PolicyLookupArgs
    result_model = PolicyLookupResult

    def run(self, args: PolicyLookupArgs, *, ctx: ToolContext, env: ToolEnv) -> PolicyLookupResult:
        if env.search is None:
            raise ToolFailedError("Policy search needs the search index, which is not loaded", tool=self.name)
        hits = env.search.find_policies(query=args.question, k=args.limit)
        return PolicyLookupResult(
            passages=[
                PolicyPassage(page=h.page, source=h.source, section=h.section, text=h.text, score=h.score)
                for h in hits
            ]
        )


TOOLS: list[type[Tool[Any, Any]]] = [PolicyLookup]
