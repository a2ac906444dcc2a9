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

#: Breaks that end what is said about one item even when the next words name the same product.
_STRONG_BREAK = re.compile(r"\s+and\s+|[.;:!?]\s")

Mention = tuple[int, int, str]  # start, end, the line's product name (lower case)


def pick_items(
    ctx: Context,
    text: str,
    lines: list[OrderLine],
    *,
    asked: bool,
    values: Mapping[str, Iterable[str]] | None = None,
) -> list[str]:
    """Variant ids of the order lines the customer means: "all of them" (but those named after
    "except"), the products named
    ("the garden hose and the earbuds", "the keyboard and the thermostat"; two lines of one
    product told apart by their option values), else the line whose words the message shares
    most. ``values`` as for :func:`mentions`."""
    if ctx.forms.means_all_items(text):
        left_out = ctx.forms.all_but(text)
        if left_out is not None:  # "all of them except the shoes"
            excluded = _named_lines(ctx, left_out, lines, values) or []
            return [line.variant_id for line in lines if line.variant_id not in excluded]
        return [line.variant_id for line in lines]
    named = _named_lines(ctx, text, lines, values)
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
    found = [m for m in sorted(found) if not _in_option_words(lowered, m, _option_spans(lowered, lines))]
    return _not_values(ctx, lowered, found, _product_values(ctx, lines, values))


def _option_spans(lowered: str, lines: list[OrderLine]) -> list[tuple[int, int]]:
    """Where the lines' option names stand in the text ("water resistance", "compartment")."""
    names = {str(option).lower() for line in lines for option in line.options}
    return [(m.start(), m.end()) for name in names for m in re.finditer(rf"\b{re.escape(name)}\b", lowered)]


def _in_option_words(lowered: str, mention: Mention, spans: list[tuple[int, int]]) -> bool:
    """A product's word inside an option's name ("water" of "water resistance") or right after
    one ("compartment laptop") is not the product."""
    start, end, _ = mention
    return any((a <= start and end <= b) or (b <= start and not lowered[b:start].strip()) for a, b in spans)


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


def _named_lines(
    ctx: Context, text: str, lines: list[OrderLine], values: Mapping[str, Iterable[str]] | None = None
) -> list[str] | None:
    """The lines whose products the text names; [] when a named product has several lines the
    text does not tell apart; None when it names no product. Two lines of one product are told
    apart by the option values said in full at each mention ("the earbuds (black, 6 hours) and
    the earbuds (black, 4 hours)"), else by which line's values the message says most."""
    found = mentions(ctx, text, lines, values)
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
        said = [stretch for (_, _, n), stretch in stretches if n == name.lower()]
        described = [chosen for words in said if (chosen := _described_line(ctx, words, same))]
        if described:  # each mention with every option value of one line says that line
            picked.extend(described)
            continue
        best = _best_line(ctx, text, same)
        if best is None:
            return []
        picked.append(best)
    return list(dict.fromkeys(line.variant_id for line in lines if line.variant_id in picked))


def _described_line(ctx: Context, text: str, same: list[OrderLine]) -> str | None:
    """The one line of ``same`` whose every option value ``text`` says ("the earbuds (black,
    6 hours, IPX7)"); None when no line or several are described so (a wish such as "the
    keyboard in linear, 80%" describes none in full)."""
    full = {
        line.variant_id
        for line in same
        if line.options and all(ctx.options.mentions(text, v, option=k) for k, v in line.options.items())
    }
    return next(iter(full)) if len(full) == 1 else None


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
    stretches = _stretches(text, found)
    about: dict[str, list[str]] = {line.variant_id: [] for line in lines}
    for name in dict.fromkeys(line.name.lower() for line in lines):
        same = [line for line in lines if line.name.lower() == name]
        said = [stretch for (_, _, n), stretch in stretches if n == name]
        for variant_id, words in _share(ctx, said, same).items():
            about[variant_id].extend(words)
    return [" ".join(about[line.variant_id]) for line in lines]


def _share(ctx: Context, said: list[str], same: list[OrderLine]) -> dict[str, list[str]]:
    """The stretches about one product among its lines: a stretch that describes a line in full
    is that line's; the others go one per line, in the order the lines were described ("the
    watch (black) and the watch (silver): the same watch again, and for the watch, gold"),
    or to every line when their count differs."""
    shared: dict[str, list[str]] = {line.variant_id: [] for line in same}
    if len(shared) == 1:
        shared[same[0].variant_id] = list(said)
        return shared
    owners = [_described_line(ctx, words, same) for words in said]
    order = list(dict.fromkeys([*(o for o in owners if o), *shared]))
    loose = [words for words, owner in zip(said, owners, strict=True) if owner is None]
    for words, owner in zip(said, owners, strict=True):
        if owner is not None:
            shared[owner].append(words)
    if len(loose) == len(shared):
        for variant_id, words in zip(order, loose, strict=True):
            shared[variant_id].append(words)
    else:
        for variant_id in shared:
            shared[variant_id].extend(loose)
    return shared


def _stretches(text: str, found: list[Mention]) -> list[tuple[Mention, str]]:
    """Each mention with the text from it (or the start) to the break before the next one. A
    mention of the product just named, with no "and" or full stop between, goes on the same
    stretch ("for the watch, I'd like the same watch again" is about one watch)."""
    lowered = text.lower()
    kept: list[Mention] = []
    for mention in found:
        if kept and kept[-1][2] == mention[2] and not _STRONG_BREAK.search(lowered, kept[-1][1], mention[0]):
            continue
        kept.append(mention)
    cuts = [0]
    for (_, end, _), (start, _, _) in pairwise(kept):
        between = [
            m.start() for m in _BREAK.finditer(lowered, end, start) if _outside_brackets(lowered, m.start())
        ]
        cuts.append(between[-1] if between else start)
    cuts.append(len(text))
    return [(mention, text[cuts[i] : cuts[i + 1]]) for i, mention in enumerate(kept)]


def _outside_brackets(text: str, at: int) -> bool:
    """Whether ``at`` is outside parentheses ("the purifier (medium, HEPA)": the commas are in)."""
    return text.count("(", 0, at) <= text.count(")", 0, at)
