"""The closed command set the LLM may propose and its GBNF grammar.

When no rule decides a turn, :func:`propose_command` asks the model for exactly one command as
compact JSON, e.g. ``{"command":"search","query":"red shoes","filters":{"max_price":80}}``. A
grammar built from ``prompts.yaml`` with this deployment's flow and slot names injected makes
any other shape (or an unknown flow or slot name) impossible to generate; the JSON is then
validated into a pydantic model. Output that does not parse, or that the model was not
confident about, becomes :class:`AskClarification` with the reason (``llm_busy`` when the
model's admission gate refused the call). The model never runs
anything: the pipeline decides what to do with the proposal.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from string import Template
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from assistant.llm.admission import LLMBusyError
from assistant.llm.prompts import prompts
from assistant.llm.protocol import LLM, ChatMessage, Completion, LLMError
from core.errors import InvalidArgumentsError
from core.words import words

log = logging.getLogger(__name__)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
TOP_LOGPROBS = 10  # alternatives per token asked of the backend, for the decision probability
HISTORY_TURNS = 4  # most recent messages shown to the model
_DECISION_PREFIX = '{"command":"'
_COMMAND_NAMES = ("search", "start_flow", "set_slot", "answer_from_docs", "handoff", "ask_clarification")


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Text | None = None
    brand: Text | None = None
    color: Text | None = None
    size: Text | None = None
    min_price: Decimal | None = Field(default=None, ge=0)
    max_price: Decimal | None = Field(default=None, ge=0)
    in_stock: bool | None = None


class Search(_Command):
    command: Literal["search"] = "search"
    query: Text
    filters: SearchFilters = Field(default_factory=SearchFilters)


class StartFlow(_Command):
    command: Literal["start_flow"] = "start_flow"
    name: str

    @field_validator("name")
    @classmethod
    def _known_flow(cls, value: str, info: ValidationInfo) -> str:
        valid = (info.context or {}).get("flow_names")
        if valid is not None and value not in valid:
            raise ValueError(f"unknown flow {value!r}; valid: {', '.join(sorted(valid)) or '(none)'}")
        return value


class SetSlot(_Command):
    command: Literal["set_slot"] = "set_slot"
    name: str
    value: Text

    @field_validator("name")
    @classmethod
    def _known_slot(cls, value: str, info: ValidationInfo) -> str:
        valid = (info.context or {}).get("slot_names")
        if valid is not None and value not in valid:
            raise ValueError(f"unknown slot {value!r}; valid: {', '.join(sorted(valid)) or '(none)'}")
        return value


class AskClarification(_Command):
    command: Literal["ask_clarification"] = "ask_clarification"
    reason: str | None = None  # set when the pipeline falls back; the model never emits it


class Handoff(_Command):
    command: Literal["handoff"] = "handoff"


class AnswerFromDocs(_Command):
    command: Literal["answer_from_docs"] = "answer_from_docs"
    question: Text


AnyCommand = Search | StartFlow | SetSlot | AskClarification | Handoff | AnswerFromDocs
Command = Annotated[AnyCommand, Field(discriminator="command")]  # for pydantic fields holding a command
_COMMAND: TypeAdapter[AnyCommand] = TypeAdapter(Command)


@dataclass(frozen=True)
class CommandContext:
    """What the model may refer to: valid flow and slot names, products just shown (titles, in
    the order shown) and the last few messages of the conversation."""

    flow_names: Sequence[str] = ()
    slot_names: Sequence[str] = ()
    last_products: Sequence[str] = ()
    history: Sequence[ChatMessage] = ()

    def __post_init__(self) -> None:
        bad = [n for n in (*self.flow_names, *self.slot_names) if not _NAME.match(n)]
        if bad:
            raise InvalidArgumentsError(
                f"flow and slot names must match {_NAME.pattern}: {bad}",
                errors=[{"loc": "names", "input": bad}],
            )


@dataclass(frozen=True)
class CommandProposal:
    command: AnyCommand
    confidence: float  # in [0, 1]
    raw: str  # the model's text, for logs and evaluation
    reason: str | None = None  # why the proposal fell back to AskClarification
    details: dict[str, Any] = field(default_factory=dict)


def _literals(names: Sequence[str]) -> str:
    return " | ".join(f'"\\"{name}\\""' for name in names)


def allowed_commands(*, flow_names: Sequence[str], slot_names: Sequence[str]) -> list[str]:
    """Command names the grammar allows: start_flow and set_slot only when there are names."""
    return [
        name
        for name in _COMMAND_NAMES
        if not (name == "start_flow" and not flow_names) and not (name == "set_slot" and not slot_names)
    ]


def build_grammar(*, flow_names: Sequence[str], slot_names: Sequence[str]) -> str:
    """The GBNF grammar of one command; only the given flow and slot names can be generated."""
    CommandContext(flow_names=flow_names, slot_names=slot_names)  # validates the names
    parts = prompts()["command"]["grammar"]
    used = allowed_commands(flow_names=flow_names, slot_names=slot_names)
    values = {
        "alternatives": " | ".join(name.replace("_", "-") for name in used),
        "flow_names": _literals(sorted(set(flow_names))),
        "slot_names": _literals(sorted(set(slot_names))),
    }
    rules = [Template(parts["root"]).substitute(values)]
    rules += [Template(parts[name]).substitute(values) for name in used]
    return "\n".join(rules) + "\n"


def parse_command(text: str, *, flow_names: Sequence[str], slot_names: Sequence[str]) -> AnyCommand:
    """Validate the model's JSON into a command. Raises :class:`InvalidArgumentsError`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidArgumentsError(f"not JSON: {text[:200]!r}", errors=[{"msg": str(exc)}]) from exc
    try:
        return _COMMAND.validate_python(
            data, context={"flow_names": set(flow_names), "slot_names": set(slot_names)}
        )
    except ValidationError as exc:
        errors = [{"loc": ".".join(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()]
        raise InvalidArgumentsError(f"not a valid command: {text[:200]!r}", errors=errors) from exc


def _render_user(text: str, products: Sequence[str], history: Sequence[ChatMessage]) -> str:
    p = prompts()["command"]
    lines = []
    if products:
        shown = "; ".join(f"{i}. {title}" for i, title in enumerate(products, 1))
        lines.append(Template(p["products"]).substitute(products=shown))
    if history:
        earlier = " / ".join(f"{m['role']}: {m['content'][:160]}" for m in history)
        lines.append(Template(p["history"]).substitute(history=earlier))
    lines.append(Template(p["user"]).substitute(text=text))
    return "\n".join(lines)


def build_messages(*, user_text: str, context: CommandContext) -> list[ChatMessage]:
    """System prompt, the few-shot examples valid for ``context``, then the customer's turn."""
    p = prompts()["command"]
    names = {"flows": ", ".join(context.flow_names), "slots": ", ".join(context.slot_names)}
    allowed = allowed_commands(flow_names=context.flow_names, slot_names=context.slot_names)
    lines = [Template(p["descriptions"][name]).substitute(names) for name in allowed]
    system = Template(p["system"]).substitute(commands="\n".join(lines))
    messages: list[ChatMessage] = [{"role": "system", "content": system}]
    for example in p["examples"]:
        try:
            parse_command(example["command"], flow_names=context.flow_names, slot_names=context.slot_names)
        except InvalidArgumentsError:
            continue  # names a flow or slot this deployment does not have
        content = _render_user(example["text"], example.get("products", ()), ())
        messages.append({"role": "user", "content": content})
        messages.append({"role": "assistant", "content": example["command"]})
    history = list(context.history)[-HISTORY_TURNS:]
    messages.append({"role": "user", "content": _render_user(user_text, context.last_products, history)})
    return messages


def decision_probability(completion: Completion, allowed: Sequence[str]) -> float | None:
    """How sure the model was of the command name, from the token log-probabilities.

    At the token where the command name starts, the raw probability of every top token that
    begins an allowed name is summed per name (a token such as "s" that begins several names is
    split evenly among them); the result is the chosen name's share. None when the backend gave
    no log-probabilities or the tokens do not line up with the text.
    """
    tokens = completion.logprobs
    if not tokens or not "".join(t.token for t in tokens).startswith(_DECISION_PREFIX):
        return None
    chosen = next((n for n in allowed if completion.text.startswith(_DECISION_PREFIX + n + '"')), None)
    offset = 0
    for token in tokens:
        if offset + len(token.token) > len(_DECISION_PREFIX):
            break
        offset += len(token.token)
    else:
        return None
    prefix = _DECISION_PREFIX[offset:]
    mass = dict.fromkeys(allowed, 0.0)
    for text, logprob in {**dict(token.top), token.token: token.logprob}.items():
        rest = text[len(prefix) :] if text.startswith(prefix) else ""
        names = [n for n in allowed if rest and (n.startswith(rest) or rest.startswith(n + '"'))]
        for name in names:
            mass[name] += math.exp(logprob) / len(names)
    total = sum(mass.values())
    if chosen is None or total <= 0:
        return None
    return mass[chosen] / total


def _words(text: str) -> set[str]:
    stop = set(prompts()["command"]["stopwords"])
    return {w for w in words(text) if (len(w) >= 3 or w.isdigit()) and w not in stop}


def grounding(command: BaseModel, *, user_text: str, context: CommandContext) -> float:
    """The share of the command's argument words found in what the customer said or was shown.

    1.0 for commands without free-text arguments. A ``set_slot`` value must appear in the
    customer's text verbatim (case aside), else 0: a slot value the model made up is never used.
    """
    source = " ".join([user_text, *context.last_products, *(m["content"] for m in context.history)])
    if isinstance(command, SetSlot):
        return 1.0 if command.value.lower() in user_text.lower() else 0.0
    if isinstance(command, Search):
        f = command.filters
        parts = [command.query, f.category, f.brand, f.color, f.size]
        parts += [str(int(price)) for price in (f.min_price, f.max_price) if price is not None]
        argument = " ".join(p for p in parts if p)
    elif isinstance(command, AnswerFromDocs):
        argument = command.question
    else:
        return 1.0
    wanted = _words(argument)
    if not wanted:
        return 0.5
    return len(wanted & _words(source)) / len(wanted)


def warm_up(llm: LLM, *, context: CommandContext) -> bool:
    """Evaluate the command prompt once with a one-token answer, so that its long fixed part (the
    system prompt and the examples) is in the backend's prompt cache before the first customer
    needs it; False (and a log line) when the model could not answer.

    Without it the first command proposal of a process paid for the whole prefix: 10-12 s on 2
    busy cores with the bundled model, against well under a second once it is cached.
    """
    messages = build_messages(user_text="hello", context=context)
    grammar = build_grammar(flow_names=context.flow_names, slot_names=context.slot_names)
    try:
        llm.chat(messages=messages, max_tokens=1, temperature=0.0, grammar=grammar)
    except LLMError as exc:
        log.warning("the command prompt was not pre-evaluated: %s", exc.message)
        return False
    return True


def propose_command(
    llm: LLM,
    *,
    user_text: str,
    context: CommandContext,
    max_tokens: int = 64,
    min_confidence: float | None = None,
) -> CommandProposal:
    """Ask the model for one command; fall back to :class:`AskClarification` with a reason.

    Decoding is greedy. ``confidence`` = the model's decision probability for the command name
    (:func:`decision_probability`; 1.0 when the backend gives no log-probabilities) times the
    argument grounding (:func:`grounding`). Below ``min_confidence`` (default from
    prompts.yaml) the proposal becomes ``AskClarification(reason="low_confidence")``; the
    rejected command stays in ``details["proposed"]``.
    """
    threshold = prompts()["command"]["min_confidence"] if min_confidence is None else min_confidence
    grammar = build_grammar(flow_names=context.flow_names, slot_names=context.slot_names)
    messages = build_messages(user_text=user_text, context=context)
    details: dict[str, Any] = {}
    try:
        completion = llm.chat(
            messages=messages,
            max_tokens=max_tokens,
            temperature=0.0,
            grammar=grammar,
            top_logprobs=TOP_LOGPROBS,
        )
    except LLMError as exc:
        details["error"] = exc.message
        reason = "llm_busy" if isinstance(exc, LLMBusyError) else "llm_error"
        return CommandProposal(AskClarification(reason=reason), 0.0, "", reason, details)
    details["finish_reason"] = completion.finish_reason
    try:
        command = parse_command(completion.text, flow_names=context.flow_names, slot_names=context.slot_names)
    except InvalidArgumentsError as exc:
        reason = "truncated" if completion.finish_reason == "length" else "invalid_command"
        details["errors"] = exc.errors
        return CommandProposal(AskClarification(reason=reason), 0.0, completion.text, reason, details)
    allowed = allowed_commands(flow_names=context.flow_names, slot_names=context.slot_names)
    decision = decision_probability(completion, allowed)
    grounded = grounding(command, user_text=user_text, context=context)
    details.update(decision=decision, grounding=grounded)
    confidence = (1.0 if decision is None else decision) * grounded
    if confidence < threshold:
        details["proposed"] = command.model_dump(mode="json", exclude_none=True)
        return CommandProposal(
            AskClarification(reason="low_confidence"), confidence, completion.text, "low_confidence", details
        )
    return CommandProposal(command, confidence, completion.text, None, details)
