"""The tool contract: a name, a description, a pydantic argument model, flags and a ``run``.

A tool is a class. Its metadata sits next to its code and is validated when it is registered
(:func:`validate_tool_class`). Tools never check authentication or confirmation themselves:
the policy layer (:mod:`tools.policy`) does that before ``run`` is called, inside the
transaction ``run`` writes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from core.config import PrivacySettings, ShopSettings
from core.errors import RegistryError
from core.facts import FactValue, facts_of

if TYPE_CHECKING:
    from tools.recommend.model import ModelStore
    from tools.search import ShopSearch


class ArgsModel(BaseModel):
    """Base of every tool's argument model: unknown arguments are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolResult(BaseModel):
    """Base of every tool's result; fields marked as facts (:mod:`core.facts`) are what a reply
    may state."""

    model_config = ConfigDict(extra="forbid")

    def facts(self) -> list[FactValue]:
        """Every value in this result that is marked as a checkable fact."""
        return facts_of(self)


A = TypeVar("A", bound=ArgsModel)
R = TypeVar("R", bound=ToolResult)

TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{2,63}$")


@dataclass(frozen=True)
class ToolContext:
    """Who is asking: the conversation and, once authenticated, the customer.

    ``customer_id`` is set only by the dialogue layer after a successful authentication;
    never from what the customer types. ``confirmation`` is the token the dialogue layer got
    from :meth:`ToolExecutor.prepare` and hands back after the customer said yes.
    ``request`` names this call within the customer message that caused it (the message's
    key and the call's place in the turn): when a turn runs again for the same message (a
    crash before it was recorded, then a redelivery), a store-writing tool called with the
    same request and arguments replays its first result instead of writing twice.
    """

    session_id: str | None = None
    customer_id: str | None = None
    channel: str = "api"
    confirmation: str | None = None
    request: str | None = None

    def confirmed(self, token: str) -> ToolContext:
        return replace(self, confirmation=token)


@dataclass
class ToolEnv:
    """What a running tool may use: the transaction's session, shop settings, a clock, the
    search index when one is loaded (tools fall back to SQL without it) and the shop's trained
    recommendation model, when there is one."""

    db: Session
    shop: ShopSettings
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    search: ShopSearch | None = None
    recommender: ModelStore | None = None


class Tool(Generic[A, R]):
    """Base class of every tool. Subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    description: ClassVar[str]
    args_model: ClassVar[type[ArgsModel]]
    result_model: ClassVar[type[ToolResult]]
    requires_auth: ClassVar[bool] = False
    side_effect: ClassVar[bool] = False
    """Changes the shop's records and runs only after the customer confirmed (orders)."""
    writes: ClassVar[bool] = False
    """Changes the store without a confirmation (the conversation's cart)."""

    def run(self, args: A, *, ctx: ToolContext, env: ToolEnv) -> R:
        raise NotImplementedError

    def summarize(self, args: A, *, ctx: ToolContext, env: ToolEnv) -> str:
        """One sentence listing exactly what a side-effect call will do, for confirmation."""
        shown = ", ".join(f"{k}={v}" for k, v in args.model_dump(exclude_none=True).items())
        return f"{self.name.replace('_', ' ')} ({shown})"

    def idempotency_scope(self, args: A, *, ctx: ToolContext, env: ToolEnv) -> str:
        """Extra state that makes two calls with equal arguments different (e.g. cart contents)."""
        return ""

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return cls.args_model.model_json_schema()


def validate_tool_class(tool: Tool[Any, Any]) -> None:
    """Fail with a clear :class:`RegistryError` when a tool's metadata is incomplete or wrong."""
    cls = type(tool)
    where = f"{cls.__module__}.{cls.__qualname__}"
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise RegistryError(f"{where}: tool name {name!r} must match {TOOL_NAME.pattern}", tool=where)
    description = getattr(cls, "description", None)
    if not isinstance(description, str) or len(description.strip()) < 10:
        raise RegistryError(f"{where}: tool {name!r} needs a description of at least 10 characters")
    for attr, base in (("args_model", ArgsModel), ("result_model", ToolResult)):
        model = getattr(cls, attr, None)
        if not (isinstance(model, type) and issubclass(model, base)):
            raise RegistryError(f"{where}: {attr} of tool {name!r} must subclass {base.__name__}")
    for flag in ("requires_auth", "side_effect", "writes"):
        if not isinstance(getattr(cls, flag), bool):
            raise RegistryError(f"{where}: {flag} of tool {name!r} must be a bool")
    if cls.run is Tool.run:
        raise RegistryError(f"{where}: tool {name!r} does not implement run()")
    for field_name, info in cls.args_model.model_fields.items():
        if not info.description:
            raise RegistryError(
                f"{where}: argument {field_name!r} of tool {name!r} needs a description "
                "(the LLM and the API docs show it)"
            )
