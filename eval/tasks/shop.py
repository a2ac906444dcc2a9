"""The tau retail shop for task runs: imported once (store, search index, policy page) into a
template folder; every run works on a copy, and the expected end state of a task is the copy's
state after the task's ground-truth writes, applied through the same tools and policy layer."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.config import Settings
from core.errors import ActionRefusedError
from eval.shops import build_index
from eval.tasks.tasks import Task, TaskAction
from retrieval.embeddings import Embedder
from services import Services
from store.db import Database
from store.models import Customer, Order, Variant
from tools.base import ToolContext
from tools.importers import ImportOptions, run_import

SECRET = "tau-task-secret-key-0123456789"
Snapshot = dict[str, Any]


class UnsupportedAction(Exception):
    """A ground-truth action no tool of this project can carry out (yet)."""


def _address(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {f: kwargs[f] for f in ("address1", "address2", "city", "state", "country", "zip")}


def tool_call(action: TaskAction) -> tuple[str, dict[str, Any]]:
    """The tool and arguments of this project that do what tau's ``action`` does."""
    k = action.kwargs
    match action.name:
        case "cancel_pending_order":
            return "cancel_order", {"order_id": k["order_id"], "reason": k["reason"]}
        case "return_delivered_order_items":
            return "return_items", {
                "order_id": k["order_id"],
                "item_ids": k["item_ids"],
                "payment_method_id": k["payment_method_id"],
            }
        case "exchange_delivered_order_items":
            return "exchange_items", {
                "order_id": k["order_id"],
                "item_ids": k["item_ids"],
                "new_item_ids": k["new_item_ids"],
                "payment_method_id": k["payment_method_id"],
            }
        case "modify_pending_order_items":
            return "modify_order_items", {
                "order_id": k["order_id"],
                "item_ids": k["item_ids"],
                "new_item_ids": k["new_item_ids"],
                "payment_method_id": k["payment_method_id"],
            }
        case "modify_pending_order_payment":
            return "change_order_payment", {
                "order_id": k["order_id"],
                "payment_method_id": k["payment_method_id"],
            }
        case "modify_pending_order_address":
            return "change_shipping_address", {"order_id": k["order_id"], "address": _address(k)}
        case "modify_user_address":
            return "change_default_address", {"address": _address(k)}
    raise UnsupportedAction(action.name)


class TauShop:
    def __init__(self, data_dir: Path, *, embedder: Embedder, workdir: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.embedder = embedder
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="shopassist-tau-"))
        self.template = self.workdir / "template"
        self._build()
        self._count = 0

    def settings_for(self, data_dir: Path, *, llm: bool = False) -> Settings:
        return Settings(
            data_dir=data_dir,
            policy={"secret_key": SECRET},
            llm={"enabled": llm},
            shop={"name": "tau retail"},
            # tau-bench's retail policy: an email alone, or a full name plus zip code, verifies.
            auth={"level": "email_or_name_zip"},
            retrieval={"policy_dirs": [self.template / "policies"]},
            logging={"level": "WARNING"},
        )

    def _build(self) -> None:
        pages = self.template / "policies"
        pages.mkdir(parents=True)
        shutil.copy(self.data_dir / "policy.md", pages / "policy.md")
        database = Database(f"sqlite:///{self.template / 'shop.db'}")
        database.migrate()
        run_import(database, "tau", self.data_dir, options=ImportOptions(default_stock=10))
        database.dispose()
        build_index(self.settings_for(self.template), embedder=self.embedder)

    @contextmanager
    def copy(self) -> Iterator[Path]:
        """A fresh copy of the shop, removed afterwards."""
        self._count += 1
        data_dir = self.workdir / f"run{self._count}"
        shutil.copytree(self.template, data_dir)
        try:
            yield data_dir
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    def expected(self, task: Task) -> Snapshot:
        """The shop's state after the task's ground-truth writes (:class:`UnsupportedAction` if a
        write has no tool here). A write the shop's rules refuse (a gift card too small for the
        difference) changes nothing, as in tau-bench, whose tools answer it with an error: the
        right answer to the customer is the same refusal."""
        calls = [tool_call(a) for a in task.writes if a.name != "transfer_to_human_agents"]
        with self.copy() as data_dir:
            services = Services.from_settings(self.settings_for(data_dir))
            try:
                ctx = ToolContext(session_id="expected", customer_id=task.user_id, channel="eval")
                for name, args in calls:
                    try:
                        pending = services.executor.prepare(name, args, ctx=ctx)
                    except ActionRefusedError:
                        continue  # as in tau-bench, a write the shop's rules refuse changes nothing
                    services.executor.run(name, args, ctx=ctx.confirmed(pending.token))
                return snapshot(services.database)
            finally:
                services.close()

    def close(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def snapshot(database: Database) -> Snapshot:
    """Orders, customers and stock, without times or generated row ids: what a task may change."""
    with database.session() as session:
        orders = session.scalars(
            select(Order).options(selectinload(Order.items), selectinload(Order.transactions))
        )
        order_state = {
            o.id: {
                "status": o.status.value,
                "address": dict(o.shipping_address or {}),
                "cancel_reason": o.cancel_reason,
                "items": sorted(
                    (i.variant_id, str(i.price), i.quantity, i.disposition or "") for i in o.items
                ),
                "payments": sorted(
                    (t.kind.value, str(t.amount), t.payment_method_id) for t in o.transactions
                ),
            }
            for o in orders
        }
        customers = session.scalars(
            select(Customer).options(selectinload(Customer.addresses), selectinload(Customer.payment_methods))
        )
        customer_state = {
            c.id: {
                "addresses": sorted(
                    (a.address1, a.address2 or "", a.city, a.state, a.zip, a.country, a.is_default)
                    for a in c.addresses
                ),
                "balances": sorted((m.id, str(m.balance)) for m in c.payment_methods),
            }
            for c in customers
        }
        stock = {
            variant_id: count for variant_id, count in session.execute(select(Variant.id, Variant.stock))
        }
    return {"orders": order_state, "customers": customer_state, "stock": stock}


def differences(expected: Snapshot, actual: Snapshot, *, limit: int = 8) -> list[str]:
    """What differs between two snapshots, as short lines (empty: the same)."""
    found: list[str] = []
    for part in ("orders", "customers", "stock"):
        want, got = expected[part], actual[part]
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                found.append(f"{part} {key}: expected {want.get(key)!r}, got {got.get(key)!r}")
                if len(found) >= limit:
                    return found
    return found
