"""Several tasks in one message ("cancel #W1234567, and return the lamp from #W7654321"): the
words are cut where each task's own words begin, the first task is handled with its words only
(so the second's order id or items do not leak into it), and the others wait in the
conversation (``queued_goals``) until the first is done or dropped. A second task counts only
when its words name an order: two patterns can read one request in two sentences ("I moved.
Please update my address"), and leaving a message whole is the safe mistake."""

from __future__ import annotations

import re
from itertools import pairwise

from assistant.decide.actions import ActionRegistry
from assistant.sessions.slots import QueuedGoal
from dialogue_rules.entities.extract import extract_all
from dialogue_rules.intents import IntentConfig, IntentResult, MatchSource

#: Where one task's words may end and the next one's begin.
_BREAK = re.compile(r"[.;!?]\s+|,?\s+(?:and|also|then|plus)\s+(?:also\s+|then\s+)?|,\s+", re.I)
#: What joins a task's words to the one before ("and also", ". Then").
_JOIN = re.compile(r"^[\s.,;!?]*(?:(?:and|also|then|plus)\b[\s,]*)*", re.I)


def split_goals(
    intent: IntentResult, config: IntentConfig, actions: ActionRegistry, text: str
) -> tuple[str, list[QueuedGoal]]:
    """The words of the task ``intent`` names, and the other tasks of the message with theirs
    (in the order said); ``(text, [])`` for a message with one task."""
    spans: dict[str, tuple[int, int]] = {}
    forms: set[str | None] = set()
    for candidate in intent.candidates:
        form = actions.form_of(candidate.intent)
        if candidate.source is not MatchSource.PATTERN or form is None or form in forms:
            continue
        span = _first_match(config, candidate.intent, text)
        if span is not None and all(_apart(text, span, other) for other in spans.values()):
            spans[candidate.intent] = span
            forms.add(form)
    starts = {name: span[0] for name, span in spans.items()}
    if intent.intent not in starts or len(starts) < 2:
        return text, []
    ordered = sorted(starts, key=starts.__getitem__)
    cuts = [0]
    for before, after in pairwise(ordered):
        breaks = [m.start() for m in _BREAK.finditer(text, starts[before], starts[after])]
        cuts.append(breaks[-1] if breaks else starts[after])
    cuts.append(len(text))
    words = {name: _clause(text[cuts[i] : cuts[i + 1]]) for i, name in enumerate(ordered)}
    first = words[intent.intent]
    queued = [
        QueuedGoal(intent=name, text=words[name])
        for name in ordered
        if name != intent.intent and extract_all(words[name]).order_ids
    ]
    return (first, queued) if queued and first else (text, [])


def _clause(words: str) -> str:
    """A task's words without the "and also" or "Then" that joined them to the one before."""
    return _JOIN.sub("", words).strip(" ,;.")


def _first_match(config: IntentConfig, intent: str, text: str) -> tuple[int, int] | None:
    found = [m.span() for pattern in config.get(intent).patterns if (m := pattern.search(text))]
    return min(found) if found else None


def _apart(text: str, one: tuple[int, int], other: tuple[int, int]) -> bool:
    """Two tasks' words are two requests when they do not overlap and a break stands between
    ("change the address on order #W1" is one request that two patterns read)."""
    first, second = sorted((one, other))
    return first[1] <= second[0] and _BREAK.search(text, first[0], second[0]) is not None
