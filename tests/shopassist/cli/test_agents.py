"""`shopassist agents add/list`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.errors import ActionRefusedError, InvalidArgumentsError, NotFoundError
from shopassist.cli.main import app
from support.accounts import AgentAccounts

runner = CliRunner()


@pytest.fixture
def config(settings, tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {settings.data_dir}\npolicy:\n  secret_key: cli-test-secret-0123456789\n")
    return path


def test_add_list_and_login_check(config: Path, database) -> None:
    added = runner.invoke(
        app,
        ["--config", str(config), "agents", "add", "sam", "--display-name", "Sam", "--password-stdin"],
        input="a long cli password\n",
    )
    assert added.exit_code == 0, added.output
    assert "Agent sam (Sam) created." in added.output
    listed = runner.invoke(app, ["--config", str(config), "agents", "list"])
    assert any(line.split() == ["sam", "Sam", "active"] for line in listed.output.splitlines())
    assert AgentAccounts(database).verify("sam", "a long cli password") is not None


def test_prompted_password_must_match(config: Path) -> None:
    result = runner.invoke(
        app, ["--config", str(config), "agents", "add", "kim"], input="first password!\nsecond password\n" * 3
    )
    assert result.exit_code != 0


def test_bad_input_is_refused(config: Path) -> None:
    short = runner.invoke(
        app, ["--config", str(config), "agents", "add", "kim", "--password-stdin"], input="short\n"
    )
    assert isinstance(short.exception, InvalidArgumentsError)
    runner.invoke(
        app, ["--config", str(config), "agents", "add", "kim", "--password-stdin"], input="long enough pw\n"
    )
    again = runner.invoke(
        app, ["--config", str(config), "agents", "add", "kim", "--password-stdin"], input="long enough pw\n"
    )
    assert isinstance(again.exception, ActionRefusedError)


def test_set_password_disable_and_enable(config: Path, database) -> None:
    base = ["--config", str(config), "agents"]
    runner.invoke(app, [*base, "add", "sam", "--password-stdin"], input="a long cli password\n")
    changed = runner.invoke(
        app, [*base, "set-password", "sam", "--password-stdin"], input="the new cli pass\n"
    )
    assert changed.exit_code == 0, changed.output
    assert "their console logins have ended" in changed.output
    accounts = AgentAccounts(database)
    assert accounts.verify("sam", "a long cli password") is None
    assert accounts.verify("sam", "the new cli pass") is not None
    disabled = runner.invoke(app, [*base, "disable", "sam"])
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    listed = runner.invoke(app, [*base, "list"])
    assert any(line.split() == ["sam", "sam", "inactive"] for line in listed.output.splitlines())
    assert runner.invoke(app, [*base, "enable", "sam"]).exit_code == 0
    assert accounts.verify("sam", "the new cli pass") is not None
    unknown = runner.invoke(app, [*base, "disable", "nobody"])
    assert isinstance(unknown.exception, NotFoundError)
