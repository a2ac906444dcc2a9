"""Several tasks in one message ("cancel #W1234567, and return the lamp from #W7654321"): the
words are cut where each task's own words begin, the task said first is handled with its words
only (so the second's order id or items do not leak into it), and the others wait in the
conversation (``queued_goals``) until the first is done or dropped; a task asked for again
leaves the queue. One task on a list of orders ("cancel #W1 and #W2") is that task on each.
Besides the task the message was matched to, a task counts only when its
words name an order: two patterns can read one request in two sentences ("I moved. Please
update my address"), and leaving a message whole is the safe mistake."""

from __future__ import annotations

import re
from itertools import pairwise

from assistant.decide.actions import ActionRegistry
from assistant.sessions.slots import QueuedGoal
from dialogue_rules.entities.extract import extract_all
from dialogue_rules.intents import IntentConfig, IntentResult, MatchSource

#: Where one task's words may end and the next one's begin.
_BREAK = re.compile(r"[.;!?]\s+|,?\s+(?:and|also|then|plus)\s+(?:also\s+|then\s+)?|,\s+", re.I)
_SENTENCE = re.compile(r"[.;!?]\s+")
#: What joins a task's words to the one before ("and also", ". Then").
_JOIN = re.compile(r"^[\s.,;!?]*(?:(?:and|also|then|plus)\b[\s,]*)*", re.I)
_TAIL = re.compile(r"(?:[\s.,;!?]+(?:and|also|then|plus)\b)+[\s.,;!?]*$", re.I)


def split_goals(
    intent: IntentResult, config: IntentConfig, actions: ActionRegistry, text: str
) -> list[QueuedGoal]:
    """The tasks of the message with their own words, in the order said (the same task twice
    counts twice: "cancel #W1. And cancel #W2 too"); fewer than two: the message is one task."""
    if intent.source is not MatchSource.PATTERN or actions.form_of(intent.intent) is None:
        return []
    found: list[tuple[int, int, str]] = []  # where each task's words begin and end, and its intent
    # The message's own pattern hits first (their excludes were read on the whole message),
    # then every other task, higher priority first (excludes read on its own words, below).
    ranked = [c.intent for c in intent.candidates if c.source is MatchSource.PATTERN]
    rest = sorted((r for r in config.intents if r.name not in ranked), key=lambda r: -r.priority)
    for name in dict.fromkeys([intent.intent, *ranked, *(r.name for r in rest)]):
        if actions.form_of(name) is None:
            continue
        for span in _matches(config, name, text):
            if all(_apart(text, span, (start, end)) for start, end, _ in found):
                found.append((*span, name))
    found.sort()
    if len(found) < 2 or all(name != intent.intent for _, _, name in found):
        return _several(_per_order(QueuedGoal(intent=intent.intent, text=text)))
    cuts = [0]
    for (before, _, _), (after, _, _) in pairwise(found):
        # the last sentence end between the two, else the last comma or "and": "For order #W1,
        # ship it to 1 Elm St, Austin. For order #W1, exchange ..." keeps each its order id
        breaks = [m.start() for m in _SENTENCE.finditer(text, before, after)]
        breaks = breaks or [m.start() for m in _BREAK.finditer(text, before, after)]
        cuts.append(breaks[-1] if breaks else after)
    cuts.append(len(text))
    words = [_clause(text[cuts[i] : cuts[i + 1]]) for i in range(len(found))]
    mine = next(i for i, (_, _, name) in enumerate(found) if name == intent.intent)
    tasks = [
        QueuedGoal(intent=name, text=words[i])
        for i, (_, _, name) in enumerate(found)
        if words[i]
        and (i == mine or (extract_all(words[i]).order_ids and not _excluded(config, name, words[i])))
    ]
    return _several([each for task in tasks for each in _per_order(task)])


def _several(tasks: list[QueuedGoal]) -> list[QueuedGoal]:
    return tasks if len(tasks) > 1 else []


#: What may stand between the order ids of one list ("#W1, #W2 and #W3", "#W1 & #W2").
_LIST_GAP = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s*|\s)\s*(?:(?:order|#)\s*)?", re.I)


def _per_order(task: QueuedGoal) -> list[QueuedGoal]:
    """One task per order of a list the task's words name together ("cancel #W1 and #W2
    because I no longer need them": the same task on each order, in the order said). Ids apart
    ("the lamp from #W1 and the socks from #W2") are left to the task."""
    ids = extract_all(task.text).of("order_id")
    if len(ids) < 2:
        return [task]
    gaps = [task.text[a.span[1] : b.span[0]] for a, b in pairwise(ids)]
    if not all(_LIST_GAP.fullmatch(gap) for gap in gaps):
        return [task]
    start, end = ids[0].span[0], ids[-1].span[1]
    head, tail = task.text[:start], task.text[end:]
    return [QueuedGoal(intent=task.intent, text=f"{head}{e.value}{tail}") for e in ids]


def restated(goals: tuple[QueuedGoal, ...], intent: str, text: str) -> list[QueuedGoal]:
    """``goals`` without those the customer has just asked for again (the same task on the same
    order: "No, I meant order #W1. I'd like to return the helmet from #W1")."""
    ids = set(extract_all(text).order_ids)
    return [g for g in goals if not (g.intent == intent and ids & set(extract_all(g.text).order_ids))]


def _clause(words: str) -> str:
    """A task's words without the "and also" or "Then" that joined them to the one before."""
    return _TAIL.sub("", _JOIN.sub("", words)).strip(" ,;.")


def _excluded(config: IntentConfig, intent: str, words: str) -> bool:
    """The task's own excludes veto its words ("I don't want to cancel it")."""
    return any(pattern.search(words) for pattern in config.get(intent).exclude)


def _matches(config: IntentConfig, intent: str, text: str) -> list[tuple[int, int]]:
    """Where the intent's patterns match, first to last, overlaps left out."""
    spans = sorted(m.span() for pattern in config.get(intent).patterns for m in pattern.finditer(text))
    kept: list[tuple[int, int]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _apart(text: str, one: tuple[int, int], other: tuple[int, int]) -> bool:
    """Two tasks' words are two requests when they do not overlap and a break stands between
    ("change the address on order #W1" is one request that two patterns read)."""
    first, second = sorted((one, other))
    return first[1] <= second[0] and _BREAK.search(text, first[0], second[0]) is not None
