"""The tau task evaluation: tasks, the simulated customer, end-state scoring and pass^k."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.reply.message import Reply, TurnStep
from core.errors import ConfigError
from dialogue_rules.intents import IntentMatcher
from eval.tasks.customer import SimulatedCustomer, TauData
from eval.tasks.runner import TaskReport, TaskRunner, TrialResult, wrong_proposals
from eval.tasks.shop import TauShop, UnsupportedAction, differences, snapshot, tool_call
from eval.tasks.tasks import WRITE_ACTIONS, Task, TaskAction, load_tasks
from retrieval.embeddings import SentenceTransformerEmbedder
from services import Services
from tools.registry import default_registry


@pytest.fixture(scope="module")
def data(tau_dir: Path) -> TauData:
    return TauData.load(tau_dir)


@pytest.fixture(scope="module")
def dev(tau_dir: Path) -> list[Task]:
    return load_tasks(tau_dir, "dev")


def _task(dev: list[Task], kind: str) -> Task:
    return next(t for t in dev if t.kind == kind)


def test_tasks_load_with_identities_and_kinds(tau_dir: Path, dev: list[Task]) -> None:
    assert len(dev) == 20 and len(load_tasks(tau_dir, "train")) == 500
    first = dev[0]
    assert first.kind == "cancel"
    assert first.identity().first_name == "Olivia" and first.identity().zip_code == "80218"
    assert dev[1].identity().emails == ("omar.lopez1868@example.com",)
    with pytest.raises(ConfigError, match="unknown split 'test'"):
        load_tasks(tau_dir, "test")


def test_ground_truth_writes_map_to_this_projects_tools(dev: list[Task]) -> None:
    cancel = _task(dev, "cancel").writes[0]
    assert tool_call(cancel) == ("cancel_order", cancel.kwargs)
    with pytest.raises(UnsupportedAction, match="delete_account"):
        tool_call(TaskAction("delete_account", {"user_id": "x"}))
    # Every write action of tau's retail domain has a tool here (a handoff is not a tool call).
    samples = {a.name: a for t in dev for a in t.writes}
    address = {
        "address1": "1 A St",
        "address2": "",
        "city": "B",
        "state": "CA",
        "country": "USA",
        "zip": "90001",
    }
    samples["modify_user_address"] = TaskAction("modify_user_address", {"user_id": "u", **address})
    for name in WRITE_ACTIONS:
        if name != "transfer_to_human_agents":
            assert tool_call(samples[name])[0] in {t.name for t in default_registry()}


def test_the_customer_names_products_never_item_ids(dev: list[Task], data: TauData) -> None:
    said = []
    for task in dev:
        customer = SimulatedCustomer(task, data, seed=0)
        said.append(customer.opening())
        for goal in task.writes:
            said.append(customer.request(goal))
    ids = {
        item
        for task in dev
        for goal in task.writes
        for key in ("item_ids", "new_item_ids")
        for item in goal.kwargs.get(key, [])
    }
    assert ids and not any(item in text for item in ids for text in said)


def test_the_wording_varies_by_seed_and_repeats_with_it(dev: list[Task], data: TauData) -> None:
    task = _task(dev, "return")
    openings = {SimulatedCustomer(task, data, seed=seed).opening() for seed in range(6)}
    assert len(openings) > 1
    again = SimulatedCustomer(task, data, seed=3).opening()
    assert again == SimulatedCustomer(task, data, seed=3).opening()


def test_the_customer_answers_what_is_asked(dev: list[Task], data: TauData) -> None:
    task = _task(dev, "cancel")
    customer = SimulatedCustomer(task, data, seed=1)
    order_id = task.writes[0].kwargs["order_id"]
    asked = customer.respond("Which order is it? Please give me the order number.")
    assert asked is not None and order_id in asked
    identity = customer.respond(
        "Please give me the email address of your account, or your name and zip code."
    )
    assert identity is not None and ("80218" in identity or "@" in identity)
    assert customer.respond(f"Please confirm: cancel order {order_id}. Shall I go ahead? (yes/no)") in (
        "Yes.",
        "Yes, please go ahead.",
        "yes",
        "Yes, that's right.",
    )
    wrong = customer.respond("Please confirm: cancel order #W0000000. Shall I go ahead? (yes/no)")
    assert wrong is not None and wrong.startswith("No, I meant order")
    done = customer.respond(f"Order {order_id} is cancelled. A refund of $10.00 goes back to PayPal.")
    assert done is not None and not customer.goals  # the only goal is reached: the customer says bye
    assert customer.respond("You're welcome!") is None


def test_pass_hat_k_is_tau_benchs() -> None:
    results = [
        TrialResult("a", "cancel", 0, True),
        TrialResult("a", "cancel", 1, True),
        TrialResult("b", "return", 0, True),
        TrialResult("b", "return", 1, False),
        TrialResult("c", "cancel+return", 0, False),
        TrialResult("c", "cancel+return", 1, False),
    ]
    report = TaskReport(split="dev", trials=2, llm=None, results=results)
    assert report.pass_hat(1) == pytest.approx(1.5 / 3)
    assert report.pass_hat(2) == pytest.approx(1 / 3)
    by_kind = report.to_dict()["by_kind"]
    assert by_kind["return"] == {"tasks": 2, "pass^1": 0.25, "pass^2": 0.0}  # b and c
    assert by_kind["cancel"]["tasks"] == 2  # a and c


def test_a_confirmation_of_other_arguments_is_a_wrong_proposal(dev: list[Task]) -> None:
    task = _task(dev, "cancel")
    name, args = tool_call(task.writes[0])

    def confirming(proposed: dict[str, object]) -> Reply:
        step = TurnStep(kind="confirmation", name=name, detail={"args": proposed})
        return Reply(session_id="s", text="Please confirm", steps=(step,))

    assert wrong_proposals(task, [confirming(dict(args))]) == 0
    assert wrong_proposals(task, [confirming({**args, "order_id": "#W0000000"})]) == 1
    exchange = _task(dev, "exchange")
    name, args = tool_call(exchange.writes[0])
    swapped = {**args, "item_ids": args["item_ids"][::-1], "new_item_ids": args["new_item_ids"][::-1]}
    assert wrong_proposals(exchange, [confirming(swapped)]) == 0  # the same pairs, listed the other way
    crossed = {**args, "new_item_ids": args["new_item_ids"][::-1]}
    if len(set(args["new_item_ids"])) > 1:
        assert wrong_proposals(exchange, [confirming(crossed)]) == 1


@pytest.fixture(scope="module")
def shop(tau_shop: TauShop) -> TauShop:
    return tau_shop


@pytest.mark.slow
def test_the_expected_state_changes_only_what_the_task_writes(shop: TauShop, dev: list[Task]) -> None:
    task = _task(dev, "cancel")
    order_id = task.writes[0].kwargs["order_id"]
    with shop.copy() as data_dir:
        services = Services.from_settings(shop.settings_for(data_dir))
        try:
            before = snapshot(services.database)
        finally:
            services.close()
    after = shop.expected(task)
    changed = differences(before, after, limit=50)
    assert changed and all(re.match(rf"(orders {re.escape(order_id)}|stock \d+):", c) for c in changed)
    assert after["orders"][order_id]["status"] == "cancelled"
    assert differences(after, after) == []


@pytest.mark.slow
def test_a_trial_passes_on_the_end_state(
    shop: TauShop, dev: list[Task], data: TauData, embedder: SentenceTransformerEmbedder
) -> None:
    runner = TaskRunner(shop, data, llm=None, matcher=IntentMatcher(embedder=embedder))
    cancel_task = _task(dev, "cancel")
    cancel = runner.run(cancel_task, 0)
    assert cancel.passed, (cancel.reason, cancel.transcript)
    assert cancel.wrong_proposals == 0
    assert not isinstance(runner.expected(_task(dev, "modify_items+modify_payment")), str)


@pytest.mark.slow
def test_a_default_address_change_is_carried_out_on_the_tau_shop(
    shop: TauShop, dev: list[Task], data: TauData, embedder: SentenceTransformerEmbedder
) -> None:
    # No train or dev task changes a default address (tau's held-out tasks do): this one is
    # made here from a dev task's customer, who identifies as the instruction says.
    model = _task(dev, "cancel")
    address = {"address1": "742 Evergreen Terrace", "address2": "Suite 5", "city": "Springfield",
               "state": "OR", "country": "USA", "zip": "97403"}  # fmt: skip
    action = TaskAction("modify_user_address", {"user_id": model.user_id, **address})
    task = Task("dev", 98, model.user_id, model.instruction, (action,))
    expected = shop.expected(task)
    assert not isinstance(expected, str)
    runner = TaskRunner(shop, data, llm=None, matcher=IntentMatcher(embedder=embedder))
    for trial in range(2):
        result = runner.run(task, trial)
        assert result.passed, (result.reason, result.transcript)
        assert result.wrong_proposals == 0
        assert any("742 Evergreen Terrace" in reply for _, reply in result.transcript)
