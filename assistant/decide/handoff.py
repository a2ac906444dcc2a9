"""Passing a conversation to a person: the mode changes to ``agent`` and nothing of the bot's is
left pending, so a "yes" given after a person hands back never runs an old action."""

from __future__ import annotations

from assistant.decide.context import Context
from assistant.decide.turn import Turn
from assistant.reply.draft import Draft
from assistant.sessions.slots import ConfirmationOutcome, Mode, SlotName
from dialogue_rules.handoff import HandoffTrigger


def hand_off(turn: Turn, ctx: Context, trigger: HandoffTrigger) -> Draft:
    """Switch the conversation to a person for ``trigger``'s reason and say so."""
    turn.change_mode(Mode.AGENT, reason=trigger.name)
    if turn.state.active_form is not None:
        turn.set_slot(SlotName.ACTIVE_FORM, None)
    turn.resolve_confirmation(ConfirmationOutcome.DECLINED)
    if turn.state.failed_turns:
        turn.set_slot(SlotName.FAILED_TURNS, 0)
    return ctx.draft(trigger.template)
