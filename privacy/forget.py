"""Forgetting a customer (the right to erasure), while the books stay whole.

What goes: the name and email (the email becomes a unique ``forgotten-<random>@invalid``, so the
unique constraint holds and nobody can verify as them again), the addresses, the payment
methods' brand and last digits, the shipping address copied onto each order, stored tool
results about them (idempotency records), their one-time codes, the Rasa conversations verified
as them, and everything personal in their conversations (see :mod:`assistant.sessions.erasure`).

What stays, for bookkeeping: the order rows with their items, prices, totals, statuses,
fulfilments and payment or refund transactions, and a gift card's balance.

The customer's id goes too: imported shops build it from the name (tau-bench's
``alice_smith_1001``), so the row is re-keyed to ``forgotten_<random>`` and every reference in
the shop's store (addresses, payment methods, orders, carts, data requests) follows it. The
random part is not derived from the old id or email, so the placeholder reveals nothing.

Forgetting is idempotent: a customer already forgotten is recognised by their placeholder email
and left as they are.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from assistant.sessions.store import SessionStore
from privacy.export import load_customer
from store.db import Database
from store.models import (
    Address,
    Cart,
    Customer,
    DataRequest,
    IdempotencyRecord,
    OneTimeCode,
    Order,
    PaymentMethod,
    VerifiedSender,
)

log = logging.getLogger(__name__)

REMOVED = "[removed]"
FORGOTTEN_ID_PREFIX = "forgotten_"
FORGOTTEN_EMAIL_DOMAIN = "@invalid"
_REMOVED_ADDRESS = {
    "address1": REMOVED,
    "address2": "",
    "city": REMOVED,
    "state": "",
    "country": "",
    "zip": "",
}


@dataclass(frozen=True)
class ForgetResult:
    """What forgetting changed: the customer's new id, and the counts (no personal data)."""

    customer_id: str
    already_forgotten: bool
    addresses: int
    payment_methods: int
    orders: int
    conversations: int
    conversation_events: int


def is_forgotten(customer: Customer) -> bool:
    return customer.id.startswith(FORGOTTEN_ID_PREFIX) and customer.email.endswith(FORGOTTEN_EMAIL_DOMAIN)


def forget_customer(database: Database, sessions: SessionStore, *, customer_id: str) -> ForgetResult:
    """Anonymise ``customer_id`` in the shop's store and in their conversations (see the module
    docstring); :class:`~core.errors.NotFoundError` for an unknown id. The conversations go
    first, while the old id still finds them; each step can run again, so a forget that stopped
    half way is finished by running it again with the same id."""
    with database.session() as session:
        load_customer(session, customer_id)  # unknown ids fail before anything changes
    conversation_ids = sessions.sessions_of_customer(customer_id=customer_id)
    events = sum(sessions.anonymise(session_id=session_id) for session_id in conversation_ids)
    with database.transaction() as session:
        customer = load_customer(session, customer_id)
        if is_forgotten(customer):
            result = ForgetResult(customer.id, True, 0, 0, 0, len(conversation_ids), events)
        else:
            result = _forget_in_store(session, customer, conversations=len(conversation_ids), events=events)
    sessions.checkpoint()
    database.checkpoint()
    log.info(
        "customer forgotten",
        extra={
            "addresses": result.addresses,
            "payment_methods": result.payment_methods,
            "orders": result.orders,
            "conversations": result.conversations,
            "conversation_events": result.conversation_events,
        },
    )
    return result


def _forget_in_store(
    session: Session, customer: Customer, *, conversations: int, events: int
) -> ForgetResult:
    old_id = customer.id
    token = secrets.token_hex(8)
    new_id = f"{FORGOTTEN_ID_PREFIX}{token}"
    addresses = len(customer.addresses)
    methods = len(customer.payment_methods)
    no_sync = {"synchronize_session": False}

    # The new row first, so the references can move to it; then the old row goes.
    session.add(
        Customer(
            id=new_id,
            first_name=REMOVED,
            last_name=REMOVED,
            email=f"forgotten-{token}{FORGOTTEN_EMAIL_DOMAIN}",
            created_at=customer.created_at,
        )
    )
    session.flush()
    for model in (Address, PaymentMethod, Order, Cart, DataRequest):
        moved = update(model).where(model.customer_id == old_id).values(customer_id=new_id)
        session.execute(moved, execution_options=no_sync)
    session.execute(
        update(Address).where(Address.customer_id == new_id).values(**_REMOVED_ADDRESS),
        execution_options=no_sync,
    )
    session.execute(
        update(PaymentMethod).where(PaymentMethod.customer_id == new_id).values(brand=None, last_four=None),
        execution_options=no_sync,
    )
    orders = session.scalar(select(func.count()).select_from(Order).where(Order.customer_id == new_id)) or 0
    session.execute(
        update(Order).where(Order.customer_id == new_id).values(shipping_address=dict(_REMOVED_ADDRESS)),
        execution_options=no_sync,
    )
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.customer_id == old_id))
    session.execute(delete(OneTimeCode).where(OneTimeCode.customer_id == old_id))
    # A Rasa conversation verified as them is no longer anyone's.
    session.execute(delete(VerifiedSender).where(VerifiedSender.customer_id == old_id))
    session.expunge(customer)
    session.execute(delete(Customer).where(Customer.id == old_id))
    return ForgetResult(new_id, False, addresses, methods, orders, conversations, events)
