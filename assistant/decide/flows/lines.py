"""Which lines of an order a message means, and which of its words are about each line.

Customers name an order's items the way people do: in full ("the mechanical keyboard"), by the
word that tells one item from the others ("the keyboard and the thermostat"), by an option value
("the blue one"), or all at once ("all of them"). Nothing here knows a catalog: the names and
option values come from the order's own lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise

from assistant.decide.context import Context
from core.words import stems, tokens
from tools.order_results import OrderLine

#: Where the words about one item end and the next begin ("... in red and the same ...").
_BREAK = re.compile(r"\s+and\s+|[,;:]|\.\s|\bfor\s+the\b|\bas\s+for\b", re.I)

Mention = tuple[int, int, str]  # start, end, the line's product name (lower case)


def pick_items(ctx: Context, text: str, lines: list[OrderLine], *, asked: bool) -> list[str]:
    """Variant ids of the order lines the customer means: "all of them", the products named
    ("the garden hose and the earbuds", "the keyboard and the thermostat"; two lines of one
    product told apart by their option values), else the line whose words the message shares
    most."""
    if ctx.forms.means_all_items(text):
        return [line.variant_id for line in lines]
    named = _named_lines(ctx, text, lines)
    if named is not None:
        return named
    stop = ctx.forms.item_stopwords
    said = stems(text, stop=stop)
    scored = []
    for line in lines:
        words = stems(line.name + " " + " ".join(str(v) for v in line.options.values()), stop=stop)
        scored.append((len(words & said), line.variant_id))
    best = max((score for score, _ in scored), default=0)
    tied = [vid for score, vid in scored if score == best]
    if best > 0:
        return tied if len(tied) == 1 else []  # two lines fit equally: ask which
    if len(lines) == 1 and not asked:
        return [lines[0].variant_id]
    return []


def mentions(ctx: Context, text: str, lines: Iterable[OrderLine]) -> list[Mention]:
    """Where ``text`` names each line's product, in order: the whole name, or a word of the name
    that no other product of ``lines`` has ("keyboard" for "Mechanical Keyboard" beside a "Smart
    Thermostat"; "smart" names neither when there is also a "Smart Watch")."""
    names = list(dict.fromkeys(line.name.lower() for line in lines))
    stop = ctx.forms.item_stopwords
    owners: dict[str, set[str]] = {}
    for name in names:
        for stem in stems(name, stop=stop):
            owners.setdefault(stem, set()).add(name)
    lowered = text.lower()
    found: list[Mention] = [
        (m.start(), m.end(), name) for name in names for m in re.finditer(rf"\b{re.escape(name)}\b", lowered)
    ]
    whole = [(start, end) for start, end, _ in found]
    for token in tokens(lowered, keep="-"):
        if len(token.text) < 3 or token.text in stop:
            continue
        owner = owners.get(token.text.rstrip("s"), set())
        inside = any(start <= token.start and token.end <= end for start, end in whole)
        if len(owner) == 1 and not inside:
            found.append((token.start, token.end, next(iter(owner))))
    return sorted(found)


def _named_lines(ctx: Context, text: str, lines: list[OrderLine]) -> list[str] | None:
    """The lines whose products the text names; [] when a named product has several lines the
    text does not tell apart; None when it names no product."""
    named = {name for _, _, name in mentions(ctx, text, lines)}
    by_name: dict[str, list[OrderLine]] = {}
    for line in lines:
        if line.name.lower() in named:
            by_name.setdefault(line.name, []).append(line)
    if not by_name:
        return None
    picked: list[str] = []
    for same in by_name.values():
        if len(same) == 1:
            picked.append(same[0].variant_id)
            continue
        hits = [
            sum(ctx.options.mentions(text, v, option=k) for k, v in line.options.items()) for line in same
        ]
        best = max(hits)
        chosen = {line.variant_id for line, hit in zip(same, hits, strict=True) if hit == best}
        if len(chosen) != 1:  # one variant on two lines is one choice; two variants tied are not
            return []
        picked.extend(chosen)
    return list(dict.fromkeys(line.variant_id for line in lines if line.variant_id in picked))


def segments(ctx: Context, text: str, lines: list[OrderLine]) -> list[str]:
    """The words about each line: every stretch of ``text`` from a mention of its product to the
    next mention of any line's product, cut at the last "and", comma or full stop before it, so
    "the bicycle in red and the same air purifier again" gives "the bicycle in red" and "the same
    air purifier again"; nothing for a line not named when others are; the whole text for every
    line when none is named (or for a single line)."""
    if len(lines) < 2:
        return [text] * len(lines)
    lowered = text.lower()
    found = mentions(ctx, text, lines)
    if not found:
        return [text] * len(lines)
    cuts = [0]
    for (_, end, _), (start, _, _) in pairwise(found):
        between = [
            m.start() for m in _BREAK.finditer(lowered, end, start) if _outside_brackets(lowered, m.start())
        ]
        cuts.append(between[-1] if between else start)
    cuts.append(len(text))
    about: dict[str, list[str]] = {}
    for index, (_, _, name) in enumerate(found):
        about.setdefault(name, []).append(text[cuts[index] : cuts[index + 1]])
    return [" ".join(about.get(line.name.lower(), [])) for line in lines]


def _outside_brackets(text: str, at: int) -> bool:
    """Whether ``at`` is outside parentheses ("the purifier (medium, HEPA)": the commas are in)."""
    return text.count("(", 0, at) <= text.count(")", 0, at)
