"""The policy layer: the only way tools run.

For every call, inside one database transaction:

1. the arguments are validated against the tool's model (:class:`InvalidArgumentsError`
   names each bad argument);
2. ``requires_auth`` tools need an authenticated customer, and every argument marked
   :class:`~tools.types.Owned` (order ids, payment methods) must belong to that customer;
3. ``side_effect`` tools need a confirmation token from :meth:`ToolExecutor.prepare` that was
   issued for this conversation, this customer, this tool and exactly these arguments;
4. a repeated identical side-effect call replays the stored result instead of acting twice,
   also when two processes run it at the same moment: the second waits for the first to commit
   (PostgreSQL: an advisory lock named by the idempotency key; SQLite: the database's write
   lock, taken as the transaction begins), then replays;
5. the tool runs; on any error nothing it wrote is kept.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import PrivacySettings, ShopSettings
from core.errors import (
    ActionRefusedError,
    AuthenticationRequiredError,
    ConfirmationRequiredError,
    InvalidArgumentsError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
    ShopassistError,
    ToolFailedError,
)
from store.db import Database
from store.locks import begin_writing, hold_advisory_lock
from store.models import IdempotencyRecord, Order, PaymentMethod
from tools.arguments import Owned
from tools.base import Tool, ToolContext, ToolEnv, ToolResult
from tools.registry import ToolRegistry

if TYPE_CHECKING:
    from tools.recommend.model import ModelStore
    from tools.search import ShopSearch

log = logging.getLogger(__name__)

# resource kind -> (model, human label)
OWNED_RESOURCES: dict[str, tuple[Any, str]] = {
    "order": (Order, "order"),
    "payment_method": (PaymentMethod, "payment method"),
}


@dataclass(frozen=True)
class PendingAction:
    """What the dialogue layer shows the customer before a side effect, and the token to run it."""

    tool: str
    args: dict[str, Any]
    summary: str
    token: str
    expires_at: float


R = TypeVar("R", bound=ToolResult)


@dataclass(frozen=True)
class ToolOutcome(Generic[R]):
    """A tool's result, typed by the tool: ``executor.run(GetOrderStatus, ...)`` gives a
    ``ToolOutcome[OrderStatus]``. ``replayed``: an idempotent replay of an earlier call."""

    tool: str
    args: dict[str, Any]
    result: R
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "args": self.args,
            "result": self.result.model_dump(mode="json"),
            "replayed": self.replayed,
        }


def canonical_args(args: BaseModel) -> str:
    return json.dumps(args.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def validate_args(tool: Tool[Any, Any], raw: dict[str, Any] | BaseModel) -> BaseModel:
    if isinstance(raw, tool.args_model):
        return raw
    if isinstance(raw, BaseModel):
        raw = raw.model_dump()
    if not isinstance(raw, dict):
        raise InvalidArgumentsError(f"Arguments of {tool.name} must be a JSON object", tool=tool.name)
    try:
        return tool.args_model.model_validate(raw)
    except ValidationError as exc:
        errors = [
            {
                "argument": ".".join(str(p) for p in err["loc"]) or "(arguments)",
                "problem": err["msg"],
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['argument']}: {e['problem']}" for e in errors)
        raise InvalidArgumentsError(
            f"Invalid arguments for {tool.name}: {detail}", errors=errors, tool=tool.name
        ) from None


class ToolExecutor:
    """Runs tools from a registry against a store, enforcing the policy above."""

    def __init__(
        self,
        registry: ToolRegistry,
        database: Database,
        *,
        shop: ShopSettings,
        secret: bytes,
        confirmation_ttl: float = 900.0,
        search: ShopSearch | None = None,
        privacy: PrivacySettings | None = None,
        recommender: ModelStore | None = None,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the confirmation secret must be at least 16 bytes")
        self.registry = registry
        self.database = database
        self.shop = shop
        self._secret = secret
        self._ttl = confirmation_ttl
        self.search = search
        self.privacy = privacy or PrivacySettings()
        self.recommender = recommender
        self.read_only = False

    def drafting(self) -> ToolExecutor:
        """This executor for drafts (an agent's suggested reply): tools that read run as usual,
        anything that writes (side effects, cart changes) is refused and nothing is written."""
        clone = copy.copy(self)
        clone.read_only = True
        return clone

    def tool(self, tool: type[Tool[Any, Any]] | str) -> Tool[Any, Any]:
        """The registered tool for a name, or for a tool class (which must be what is registered)."""
        if isinstance(tool, str):
            return self.registry.get(tool)
        registered = self.registry.get(tool.name)
        if not isinstance(registered, tool):
            raise RegistryError(
                f"Tool {tool.name!r} is registered as {type(registered).__qualname__}, "
                f"not {tool.__qualname__}",
                tool=tool.name,
            )
        return registered

    def _env(self, session: Session) -> ToolEnv:
        """What a tool running in ``session`` may use."""
        return ToolEnv(
            db=session, shop=self.shop, search=self.search, privacy=self.privacy, recommender=self.recommender
        )

    # Confirmation -------------------------------------------------------------------------
    def _signature(self, tool: str, args: str, scope: str, ctx: ToolContext, expires: int) -> str:
        message = "\x1f".join([tool, args, scope, ctx.session_id or "", ctx.customer_id or "", str(expires)])
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def prepare(
        self, name: type[Tool[Any, Any]] | str, args: dict[str, Any] | BaseModel, *, ctx: ToolContext
    ) -> PendingAction:
        """Check a side-effect call fully and return its summary plus a confirmation token.

        Nothing is written. Raises the same errors the call itself would (bad arguments,
        authentication, ownership), so the customer is never asked to confirm an impossible action.
        """
        tool = self.tool(name)
        parsed = validate_args(tool, args)
        with self.database.session() as session:
            env = self._env(session)
            self._authorize(tool, parsed, ctx, session)
            summary = tool.summarize(parsed, ctx=ctx, env=env)
            scope = tool.idempotency_scope(parsed, ctx=ctx, env=env)
        expires = int(time.time() + self._ttl)
        token = f"{expires}.{self._signature(tool.name, canonical_args(parsed), scope, ctx, expires)}"
        return PendingAction(tool.name, parsed.model_dump(mode="json"), summary, token, float(expires))

    def _check_confirmation(
        self, tool: Tool[Any, Any], args: BaseModel, scope: str, ctx: ToolContext
    ) -> None:
        """The token must be ours, unexpired, and issued for exactly this call.

        ``scope`` is the tool's idempotency scope (e.g. the cart's contents), so a "yes" given
        for one cart never checks out a different one.
        """
        token = ctx.confirmation or ""
        expires_text, _, signature = token.partition(".")
        if not token:
            raise ConfirmationRequiredError(
                f"{tool.name} changes the shop's records and needs the customer's explicit confirmation",
                tool=tool.name,
            )
        try:
            expires = int(expires_text)
        except ValueError:
            raise ConfirmationRequiredError("The confirmation token is malformed", tool=tool.name) from None
        expected = self._signature(tool.name, canonical_args(args), scope, ctx, expires)
        if not hmac.compare_digest(expected, signature):
            raise ConfirmationRequiredError(
                "The confirmation does not match this action; confirm it again", tool=tool.name
            )
        if expires < time.time():
            raise ConfirmationRequiredError("The confirmation has expired; confirm it again", tool=tool.name)

    # Authorization ------------------------------------------------------------------------
    def _authorize(self, tool: Tool[Any, Any], args: BaseModel, ctx: ToolContext, session: Session) -> None:
        if not tool.requires_auth:
            return
        if not ctx.customer_id:
            raise AuthenticationRequiredError(
                f"{tool.name} needs an authenticated customer: identify yourself by email, "
                "or by name and zip code",
                tool=tool.name,
            )
        for field_name, info in type(args).model_fields.items():
            owned = [m for m in info.metadata if isinstance(m, Owned)]
            if not owned:
                continue
            value = getattr(args, field_name)
            values = value if isinstance(value, (list, tuple)) else [value]
            for item in values:
                if item is not None:
                    self._check_owner(owned[0].resource, item, ctx.customer_id, tool.name, session)

    @staticmethod
    def _check_owner(resource: str, key: str, customer_id: str, tool: str, session: Session) -> None:
        model, label = OWNED_RESOURCES[resource]
        row = session.get(model, key)
        if row is None:
            raise NotFoundError(f"There is no {label} {key}", resource=resource, id=key, tool=tool)
        if row.customer_id != customer_id:
            log.warning("refused access to another customer's %s", label, extra={"tool": tool})
            raise PermissionDeniedError(
                f"{label.capitalize()} {key} does not belong to the authenticated customer",
                resource=resource,
                id=key,
                tool=tool,
            )

    # Running ------------------------------------------------------------------------------
    @staticmethod
    def _idempotency_key(tool: Tool[Any, Any], args: BaseModel, ctx: ToolContext, scope: str) -> str:
        material = "\x1f".join([tool.name, ctx.customer_id or "", canonical_args(args), scope])
        return hashlib.sha256(material.encode()).hexdigest()

    @staticmethod
    def _request_key(tool: Tool[Any, Any], args: BaseModel, ctx: ToolContext) -> str | None:
        """A store-writing call's key: its conversation, request and arguments (None: no request)."""
        if ctx.request is None:
            return None
        parts = ["request", tool.name, ctx.session_id or "", ctx.request, canonical_args(args)]
        material = "\x1f".join(parts)
        return hashlib.sha256(material.encode()).hexdigest()

    @overload
    def run(
        self, name: type[Tool[Any, R]], args: dict[str, Any] | BaseModel, *, ctx: ToolContext
    ) -> ToolOutcome[R]: ...
    @overload
    def run(
        self, name: str, args: dict[str, Any] | BaseModel, *, ctx: ToolContext
    ) -> ToolOutcome[ToolResult]: ...
    def run(
        self, name: type[Tool[Any, Any]] | str, args: dict[str, Any] | BaseModel, *, ctx: ToolContext
    ) -> ToolOutcome[Any]:
        """Run a tool (by class: the outcome is typed by its result; or by name) under the policy."""
        tool = self.tool(name)
        if self.read_only and (tool.side_effect or tool.writes):
            raise ActionRefusedError(
                f"{tool.name} changes the shop's records and does not run in a draft", tool=tool.name
            )
        parsed = validate_args(tool, args)
        try:
            return self._run_once(tool, parsed, ctx)
        except IntegrityError:
            if not self._keyed(tool, ctx):
                raise
            # A concurrent identical call committed first: replay its stored result.
            return self._run_once(tool, parsed, ctx)

    @staticmethod
    def _keyed(tool: Tool[Any, Any], ctx: ToolContext) -> bool:
        """Whether the call has an idempotency record (a side effect, or a write for a request)."""
        return tool.side_effect or (tool.writes and ctx.request is not None)

    def _run_once(self, tool: Tool[Any, Any], args: BaseModel, ctx: ToolContext) -> ToolOutcome[Any]:
        dumped = args.model_dump(mode="json")
        with self.database.transaction() as session:
            if self._keyed(tool, ctx):
                # SQLite: the write lock first, so what the call reads (its record, the stock)
                # cannot change before it writes.
                begin_writing(session)
            env = self._env(session)
            self._authorize(tool, args, ctx, session)
            key = None
            if tool.side_effect:
                scope = tool.idempotency_scope(args, ctx=ctx, env=env)
                self._check_confirmation(tool, args, scope, ctx)
                key = self._idempotency_key(tool, args, ctx, scope)
            elif tool.writes:
                key = self._request_key(tool, args, ctx)
            if key is not None:
                # PostgreSQL: an identical call in another process waits here until this one
                # commits, then replays its record instead of running the tool again.
                hold_advisory_lock(session, f"shopassist:idempotency:{key}")
                stored = session.get(IdempotencyRecord, key)
                if stored is not None:
                    log.info("replayed idempotent tool call", extra={"tool": tool.name})
                    return ToolOutcome(
                        tool.name, dumped, tool.result_model.model_validate(stored.result), True
                    )
            try:
                result = tool.run(args, ctx=ctx, env=env)
            except ShopassistError:
                raise
            except IntegrityError:
                raise
            except Exception as exc:
                log.exception("tool %s failed", tool.name)
                raise ToolFailedError(f"{tool.name} failed: {type(exc).__name__}", tool=tool.name) from exc
            if not isinstance(result, tool.result_model):
                raise ToolFailedError(
                    f"{tool.name} returned {type(result).__name__}, not {tool.result_model.__name__}",
                    tool=tool.name,
                )
            if key is not None:
                session.add(
                    IdempotencyRecord(
                        key=key,
                        tool=tool.name,
                        customer_id=ctx.customer_id,
                        result=result.model_dump(mode="json"),
                    )
                )
                session.flush()
        log.info("tool ran", extra={"tool": tool.name, "side_effect": tool.side_effect})
        return ToolOutcome(tool.name, dumped, result)
