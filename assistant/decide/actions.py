"""The action registry: what each intent does, in one place.

Every intent of ``intents.yaml`` (and ``unknown``, the matcher's answer when nothing fits) has
exactly one action, of one of four kinds:

- :class:`StartForm`: open a form (``forms.yaml``) and let its flow ask for what it needs;
- :class:`Handle`: a handler answers at once (search, cart, policy, small talk);
- :class:`HandOff`: pass the conversation to a person with a handoff trigger's reply;
- :class:`Special`: anything else, with the router's parts at hand (verification, the LLM
  fallback for ``unknown``).

:meth:`ActionRegistry.check` runs when the assistant is built: an intent without an action, an
action for an intent that does not exist, a form or a handoff trigger that is not defined all
fail at start-up, naming what is wrong. Whether an intent may interrupt an open form is the
intent's own flag (``interrupts_form`` in ``intents.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from assistant.decide.context import Context
from assistant.decide.fallback import Fallback
from assistant.decide.flows.runner import FormRunner
from assistant.decide.handlers import cart, catalog, policy, product, talk
from assistant.decide.handoff import hand_off
from assistant.decide.turn import Turn
from assistant.reply.draft import Draft
from core.errors import RegistryError
from dialogue_rules.handoff import HandoffRules
from dialogue_rules.intents import UNKNOWN_INTENT
from dialogue_rules.registry import RuleRegistry

Handler = Callable[[Turn, Context], Draft]


@dataclass(frozen=True)
class ActionEnv:
    """What an action may use besides the turn (one per assistant)."""

    ctx: Context
    runner: FormRunner
    fallback: Fallback
    handoff: HandoffRules


class Action(Protocol):
    @property
    def name(self) -> str:
        """The intent this action answers."""
        ...

    def run(self, turn: Turn, env: ActionEnv) -> Draft: ...


@dataclass(frozen=True)
class StartForm:
    name: str
    form: str

    def run(self, turn: Turn, env: ActionEnv) -> Draft:
        return env.runner.start(turn, self.form)


@dataclass(frozen=True)
class Handle:
    name: str
    handler: Handler

    def run(self, turn: Turn, env: ActionEnv) -> Draft:
        return self.handler(turn, env.ctx)


@dataclass(frozen=True)
class HandOff:
    name: str
    trigger: str

    def run(self, turn: Turn, env: ActionEnv) -> Draft:
        return hand_off(turn, env.ctx, env.handoff.trigger(self.trigger))


@dataclass(frozen=True)
class Special:
    name: str
    run_with: Callable[[Turn, ActionEnv], Draft]

    def run(self, turn: Turn, env: ActionEnv) -> Draft:
        return self.run_with(turn, env)


class ActionRegistry:
    """Actions by intent name: a second action for an intent fails, an unknown one lists the
    valid names (:class:`~dialogue_rules.registry.RuleRegistry`)."""

    def __init__(self, actions: Iterable[Action]) -> None:
        self._actions: RuleRegistry[Action] = RuleRegistry("intent action", actions)
        self._actions.freeze()

    def get(self, intent: str) -> Action:
        return self._actions.get(intent)

    def names(self) -> list[str]:
        return self._actions.names()

    def form_of(self, intent: str) -> str | None:
        """The form ``intent`` starts, if its action starts one."""
        action = self._actions.get(intent) if intent in self._actions else None
        return action.form if isinstance(action, StartForm) else None

    def check(self, *, intents: Collection[str], forms: Collection[str], triggers: Collection[str]) -> None:
        """Every intent has an action, every action's intent, form and trigger exist."""
        known = {*intents, UNKNOWN_INTENT}
        problems = []
        missing = sorted(known - set(self.names()))
        if missing:
            problems.append(f"intents without an action: {', '.join(missing)}")
        extra = sorted(set(self.names()) - known)
        if extra:
            problems.append(f"actions for intents that do not exist: {', '.join(extra)}")
        for action in self._actions:
            if isinstance(action, StartForm) and action.form not in forms:
                problems.append(f"{action.name}: no form {action.form!r} (forms: {', '.join(sorted(forms))})")
            if isinstance(action, HandOff) and action.trigger not in triggers:
                problems.append(
                    f"{action.name}: no handoff trigger {action.trigger!r} (triggers: {', '.join(triggers)})"
                )
        if problems:
            raise RegistryError("action registry: " + "; ".join(problems), problems=problems)


def _authenticate(turn: Turn, env: ActionEnv) -> Draft:
    """Verify the customer; a second identity in a verified conversation is refused."""
    if turn.state.authenticated:
        switched = env.runner.verify_switch(turn)
        if switched is not None:
            return switched
    return env.runner.start(turn, "authenticate")


def _unknown(turn: Turn, env: ActionEnv) -> Draft:
    return env.fallback.decide(turn)


def default_actions() -> list[Action]:
    """The action of every intent the packaged ``intents.yaml`` defines."""
    return [
        # small talk
        Handle("greet", talk.greet),
        Handle("goodbye", talk.goodbye),
        Handle("thanks", talk.thanks),
        Handle("affirm", talk.thanks),  # a "yes" with nothing pending
        Handle("deny", talk.declined),  # a "no" with nothing pending
        Handle("out_of_scope", talk.off_topic),
        # the catalog
        Handle("search_products", catalog.search),
        Handle("recommend", catalog.recommend),
        Handle("product_details", product.product_details),
        Handle("check_availability", product.availability),
        Handle("price_question", product.price_question),
        Handle("count_options", product.count_question),
        Handle("ask_policy", policy.policy_answer),
        # the cart
        StartForm("add_to_cart", "add_to_cart"),
        Handle("view_cart", cart.view_cart),
        Handle("remove_from_cart", cart.remove_from_cart),
        StartForm("checkout", "checkout"),
        # orders
        StartForm("order_status", "track_order"),
        StartForm("list_orders", "list_orders"),
        StartForm("cancel_order", "cancel_order"),
        StartForm("return_items", "return_items"),
        StartForm("exchange_items", "exchange_items"),
        StartForm("change_address", "change_address"),
        StartForm("change_payment", "change_payment"),
        StartForm("change_default_address", "change_default_address"),
        StartForm("account_info", "account_info"),
        StartForm("data_copy", "data_copy"),
        StartForm("data_deletion", "data_deletion"),
        # the customer and the people behind the shop
        Special("authenticate", _authenticate),
        HandOff("human_handoff", "customer_request"),
        HandOff("complaint", "negative_sentiment"),
        Special(UNKNOWN_INTENT, _unknown),
    ]
