"""A customer's copy of their data (the right of access): one JSON-able dict of their profile,
their orders and the conversations in which they were verified.

Payment methods are listed as the shop knows them (a card's brand and last four digits, never
more: the store holds nothing more). Conversations are found through the session store's
``sessions_of_customer``, so a conversation where the customer verified and later left still
counts; each comes with all its events, which is what the customer said and was told.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from assistant.sessions.store import SessionStore
from core.errors import NotFoundError
from store.db import Database
from store.models import Customer, Order

FORMAT_VERSION = 1


def find_customer_id(database: Database, email: str) -> str:
    """The id of the customer with ``email`` (any case); :class:`NotFoundError` if none."""
    wanted = email.strip().lower()
    with database.session() as session:
        found = session.scalar(select(Customer.id).where(func.lower(Customer.email) == wanted))
    if found is None:
        raise NotFoundError(f"No customer with the email address {email.strip()!r}", email=email)
    return found


def load_customer(session: Session, customer_id: str) -> Customer:
    """The customer with addresses and payment methods; :class:`NotFoundError` if unknown."""
    query = (
        select(Customer)
        .where(Customer.id == customer_id)
        .options(selectinload(Customer.addresses), selectinload(Customer.payment_methods))
    )
    customer = session.scalar(query)
    if customer is None:
        raise NotFoundError(f"Unknown customer {customer_id!r}", customer_id=customer_id)
    return customer


def export_customer(
    database: Database, sessions: SessionStore, *, customer_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """Everything kept about ``customer_id``, as JSON-able data (``json.dumps`` takes it)."""
    with database.session() as session:
        customer = load_customer(session, customer_id)
        profile = _profile(customer)
        orders_query = (
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.created_at, Order.id)
            .options(selectinload(Order.items), selectinload(Order.fulfillments))
            .options(selectinload(Order.transactions))
        )
        orders = [_order(order) for order in session.scalars(orders_query)]
    conversations = [
        _conversation(sessions, session_id)
        for session_id in sessions.sessions_of_customer(customer_id=customer_id)
    ]
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": (now or datetime.now(UTC)).isoformat(),
        "customer": profile,
        "orders": orders,
        "conversations": conversations,
    }


def _profile(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "created_at": customer.created_at.isoformat(),
        "addresses": [
            address.as_dict() | {"is_default": address.is_default} for address in customer.addresses
        ],
        "payment_methods": [
            {
                "id": method.id,
                "type": method.source.value,
                "label": method.label,
                "brand": method.brand,
                "last_four": method.last_four,
                "balance": str(method.balance) if method.balance is not None else None,
            }
            for method in customer.payment_methods
        ],
    }


def _order(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "status": order.status.value,
        "created_at": order.created_at.isoformat(),
        "shipping_address": dict(order.shipping_address),
        "cancel_reason": order.cancel_reason,
        "total": str(order.total),
        "items": [
            {
                "product_id": item.product_id,
                "variant_id": item.variant_id,
                "name": item.name,
                "options": dict(item.options),
                "price": str(item.price),
                "quantity": item.quantity,
                "disposition": item.disposition,
            }
            for item in order.items
        ],
        "fulfillments": [
            {"carrier": f.carrier, "tracking_ids": list(f.tracking_ids)} for f in order.fulfillments
        ],
        "transactions": [
            {
                "kind": t.kind.value,
                "amount": str(t.amount),
                "payment_method_id": t.payment_method_id,
                "created_at": t.created_at.isoformat(),
            }
            for t in order.transactions
        ],
    }


def _conversation(sessions: SessionStore, session_id: str) -> dict[str, Any]:
    events = sessions.events(session_id=session_id)
    return {
        "session_id": session_id,
        "started_at": events[0].at.isoformat() if events else None,
        "last_activity_at": events[-1].at.isoformat() if events else None,
        "events": [
            {"seq": stored.seq, "at": stored.at.isoformat()} | stored.event.model_dump(mode="json")
            for stored in events
        ],
    }
