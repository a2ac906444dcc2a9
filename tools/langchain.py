"""Every registered tool as a LangChain ``StructuredTool``, still behind the policy layer.

The LangChain tool takes the tool's own pydantic argument model as its schema and runs through
:class:`~tools.policy.ToolExecutor`, so authentication, ownership, confirmation and
idempotency hold for LangChain agents exactly as for the dialogue engine. Policy refusals and
bad arguments surface as ``ToolException`` text the agent can read (``handle_tool_error``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.tools import StructuredTool, ToolException

from core.errors import ShopassistError
from tools.base import Tool, ToolContext
from tools.policy import ToolExecutor


def as_langchain_tool(
    executor: ToolExecutor, tool: Tool[Any, Any], context: Callable[[], ToolContext]
) -> StructuredTool:
    def call(**kwargs: Any) -> str:
        try:
            outcome = executor.run(tool.name, kwargs, ctx=context())
        except ShopassistError as exc:
            raise ToolException(f"{exc.code}: {exc.message}") from exc
        return json.dumps(outcome.result.model_dump(mode="json"))

    flags = []
    if tool.requires_auth:
        flags.append("needs an authenticated customer")
    if tool.side_effect:
        flags.append("needs the customer's explicit confirmation")
    description = tool.description + (f" ({'; '.join(flags)})" if flags else "")
    return StructuredTool.from_function(
        func=call,
        name=tool.name,
        description=description,
        args_schema=tool.args_model,
        handle_tool_error=True,
    )


def as_langchain_tools(
    executor: ToolExecutor, context: ToolContext | Callable[[], ToolContext]
) -> list[StructuredTool]:
    """LangChain tools for every tool in the executor's registry.

    ``context`` is the conversation's :class:`ToolContext`, or a callable returning the current
    one (so a long-lived agent sees the customer once they authenticate).
    """
    provider: Callable[[], ToolContext] = context if callable(context) else (lambda: context)
    return [as_langchain_tool(executor, tool, provider) for tool in executor.registry]
