"""Answers to a reply's buttons said in words. By position, to a question asked with choices:
"the second one", "option 2", "2", "the last one" after "Which of these orders do you mean?
1) #W... 2) #W...". The chosen button's own words (its payload, else its label) stand in for
the message, so every form reads such an answer the way it reads a tap on that button. Only
when the last reply offered two or more buttons and no product cards (an ordinal after a
product list means the product: :mod:`assistant.decide.references` reads those), and only when
the message says nothing but the position.

And a plain "yes" to a reply that offered one thing to do (one button) takes it.
"""

from __future__ import annotations

import re

from assistant.decide.turn import Turn
from assistant.sessions.shown import QuickReply
from dialogue_rules.entities.values import Entities, ProductRef, RefKind

# "2", "#2", "number 2", "option 2", "it's 2", "I'll take 2", "2 please"
_BARE = re.compile(
    r"^\W*(?:(?:it'?s|its|i'?ll\s+take|let'?s\s+go\s+with|go\s+with|i\s+want|i'?d\s+like|the)\s+)?"
    r"(?:(?:number|no\.?|option|choice|#)\s*)?(?P<n>\d{1,2})(?:\s+please)?\W*$",
    re.IGNORECASE,
)
_PICK_KINDS = {"product_ref", "quantity"}


def position(text: str, entities: Entities) -> int | None:
    """The 0-based position (negative from the end) a message that says only a position
    names, else None."""
    if any(e.kind not in _PICK_KINDS for e in entities.items):
        return None
    bare = _BARE.match(text)
    if bare:
        return int(bare.group("n")) - 1
    refs = [e.value for e in entities.product_refs if isinstance(e.value, ProductRef)]
    if len(refs) == 1 and refs[0].kind is RefKind.ORDINAL and refs[0].index is not None:
        return refs[0].index
    return None


def _buttons(turn: Turn) -> tuple[QuickReply, ...]:
    """The buttons the last reply offered, unless it showed product cards (then a position or
    a "yes" is about the products)."""
    reply = turn.state.last_bot_reply
    return () if reply is None or reply.products else reply.quick_replies


def picked(turn: Turn) -> str | None:
    """The words of the button the message picks by position, or None."""
    buttons = _buttons(turn)
    index = position(turn.text, turn.entities) if len(buttons) >= 2 else None
    if index is None or not -len(buttons) <= index < len(buttons):
        return None
    chosen = buttons[index]
    return chosen.payload or chosen.label


def offered(turn: Turn) -> str | None:
    """The words of the one button a reply offered ("Cancel order #W1", "Talk to a person"),
    when the message is a plain "yes" to it and nothing else is waiting (no confirmation, no
    question of a form); else None."""
    buttons = _buttons(turn)
    state = turn.state
    if (
        len(buttons) != 1
        or state.pending_confirmation is not None
        or state.active_form is not None
        or turn.intent.intent != "affirm"
        or turn.entities.items
    ):
        return None
    return buttons[0].payload or buttons[0].label
