"""Finding, reading, overriding and validating scenario and policy files."""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from liangye.model.errors import InputError, Problem, validation_problems
from liangye.model.policy import Policy, load_policy, read_toml

from .schema import Scenario

PACKAGE_DIR = Path(str(resources.files("liangye.scenarios")))
POLICY_DIR = PACKAGE_DIR / "policies"
DEFAULT_SCENARIO = PACKAGE_DIR / "default.toml"


def bundled_policies() -> dict[str, Path]:
    """Policy id → file, for every policy shipped with the package."""
    return {path.stem: path for path in sorted(POLICY_DIR.glob("*.toml"))}


def resolve_policy(reference: str, relative_to: Path | None = None) -> Path:
    """A policy given as a bundled id ("jiaxing-2024-2026") or a path, as a path."""
    candidates = []
    if relative_to is not None:
        candidates.append(relative_to / reference)
    candidates.append(Path(reference))
    for path in candidates:
        if path.suffix == ".toml" and path.exists():
            return path
    bundled = bundled_policies()
    if reference in bundled:
        return bundled[reference]
    known = ", ".join(bundled) or "none"
    raise InputError(
        [Problem("policy", reference, f"is neither a file nor a bundled policy (bundled: {known})")]
    )


def load_policy_reference(reference: str, relative_to: Path | None = None) -> Policy:
    return load_policy(resolve_policy(reference, relative_to))


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``--set key.path=value`` overrides to scenario data (a deep copy is returned).

    Values are read as TOML values (numbers, booleans, quoted text, arrays); anything that is
    not valid TOML is taken as text. ``budget.2025=2500`` is short for ``budget.per_year.2025``.
    """
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError([Problem("--set", item, "expected key.path=value")])
        path = key.strip().split(".")
        if len(path) == 2 and path[0] == "budget" and path[1].isdigit():
            path = ["budget", "per_year", path[1]]
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        target = data
        for part in path[:-1]:
            existing = target.get(part)
            if existing is None:
                target[part] = {}
            elif not isinstance(existing, dict):
                raise InputError([Problem("--set", key, f"'{part}' is a value, not a table")])
            target = target[part]
        target[path[-1]] = value
    return data


def scenario_from_dict(data: dict, source: str) -> Scenario:
    """Validate scenario data; raise InputError naming every bad key."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise InputError(validation_problems(error, source)) from None


def load_scenario(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> tuple[Scenario, Path]:
    """Load a scenario (the bundled default when ``path`` is None) with overrides applied.

    Returns the scenario and the folder its relative paths are resolved against.
    """
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    if not path.exists() and (PACKAGE_DIR / f"{path}").exists():
        path = PACKAGE_DIR / f"{path}"
    if not path.exists() and (PACKAGE_DIR / f"{path}.toml").exists():
        path = PACKAGE_DIR / f"{path}.toml"
    data = apply_overrides(read_toml(path), overrides or [])
    return scenario_from_dict(data, path.name), path.parent


def scenario_hash(scenario: Scenario) -> str:
    """A short, stable fingerprint of the scenario's content (after overrides)."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
