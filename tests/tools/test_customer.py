from decimal import Decimal

import pytest

from core.errors import (
    ActionRefusedError,
    AuthenticationRequiredError,
    ConfirmationRequiredError,
    InvalidArgumentsError,
    NotFoundError,
)
from core.masking import mask_street
from store.models import Address, Customer, Order
from tests.shop_fixture import ALICE, BOB
from tools.base import ToolContext

pytestmark = pytest.mark.databases


def identify(executor, ctx, name, args):
    return executor.run(name, args, ctx=ctx).result


# find_customer_by_email --------------------------------------------------------------------


def test_find_by_email_returns_only_id_and_first_name(executor, anonymous):
    out = identify(executor, anonymous, "find_customer_by_email", {"email": "alice@example.com"})
    assert out.model_dump() == {"customer_id": ALICE, "first_name": "Alice"}


def test_find_by_email_is_case_insensitive_and_trimmed(executor, anonymous):
    out = identify(executor, anonymous, "find_customer_by_email", {"email": "  BOB@Example.COM "})
    assert out.customer_id == BOB and out.first_name == "Bob"


def test_find_by_email_matches_mixed_case_stored_address(executor, anonymous, database):
    with database.transaction() as s:
        s.add(Customer(id="carol_3003", first_name="Carol", last_name="Diaz", email="Carol.Diaz@Example.com"))
    out = identify(executor, anonymous, "find_customer_by_email", {"email": "carol.diaz@example.com"})
    assert out.customer_id == "carol_3003"


def test_find_by_email_ambiguous_accounts_are_refused(executor, anonymous, database):
    with database.transaction() as s:
        s.add(Customer(id="dup_1", first_name="Dee", last_name="One", email="Dup@Example.com"))
        s.add(Customer(id="dup_2", first_name="Dee", last_name="Two", email="DUP@example.com"))
    with pytest.raises(ActionRefusedError, match="name and zip"):
        identify(executor, anonymous, "find_customer_by_email", {"email": "dup@example.com"})


def test_find_by_email_unknown_reveals_nothing(executor, anonymous):
    with pytest.raises(NotFoundError) as info:
        identify(executor, anonymous, "find_customer_by_email", {"email": "mallory@example.com"})
    assert info.value.message == "No customer account matches that email address"
    assert info.value.context == {"resource": "customer"}


def test_find_by_email_malformed_is_a_bad_argument(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        identify(executor, anonymous, "find_customer_by_email", {"email": "alice-at-example.com"})
    assert info.value.errors[0]["argument"] == "email"


# find_customer_by_name_zip -----------------------------------------------------------------


def test_find_by_name_zip(executor, anonymous):
    out = identify(
        executor,
        anonymous,
        "find_customer_by_name_zip",
        {"first_name": "bob", "last_name": "JONES", "zip": "94107"},
    )
    assert out.model_dump() == {"customer_id": BOB, "first_name": "Bob"}


def test_find_by_name_zip_accepts_any_of_the_customers_addresses(executor, anonymous, database):
    with database.transaction() as s:
        s.add(
            Address(
                customer_id=ALICE, address1="5 Lake Rd", city="Austin", state="TX", country="USA", zip="78701"
            )
        )
    args = {"first_name": "Alice", "last_name": "Smith"}
    assert (
        identify(executor, anonymous, "find_customer_by_name_zip", {**args, "zip": "78701"}).customer_id
        == ALICE
    )
    assert (
        identify(executor, anonymous, "find_customer_by_name_zip", {**args, "zip": "10001"}).customer_id
        == ALICE
    )


def test_find_by_name_zip_matches_non_ascii_names_case_insensitively(executor, anonymous, database):
    with database.transaction() as s:
        customer = Customer(
            id="elodie_4004", first_name="Élodie", last_name="Ørsted", email="elodie@example.com"
        )
        customer.addresses.append(
            Address(address1="2 Rue Haute", city="Lyon", state="ARA", country="France", zip="69001")
        )
        s.add(customer)
    out = identify(
        executor,
        anonymous,
        "find_customer_by_name_zip",
        {"first_name": "élodie", "last_name": "ØRSTED", "zip": "69001"},
    )
    assert out.customer_id == "elodie_4004"


@pytest.mark.parametrize(
    "args",
    [
        {"first_name": "Alice", "last_name": "Smith", "zip": "94107"},  # Bob's zip
        {"first_name": "Alice", "last_name": "Jones", "zip": "10001"},
        {"first_name": "Bob", "last_name": "Jones", "zip": "10001"},
    ],
)
def test_find_by_name_zip_mismatch_reveals_nothing(executor, anonymous, args):
    with pytest.raises(NotFoundError) as info:
        identify(executor, anonymous, "find_customer_by_name_zip", args)
    assert info.value.message == "No customer account matches that name and zip code"
    assert info.value.context == {"resource": "customer"}


def test_find_by_name_zip_ambiguous_accounts_are_refused(executor, anonymous, database):
    with database.transaction() as s:
        twin = Customer(
            id="alice_smith_9009", first_name="Alice", last_name="Smith", email="alice2@example.com"
        )
        twin.addresses.append(
            Address(address1="3 Main St", city="Springfield", state="NY", country="USA", zip="10001")
        )
        s.add(twin)
    with pytest.raises(ActionRefusedError, match="email"):
        identify(
            executor,
            anonymous,
            "find_customer_by_name_zip",
            {"first_name": "Alice", "last_name": "Smith", "zip": "10001"},
        )


def test_find_by_name_zip_requires_every_part(executor, anonymous):
    with pytest.raises(InvalidArgumentsError) as info:
        identify(
            executor, anonymous, "find_customer_by_name_zip", {"first_name": "Alice", "last_name": "Smith"}
        )
    assert [e["argument"] for e in info.value.errors] == ["zip"]
    with pytest.raises(InvalidArgumentsError) as info:
        identify(
            executor,
            anonymous,
            "find_customer_by_name_zip",
            {"first_name": "Alice", "last_name": "Smith", "zip": "1;"},
        )
    assert info.value.errors[0]["argument"] == "zip"


# get_customer_profile ----------------------------------------------------------------------


def test_profile_of_alice(executor, alice):
    out = executor.run("get_customer_profile", {}, ctx=alice).result
    assert (out.customer_id, out.first_name, out.last_name) == (ALICE, "Alice", "Smith")
    assert out.email == "alice@example.com"
    assert [(a.address1, a.city, a.zip, a.is_default) for a in out.addresses] == [
        ("1 Main St", "Springfield", "10001", True)
    ]
    methods = {m.payment_method_id: m for m in out.payment_methods}
    assert set(methods) == {"credit_card_1001", "gift_card_1001"}
    assert methods["credit_card_1001"].source == "credit_card"
    assert methods["credit_card_1001"].label == "Visa ending 4242"
    assert methods["credit_card_1001"].balance is None
    assert methods["gift_card_1001"].source == "gift_card"
    assert methods["gift_card_1001"].balance == Decimal("50.00")
    # Oldest first: #W0000004 was 60 days ago, #W0000001 two days ago.
    assert [(o.order_id, o.status) for o in out.orders] == [
        ("#W0000004", "cancelled"),
        ("#W0000002", "delivered"),
        ("#W0000003", "processed"),
        ("#W0000001", "pending"),
    ]
    facts = {(f.kind.value, str(f.value)) for f in out.facts()}
    assert ("amount", "50.00") in facts and ("status", "pending") in facts


def test_profile_of_bob_never_shows_alices_data(executor, bob):
    out = executor.run("get_customer_profile", {}, ctx=bob).result
    assert out.customer_id == BOB and out.email == "bob@example.com"
    assert [m.payment_method_id for m in out.payment_methods] == ["paypal_2002"]
    assert out.payment_methods[0].label == "PayPal"
    assert [o.order_id for o in out.orders] == ["#W0000006", "#W0000005"]
    dumped = out.model_dump_json()
    for alice_value in (
        ALICE,
        "alice@example.com",
        "credit_card_1001",
        "gift_card_1001",
        "#W0000001",
        "10001",
    ):
        assert alice_value not in dumped


def test_profile_payment_methods_show_only_safe_fields(executor, alice):
    out = executor.run("get_customer_profile", {}, ctx=alice).result
    for method in out.payment_methods:
        assert set(method.model_dump()) == {"payment_method_id", "source", "label", "balance"}


def test_profile_requires_authentication(executor, anonymous):
    with pytest.raises(AuthenticationRequiredError):
        executor.run("get_customer_profile", {}, ctx=anonymous)


def test_profile_takes_no_arguments(executor, alice):
    # The customer is always the authenticated one; naming another is an unknown argument.
    with pytest.raises(InvalidArgumentsError) as info:
        executor.run("get_customer_profile", {"customer_id": BOB}, ctx=alice)
    assert info.value.errors[0]["argument"] == "customer_id"


def test_profile_of_a_deleted_account(executor):
    ghost = ToolContext(session_id="sess-ghost", customer_id="ghost_0000")
    with pytest.raises(NotFoundError, match="no longer exists"):
        executor.run("get_customer_profile", {}, ctx=ghost)


# change_default_address --------------------------------------------------------------------
NEW_HOME = {
    "address1": "5 Elm Road",
    "address2": "Apt 3",
    "city": "Boston",
    "state": "MA",
    "country": "USA",
    "zip": "02118",
}


def _addresses(database, customer_id):
    with database.session() as s:
        customer = s.get(Customer, customer_id)
        return [(a.as_dict(), a.is_default) for a in customer.addresses]


def test_change_default_address_changes_only_the_default_one(executor, confirm, database, alice, bob):
    before = _addresses(database, ALICE)
    bobs = _addresses(database, BOB)
    summary = executor.prepare("change_default_address", {"address": NEW_HOME}, ctx=alice).summary
    old = next(a for a, default in before if default)
    # the address on file is masked in the prompt; the one just typed is shown as typed
    assert old["address1"] not in summary and mask_street(old["address1"]) in summary
    assert "5 Elm Road" in summary and "Boston, MA 02118" in summary
    result = confirm("change_default_address", {"address": NEW_HOME}, alice).result
    assert result.customer_id == ALICE and result.address == NEW_HOME
    after = _addresses(database, ALICE)
    assert [a for a, default in after if default] == [NEW_HOME]
    assert [x for x in after if not x[1]] == [x for x in before if not x[1]]
    assert _addresses(database, BOB) == bobs
    with database.session() as s:  # orders keep the address they were placed with
        assert all(o.shipping_address["address1"] != "5 Elm Road" for o in s.query(Order).all())


def test_change_default_address_back_and_forth_acts_each_time(executor, confirm, database, alice):
    old = next(a for a, default in _addresses(database, ALICE) if default)
    confirm("change_default_address", {"address": NEW_HOME}, alice)
    back = confirm("change_default_address", {"address": old}, alice)
    assert not back.replayed
    assert next(a for a, default in _addresses(database, ALICE) if default) == old


def test_change_default_address_without_one_sets_it(executor, confirm, database):
    with database.transaction() as s:
        s.add(Customer(id="dana_4004", first_name="Dana", last_name="Lee", email="dana@example.com"))
    dana = ToolContext(session_id="sess-dana", customer_id="dana_4004")
    assert executor.prepare("change_default_address", {"address": NEW_HOME}, ctx=dana).summary.startswith(
        "Set your default address to 5 Elm Road"
    )
    confirm("change_default_address", {"address": NEW_HOME}, dana)
    assert _addresses(database, "dana_4004") == [(NEW_HOME, True)]


def test_change_default_address_needs_confirmation_auth_and_a_real_address(
    executor, database, alice, anonymous
):
    before = _addresses(database, ALICE)
    with pytest.raises(AuthenticationRequiredError):
        executor.prepare("change_default_address", {"address": NEW_HOME}, ctx=anonymous)
    with pytest.raises(InvalidArgumentsError) as info:
        executor.prepare("change_default_address", {"address": {**NEW_HOME, "zip": "<script>"}}, ctx=alice)
    assert "zip" in info.value.errors[0]["argument"]
    with pytest.raises(ConfirmationRequiredError):
        executor.run("change_default_address", {"address": NEW_HOME}, ctx=alice)
    assert _addresses(database, ALICE) == before
