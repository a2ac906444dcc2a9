"""Dependencies for the web routers, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from retrieval.index import SearchIndex
from shopassist.config import Settings
from shopassist.errors import ToolFailedError
from shopassist.services import Services
from tools.policy import ToolExecutor


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_executor(services: Annotated[Services, Depends(get_services)]) -> ToolExecutor:
    return services.executor


def get_search_index(services: Annotated[Services, Depends(get_services)]) -> SearchIndex:
    if services.index is None:
        raise ToolFailedError("The search index is not loaded")
    return services.index


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ExecutorDep = Annotated[ToolExecutor, Depends(get_executor)]
SearchIndexDep = Annotated[SearchIndex, Depends(get_search_index)]
