"""Agent accounts: Argon2 hashes, no clear-text password, clear refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import ActionRefusedError, InvalidArgumentsError, NotFoundError
from store.models import SupportAgent
from support.accounts import AgentAccounts


def test_add_and_verify(database) -> None:
    accounts = AgentAccounts(database)
    info = accounts.add("sam", "correct horse battery", display_name="Sam")
    assert info.display_name == "Sam"
    assert accounts.verify("sam", "correct horse battery") == info
    assert accounts.verify("sam", "wrong password!!") is None
    assert accounts.verify("nobody", "correct horse battery") is None
    with database.session() as session:
        stored = session.scalar(select(SupportAgent.password_hash).where(SupportAgent.name == "sam"))
    assert stored is not None and stored.startswith("$argon2id$") and "correct horse" not in stored
    assert [a.name for a in accounts.list()] == ["sam"]


def test_bad_accounts_are_refused(database) -> None:
    accounts = AgentAccounts(database)
    accounts.add("sam", "long enough password")
    with pytest.raises(ActionRefusedError, match="already exists"):
        accounts.add("sam", "another long password")
    with pytest.raises(InvalidArgumentsError, match="at least 10"):
        accounts.add("kim", "short")
    with pytest.raises(InvalidArgumentsError, match="Invalid agent name"):
        accounts.add("Kim Smith", "long enough password")


def test_new_password_and_disabling_change_what_logs_in(database) -> None:
    accounts = AgentAccounts(database)
    first = accounts.add("sam", "correct horse battery")
    changed = accounts.set_password("sam", "another long password")
    assert changed.credential != first.credential, "open logins carry the old credential"
    assert accounts.verify("sam", "correct horse battery") is None
    assert accounts.verify("sam", "another long password") == changed
    disabled = accounts.set_active("sam", False)
    assert not disabled.active and accounts.verify("sam", "another long password") is None
    assert accounts.set_active("sam", True).credential == changed.credential
    with pytest.raises(InvalidArgumentsError, match="at least 10"):
        accounts.set_password("sam", "short")
    with pytest.raises(NotFoundError, match="no agent 'kim'"):
        accounts.set_active("kim", False)
    with pytest.raises(NotFoundError):
        accounts.set_password("kim", "long enough password")
