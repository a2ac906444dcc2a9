"""What every action, flow and handler reads besides the turn: the reply drafts and the rules.

One :class:`Context` is built per assistant (``Assistant.__init__``) and passed to every decision;
it holds no per-conversation state (that is the :class:`~assistant.decide.turn.Turn`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.reply.draft import Drafts
from core.config import ShopSettings
from dialogue_rules.forms import FormRules
from dialogue_rules.option_values import OptionValues, default_option_values
from dialogue_rules.search_terms import SearchTerms


@dataclass(frozen=True)
class Context(Drafts):
    """:class:`Drafts` in the shop's currency, plus the dialogue rules decisions read."""

    forms: FormRules
    terms: SearchTerms
    shop: ShopSettings
    options: OptionValues = field(default_factory=default_option_values)
    """Which of a product's option values a message names (units and spellings included)."""
