"""The account flow: verify who the customer is on request ("it's jane@example.com")."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.flows.base import NoSlotFlow, Slots
from assistant.decide.turn import Turn
from assistant.reply.draft import Draft


class AuthenticateFlow(NoSlotFlow):
    name = "authenticate"

    def act(self, turn: Turn, ctx: Context, slots: Slots) -> Draft:
        return ctx.draft("auth_ok", name=turn.state.slots.customer_name or "there")


ACCOUNT_FLOWS = (AuthenticateFlow,)
