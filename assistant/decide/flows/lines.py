"""Which lines of an order a message means, and which of its words are about each line.

Customers name an order's items the way people do: in full ("the mechanical keyboard"), by the
word that tells one item from the others ("the keyboard and the thermostat"), by an option value
("the blue one"), or all at once ("all of them"). Nothing here knows a catalog: the names and
option values come from the order's own lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import pairwise

from assistant.decide.context import Context
from core.words import stems, tokens
from tools.order_results import OrderLine

#: Where the words about one item end and the next begin ("... in red and the same ...").
_BREAK = re.compile(r"\s+and\s+|[,;:]|\.\s|\bfor\s+the\b|\bas\s+for\b", re.I)

#: Words before a product name that make it one ("the laptop"), not an option value ("laptop").
_DETERMINER = re.compile(r"\b(?:the|my|a|an|this|that|these|those|both)\s+$")

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


def mentions(
    ctx: Context, text: str, lines: Iterable[OrderLine], values: Mapping[str, Iterable[str]] | None = None
) -> list[Mention]:
    """Where ``text`` names each line's product, in order: the whole name, or a word of the name
    that no other product of ``lines`` has ("keyboard" for "Mechanical Keyboard" beside a "Smart
    Thermostat"; "smart" names neither when there is also a "Smart Watch").

    A product name that is also an option value of the product named just before it, without
    "the" or "my" in front, is that value ("the backpack in grey, laptop compartment" beside a
    Laptop). ``values`` gives each product's option values (by product name); else the lines'
    own are used."""
    lines = list(lines)
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
    for token in tokens(lowered):
        if len(token.text) < 3 or token.text in stop:
            continue
        owner = owners.get(token.text.rstrip("s"), set())
        inside = any(start <= token.start and token.end <= end for start, end in whole)
        if len(owner) == 1 and not inside:
            found.append((token.start, token.end, next(iter(owner))))
    return _not_values(ctx, lowered, sorted(found), _product_values(ctx, lines, values))


def _product_values(
    ctx: Context, lines: list[OrderLine], values: Mapping[str, Iterable[str]] | None
) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for line in lines:
        given = values.get(line.name) if values is not None else None
        said = line.options.values() if given is None else given
        found.setdefault(line.name.lower(), set()).update(ctx.options.canonical(str(v)) for v in said)
    return found


def _not_values(
    ctx: Context, lowered: str, found: list[Mention], values: dict[str, set[str]]
) -> list[Mention]:
    kept: list[Mention] = []
    for start, end, name in found:
        before = kept[-1][2] if kept else None
        word = ctx.options.canonical(lowered[start:end])
        if (
            before is not None
            and before != name
            and word in values.get(before, set())
            and not _DETERMINER.search(lowered, 0, start)
        ):
            continue
        kept.append((start, end, name))
    return kept


def _named_lines(ctx: Context, text: str, lines: list[OrderLine]) -> list[str] | None:
    """The lines whose products the text names; [] when a named product has several lines the
    text does not tell apart; None when it names no product. Two lines of one product are told
    apart by the option values said with each mention ("the earbuds (6 hours) and the earbuds
    (4 hours)")."""
    found = mentions(ctx, text, lines)
    stretches = _stretches(text, found)
    by_name: dict[str, list[OrderLine]] = {}
    for line in lines:
        if any(name == line.name.lower() for _, _, name in found):
            by_name.setdefault(line.name, []).append(line)
    if not by_name:
        return None
    picked: list[str] = []
    for name, same in by_name.items():
        if len(same) == 1:
            picked.append(same[0].variant_id)
            continue
        said = [stretch for (_, _, n), stretch in zip(found, stretches, strict=True) if n == name.lower()]
        for words in said if len(said) > 1 else [text]:
            chosen = _best_line(ctx, words, same)
            if chosen is None:
                return []
            picked.append(chosen)
    return list(dict.fromkeys(line.variant_id for line in lines if line.variant_id in picked))


def _best_line(ctx: Context, text: str, same: list[OrderLine]) -> str | None:
    """Of lines of one product, the variant whose option values ``text`` says most; None on a tie
    of two variants (one variant on two lines is one choice)."""
    hits = [sum(ctx.options.mentions(text, v, option=k) for k, v in line.options.items()) for line in same]
    best = max(hits)
    chosen = {line.variant_id for line, hit in zip(same, hits, strict=True) if hit == best}
    return next(iter(chosen)) if len(chosen) == 1 else None


def segments(
    ctx: Context, text: str, lines: list[OrderLine], values: Mapping[str, Iterable[str]] | None = None
) -> list[str]:
    """The words about each line: every stretch of ``text`` from a mention of its product to the
    next mention of any line's product, cut at the last "and", comma or full stop before it, so
    "the bicycle in red and the same air purifier again" gives "the bicycle in red" and "the same
    air purifier again"; nothing for a line not named when others are; the whole text for every
    line when none is named (or for a single line). ``values`` as for :func:`mentions`."""
    if len(lines) < 2:
        return [text] * len(lines)
    found = mentions(ctx, text, lines, values)
    if not found:
        return [text] * len(lines)
    about: dict[str, list[str]] = {}
    for (_, _, name), stretch in zip(found, _stretches(text, found), strict=True):
        about.setdefault(name, []).append(stretch)
    return [" ".join(about.get(line.name.lower(), [])) for line in lines]


def _stretches(text: str, found: list[Mention]) -> list[str]:
    """The text from each mention (or the start) to the break before the next one."""
    lowered = text.lower()
    cuts = [0]
    for (_, end, _), (start, _, _) in pairwise(found):
        between = [
            m.start() for m in _BREAK.finditer(lowered, end, start) if _outside_brackets(lowered, m.start())
        ]
        cuts.append(between[-1] if between else start)
    cuts.append(len(text))
    return [text[cuts[i] : cuts[i + 1]] for i in range(len(found))]


def _outside_brackets(text: str, at: int) -> bool:
    """Whether ``at`` is outside parentheses ("the purifier (medium, HEPA)": the commas are in)."""
    return text.count("(", 0, at) <= text.count(")", 0, at)
