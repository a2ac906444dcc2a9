"""Reading the rule YAML files (package data) and compiling their patterns.

Every error names the file and the entry, e.g. ``intents.yaml: intents.greet.patterns[2]:
pattern '(hi' does not compile: missing ), unterminated subpattern at position 0``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_rules_yaml(
    filename: str, path: Path | None = None, *, package: str = "dialogue_rules"
) -> tuple[str, dict[str, Any]]:
    """The mapping in ``path``, or in ``filename`` of ``package``; returns (origin, data)."""
    origin = str(path) if path is not None else filename
    try:
        if path is not None:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{origin}: cannot read rule file: {exc}", key=filename) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}", key=filename) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: must hold a mapping at the top level", key=filename)
    return origin, data


def parse_rules(
    model: type[M], filename: str, path: Path | None = None, *, package: str = "dialogue_rules"
) -> tuple[str, M]:
    """Validate a rule file against ``model``; errors name each bad entry."""
    origin, data = read_rules_yaml(filename, path, package=package)
    try:
        return origin, model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"]) or "(root)"
            problems.append(f"{where}: {err['msg']}")
        raise ConfigError(f"{origin}: " + "; ".join(problems), key=filename) from exc


def compile_pattern(pattern: str, *, where: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Compile one pattern from a rule file; a bad one raises ConfigError naming ``where``."""
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ConfigError(f"{where}: pattern {pattern!r} does not compile: {exc}", key=where) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: pattern {pattern!r} is not a valid pattern: {exc}", key=where) from exc
