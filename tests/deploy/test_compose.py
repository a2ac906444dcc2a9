"""deploy/compose.yaml stays a valid Compose file whose Shopassist settings exist.

``docker compose config`` validates it where docker and its compose plugin are installed (a
skip says when they are not: a machine condition). The file is also read here: every
``SHOPASSIST_*`` variable it sets must name a real settings field, so a renamed or removed
setting cannot leave the deployment silently configuring nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from core.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
PREFIX = "SHOPASSIST_"
ENV = {"SHOPASSIST_SECRET_KEY": "compose-check-secret-0123456789", "POSTGRES_PASSWORD": "pw"}


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves the <<: *anchor merges
    return data


def _shopassist_variables() -> dict[str, set[str]]:
    """Each SHOPASSIST_* variable a service sets, with the services that set it."""
    found: dict[str, set[str]] = {}
    for name, service in _compose()["services"].items():
        for key in service.get("environment") or {}:
            if key.startswith(PREFIX):
                found.setdefault(key, set()).add(name)
    return found


def settings_field(variable: str) -> str | None:
    """The dotted settings key ``variable`` sets (``SHOPASSIST_LLM__BASE_URL``: ``llm.base_url``),
    or None when no settings field has that name."""
    model: type[BaseModel] = Settings
    parts = variable.removeprefix(PREFIX).lower().split("__")
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        if depth == len(parts) - 1:
            return ".".join(parts)
        nested = field.annotation
        if not (isinstance(nested, type) and issubclass(nested, BaseModel)):
            return None
        model = nested
    return None


def test_the_field_lookup_knows_real_fields_from_made_up_ones() -> None:
    assert settings_field("SHOPASSIST_RETRIEVAL__CHROMA__URL") == "retrieval.chroma.url"
    assert settings_field("SHOPASSIST_DATA_DIR") == "data_dir"
    assert settings_field("SHOPASSIST_LLM__BASEURL") is None
    assert settings_field("SHOPASSIST_LLM__BASE_URL__HOST") is None
    assert settings_field("SHOPASSIST_NOPE__URL") is None


def test_every_shopassist_variable_is_a_settings_field() -> None:
    variables = _shopassist_variables()
    expected = {
        "SHOPASSIST_STORE__URL",
        "SHOPASSIST_SESSIONS__URL",
        "SHOPASSIST_REDIS__URL",
        "SHOPASSIST_RETRIEVAL__CHROMA__URL",
        "SHOPASSIST_LLM__BACKEND",
        "SHOPASSIST_LLM__BASE_URL",
        "SHOPASSIST_POLICY__SECRET_KEY",
    }
    assert expected <= set(variables), "the app needs the shared services' addresses"
    unknown = {v for v in variables if settings_field(v) is None}
    assert not unknown, f"compose.yaml sets variables no setting reads: {sorted(unknown)}"


def test_the_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's environment, with deploy/.env's values filled in, loads as settings."""
    filled = {
        "${POSTGRES_PASSWORD:-shopassist}": ENV["POSTGRES_PASSWORD"],
        "${SHOPASSIST_SECRET_KEY:?set SHOPASSIST_SECRET_KEY in deploy/.env}": ENV["SHOPASSIST_SECRET_KEY"],
    }
    for key, value in _compose()["services"]["app"]["environment"].items():
        if key.startswith(PREFIX):
            text = str(value)
            for placeholder, real in filled.items():
                text = text.replace(placeholder, real)
            assert "${" not in text, f"{key}: a placeholder this test does not fill"
            monkeypatch.setenv(key, text)
    settings = Settings()
    assert settings.llm.backend == "openai" and settings.llm.base_url == "http://llm:8080/v1"
    assert settings.database_url == "postgresql+psycopg://shopassist:pw@postgres:5432/shop"
    assert settings.sessions_url.endswith("@postgres:5432/sessions") and settings.server.proxy_headers
    assert settings.policy.secret_key is not None


def test_the_app_is_replicated_and_checked_on_readyz() -> None:
    services = _compose()["services"]
    app = services["app"]
    assert app["command"] == ["shopassist", "serve"]
    assert "replicas" in app["deploy"] and "/readyz" in " ".join(app["healthcheck"]["test"])
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["shopassist", "migrate"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert "llama_cpp.server" in " ".join(services["llm"]["command"])
    assert services["vllm"]["profiles"] == ["vllm"]


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker binary on this machine")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        first_line = (probe.stderr or probe.stdout).strip().splitlines()[0][:120]
        pytest.skip(f"docker has no compose plugin on this machine ({first_line})")
    done = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
