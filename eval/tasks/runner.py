"""Run tau tasks through the ``Assistant`` with the simulated customer and score them.

A trial passes when the shop's end state equals the state after the task's ground-truth writes
(nothing else changed), every expected output appears in a reply, and a task whose goal is a
handoff ended with a person. pass^k is tau-bench's: per task, the chance that k trials drawn
from its n all pass (C(c, k) / C(n, k) with c passes), averaged over tasks.

A confirmation the assistant asks for is checked against the ground truth too: the same tool
with other arguments (another order, other items or variants, another payment method) is a
wrong proposal, counted whether or not the customer said yes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from math import comb
from pathlib import Path
from typing import Any

from assistant.llm.protocol import LLM
from assistant.reply.message import Reply
from assistant.sessions.slots import Mode
from core.errors import ShopassistError
from dialogue_rules.intents import IntentMatcher
from eval.tasks.customer import SimulatedCustomer, TauData
from eval.tasks.shop import Snapshot, TauShop, UnsupportedAction, differences, snapshot, tool_call
from eval.tasks.tasks import Task
from eval.tasks.voiced import CUSTOMERS, customer_for
from services import Services


@dataclass
class TrialResult:
    task: str
    kind: str
    trial: int
    passed: bool
    reason: str = ""
    wrong_proposals: int = 0
    turns: int = 0
    transcript: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class TaskReport:
    split: str
    trials: int
    llm: str | None
    results: list[TrialResult]
    customer: str = "rules"

    def pass_hat(self, k: int, results: Iterable[TrialResult] | None = None) -> float:
        """tau-bench's pass^k over the tasks of ``results`` (default: all)."""
        by_task: dict[str, list[bool]] = defaultdict(list)
        for r in self.results if results is None else results:
            by_task[r.task].append(r.passed)
        scores = [comb(sum(p), k) / comb(len(p), k) for p in by_task.values() if len(p) >= k]
        return sum(scores) / len(scores) if scores else 0.0

    def by_kind(self) -> dict[str, list[TrialResult]]:
        """The trials of the tasks that ask for each kind of change (a task asking for a cancel and
        a return counts under both)."""
        kinds: dict[str, list[TrialResult]] = defaultdict(list)
        for r in self.results:
            for kind in r.kind.split("+"):
                kinds[kind].append(r)
        return dict(sorted(kinds.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "trials": self.trials,
            "llm": self.llm,
            "customer": self.customer,
            "tasks": len({r.task for r in self.results}),
            "pass^1": round(self.pass_hat(1), 4),
            f"pass^{self.trials}": round(self.pass_hat(self.trials), 4),
            "wrong_proposals": sum(r.wrong_proposals for r in self.results),
            "by_kind": {
                kind: {
                    "tasks": len({r.task for r in rs}),
                    "pass^1": round(self.pass_hat(1, rs), 4),
                    f"pass^{self.trials}": round(self.pass_hat(self.trials, rs), 4),
                }
                for kind, rs in self.by_kind().items()
            },
        }


def wrong_proposals(task: Task, replies: Iterable[Reply]) -> int:
    """Confirmations of a ground-truth tool with other arguments than the ground truth's."""
    wanted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for action in task.writes:
        try:
            name, args = tool_call(action)
        except UnsupportedAction:
            continue
        wanted[name].append(args)
    wrong = 0
    for reply in replies:
        for step in reply.steps:
            if step.kind == "confirmation" and step.ok and step.name in wanted:
                proposed = step.detail.get("args")
                if isinstance(proposed, dict) and not any(_same(proposed, w) for w in wanted[step.name]):
                    wrong += 1
    return wrong


def _same(proposed: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """The same call: items (with their replacements) compared in any order."""
    return _canonical(proposed) == _canonical(wanted)


def _canonical(args: dict[str, Any]) -> dict[str, Any]:
    found = dict(args)
    items, new = found.pop("item_ids", None), found.pop("new_item_ids", None)
    if items is not None:
        found["items"] = sorted(zip(items, new, strict=False)) if new is not None else sorted(items)
    return found


class TaskRunner:
    def __init__(
        self,
        shop: TauShop,
        data: TauData,
        *,
        llm: LLM | None,
        matcher: IntentMatcher,
        customer: str = "rules",
    ) -> None:
        if customer not in CUSTOMERS:
            raise ValueError(f"unknown customer {customer!r}: use one of {', '.join(CUSTOMERS)}")
        self.customer = customer
        self.shop = shop
        self.data = data
        self.llm = llm
        self.matcher = matcher
        self._expected: dict[str, Snapshot | str] = {}

    def expected(self, task: Task) -> Snapshot | str:
        """The end state to reach, or why it cannot be computed (a write with no tool)."""
        if task.name not in self._expected:
            try:
                self._expected[task.name] = self.shop.expected(task)
            except UnsupportedAction as exc:
                self._expected[task.name] = f"no tool for {exc.args[0]}"
            except ShopassistError as exc:  # the ground truth breaks a rule of this shop's tools
                self._expected[task.name] = f"the ground truth does not run here: {exc.message}"
        return self._expected[task.name]

    def run(self, task: Task, trial: int) -> TrialResult:
        result = TrialResult(task.name, task.kind, trial, passed=False)
        expected = self.expected(task)
        with self.shop.copy() as data_dir:
            settings = self.shop.settings_for(data_dir, llm=self.llm is not None)
            services = Services.from_settings(
                settings, with_dialogue=True, embedder=self.shop.embedder, llm=self.llm, matcher=self.matcher
            )
            try:
                replies, customer = self._talk(services, task, trial, result)
                actual = snapshot(services.database)
            finally:
                services.close()
        result.turns = len(result.transcript)
        result.wrong_proposals = wrong_proposals(task, replies)
        said = " ".join(text for _, text in result.transcript)
        missing = [o for o in task.outputs if o.lower() not in said.lower()]
        wants_person = any(a.name == "transfer_to_human_agents" for a in task.writes)
        if isinstance(expected, str):
            result.reason = expected
        elif diff := differences(expected, actual):
            result.reason = "; ".join(diff)
        elif missing:
            result.reason = f"not said: {', '.join(missing)}"
        elif wants_person and not customer.handed_off:
            result.reason = "not handed to a person"
        else:
            result.passed = True
        return result

    def _talk(
        self, services: Services, task: Task, trial: int, result: TrialResult
    ) -> tuple[list[Reply], SimulatedCustomer]:
        assistant = services.require_assistant()
        session_id = assistant.start_session(channel="eval")
        customer = customer_for(self.customer, task, self.data, seed=trial)
        replies: list[Reply] = []
        said: str | None = customer.opening()
        while said is not None:
            reply = assistant.handle(session_id, said, channel="eval")
            replies.append(reply)
            result.transcript.append((said, reply.text))
            said = customer.respond(reply.text, agent_mode=reply.mode is Mode.AGENT)
        return replies, customer


def run_tasks(
    runner: TaskRunner,
    tasks: list[Task],
    *,
    split: str,
    trials: int,
    progress: Callable[[str, int, int], None] | None = None,
    failures: Path | None = None,
) -> TaskReport:
    """Every task ``trials`` times; the transcripts of failed trials and of trials with a wrong
    proposal go to ``failures`` (one JSON per trial)."""
    results = []
    total = len(tasks) * trials
    for number, (task, trial) in enumerate(((t, n) for t in tasks for n in range(trials)), 1):
        result = runner.run(task, trial)
        results.append(result)
        if failures is not None and (not result.passed or result.wrong_proposals):
            failures.mkdir(parents=True, exist_ok=True)
            record = {**asdict(result), "instruction": task.instruction}
            (failures / f"{task.name}-trial{trial}.json").write_text(json.dumps(record, indent=2))
        if progress is not None:
            progress("tasks", number, total)
    name = runner.llm.name if runner.llm is not None else None
    return TaskReport(split=split, trials=trials, llm=name, results=results, customer=runner.customer)
