"""Customer tools: identifying a customer (by two facts for ``auth.level: knowledge``; by email,
or by name and zip, for tau-bench's policy), their profile, and changing their default address.

The two lookups are identity checks: they return only the customer id and first name, and a
miss says nothing about which part did not match. The dialogue layer sets
``ToolContext.customer_id`` from their result; ``get_customer_profile`` then reads that
customer's own profile and nobody else's, and ``change_default_address`` changes only that
customer's default address (orders already placed keep theirs).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from pydantic import EmailStr, Field, model_validator
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from core.errors import ActionRefusedError, AuthenticationRequiredError, NotFoundError
from core.facts import Amount, Fact, FactKind, Id, Name, Status
from core.masking import masked_address
from core.words import folded
from store.models import Address, Customer, Order, PaymentSource
from tools import order_support as support
from tools.arguments import Address as AddressArg
from tools.base import ArgsModel, Tool, ToolContext, ToolEnv, ToolResult


def _same(a: str, b: str) -> bool:
    return folded(a) == folded(b)


def two_facts(*, email: bool, named: bool, zip_code: bool, card_digits: bool) -> bool:
    """The knowledge check's rule: two independent facts, an email with a zip code or card
    digits, or a full name with both (a name is easier to know than an email)."""
    return (email and (zip_code or card_digits)) or (named and zip_code and card_digits)


def _with_zip(zip_code: str) -> Select[Customer]:
    """Customers with an address at ``zip_code``: the zip narrows the candidates through its
    index; names are compared in Python (``folded``), so non-ASCII names match too."""
    zip_code = zip_code.strip()
    return (
        select(Customer)
        .join(Address, Address.customer_id == Customer.id)
        .where(Address.zip.in_({zip_code, zip_code.upper(), zip_code.lower()}))
        .distinct()
    )


class CustomerIdentity(ToolResult):
    customer_id: Id
    first_name: Name


def _identity(customer: Customer) -> CustomerIdentity:
    return CustomerIdentity(customer_id=customer.id, first_name=customer.first_name)


class FindByEmailArgs(ArgsModel):
    email: EmailStr = Field(description="The email address of the customer's account.")


class FindCustomerByEmail(Tool[FindByEmailArgs, CustomerIdentity]):
    name = "find_customer_by_email"
    description = "Identify a customer by the email address of their account (case-insensitive)."
    args_model = FindByEmailArgs
    result_model = CustomerIdentity

    def run(self, args: FindByEmailArgs, *, ctx: ToolContext, env: ToolEnv) -> CustomerIdentity:
        email = args.email.strip()
        exact = env.db.scalar(select(Customer).where(Customer.email == email))
        if exact is not None:
            return _identity(exact)
        found = list(
            env.db.scalars(select(Customer).where(func.lower(Customer.email) == email.lower()).limit(2))
        )
        if not found:
            raise NotFoundError("No customer account matches that email address", resource="customer")
        if len(found) > 1:
            raise ActionRefusedError(
                "More than one account matches that email address; "
                "please identify with your name and zip code instead",
                resource="customer",
            )
        return _identity(found[0])


class FindByNameZipArgs(ArgsModel):
    first_name: str = Field(min_length=1, max_length=120, description="The customer's first name.")
    last_name: str = Field(min_length=1, max_length=120, description="The customer's last name.")
    zip: str = Field(
        min_length=3,
        max_length=20,
        pattern=r"^[A-Za-z0-9 -]+$",
        description="The zip code of one of their addresses.",
    )


class FindCustomerByNameZip(Tool[FindByNameZipArgs, CustomerIdentity]):
    name = "find_customer_by_name_zip"
    description = (
        "Identify a customer by first and last name (case-insensitive) plus the zip code of one "
        "of their addresses."
    )
    args_model = FindByNameZipArgs
    result_model = CustomerIdentity

    def run(self, args: FindByNameZipArgs, *, ctx: ToolContext, env: ToolEnv) -> CustomerIdentity:
        candidates = env.db.scalars(_with_zip(args.zip))
        found = [
            c
            for c in candidates
            if _same(c.first_name, args.first_name) and _same(c.last_name, args.last_name)
        ]
        if not found:
            raise NotFoundError("No customer account matches that name and zip code", resource="customer")
        if len(found) > 1:
            raise ActionRefusedError(
                "More than one account matches that name and zip code; "
                "please identify with your email address instead",
                resource="customer",
            )
        return _identity(found[0])


class VerifyCustomerArgs(ArgsModel):
    email: EmailStr | None = Field(default=None, description="The email address of the account.")
    first_name: str | None = Field(default=None, max_length=120, description="The customer's first name.")
    last_name: str | None = Field(default=None, max_length=120, description="The customer's last name.")
    zip: str | None = Field(
        default=None,
        min_length=3,
        max_length=20,
        pattern=r"^[A-Za-z0-9 -]+$",
        description="The zip code of one of their addresses.",
    )
    card_last4: str | None = Field(
        default=None, pattern=r"^\d{4}$", description="The last 4 digits of a card on file."
    )

    @model_validator(mode="after")
    def _two_facts(self) -> VerifyCustomerArgs:
        named = bool(self.first_name and self.last_name)
        if two_facts(
            email=bool(self.email), named=named, zip_code=bool(self.zip), card_digits=bool(self.card_last4)
        ):
            return self
        raise ValueError(
            "give an email with a zip code or the last 4 digits of a card on file, or a full name with both"
        )


class VerifyCustomer(Tool[VerifyCustomerArgs, CustomerIdentity]):
    """The knowledge check (``auth.level: knowledge``): every fact given must belong to one
    account. A miss says the same whatever did not match, so it tells nobody whether an email
    or a name has an account."""

    name = "verify_customer"
    description = (
        "Verify a customer by two independent facts: email plus zip code or the last 4 digits of "
        "a card on file, or full name plus zip code plus card digits. All given facts must match."
    )
    args_model = VerifyCustomerArgs
    result_model = CustomerIdentity

    def run(self, args: VerifyCustomerArgs, *, ctx: ToolContext, env: ToolEnv) -> CustomerIdentity:
        if args.email:
            query = select(Customer).where(func.lower(Customer.email) == args.email.strip().lower())
        else:
            query = _with_zip(args.zip or "")
        query = query.options(selectinload(Customer.addresses), selectinload(Customer.payment_methods))
        found = [c for c in env.db.scalars(query) if _matches(c, args)]
        if len(found) != 1:
            raise NotFoundError("Those details do not match an account", resource="customer")
        return _identity(found[0])


def _matches(customer: Customer, args: VerifyCustomerArgs) -> bool:
    if args.last_name and not (
        _same(customer.first_name, args.first_name or "") and _same(customer.last_name, args.last_name)
    ):
        return False
    if args.zip and not any(_same(a.zip or "", args.zip) for a in customer.addresses):
        return False
    return not args.card_last4 or any(m.last_four == args.card_last4 for m in customer.payment_methods)


class AddressInfo(ToolResult):
    address1: str
    address2: str
    city: str
    state: str
    country: str
    zip: str
    is_default: bool


class PaymentMethodInfo(ToolResult):
    payment_method_id: Id
    source: str
    label: str = Field(description="How to name it to the customer; never a full card number.")
    # The Fact marker must sit at the top level: inside ``Amount | None`` facts() misses it.
    balance: Annotated[Amount | None, Fact(FactKind.AMOUNT)] = Field(
        default=None, description="Remaining balance of a gift card."
    )


class OrderRef(ToolResult):
    order_id: Id
    status: Status


class CustomerProfile(ToolResult):
    customer_id: Id
    first_name: Name
    last_name: Name
    email: str
    addresses: list[AddressInfo]
    payment_methods: list[PaymentMethodInfo]
    orders: list[OrderRef] = Field(description="The customer's orders, oldest first.")


def _verified_customer(tool: str, ctx: ToolContext, env: ToolEnv, *, lock: bool = False) -> Customer:
    """The conversation's verified customer with addresses and payment methods loaded (locked
    for an update with ``lock``)."""
    if not ctx.customer_id:
        raise AuthenticationRequiredError(f"{tool} needs an authenticated customer", tool=tool)
    query = (
        select(Customer)
        .where(Customer.id == ctx.customer_id)
        .options(selectinload(Customer.addresses), selectinload(Customer.payment_methods))
    )
    customer = env.db.scalar(query.with_for_update() if lock else query)
    if customer is None:
        raise NotFoundError("The authenticated customer's account no longer exists", resource="customer")
    return customer


class GetCustomerProfileArgs(ArgsModel):
    pass


class GetCustomerProfile(Tool[GetCustomerProfileArgs, CustomerProfile]):
    name = "get_customer_profile"
    description = (
        "The authenticated customer's own profile: name, email, addresses, payment methods "
        "(gift-card balances) and their orders with status."
    )
    args_model = GetCustomerProfileArgs
    result_model = CustomerProfile
    requires_auth = True

    def run(self, args: GetCustomerProfileArgs, *, ctx: ToolContext, env: ToolEnv) -> CustomerProfile:
        customer = _verified_customer(self.name, ctx, env)
        orders = env.db.execute(
            select(Order.id, Order.status)
            .where(Order.customer_id == customer.id)
            .order_by(Order.created_at, Order.id)
        )
        return CustomerProfile(
            customer_id=customer.id,
            first_name=customer.first_name,
            last_name=customer.last_name,
            email=customer.email,
            addresses=[AddressInfo(**a.as_dict(), is_default=a.is_default) for a in customer.addresses],
            payment_methods=[
                PaymentMethodInfo(
                    payment_method_id=m.id,
                    source=m.source.value,
                    label=m.label,
                    balance=(m.balance or Decimal("0")) if m.source is PaymentSource.GIFT_CARD else None,
                )
                for m in customer.payment_methods
            ],
            orders=[OrderRef(order_id=order_id, status=status.value) for order_id, status in orders],
        )


# Default address ---------------------------------------------------------------------------
class ChangeDefaultAddressArgs(ArgsModel):
    address: AddressArg = Field(description="The customer's new default address.")


class DefaultAddressResult(ToolResult):
    customer_id: Id
    address: dict[str, str]


class ChangeDefaultAddress(Tool[ChangeDefaultAddressArgs, DefaultAddressResult]):
    name = "change_default_address"
    description = (
        "Change the authenticated customer's default address, the one new orders ship to. Orders "
        "already placed keep their shipping address (change_shipping_address changes a pending one)."
    )
    args_model = ChangeDefaultAddressArgs
    result_model = DefaultAddressResult
    requires_auth = True
    side_effect = True

    def summarize(self, args: ChangeDefaultAddressArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        current = _verified_customer(self.name, ctx, env).default_address
        new = support.address_text(args.address.model_dump())
        if current is None:
            return f"Set your default address to {new}."
        old = support.address_text(masked_address(current.as_dict()))  # on file: masked
        return f"Change your default address from {old} to {new}."

    def idempotency_scope(self, args: ChangeDefaultAddressArgs, *, ctx: ToolContext, env: ToolEnv) -> str:
        # Changing A -> B -> A must act the third time, not replay the first call's result.
        current = _verified_customer(self.name, ctx, env).default_address
        return json.dumps(current.as_dict() if current else {}, sort_keys=True)

    def run(self, args: ChangeDefaultAddressArgs, *, ctx: ToolContext, env: ToolEnv) -> DefaultAddressResult:
        customer = _verified_customer(self.name, ctx, env, lock=True)
        new = args.address.model_dump()
        current = customer.default_address
        if current is None:
            current = Address(is_default=True, **new)
            customer.addresses.append(current)
        else:
            for key, value in new.items():
                setattr(current, key, value)
        env.db.flush()
        return DefaultAddressResult(customer_id=customer.id, address=support.text_dict(current.as_dict()))


TOOLS: list[type[Tool[Any, Any]]] = [
    FindCustomerByEmail,
    FindCustomerByNameZip,
    VerifyCustomer,
    GetCustomerProfile,
    ChangeDefaultAddress,
]
