"""Anonymising a conversation's events: the one exception to the append-only log.

A customer's right to be forgotten outweighs the log's immutability, so
:meth:`~assistant.sessions.sql_store.SqlSessionStore.anonymise` rewrites each stored event
through :func:`anonymised`. What stays is the conversation's shape (who spoke when, which tool
ran and whether it worked, mode changes), which keeps the statistics; what goes is everything a
person typed or was shown and every value the conversation learnt: message texts, tool
arguments and results, confirmation summaries, slot values. Every anonymised event is still a
valid event, so the conversation folds and lists as before.
"""

from __future__ import annotations

from assistant.sessions.events import (
    AgentMessage,
    BotReply,
    ConfirmationRequested,
    Event,
    ModeChange,
    SlotSet,
    ToolCall,
    ToolResult,
    UserMessage,
)

REMOVED = "[removed]"


def anonymised(event: Event) -> Event:
    """``event`` without personal data; an event that never carries any comes back unchanged."""
    if isinstance(event, UserMessage):
        return event.model_copy(update={"text": REMOVED, "product_id": None})
    if isinstance(event, BotReply):
        return event.model_copy(
            update={"text": REMOVED, "products": (), "quick_replies": (), "citations": ()}
        )
    if isinstance(event, AgentMessage):
        return event.model_copy(update={"text": REMOVED, "draft": None})
    if isinstance(event, ToolCall):
        return event.model_copy(update={"args": {}})
    if isinstance(event, ToolResult):
        return event.model_copy(update={"result": None, "error_message": None})
    if isinstance(event, SlotSet):
        # None resets a slot to its default: valid for every slot, and it holds nothing.
        return SlotSet(name=event.name, value=None)
    if isinstance(event, ConfirmationRequested):
        return event.model_copy(update={"args": {}, "summary": REMOVED, "token": REMOVED})
    if isinstance(event, ModeChange):
        return event.model_copy(update={"reason": REMOVED})
    return event
