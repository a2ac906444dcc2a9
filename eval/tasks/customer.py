"""A rule-based simulated customer for the tau tasks.

The customer knows what a person in the task would know: who they are (from the instruction),
their orders, the products in them, and what they want changed (the task's ground-truth writes,
turned back into words: product names and option values, never item ids). They read each reply
as a person would, by its words, not by the template that produced it, and answer the question
it asks. Wording varies with the seed (greetings, phrasings, whether a reason or a payment
method is said up front), so repeated trials of one task are different conversations.

The customer gives up after the same reply comes back three times, or after ``max_turns``.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.tasks.tasks import Task, TaskAction

_CONFIRM = re.compile(
    r"\b(?:confirm|shall i (?:go ahead|proceed)|should i (?:go ahead|proceed)|\(yes/no\))", re.I
)
_DONE = re.compile(
    r"\b(?:is cancelled|has been cancelled|is registered|will now ship|has been (?:changed|updated|modified)|"
    r"is now (?:paid|updated|changed))\b",
    re.I,
)
_REFUSED = re.compile(r"\bI can'?t do that\b", re.I)
_ASKS_IDENTITY = re.compile(r"\b(?:verify|email address|zip code)\b", re.I)
_ASKS_ORDER = re.compile(r"\b(?:which (?:of (?:these|your) )?orders?|order number|order id)\b", re.I)
_ASKS_REASON = re.compile(r"\b(?:why|reason|no longer needed)\b", re.I)
_ASKS_ITEMS = re.compile(r"\b(?:which items?|what items?)\b", re.I)
_ASKS_NEW = re.compile(r"\b(?:instead of|which one would you like|which (?:option|version|variant))\b", re.I)
_ASKS_ADDRESS = re.compile(r"\baddress\b", re.I)
_ASKS_PAYMENT = re.compile(r"\b(?:payment method|pay with|refund to)\b", re.I)


@dataclass(frozen=True)
class TauData:
    """The shop as its customers know it: products (names, options), orders, accounts."""

    products: dict[str, Any]
    orders: dict[str, Any]
    users: dict[str, Any]

    @classmethod
    def load(cls, data_dir: Path) -> TauData:
        def read(name: str) -> dict[str, Any]:
            loaded: dict[str, Any] = json.loads((Path(data_dir) / name).read_text(encoding="utf-8"))
            return loaded

        return cls(read("products.json"), read("orders.json"), read("users.json"))

    def variant(self, item_id: str) -> tuple[str, dict[str, str]]:
        """The product name and options of a variant (an item id)."""
        for product in self.products.values():
            found = product["variants"].get(item_id)
            if found is not None:
                return str(product["name"]), {str(k): str(v) for k, v in found["options"].items()}
        raise KeyError(item_id)


def _options(options: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in options.items())


class SimulatedCustomer:
    def __init__(self, task: Task, data: TauData, *, seed: int, max_turns: int = 30) -> None:
        self.task = task
        self.data = data
        self.rng = random.Random(f"{task.name}:{seed}")
        self.goals: list[TaskAction] = list(task.writes)
        self.max_turns = max_turns
        self.turns = 0
        self.seen: Counter[str] = Counter()
        self.finished = False
        self.handed_off = False
        self.email_tried = 0
        self.described: set[str] = set()

    # What to say ----------------------------------------------------------------------------
    def _pick(self, *choices: str) -> str:
        return self.rng.choice(choices)

    def opening(self) -> str:
        hello = self._pick("Hi.", "Hello!", "Hi there,", "Hey,", "")
        if not self.goals:
            return f"{hello} I have a question about my orders.".strip()
        first = self.request(self.goals[0])
        second = self.goals[1] if len(self.goals) > 1 else None
        if second is not None and second.kwargs.get("order_id") and self.rng.random() < 0.3:
            # two tasks in one message, now and then
            return f"{hello} {first} {self._pick('Also,', 'And')} {self._lower(self.request(second))}".strip()
        return f"{hello} {first}".strip()

    @staticmethod
    def _lower(sentence: str) -> str:
        return sentence[:1].lower() + sentence[1:]

    def identity(self, *, refused: bool = False) -> str:
        """Who the customer is; after a refusal, the next email they can think of."""
        who = self.task.identity()
        if refused and who.emails:
            self.email_tried = min(self.email_tried + 1, len(who.emails) - 1)
        if who.emails and (not who.zip_code or self.rng.random() < 0.5):
            email = who.emails[self.email_tried]
            return self._pick(f"My email is {email}.", f"It's {email}", f"{email}")
        return self._pick(
            f"I'm {who.first_name} {who.last_name}, zip code {who.zip_code}.",
            f"My name is {who.first_name} {who.last_name} and my zip is {who.zip_code}.",
            f"{who.first_name} {who.last_name}, {who.zip_code}",
        )

    def _short_names(self, order_id: str) -> dict[str, str]:
        """Product names of the order by the last word, where no other product of it ends so
        ("keyboard" for "Mechanical Keyboard")."""
        names = {str(line["name"]) for line in self.data.orders[order_id]["items"]}
        heads = Counter(name.split()[-1].lower() for name in names)
        return {name: name.split()[-1].lower() for name in names if heads[name.split()[-1].lower()] == 1}

    def item_name(self, order_id: str, name: str) -> str:
        """A product of the order as the customer calls it: in full, or half the time by its
        last word when that tells it apart."""
        short = self._short_names(order_id).get(name)
        return short if short is not None and self.rng.random() < 0.5 else name.lower()

    def item_words(self, order_id: str, item_ids: list[str]) -> str:
        """How the customer names items of an order: product names, with options where two lines
        of the order share a name."""
        order = self.data.orders[order_id]
        names = Counter(str(line["name"]) for line in order["items"])
        said = []
        for item_id in item_ids:
            name, options = self.data.variant(item_id)
            if names[name] > 1:
                said.append(f"the {name.lower()} ({_options(options)})")
            else:
                said.append(f"the {self.item_name(order_id, name)}")
        return " and ".join(said)

    def option_words(self, options: dict[str, str]) -> str:
        """Option values as a customer says them: with the option's name ("backlight white"), or
        the value alone where it is not "none" ("white")."""
        if self.rng.random() < 0.5:
            return _options(options)
        return ", ".join(f"no {k}" if v == "none" else v for k, v in options.items())

    def new_words(self, old_ids: list[str], new_ids: list[str], order_id: str = "") -> str:
        """What the customer wants instead: the options that change, per item; in one list or
        a sentence per item."""
        parts = []
        sentences = self.rng.random() < 0.5
        for old, new in zip(old_ids, new_ids, strict=False):
            name, before = self.data.variant(old)
            _, after = self.data.variant(new)
            said = self.item_name(order_id, name) if order_id else name.lower()
            changed = {k: v for k, v in after.items() if before.get(k) != v}
            if changed:
                wish = self.option_words(changed)
                parts.append(f"For the {said}, I'd like {wish}." if sentences else f"the {said} in {wish}")
            else:
                same = self._pick(f"the same {said} again", f"a new {said}, the same one")
                parts.append(f"For the {said}, I'd like {same}." if sentences else same)
        return " ".join(parts) if sentences else " and ".join(parts)

    def method_words(self, method_id: str) -> str:
        user = self.data.users[self.task.user_id]
        method = user["payment_methods"].get(method_id, {})
        source = method.get("source", "")
        if source == "credit_card":
            return f"my {method.get('brand', 'credit')} card ending in {method.get('last_four', '')}".strip()
        if source == "gift_card":
            return "my gift card"
        return "my PayPal" if source == "paypal" else method_id

    def address_words(self, k: dict[str, Any]) -> str:
        street = f"{k['address1']}, {k['address2']}" if k.get("address2") else str(k["address1"])
        return f"{street}, {k['city']}, {k['state']} {k['zip']}"

    def request(self, goal: TaskAction) -> str:
        k = goal.kwargs
        oid = k.get("order_id", "")
        match goal.name:
            case "cancel_pending_order":
                ask = self._pick(f"I want to cancel order {oid}.", f"Please cancel my order {oid}.")
                return ask + (" " + self.reason(goal) if self.rng.random() < 0.5 else "")
            case "return_delivered_order_items":
                items = self.item_words(oid, k["item_ids"])
                ask = self._pick(
                    f"I'd like to return {items} from order {oid}.", f"Can I return {items} from {oid}?"
                )
                return ask + self.money_words(goal, "Please refund it to {}.")
            case "exchange_delivered_order_items":
                items = self.item_words(oid, k["item_ids"])
                new = self.new_words(k["item_ids"], k["new_item_ids"], oid)
                ask = f"I want to exchange {items} from order {oid}" + self._instead(new)
                return ask + self.money_words(goal, "Any price difference goes on {}.")
            case "modify_pending_order_items":
                items = self.item_words(oid, k["item_ids"])
                new = self.new_words(k["item_ids"], k["new_item_ids"], oid)
                ask = f"I want to change {items} in my pending order {oid}" + self._instead(new)
                return ask + self.money_words(goal, "Put any price difference on {}.")
            case "modify_pending_order_address":
                return f"Please change the shipping address of order {oid} to {self.address_words(k)}."
            case "modify_pending_order_payment":
                return f"I'd like to pay for order {oid} with {self.method_words(k['payment_method_id'])}."
            case "modify_user_address":
                return f"Please update my default address to {self.address_words(k)}."
        return self._pick("Can I talk to a human, please?", "I'd like to speak to a person.")

    def order_answer(self, order_id: str) -> str:
        """The order asked for: its id; or, the first time and a third of the time, what is in it
        (a product no other order of the customer's has), as a customer who does not have the
        number at hand."""
        item = self.telling_item(order_id)
        if item is not None and order_id not in self.described and self.rng.random() < 0.35:
            self.described.add(order_id)
            return self._pick(
                f"I don't remember the number. It's the one with the {item.lower()}.",
                f"Not sure of the order number, it's my order with the {item.lower()}.",
            )
        return self._pick(f"It's {order_id}.", order_id, f"Order {order_id}.")

    def telling_item(self, order_id: str) -> str | None:
        """A product of the order that none of the customer's other orders has."""
        user = self.data.users[self.task.user_id]
        names = [str(line["name"]) for line in self.data.orders[order_id]["items"]]
        elsewhere = {
            str(line["name"])
            for other in user.get("orders", [])
            if other != order_id and other in self.data.orders
            for line in self.data.orders[other]["items"]
        }
        unique = [name for name in names if name not in elsewhere]
        return unique[0] if unique else None

    @staticmethod
    def _instead(new: str) -> str:
        """The end of a request: what the items should become (sentences of their own, or one)."""
        return f". {new}" if new.endswith(".") else f": I'd like {new} instead."

    def money_words(self, goal: TaskAction, sentence: str) -> str:
        """`` <sentence>`` naming the goal's payment method when it is not the order's own (a
        customer says so up front), else nothing."""
        method = goal.kwargs.get("payment_method_id")
        history = self.data.orders[goal.kwargs["order_id"]].get("payment_history") or []
        paid_with = next(
            (p["payment_method_id"] for p in history if p.get("transaction_type") == "payment"), None
        )
        if not method or method == paid_with:
            return ""
        return " " + sentence.format(self.method_words(method))

    def reason(self, goal: TaskAction) -> str:
        if goal.kwargs.get("reason") == "ordered by mistake":
            return self._pick("I ordered it by mistake.", "It was a mistake to order it.")
        return self._pick("I don't need it anymore.", "It's no longer needed.")

    # Reading a reply ------------------------------------------------------------------------
    def stops(self, text: str, *, agent_mode: bool) -> bool:
        """Count the turn; True when the customer stops here: handed to a person, out of turns,
        or the same reply for the third time."""
        self.turns += 1
        if agent_mode or not text.strip():
            self.handed_off = True
            return True
        self.seen[text] += 1
        return self.turns >= self.max_turns or self.seen[text] >= 3

    def respond(self, text: str, *, agent_mode: bool = False) -> str | None:
        """The customer's next message after the assistant said ``text``; None: the customer is done."""
        if self.stops(text, agent_mode=agent_mode):
            return None
        goal = self.goals[0] if self.goals else None
        if goal is None:
            return self._finish()
        done = (_DONE.search(text) and goal.kwargs.get("order_id", "") in text) or _REFUSED.search(text)
        if done:
            # done, or refused for a reason the customer accepts; after two requests in one
            # message, a refusal is about the one it names the money or item words of
            self.goals.pop(self._refused_goal(text) if _REFUSED.search(text) else 0)
            if not self.goals:
                return self._finish()
            goal = self.goals[0]
            # the reply may go on to the next task at once (asked for in the same message)
            rest = text.split("\n\n", 1)[1] if "\n\n" in text else ""
            if not rest.strip():
                return self.request(goal)
            text = rest
        if _CONFIRM.search(text):
            return self._confirm(goal, text)
        return self._answer(goal, text)

    def _refused_goal(self, text: str) -> int:
        """Which of the first two goals a refusal is about: a payment change's when the refusal
        speaks of paying with a gift card or card, else the first."""
        paying = re.search(r"\b(?:gift card|pay|paid|balance)\b", text, re.I) is not None
        for index, goal in enumerate(self.goals[:2]):
            if paying and goal.name == "modify_pending_order_payment":
                return index
        return 0

    def _finish(self) -> str | None:
        if self.finished:
            return None
        self.finished = True
        return self._pick("That's all, thanks!", "Great, thank you. Bye!", "Thanks, that's everything.")

    def _confirm(self, goal: TaskAction, text: str) -> str:
        order_id = goal.kwargs.get("order_id")
        if order_id and order_id not in text:
            return f"No, I meant order {order_id}. " + self.request(goal)
        return self._pick("Yes.", "Yes, please go ahead.", "yes", "Yes, that's right.")

    def _answer(self, goal: TaskAction, text: str) -> str:
        k = goal.kwargs
        oid = k.get("order_id", "")
        if _ASKS_IDENTITY.search(text):
            return self.identity(refused="couldn't find" in text.lower())
        if _ASKS_ORDER.search(text) and oid:
            return self.order_answer(oid)
        if _ASKS_REASON.search(text) and goal.name == "cancel_pending_order":
            return self.reason(goal)
        if _ASKS_ITEMS.search(text) and "item_ids" in k:
            return self.item_words(oid, k["item_ids"]).capitalize() + "."
        if _ASKS_NEW.search(text) and "new_item_ids" in k:
            words = self.new_words(k["item_ids"], k["new_item_ids"], oid)
            return words[0].upper() + words[1:] + ("" if words.endswith(".") else ".")
        if _ASKS_ADDRESS.search(text) and "address1" in k:
            return self.address_words(k)
        if _ASKS_PAYMENT.search(text) and "payment_method_id" in k:
            return self._pick("To ", "Use ") + self.method_words(k["payment_method_id"]) + "."
        return self.request(goal)
