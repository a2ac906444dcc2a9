"""Masking what a reply shows of an address on file: enough for the customer to recognise it
("1** M*** St, Springfield, NY 10001"), not enough for someone reading over their shoulder (or
holding a stolen session) to learn where they live. What the customer just typed is shown as
typed; only what the shop had on file is masked."""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Words of a street line kept as they are: they say what kind of line it is, not where.
_KEEP = frozenset(
    [
        "st",
        "street",
        "ave",
        "avenue",
        "rd",
        "road",
        "dr",
        "drive",
        "ln",
        "lane",
        "blvd",
        "boulevard",
        "ct",
        "court",
        "pl",
        "place",
        "way",
        "pkwy",
        "parkway",
        "hwy",
        "highway",
        "ter",
        "terrace",
        "cir",
        "circle",
        "sq",
        "square",
        "apt",
        "apartment",
        "suite",
        "ste",
        "unit",
        "floor",
        "fl",
        "po",
        "box",
        "n",
        "s",
        "e",
        "w",
        "ne",
        "nw",
        "se",
        "sw",
        "north",
        "south",
        "east",
        "west",
    ]
)
_WORD = re.compile(r"[A-Za-z0-9]+")


def mask_street(line: str) -> str:
    """ "445 Maple Drive, Suite 394" -> "4** M**** Drive, Suite 3**": each word keeps its first
    character; street-type words stay whole."""

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.casefold() in _KEEP or len(word) == 1:
            return word
        return word[0] + "*" * (len(word) - 1)

    return _WORD.sub(one, line)


def masked_address(address: Mapping[str, object]) -> dict[str, object]:
    """The address with its street lines masked (city, state, zip and country kept)."""
    masked = dict(address)
    for key in ("address1", "address2"):
        value = masked.get(key)
        if isinstance(value, str) and value:
            masked[key] = mask_street(value)
    return masked
