"""``shopassist rasa-export``: the starter project passes Rasa's published schema and the
cross-checks ``rasa data validate`` makes, on the fixture shop and on the tau retail import.

Rasa itself cannot be installed here (Rasa Open Source 3 is not on PyPI; Rasa Pro needs a
license key to run), so the schema files and their pykwalify extension are read from the Rasa
Pro wheel ``make test-deps`` downloads (never installed), and validated the way Rasa's
``validate_yaml_schema`` does: pykwalify with the responses schema and Rasa's extension.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from pykwalify.core import Core
from sqlalchemy import select
from typer.testing import CliRunner

from connectors.rasa import slots as S
from connectors.rasa.actions import ShopActions
from shopassist.cli.main import app
from store.db import Database
from store.models import Product
from tests.conftest import REPO, require_shared
from tools.importers import ImportOptions, run_import

SCHEMA_DIR = REPO / ".venv" / "rasa-schema"
SCHEMAS = {
    "domain": "rasa/shared/utils/schemas/domain.yml",
    "stories": "rasa/shared/utils/schemas/stories.yml",
    "config": "rasa/shared/utils/schemas/config.yml",
    "nlu": "rasa/shared/nlu/training_data/schemas/nlu.yml",
    "responses": "rasa/shared/nlu/training_data/schemas/responses.yml",
    "extensions": "rasa/shared/utils/pykwalify_extensions.py",
}
ANNOTATION = re.compile(r"\[([^\]]+)\]\(([a-z_]+)\)")
runner = CliRunner()


@pytest.fixture(scope="module")
def rasa_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    wheels = sorted(SCHEMA_DIR.glob("rasa_pro-*.whl"))
    if not wheels:
        message = f"Rasa's schema wheel is missing from {SCHEMA_DIR}: run `make test-deps`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    target = tmp_path_factory.mktemp("rasa-schema")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        for member in SCHEMAS.values():
            wheel.extract(member, target)
    return {name: target / member for name, member in SCHEMAS.items()}


def validate(data: Any, schema: Path, rasa_schema: dict[str, Path]) -> None:
    core = Core(
        source_data=data,
        schema_files=[str(schema), str(rasa_schema["responses"])],
        extensions=[str(rasa_schema["extensions"])],
    )
    core.validate(raise_exception=True)


def export_project(tmp_path: Path, data_dir: Path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data_dir: {data_dir}\npolicy:\n  secret_key: cli-test-secret-0123456789\n"
        "logging:\n  level: WARNING\nrasa:\n  port: 5077\n  token: not-a-real-token-0123\n"
    )
    target = tmp_path / "rasa-project"
    result = runner.invoke(app, ["--config", str(config), "rasa-export", str(target)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["--config", str(config), "rasa-export", str(target)])
    assert again.exit_code != 0 and "--force" in again.output  # an existing project is kept
    return target


def load(project: Path, name: str) -> Any:
    return yaml.safe_load((project / name).read_text())


def check_project(project: Path, rasa_schema: dict[str, Path]) -> dict[str, Any]:
    """Rasa's schema, then what ``rasa data validate`` cross-checks; returns the domain."""
    domain = load(project, "domain.yml")
    nlu, rules, stories = (load(project, f"data/{n}.yml") for n in ("nlu", "rules", "stories"))
    validate(domain, rasa_schema["domain"], rasa_schema)
    validate(nlu, rasa_schema["nlu"], rasa_schema)
    validate(rules, rasa_schema["stories"], rasa_schema)
    validate(stories, rasa_schema["stories"], rasa_schema)
    validate(load(project, "config.yml"), rasa_schema["config"], rasa_schema)

    intents, entities, slots = set(domain["intents"]), set(domain["entities"]), domain["slots"]
    actions = set(domain["actions"]) | set(domain["responses"])
    examples = {item["intent"]: item["examples"] for item in nlu["nlu"] if "intent" in item}
    assert set(examples) == intents, "every intent has examples and every example's intent is in the domain"
    for text in examples.values():
        assert {name for _, name in ANNOTATION.findall(text)} <= entities
    assert {item["regex"] for item in nlu["nlu"] if "regex" in item} <= entities
    for item in [*rules["rules"], *stories["stories"]]:
        for step in [*item["steps"], *item.get("condition", [])]:
            if "intent" in step:
                assert step["intent"] in intents
                assert {name for one in step.get("entities", []) for name in one} <= entities
            if "action" in step:
                assert step["action"] in actions, step["action"]
            for slot in step.get("slot_was_set", []):
                (name,) = slot
                assert name in slots and slots[name]["influence_conversation"], name
    for name, slot in slots.items():
        if slot["type"] == "any":
            assert not slot["influence_conversation"], name  # Rasa refuses featurized `any` slots
        for mapping in slot["mappings"]:
            if mapping["type"] == "from_entity":
                assert mapping["entity"] in entities
            if "action" in mapping:
                assert mapping["action"] in actions
    return domain


def test_the_exported_project_passes_rasas_schema_and_checks(
    settings, tmp_path, rasa_schema, shop_actions: ShopActions
):
    project = export_project(tmp_path, settings.data_dir)
    domain = check_project(project, rasa_schema)
    assert domain["actions"] == [action.name() for action in shop_actions.actions()]
    assert domain["slots"][S.VERIFIED]["mappings"] == [{"type": "custom", "action": S.VERIFY_ACTION}]
    endpoint = load(project, "endpoints.yml")["action_endpoint"]
    assert endpoint == {"url": "http://127.0.0.1:5077/webhook", "token": "${SHOPASSIST_RASA__TOKEN}"}
    search_examples = next(
        i["examples"] for i in load(project, "data/nlu.yml")["nlu"] if i.get("intent") == "search_products"
    )
    assert "[t-shirts](query)" in search_examples  # the fixture shop's own category


def test_the_export_follows_an_imported_catalog(tmp_path, rasa_schema):
    data_dir = tmp_path / "tau"
    data_dir.mkdir()
    database = Database(f"sqlite:///{data_dir / 'shop.db'}")
    database.migrate()
    run_import(database, "tau", require_shared("tau_retail"), options=ImportOptions(default_stock=10))
    with database.session() as session:
        categories = Counter(session.scalars(select(Product.category)))
    database.dispose()
    project = export_project(tmp_path, data_dir)
    check_project(project, rasa_schema)
    search_examples = next(
        i["examples"] for i in load(project, "data/nlu.yml")["nlu"] if i.get("intent") == "search_products"
    )
    (largest, _), *_ = categories.most_common(1)
    assert f"[{largest.lower()}](query)" in search_examples
    assert "[t-shirts](query)" not in search_examples  # nothing of the fixture shop leaks in


def test_rasas_schema_catches_a_broken_domain(settings, tmp_path, rasa_schema):
    """The check can fail: a slot without its type is refused by Rasa's schema."""
    domain = load(export_project(tmp_path, settings.data_dir), "domain.yml")
    del domain["slots"]["order_id"]["type"]
    with pytest.raises(Exception, match="type"):
        validate(domain, rasa_schema["domain"], rasa_schema)
