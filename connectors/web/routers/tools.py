from __future__ import annotations

from fastapi import APIRouter

from connectors.web.deps import ExecutorDep
from connectors.web.schemas import ToolInfo

router = APIRouter(prefix="/api/v1/tools", tags=["tools"])


@router.get("", response_model=list[ToolInfo], summary="The commerce tools and their argument schemas")
def list_tools(executor: ExecutorDep) -> list[ToolInfo]:
    return [
        ToolInfo(
            name=tool.name,
            description=tool.description,
            requires_auth=tool.requires_auth,
            side_effect=tool.side_effect,
            parameters=tool.json_schema(),
        )
        for tool in executor.registry
    ]
