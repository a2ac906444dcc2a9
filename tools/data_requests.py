"""Customers' data rights in chat: a verified customer asks for a copy of their data or for its
deletion. Both go through the policy layer with a confirmation, like any side effect, and
queue a request for the operator (``shopassist customers requests``); a deletion is approved at
once when ``privacy.self_service_deletion`` is on, and the next sweep carries it out."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.errors import AuthenticationRequiredError
from core.facts import Id, Status
from store.data_requests import queue_in
from store.models import DataRequestKind, DataRequestStatus
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult


class DataRequestArgs(ArgsModel):
    pass


class DataRequestResult(ToolResult):
    request_id: Id
    kind: str = Field(description="export (a copy) or forget (deletion).")
    status: Status = Field(description="pending (waits for the shop), approved, done or rejected.")
    approved: bool = Field(description="Approved already (self-service deletion).")


class _DataRequestTool(Tool[DataRequestArgs, DataRequestResult]):
    kind: DataRequestKind
    args_model = DataRequestArgs
    result_model = DataRequestResult
    requires_auth = True
    side_effect = True

    def run(self, args: DataRequestArgs, *, ctx: ToolContext, env: ToolEnv) -> DataRequestResult:
        if not ctx.customer_id:
            raise AuthenticationRequiredError(f"{self.name} needs an authenticated customer", tool=self.name)
        info = queue_in(
            env.db,
            customer_id=ctx.customer_id,
            kind=self.kind,
            privacy=env.privacy,
            session_id=ctx.session_id,
            now=env.now(),
        )
        return DataRequestResult(
            request_id=info.id,
            kind=info.kind.value,
            status=info.status.value,
            approved=info.status is DataRequestStatus.APPROVED,
        )


class RequestDataCopy(_DataRequestTool):
    name = "request_data_copy"
    description = (
        "Ask the shop for a copy of everything it holds about the authenticated customer "
        "(profile, orders, conversations), sent by the shop to the email address on file."
    )
    kind = DataRequestKind.EXPORT

    def summarize(self, args: DataRequestArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        return "Ask the shop for a copy of your personal data (profile, orders and conversations)."


class RequestDataDeletion(_DataRequestTool):
    name = "request_data_deletion"
    description = (
        "Ask the shop to delete the authenticated customer's personal data: profile and "
        "conversations are anonymised; order rows are kept with their totals for bookkeeping."
    )
    kind = DataRequestKind.FORGET

    def summarize(self, args: DataRequestArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        return (
            "Delete your personal data: your name, email, addresses, payment details and "
            "conversations are removed; orders are kept with their totals for bookkeeping. "
            "This cannot be undone."
        )


TOOLS: list[type[Tool[Any, Any]]] = [RequestDataCopy, RequestDataDeletion]
