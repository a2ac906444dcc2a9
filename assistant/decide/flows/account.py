"""Account flows: verify who the customer is on request ("it's jane@example.com"), say what is
on file (payment methods, gift card balances, default address), and change the customer's
default address (the one new orders ship to; a pending order's own shipping
address is the ``change_address`` flow's)."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.base import Filled, FlowBase, NoSlotFlow, Slots, confirm, no_question, refusal
from assistant.decide.turn import ToolError, Turn
from assistant.reply.draft import Draft
from assistant.reply.formatting import address_line
from core.masking import masked_address
from tools.customer import ChangeDefaultAddress, DefaultAddressResult, GetCustomerProfile
from tools.data_requests import DataRequestResult, RequestDataCopy, RequestDataDeletion
from tools.policy import ToolOutcome


class AuthenticateFlow(NoSlotFlow):
    name = "authenticate"

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        return ctx.draft("auth_ok", name=turn.state.slots.customer_name or "there")


class AccountInfoFlow(NoSlotFlow):
    """What the shop has on file: payment methods (gift cards with their balance) and the
    default address, for the verified customer only."""

    name = "account_info"

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        outcome = turn.call(GetCustomerProfile, {})
        if isinstance(outcome, ToolError):
            return refusal(ctx, outcome)
        profile = outcome.result
        default = next((a for a in profile.addresses if a.is_default), None)
        return ctx.draft(
            "account_info",
            methods="; ".join(m.label for m in profile.payment_methods) or "none",
            address=address_line(masked_address(default.model_dump())) if default else "none on file",
            results=[profile],
        )


class ChangeDefaultAddressFlow(FlowBase):
    name = "change_default_address"
    tools = (ChangeDefaultAddress,)

    def fill(self, turn: Turn, ctx: Context, slots: Slots, requested: str | None) -> Filled:
        if "address" in slots:
            return Filled()
        address = ctx.forms.address(turn.text)
        if address is not None:
            return Filled({"address": address})
        if requested == "address":  # asked for it, and the answer is not an address
            return Filled(problem=ctx.draft("ask_default_address", failed=True), problem_slot="address")
        return Filled()

    def ask(self, turn: Turn, ctx: Context, slots: Slots, slot: str) -> Draft:
        if slot != "address":
            raise no_question(self.name, slot)
        return ctx.draft("ask_default_address")

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        return confirm(turn, ctx, ChangeDefaultAddress, {"address": slots["address"]})

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[DefaultAddressResult]) -> Draft:
        result = outcome.result
        return ctx.draft("default_address_done", address=address_line(result.address), results=[result])


class DataCopyFlow(NoSlotFlow):
    """A verified customer's request for a copy of their data, confirmed, then queued."""

    name = "data_copy"
    tools = (RequestDataCopy,)

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        return confirm(turn, ctx, RequestDataCopy, {})

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[DataRequestResult]) -> Draft:
        return ctx.draft("data_copy_done", results=[outcome.result])


class DataDeletionFlow(NoSlotFlow):
    """A verified customer's request to delete their data, confirmed, then queued for the
    operator (or approved at once with self-service deletion)."""

    name = "data_deletion"
    tools = (RequestDataDeletion,)

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        return confirm(turn, ctx, RequestDataDeletion, {})

    def done(self, turn: Turn, ctx: Context, outcome: ToolOutcome[DataRequestResult]) -> Draft:
        template = "data_deletion_approved" if outcome.result.approved else "data_deletion_queued"
        return ctx.draft(template, results=[outcome.result])


ACCOUNT_FLOWS = (AuthenticateFlow, AccountInfoFlow, ChangeDefaultAddressFlow, DataCopyFlow, DataDeletionFlow)
