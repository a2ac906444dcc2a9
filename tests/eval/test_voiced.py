"""The instruction-voiced simulated customer (eval/tasks/voiced.py) on real tau dev and train
instructions: first-person rewrite, seed variation, identity and answers in the instruction's words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eval.tasks.customer import TauData
from eval.tasks.runner import TaskReport, TrialResult
from eval.tasks.tasks import Task, load_tasks
from eval.tasks.voiced import InstructionCustomer, customer_for, first_person

SEEDS = range(8)


@pytest.fixture(scope="module")
def data(tau_dir: Path) -> TauData:
    return TauData.load(tau_dir)


@pytest.fixture(scope="module")
def dev(tau_dir: Path) -> list[Task]:
    return load_tasks(tau_dir, "dev")


@pytest.fixture(scope="module")
def train(tau_dir: Path) -> list[Task]:
    return load_tasks(tau_dir, "train")


def _sentences(instruction: str) -> list[str]:
    return re.split(r"(?<=\.)\s+(?=[A-Z])", instruction)


def _personality(task: Task) -> list[str]:
    """The adjectives of the instruction's "You are a, b, c." sentence."""
    sentence = next(s for s in _sentences(task.instruction) if s.startswith("You are "))
    return [w.strip(" .") for w in sentence.removeprefix("You are ").split(",")]


@pytest.mark.parametrize("index", [0, 3, 7, 10])
def test_opening_is_the_goal_in_the_first_person(dev: list[Task], data: TauData, index: int) -> None:
    task = dev[index]
    adjectives = _personality(task)
    assert adjectives  # the instruction has a personality sentence to drop
    for seed in SEEDS:
        opening = InstructionCustomer(task, data, seed=seed).opening()
        assert not any(re.search(rf"\b{a}\b", opening) for a in adjectives), opening
        assert "You are" not in opening
        # no second person left (none of these instructions speaks of the agent)
        assert not re.search(r"\byou(?:r|'ve|'re|'d|'ll)?\b", opening, re.I), opening
        assert re.search(r"\b(?:I|I've|I'm|I'd|my)\b", opening), opening


def test_olivia_says_why_she_does_not_want_the_order(dev: list[Task], data: TauData) -> None:
    """dev-0: "You've realized that you'll be traveling ... you won't be able to receive it"."""
    task = dev[0]
    goal = next(s for s in _sentences(task.instruction) if "won't be able to receive" in s)
    expected = goal.replace("You've", "I've").replace("you'll", "I'll").replace("you won't", "I won't")
    expected = expected.replace("you'd", "I'd").replace("you return", "I return")
    for seed in SEEDS:
        assert expected in InstructionCustomer(task, data, seed=seed).opening()


def test_seeds_vary_the_opening(dev: list[Task], data: TauData) -> None:
    for task in (dev[0], dev[6], dev[19]):
        openings = {InstructionCustomer(task, data, seed=seed).opening() for seed in SEEDS}
        assert len(openings) > 1, task.name
    # the name and zip up front in some openings, not in others
    olivia = dev[0]
    up_front = ["80218" in InstructionCustomer(olivia, data, seed=seed).opening() for seed in range(20)]
    assert any(up_front) and not all(up_front)


def test_order_number_held_back_until_asked(dev: list[Task], data: TauData) -> None:
    task = dev[19]  # "For the #W2974929 that you've just placed, ..."
    order_id = re.search(r"#W\d+", task.instruction)
    assert order_id is not None
    hidden = []
    for seed in range(20):
        customer = InstructionCustomer(task, data, seed=seed)
        if order_id.group(0) not in customer.opening():
            hidden.append(customer)
    assert hidden and len(hidden) < 20
    reply = hidden[0].respond("Sure. Which order number is it?")
    assert reply is not None and order_id.group(0) in reply


@pytest.mark.parametrize("index", [0, 1, 3, 4])
def test_identity_answer_is_the_instructions(dev: list[Task], data: TauData, index: int) -> None:
    task = dev[index]
    name = re.search(r"Your name is (\w+ \w+)", task.instruction)
    zip_code = re.search(r"zip code is (\d{5})", task.instruction)
    email = re.search(r"email is ([\w.]+@[\w.]+\w)", task.instruction)
    assert name is not None and (zip_code or email)
    for seed in range(4):
        customer = InstructionCustomer(task, data, seed=seed)
        customer.opening()
        reply = customer.respond("First, please verify your identity: your email address or name and zip.")
        assert reply is not None and reply.endswith("."), reply
        assert name.group(1) in reply
        if email:
            assert email.group(1) in reply
        else:
            assert zip_code is not None and zip_code.group(1) in reply


def test_several_emails_tried_in_turn(dev: list[Task], data: TauData) -> None:
    task = dev[6]  # Raj Lee: four emails, does not know which one is on the account
    emails = re.findall(r"[\w.]+@example\.com", task.instruction)
    assert len(emails) == 4
    customer = InstructionCustomer(task, data, seed=0)
    customer.opening()
    first = customer.respond("Please verify your identity with your email address.")
    second = customer.respond("I couldn't find an account with that email. What is your email address?")
    assert first is not None and emails[0] in first
    assert second is not None and emails[1] in second


def test_payment_answer_in_the_instructions_words(dev: list[Task], data: TauData) -> None:
    task = dev[9]  # "If the agent asks for payment or refund method, you prefer paypal than GC."
    assert "prefer paypal" in task.instruction
    customer = InstructionCustomer(task, data, seed=0)
    customer.opening()
    reply = customer.respond("Which payment method should the price difference go to?")
    assert reply is not None and "paypal" in reply.lower() and re.search(r"\bI\b", reply)
    assert "you" not in reply.lower()


def test_confirmation_triggers_what_the_instruction_says(dev: list[Task], data: TauData) -> None:
    task = dev[5]  # "If the agent asks for confirmation, mention you also want to return the desk lamp"
    assert "desk lamp" in task.instruction
    customer = InstructionCustomer(task, data, seed=0)
    customer.opening()
    reply = customer.respond("I'll return the skateboard from order #W1. Shall I go ahead? (yes/no)")
    assert reply is not None and "desk lamp" in reply and "I also want" in reply


def test_train_templates_are_said_in_words(train: list[Task], data: TauData) -> None:
    for task in train[:60]:
        for seed in range(2):
            opening = InstructionCustomer(task, data, seed=seed).opening()
            assert "{" not in opening and "'" not in opening.replace("'d", "").replace("'m", "").replace(
                "'t", ""
            ).replace("'s", "").replace("'ve", ""), opening
            assert not re.search(r"\b(?:via|because no longer needed)\b", opening), opening
    returning = next(t for t in train if t.instruction.split(". ")[2].startswith("Return #W"))
    names = re.search(r"Return #W\d+ via \w+: (.*?);", returning.instruction)
    assert names is not None
    opening = InstructionCustomer(returning, data, seed=0).opening()
    assert names.group(1).lower() in opening


def test_first_person() -> None:
    assert first_person("You want to cancel it because you don't need it.") == (
        "I want to cancel it because I don't need it."
    )
    assert first_person("Return your order") == "I want to return my order"
    assert first_person("They ask you to reset it.") == "They ask me to reset it."


def test_customer_kinds(dev: list[Task], data: TauData) -> None:
    assert type(customer_for("instruction", dev[0], data, seed=0)) is InstructionCustomer
    assert type(customer_for("rules", dev[0], data, seed=0)).__name__ == "SimulatedCustomer"
    with pytest.raises(ValueError):
        customer_for("llm", dev[0], data, seed=0)
    report = TaskReport("dev", 1, None, [TrialResult("dev-0", "cancel", 0, True)], customer="instruction")
    assert report.to_dict()["customer"] == "instruction"


def test_done_reply_is_matched_to_its_goal(dev: list[Task], data: TauData) -> None:
    """dev-14 asks for an address and an item change on one order; when the item change is
    reported first, the customer goes on with the address, not the keyboard again."""
    task = dev[14]
    address = next(a for a in task.writes if a.name == "modify_pending_order_address").kwargs
    order_id = address["order_id"]
    customer = InstructionCustomer(task, data, seed=0)
    customer.opening()
    reply = customer.respond(
        f"Order {order_id} has been changed: Mechanical Keyboard for switch type linear."
    )
    assert reply is not None and address["address1"] in reply
    assert "keyboard" not in reply.lower()
    assert [g.name for g in customer.goals] == ["modify_pending_order_address"]


def test_refusal_of_another_kind_is_not_accepted(dev: list[Task], data: TauData) -> None:
    """dev-2 wants a pending order refunded: a refusal to return it is not the end."""
    task = dev[2]
    order_id = task.writes[0].kwargs["order_id"]
    customer = InstructionCustomer(task, data, seed=0)
    customer.opening()
    reply = customer.respond(
        f"I can't do that: Order {order_id} is pending; only delivered orders can be returned"
    )
    assert reply is not None and customer.goals and "refund" in reply


def test_proposal_without_the_wanted_options_is_refused(dev: list[Task], data: TauData) -> None:
    """dev-18 first asks for a 1L black kettle, then decides on a 1.5L glass one: a proposal of
    the 1L kettle is refused with the final wish."""
    task = dev[18]
    goal = task.writes[0]
    order_id = goal.kwargs["order_id"]
    _, wanted = data.variant(goal.kwargs["new_item_ids"][0])
    customer = InstructionCustomer(task, data, seed=0)
    customer.opening()
    reply = customer.respond(
        f"Please confirm: Exchange in order {order_id}: Electric Kettle (2L, stainless steel, white) for "
        "Electric Kettle (1L, glass, black). Shall I go ahead? (yes/no)"
    )
    assert reply is not None and reply.startswith("No")
    assert wanted["capacity"] in reply
    right = customer.respond(
        f"Please confirm: Exchange in order {order_id}: Electric Kettle (2L, stainless steel, white) for "
        f"Electric Kettle ({', '.join(wanted.values())}). Shall I go ahead? (yes/no)"
    )
    assert right is not None and right.lower().startswith("yes")
