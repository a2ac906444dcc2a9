"""A simulated customer that speaks from the task's ``instruction``, as tau-bench's LLM user does.

``SimulatedCustomer`` says its goals in words of our own ("cancel order #W..."). This one opens
with the instruction's goal sentences turned to the first person ("You've ordered an item ... you
won't be able to receive it" -> "I've ordered an item ... I won't be able to receive it"),
leaving out the personality sentence ("You are outgoing, flexible, ...") and the sentences about
how to behave with the agent ("If the agent asks ...", "Try to ...", "You prefer ..."), which it
keeps for the moment they apply. The templated instructions of the train split ("For #W1,
exchange Notebook {'size': 'A6'} to {'size': 'A5'}; via paypal_1.") are said in words: product
names, option values, "my PayPal".

Wording varies with the seed: the whole goal or only its first sentence (the rest when asked),
name and zip up front or only when asked, the order number up front or only when asked.

To a question, it answers first with the instruction's own words where the instruction has them
(the order number, the product named, what it should become, how to pay); where it does not, with
``SimulatedCustomer``'s knowledge of the task (the ground-truth writes in product names and
option values). It gives up as ``SimulatedCustomer`` does (the same reply three times; max turns).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass

from eval.tasks.customer import (
    _ASKS_IDENTITY,
    _ASKS_ITEMS,
    _ASKS_NEW,
    _ASKS_ORDER,
    _ASKS_PAYMENT,
    _CONFIRM,
    _DONE,
    _REFUSED,
    SimulatedCustomer,
    TauData,
)
from eval.tasks.tasks import Task, TaskAction

_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z#])|(?<=;)\s+(?=(?:For|Return|Cancel) )")
_IDENTITY = re.compile(r"^your name is\b", re.I)
#: "You are outgoing, flexible, pessimistic." / "You're very argumentative." (a list of adjectives)
_PERSONALITY = re.compile(
    r"^you(?: are|'re) (?:very |quite |a bit )?[a-z]+(?:, (?:and )?[a-z]+)*(?:,? and [a-z]+)?\.?$", re.I
)
#: Sentences about how to behave with the agent: kept back for when they apply.
_BEHAVIOUR = re.compile(
    r"^(?:if\b|you (?:also )?prefer\b|try\b|be\b|don't\b|do not\b|in the end\b|but before\b|"
    r"you(?:'re| are) (?:initially |also )?unsure\b|you eventually\b|eventually\b|"
    r"you don't remember\b|you're also\b)",
    re.I,
)
_ORDER_ID = re.compile(r"#?\bW\d{7}\b")
_PAYMENT_ID = re.compile(r"\b(paypal|credit_card|gift_card)_\d+\b")
_PAYMENT_WORDS = re.compile(r"\b(?:paypal|gift ?card|credit card|GC|website credit|store credit)\b", re.I)
_DICT = re.compile(r"\{[^{}]*\}")
_CANCEL = re.compile(r"^Cancel order (#W\d+) because (no longer needed|ordered by mistake)\.?$")
_RETURN = re.compile(r"^Return (#W\d+) via (\w+): (.*)$")
_ITEMS_CHANGE = re.compile(r"^For (#W\d+), (exchange|modify) (.*?)(?:;\s*via (\w+))?\.?\s*;?$")
_ONE_CHANGE = re.compile(r"([A-Z][\w-]*(?: [A-Z][\w-]*)*) (\{[^{}]*\}) to (\{[^{}]*\})")
_ADDRESS = re.compile(r"^For (#W\d+), change address to (\{[^{}]*\})(?: \(same as (#W\d+)\))?\.?$")
_PAYMENT = re.compile(r"^For (#W\d+), change payment to (\w+)\.?$")
#: "If the agent asks for confirmation, mention you also want ..." -> what to say, and when.
_IF_ASKED = re.compile(
    r"^if the (?:customer service )?agent asks (?:you )?(?:for |about )?(?P<what>[^,]+), "
    r"(?:(?:mention|say|tell (?:them|the agent))(?: that)? )?(?P<say>.+)$",
    re.I,
)
#: "If the agent can't unsubscribe you, threaten to cancel ..." -> said when nothing else is left.
_IF_CANNOT = re.compile(
    r"^if (?:the (?:customer service )?agent|they|you) (?:can't|cannot|can not|(?:is|are) unable to|"
    r"won't|doesn't|don't) [^,]+, (?P<say>.+)$",
    re.I,
)
_BEFORE_CONFIRMING = re.compile(r"^but before confirming, (?:decide to )?(?P<say>.+)$", re.I)

_VERBISH = {
    "want",
    "wanna",
    "need",
    "have",
    "had",
    "do",
    "did",
    "don't",
    "didn't",
    "do't",
    "can",
    "can't",
    "could",
    "would",
    "will",
    "should",
    "realize",
    "realized",
    "know",
    "think",
    "prefer",
    "also",
    "just",
    "simply",
    "only",
    "still",
    "bought",
    "received",
    "ordered",
    "placed",
    "used",
    "started",
    "found",
    "are",
    "were",
    "like",
    "decide",
    "decided",
    "made",
    "accidentally",
    "recently",
    "eventually",
    "initially",
    "wanted",
    "got",
    "get",
    "paid",
    "live",
    "moved",
    "noticed",
    "say",
}
_OBJECT_NEXT = {
    "to",
    "a",
    "an",
    "the",
    "for",
    "with",
    "from",
    "about",
    "in",
    "on",
    "at",
    "that",
    "if",
    "and",
    "or",
    "up",
    "out",
    "back",
    "off",
    "by",
    "into",
    "of",
}
_CLAUSE = {
    "and",
    "but",
    "so",
    "that",
    "because",
    "which",
    "if",
    "when",
    "than",
    "whether",
    "until",
    "before",
    "after",
    "since",
    "though",
    "unless",
    "as",
    "or",
    "where",
    "while",
    "what",
    "how",
    "why",
    "who",
    "then",
}
_YOU = re.compile(r"\b(?:you're|you've|you'd|you'll|you are|you were|yourself|yours|your|you)\b", re.I)
_WISH = re.compile(
    r"\b(?:want|wanna|'d like|would like|need|cancel|return|exchange|refund|change|modify|unhappy)\b", re.I
)
_IMPERATIVE = re.compile(r"^(Return|Cancel|Exchange|Change|Modify|Swap|Replace)\b")
_EXPRESS = re.compile(r"^Express (\w+) (?:in|about|with|at|over) (.*?)(?: and that (.*))?$")
_FEELINGS = {
    "disappointment": "disappointed",
    "frustration": "frustrated",
    "anger": "upset",
    "concern": "worried",
}


def first_person(sentence: str) -> str:
    """A sentence of the instruction said by the customer: "you"/"your" turned to "I"/"my"/"me",
    imperatives ("Return the ...") to wishes ("I want to return the ..."), "the agent" to "you"."""
    sentence = sentence.strip()
    if express := _EXPRESS.match(sentence):
        feeling = _FEELINGS.get(express.group(1).lower(), express.group(1).lower())
        rest = f" and that {express.group(3)}" if express.group(3) else ""
        sentence = f"I'm {feeling} in {express.group(2)}{rest}".replace(" and that you", ", and you")
    sentence = re.sub(r"^(?:Tell|Say to|Let) the (?:customer service )?agent (?:know )?that ", "", sentence)
    sentence = re.sub(r"^Complain (?:to the agent )?that ", "", sentence)
    sentence = re.sub(r"^Emphasize that ", "", sentence)
    sentence = re.sub(r"^First,? try to ", "First, I'd like to ", sentence)
    if _IMPERATIVE.match(sentence):
        sentence = "I want to " + sentence[0].lower() + sentence[1:]

    def turn(match: re.Match[str]) -> str:
        word = match.group(0).lower()
        fixed = {
            "you're": "I'm",
            "you've": "I've",
            "you'd": "I'd",
            "you'll": "I'll",
            "you are": "I am",
            "you were": "I was",
            "yourself": "myself",
            "yours": "mine",
            "your": "my",
        }
        if word in fixed:
            return fixed[word]
        before = sentence[: match.start()].rstrip()
        previous = re.findall(r"[\w']+$", before)
        following = re.match(r"\s*([\w']+)", sentence[match.end() :])
        nxt = following.group(1).lower() if following is not None else ""
        if nxt in _VERBISH or (previous and previous[0].lower() in _CLAUSE and nxt not in _OBJECT_NEXT):
            return "I"
        # "ask you to", "unsubscribe you from", "thank you.": an object; else the subject of a verb
        return "me" if not nxt or nxt in _OBJECT_NEXT else "I"

    said = _YOU.sub(turn, sentence)
    said = re.sub(r"\bthe (?:customer service )?agent\b", "you", said)
    said = re.sub(r"\byou (ask|say|tell|confirm|offer|want|need|can|agree)s\b", r"you \1", said)
    said = re.sub(r"\bdo't\b", "don't", said)
    return said[0].upper() + said[1:] if said else said


def options_words(options: dict[str, str], *, names: bool) -> str:
    """Option values as a customer says them ("clicky, RGB") or with their names."""
    if not options:
        return ""
    if names:
        return ", ".join(f"{k} {v}" for k, v in options.items())
    return ", ".join(
        f"no {k}" if v == "none" else f"{k} {v}" if v in ("yes", "no") else v for k, v in options.items()
    )


def _dict(text: str) -> dict[str, str]:
    try:
        found = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


@dataclass
class Part:
    """One goal sentence of the instruction, said in the customer's words."""

    text: str
    order_id: str | None
    kind: str | None = None  # the tau action a templated sentence asks for
    said: bool = False


def _kind(sentence: str) -> str | None:
    """The tau action a templated sentence asks for."""
    for pattern, kind in (
        (_CANCEL, "cancel_pending_order"),
        (_RETURN, "return_delivered_order_items"),
        (_ADDRESS, "modify_pending_order_address"),
        (_PAYMENT, "modify_pending_order_payment"),
    ):
        if pattern.match(sentence):
            return kind
    if m := _ITEMS_CHANGE.match(sentence):
        return "exchange_delivered_order_items" if m.group(2) == "exchange" else "modify_pending_order_items"
    return None


#: Words of a reply that tell which kind of change it is about (done, refused or to confirm).
_KIND_WORDS = {
    "cancel_pending_order": re.compile(r"\bcancel", re.I),
    "return_delivered_order_items": re.compile(r"\breturn", re.I),
    "exchange_delivered_order_items": re.compile(r"\bexchang", re.I),
    "modify_pending_order_items": re.compile(r"\b(?:chang|modif)", re.I),
    "modify_pending_order_address": re.compile(r"\b(?:address|ship)", re.I),
    "modify_pending_order_payment": re.compile(r"\b(?:pay|paid|payment)\b", re.I),
    "modify_user_address": re.compile(r"\baddress", re.I),
}


#: A refusal that speaks of one of these, to a customer who asked for another, is a misreading.
_OTHER_KIND = re.compile(r"\b(?:cancel|return|exchang)", re.I)


class InstructionCustomer(SimulatedCustomer):
    def __init__(self, task: Task, data: TauData, *, seed: int, max_turns: int = 30) -> None:
        super().__init__(task, data, seed=seed, max_turns=max_turns)
        self.ids_in_instruction = list(dict.fromkeys(_ORDER_ID.findall(task.instruction)))
        self.identity_first = self.rng.random() < 0.4
        self.first_only = self.rng.random() < 0.4
        self.hide_ids = len(self.ids_in_instruction) == 1 and self.rng.random() < 0.35
        self.names_options = self.rng.random() < 0.5
        self.parts: list[Part] = []
        self.held: list[str] = []  # behaviour sentences, in the first person
        self.on_confirm: list[str] = []  # what to say instead of "yes" at the next confirmation
        self.on_payment: list[str] = []  # what to say when asked how to pay
        self.items_words: dict[str, str] = {}  # order id -> items as the instruction names them
        self.new_words_said: dict[str, str] = {}  # order id -> what the items should become
        self.method_said: dict[str, str] = {}  # order id -> the payment method, in words
        self.order_described = False
        self.last_answer = ""
        self.asked: Counter[tuple[int, str]] = Counter()  # questions asked, by kind and order
        self.fallbacks: list[str] = []  # what to say when the goal is all said and nothing is asked
        self._read_instruction()

    # Reading the instruction ---------------------------------------------------------------
    def _read_instruction(self) -> None:
        for sentence in _SENTENCES.split(self.task.instruction.strip()):
            sentence = sentence.strip()
            if not sentence or _IDENTITY.match(sentence) or _PERSONALITY.match(sentence):
                continue
            if asked := _IF_ASKED.match(sentence.rstrip(".")):
                said = first_person(asked.group("say")).rstrip(".") + "."
                what = asked.group("what").lower()
                if "confirm" in what:
                    self.on_confirm.append(said)
                elif re.search(r"pay|refund", what):
                    self.on_payment.append(said)
                else:
                    self.held.append(said)
                continue
            if before := _BEFORE_CONFIRMING.match(sentence.rstrip(".")):
                self.on_confirm.append(
                    "Actually, " + first_person("you want to " + before.group("say")) + "."
                )
                continue
            if cannot := _IF_CANNOT.match(sentence.rstrip(".")):
                say = re.sub(r"^(?:threaten|try|decide) to ", "you want to ", cannot.group("say"))
                self.fallbacks.append(first_person(say).rstrip(".") + ".")
                continue
            first_try = re.match(r"^First,? try to\b", sentence) is not None
            if _BEHAVIOUR.match(sentence) or (re.search(r"\btry to\b", sentence, re.I) and not first_try):
                self.held.append(first_person(sentence))
                continue
            templated = self._template(sentence)
            said = (
                templated
                if templated is not None
                else first_person(
                    _DICT.sub(lambda m: "(" + options_words(_dict(m.group(0)), names=False) + ")", sentence)
                )
            )
            ids = _ORDER_ID.findall(sentence)
            self.parts.append(Part(said, self._hash(ids[0]) if ids else None, _kind(sentence)))

    @staticmethod
    def _hash(order_id: str) -> str:
        return order_id if order_id.startswith("#") else "#" + order_id

    def _method(self, method_id: str) -> str:
        """A payment method id of the instruction in words: "my PayPal", "my credit card", or the
        id as written (now and then, as a person reading it off the page)."""
        if self.rng.random() < 0.25:
            return method_id.replace("_", " ") if self.rng.random() < 0.3 else method_id
        kind = method_id.rsplit("_", 1)[0]
        return {"paypal": "my PayPal", "credit_card": "my credit card", "gift_card": "my gift card"}.get(
            kind, method_id
        )

    def _template(self, sentence: str) -> str | None:
        """A templated goal ("Cancel order #W1 because ...") in words, or None."""
        if m := _CANCEL.match(sentence):
            oid = m.group(1)
            if m.group(2) == "ordered by mistake":
                return self._pick(
                    f"I'd like to cancel order {oid}, I ordered it by mistake.",
                    f"Please cancel {oid}. I placed it by mistake.",
                )
            return self._pick(
                f"I want to cancel order {oid} because I no longer need it.",
                f"Could you cancel my order {oid}? I don't need it anymore.",
            )
        if m := _RETURN.match(sentence):
            oid, method = m.group(1), self._method(m.group(2))
            listed = _DICT.sub(lambda d: f"({options_words(_dict(d.group(0)), names=False)})", m.group(3))
            names = [n.strip() for n in listed.split(";") if n.strip()]
            items = " and ".join(
                f"the {n[:1].lower()}{n[1:]}" if "(" in n else f"the {n.lower()}" for n in names
            )
            self.items_words[oid] = items
            self.method_said[oid] = method
            return self._pick(
                f"I'd like to return {items} from order {oid}, with the refund to {method}.",
                f"I want to return {items} from {oid}. Please refund {method}.",
            )
        if m := _ITEMS_CHANGE.match(sentence):
            oid = m.group(1)
            olds, news = [], []
            for name, before, after in _ONE_CHANGE.findall(m.group(3)):
                old, new = _dict(before), _dict(after)
                detail = options_words(old, names=self.names_options)
                olds.append(
                    f"the {name.lower()}" + (f" ({detail})" if detail and self.rng.random() < 0.6 else "")
                )
                wish = options_words(new, names=self.names_options)
                if not wish:
                    news.append(f"the same {name.lower()} again")
                else:
                    news.append(f"one with {wish}" if self.names_options else f"the {wish} version")
            if not olds:
                return None
            self.items_words[oid] = " and ".join(olds)
            self.new_words_said[oid] = "; ".join(
                f"for {o.split(' (')[0]}, {n}" if len(olds) > 1 else n
                for o, n in zip(olds, news, strict=False)
            )
            verb = "exchange" if m.group(2) == "exchange" else "change"
            said = f"For order {oid}, I'd like to {verb} " + "; and ".join(
                f"{o} for {n}" for o, n in zip(olds, news, strict=False)
            )
            tail = m.group(3).rsplit("}", 1)[-1]
            method_words = _PAYMENT_WORDS.search(tail)
            if m.group(4):
                method = self._method(m.group(4))
                self.method_said[oid] = method
                said += f", paying any difference with {method}"
            elif method_words:  # "..., but you want to use credit card to pay or refund"
                self.method_said[oid] = f"my {method_words.group(0)}"
                said += f", but I want to use my {method_words.group(0)} to pay or refund"
            return said + "."
        if m := _ADDRESS.match(sentence):
            oid, address = m.group(1), _dict(m.group(2))
            street = ", ".join(x for x in (address.get("address1"), address.get("address2")) if x)
            where = f"{street}, {address.get('city')}, {address.get('state')} {address.get('zip')}"
            same = f" (the same as order {m.group(3)})" if m.group(3) and self.rng.random() < 0.5 else ""
            return f"For order {oid}, please ship it to {where}{same}."
        if m := _PAYMENT.match(sentence):
            oid, method = m.group(1), self._method(m.group(2))
            self.method_said.setdefault(oid, method)
            return self._pick(
                f"For order {oid}, I'd like to pay with {method} instead.",
                f"I want to change the payment of {oid} to {method}.",
            )
        return None

    # What to say ---------------------------------------------------------------------------
    def _hidden(self, text: str) -> str:
        """The text with the order number left out (said when asked)."""
        text = re.sub(r"\s*\((?:order )?#?W\d{7}\)", "", text)
        text = re.sub(r"\b(?:the |my )?(?:order )?#?W\d{7} order\b", "my order", text)
        text = re.sub(r"\b(?:the |my )?order #?W\d{7}\b", "my order", text)
        text = re.sub(r"\bFor #?W\d{7},", "For my order,", text)
        return _ORDER_ID.sub("my order", text)

    def _say(self, parts: list[Part]) -> str:
        for part in parts:
            part.said = True
        text = " ".join(p.text for p in parts)
        return self._hidden(text) if self.hide_ids else text

    def _identity_sentence(self) -> str:
        who = self.task.identity()
        name = f"{who.first_name} {who.last_name}" if who.first_name else ""
        if who.emails:
            email = who.emails[min(self.email_tried, len(who.emails) - 1)]
            if name:
                return self._pick(f"My name is {name} and my email is {email}.", f"I'm {name}, {email}.")
            return f"My email is {email}."
        return self._pick(
            f"My name is {name} and my zip code is {who.zip_code}.",
            f"I'm {name}, and my zip code is {who.zip_code}.",
        )

    def identity(self, *, refused: bool = False) -> str:
        """Who the customer is, as the instruction states it; after a refusal, the next email."""
        who = self.task.identity()
        if refused and who.emails:
            self.email_tried = min(self.email_tried + 1, len(who.emails) - 1)
            return f"Maybe it's {who.emails[self.email_tried]}."
        return self._identity_sentence()

    def opening(self) -> str:
        hello = self._pick("Hi.", "Hello!", "Hi there,", "Hey,", "")
        if not self.parts:
            return f"{hello} I have a question about my order.".strip()
        parts = self.parts
        if self.first_only:
            wish = next((n for n, p in enumerate(self.parts) if _WISH.search(p.text)), 0)
            parts = self.parts[: wish + 1]
        said = (self._identity_sentence() + " " if self.identity_first else "") + self._say(parts)
        if hello.endswith(",") and not re.match(r"I\b|I'", said):
            said = said[0].lower() + said[1:]
        return f"{hello} {said}".strip()

    def _parts_for(self, goal: TaskAction) -> list[Part]:
        oid = goal.kwargs.get("order_id")
        parts = self.parts
        if len(self.ids_in_instruction) > 1 and oid:
            parts = [p for p in self.parts if p.order_id == oid]
        same_kind = [p for p in parts if p.kind == goal.name]
        if same_kind:
            return same_kind
        return parts
        return self.parts

    def request(self, goal: TaskAction) -> str:
        """The goal again, in the instruction's words: what was not said yet, else all of it; the
        ground truth in words when the instruction has no sentence for it."""
        parts = self._parts_for(goal)
        unsaid = [p for p in parts if not p.said]
        if unsaid:
            return self._say(unsaid)
        if self.fallbacks:
            return self.fallbacks.pop(0)
        if parts:
            text = " ".join(p.text for p in parts)
            return text  # asked again: now with the order number
        return super().request(goal)

    # Answers -------------------------------------------------------------------------------
    def _named_products(self, order_id: str, item_ids: list[str] | None = None) -> list[str]:
        """Products of the order that the instruction names, in the instruction's words (the full
        name, or its last word: "the earbuds")."""
        wanted = set(item_ids) if item_ids else None
        text = self.task.instruction.lower()
        found = []
        for line in self.data.orders.get(order_id, {}).get("items", []):
            if wanted is not None and line["item_id"] not in wanted:
                continue
            name = str(line["name"]).lower()
            for words in (name, name.split()[-1]):
                if re.search(rf"\b{re.escape(words)}\b", text) and words not in found:
                    found.append(words)
                    break
        return found

    # Reading a reply ------------------------------------------------------------------------
    def _about(self, text: str) -> int | None:
        """Which remaining goal a reply is about: its order number named, and the words of its
        kind of change ("cancelled", "return", "address"); None when it names no goal's order."""
        named = [
            n for n, g in enumerate(self.goals) if g.kwargs.get("order_id") and g.kwargs["order_id"] in text
        ]
        if not named:
            return None
        first_line = text.split("\n\n", 1)[0]
        for n in named:
            words = _KIND_WORDS.get(self.goals[n].name)
            if words is not None and words.search(first_line):
                return n
        return named[0]

    def respond(self, text: str, *, agent_mode: bool = False) -> str | None:
        """As ``SimulatedCustomer.respond``, but a reply that reports a change done (or refused)
        is matched to the goal it is about, whatever order the customer said them in; a refusal
        of another kind of change than asked for is not taken as an answer."""
        if self.stops(text, agent_mode=agent_mode):
            return None
        if not self.goals:
            return self._finish()
        refused = _REFUSED.search(text) is not None
        done = _DONE.search(text) is not None
        if done or refused:
            about = self._about(text)
            if about is None and refused:
                about = self._refused_goal(text)
            words = _KIND_WORDS.get(self.goals[about].name) if about is not None else None
            other = _OTHER_KIND.search(text) is not None
            if refused and about is not None and words is not None and other and not words.search(text):
                # "only delivered orders can be returned" to a customer who asked for no return
                again = self.request(self.goals[about])
                if not re.match(r"I\b", again):
                    again = again[0].lower() + again[1:]
                return self._pick("That's not what I asked for. ", "No, ") + again
            if about is not None:
                self.goals.pop(about)
                if not self.goals:
                    return self._finish()
                rest = text.split("\n\n", 1)[1] if "\n\n" in text else ""
                if not rest.strip():
                    return self.request(self.goals[0])
                text = rest
        goal = self.goals[0]
        if _CONFIRM.search(text):
            return self._confirm(goal, text)
        return self._answer(goal, text)

    def _confirm(self, goal: TaskAction, text: str) -> str:
        if self.on_confirm:
            return self.on_confirm.pop(0)
        about = self._about(text)
        if about is not None:
            words = _KIND_WORDS.get(self.goals[about].name)
            first_line = text.split("\n\n", 1)[0]
            if words is not None and not words.search(first_line) and _OTHER_KIND.search(first_line):
                # "cancel order #W1" for an order the customer wants changed
                again = self.request(self.goals[about])
                return f"No, not that. {again}"
        if about is not None and about != 0:
            # a confirmation of another change the customer asked for: that one is next
            self.goals.insert(0, self.goals.pop(about))
            goal = self.goals[0]
        missing = self._missing_options(goal, text)
        if missing:
            # not what the customer wants in the end: say so, in the instruction's words if it has them
            wishes = self._wishes()
            oid = str(goal.kwargs["order_id"])
            if oid in self.new_words_said:
                wish = f"I'd like {self.new_words_said[oid]}."
            else:
                wish = f"I'd like {wishes[-1]}." if wishes else f"I want {', '.join(missing)}."
            return f"No, that's not it. {wish}"
        return super()._confirm(goal, text)

    def _missing_options(self, goal: TaskAction, text: str) -> list[str]:
        """Option values the customer wants (the ground truth's new variants) that a proposal
        to change items leaves out."""
        if "new_item_ids" not in goal.kwargs or goal.kwargs["order_id"] not in text:
            return []
        names = {self.data.variant(i)[0].lower() for i in goal.kwargs["item_ids"]}
        if not any(name in text.lower() for name in names):
            return []  # a confirmation of something else on the order (its payment, its address)
        missing = []
        for old, new in zip(goal.kwargs["item_ids"], goal.kwargs["new_item_ids"], strict=False):
            _, before = self.data.variant(old)
            _, after = self.data.variant(new)
            for key, value in after.items():
                if before.get(key) != value and not re.search(
                    rf"(?<![\w.]){re.escape(value)}(?![\w.])", text, re.I
                ):
                    missing.append(value)
        return missing

    def _answer(self, goal: TaskAction, text: str) -> str:
        said = self._instruction_answer(goal, text)
        asked = next(
            (n for n, q in enumerate((_ASKS_ORDER, _ASKS_ITEMS, _ASKS_NEW, _ASKS_PAYMENT)) if q.search(text)),
            None,
        )
        key = (asked if asked is not None else -1, str(goal.kwargs.get("order_id", "")))
        self.asked[key] += 1
        if asked is not None and (said == self.last_answer or self.asked[key] > 1):
            # asked again after the instruction's words: what the customer knows of the order
            # (the card, the variant) says it more exactly
            said = super()._answer(goal, text)
        self.last_answer = said
        return said

    def _instruction_answer(self, goal: TaskAction, text: str) -> str:
        k = goal.kwargs
        oid = str(k.get("order_id", ""))
        if _ASKS_IDENTITY.search(text):
            return self.identity(refused="couldn't find" in text.lower())
        if _ASKS_ORDER.search(text) and oid:
            return self._order_answer(oid, text)
        if _ASKS_ITEMS.search(text) and "item_ids" in k:
            if oid in self.items_words:
                return self.items_words[oid][0].upper() + self.items_words[oid][1:] + "."
            named = self._named_products(oid, k["item_ids"])
            if named and len(named) == len(k["item_ids"]):
                return "The " + " and the ".join(named) + "."
            return super()._answer(goal, text)
        if _ASKS_NEW.search(text) and "new_item_ids" in k:
            if oid in self.new_words_said:
                words = self.new_words_said[oid]
                return words[0].upper() + words[1:] + "."
            wish = self._wish_in_instruction()
            return wish if wish else super()._answer(goal, text)
        if _ASKS_PAYMENT.search(text) and "payment_method_id" in k:
            if self.on_payment:
                return self.on_payment[0]
            if oid in self.method_said:
                return f"{self._pick('To ', 'Use ')}{self.method_said[oid]}."
            said = [s for s in self.held + [p.text for p in self.parts] if _PAYMENT_WORDS.search(s)]
            if said:
                return said[-1]
            return super()._answer(goal, text)
        return super()._answer(goal, text)

    def _order_answer(self, oid: str, text: str) -> str:
        """The order number when the instruction gives it (or the reply lists it next to the
        product the customer has in mind); else the product the instruction names."""
        if any(self._hash(i) == oid for i in self.ids_in_instruction):
            return self._pick(f"It's {oid}.", f"The order number is {oid}.", oid)
        named = self._named_products(oid)
        if oid in text and named:
            return f"It's {oid}, the one with the {named[0]}."
        if named and not self.order_described:
            self.order_described = True
            return f"I don't have the order number. It's the one with the {named[0]}."
        return self.order_answer(oid)

    def _wish_in_instruction(self) -> str | None:
        """What the items should become, in the instruction's words."""
        wishes = self._wishes()
        return f"I'd like {'; '.join(wishes)}." if wishes else None

    def _wishes(self) -> list[str]:
        """The phrases after "for"/"to" in the instruction's sentences that ask to exchange or
        change something, in order."""
        wishes = []
        for sentence in [p.text for p in self.parts] + self.held:
            # each "exchange/change ..." up to the next clause, and in it the last "for/to ..."
            for chunk in re.split(r"\b(?=(?:exchange|change|switch|swap)\b)", sentence, flags=re.I)[1:]:
                chunk = re.split(r",\s*but\b|;|\.\s|\.$", chunk)[0]
                found = re.findall(r"\b(?:for|to)\s+(?:an?\s+|the\s+)?(.+?)(?:\s+instead)?$", chunk, re.I)
                if found:
                    wishes.append(found[-1].strip())
        return list(dict.fromkeys(wishes))


#: The simulated customers of ``shopassist eval tasks --customer``.
CUSTOMERS = ("rules", "instruction")


def customer_for(kind: str, task: Task, data: TauData, *, seed: int) -> SimulatedCustomer:
    """The simulated customer of ``kind`` ("rules": our words; "instruction": the task's) for a task."""
    if kind == "instruction":
        return InstructionCustomer(task, data, seed=seed)
    if kind == "rules":
        return SimulatedCustomer(task, data, seed=seed)
    raise ValueError(f"unknown customer {kind!r}: use rules or instruction")
