"""The same confirmed checkout, sent by two OS processes at the same moment (a customer's "yes"
delivered twice, to two servers), on SQLite and on PostgreSQL: one order, charged once, and every
call answers with that order. Each round buys the last unit of an item, so a second run of the
tool (rather than a replay of the first) would answer "just sold out"."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.config import Settings
from services import Services
from store.models import IdempotencyRecord, Order, PaymentTransaction, Variant
from tests.shop_fixture import ALICE
from tools.base import ToolContext
from tools.policy import ToolExecutor

pytestmark = pytest.mark.databases

ROUNDS = 6
CALLS = 2  # per process and round: both at once, then a late repeat
CARD = {"payment_method_id": "credit_card_1001"}


def checkout_rounds(options: dict[str, Any], tokens: list[str], start: Any, results: Any) -> None:
    """One process: its own services on the shared store; in each round, ``CALLS`` runs of that
    round's confirmed checkout, the first at the same moment as the other process's."""
    services = Services.from_settings(Settings(**options))
    for round_, token in enumerate(tokens):
        ctx = ToolContext(session_id=f"sess-race-{round_}", customer_id=ALICE).confirmed(token)
        start.wait(timeout=60)
        for _ in range(CALLS):
            try:
                outcome = services.executor.run("checkout", CARD, ctx=ctx)
                results.put((round_, outcome.result.order_id, outcome.replayed))
            except Exception as exc:  # reported to the test, which fails on it
                results.put((round_, "error", f"{type(exc).__name__}: {exc}"))
    services.close()


def count(executor: ToolExecutor, model: Any) -> int:
    with executor.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_two_processes_confirming_the_same_checkout_place_one_order(
    settings: Settings, executor: ToolExecutor
) -> None:
    with executor.database.transaction() as session:  # the last unit of an item, once per round
        product = session.get(Variant, "V-SOCK-M").product_id
        for round_ in range(ROUNDS):
            session.add(Variant(id=f"V-RACE-{round_}", product_id=product, price=Decimal("5.00"), stock=1))
    tokens = []
    for round_ in range(ROUNDS):
        ctx = ToolContext(session_id=f"sess-race-{round_}", customer_id=ALICE)
        executor.run("add_to_cart", {"variant_id": f"V-RACE-{round_}", "quantity": 1}, ctx=ctx)
        tokens.append(executor.prepare("checkout", CARD, ctx=ctx).token)
    before = {model: count(executor, model) for model in (Order, PaymentTransaction, IdempotencyRecord)}
    options = {
        "data_dir": str(settings.data_dir),
        "policy": {"secret_key": "test-secret-key-0123456789"},
        "store": {"url": settings.database_url},
    }
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=checkout_rounds, args=(options, tokens, start, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=300) for _ in range(2 * CALLS * ROUNDS)]
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]

    assert not [a for a in answers if a[1] == "error"], answers
    for round_ in range(ROUNDS):
        mine = [(order_id, replayed) for r, order_id, replayed in answers if r == round_]
        assert len({order_id for order_id, _ in mine}) == 1, mine
        assert sorted(replayed for _, replayed in mine) == [False] + [True] * (2 * CALLS - 1)
    after = {model: count(executor, model) for model in before}
    assert after == {model: n + ROUNDS for model, n in before.items()}, "one order, payment, record a round"
    with executor.database.session() as session:
        assert [session.get(Variant, f"V-RACE-{r}").stock for r in range(ROUNDS)] == [0] * ROUNDS
