"""Finding, reading, overriding and validating scenario and policy files."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import tomllib
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from liangye.model.errors import (
    InputError,
    Problem,
    error_bound,
    given_zh,
    validation_problems,
    validation_zh,
)
from liangye.model.policy import Policy, load_policy, read_toml
from liangye.model.settings import AllocationSettings

from .schema import FIRST_YEAR, LAST_YEAR, MAX_HORIZON, Scenario, key_given

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
        [
            Problem(
                "policy",
                reference,
                f"is neither a file nor a bundled policy (bundled: {known})",
                f"既不是文件，也不是内置政策（内置政策有：{'、'.join(bundled) or '无'}）",
            )
        ]
    )


def load_policy_reference(reference: str, relative_to: Path | None = None) -> Policy:
    return load_policy(resolve_policy(reference, relative_to))


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``--set key.path=value`` overrides to scenario data (a deep copy is returned).

    Values are read as TOML values (numbers, booleans, quoted text, arrays); anything that is
    not valid TOML is taken as text. ``budget.2025=2500`` is short for ``budget.per_year.2025``.
    ``KEY=none`` (unquoted) removes the key, as if the file did not set it (the default
    scenario's ``allocation.overrun_risk=none`` allocates at expected cost); ``KEY="none"``
    is the text.
    """
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(
                [Problem("--set", item, "expected key.path=value", "应写作“键.路径=取值”")]
            )
        path = key.strip().split(".")
        if len(path) == 2 and path[0] == "budget" and path[1].isdigit():
            path = ["budget", "per_year", path[1]]
        removed = raw.strip() == "none"
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
                raise InputError(
                    [
                        Problem(
                            "--set",
                            key,
                            f"'{part}' is a value, not a table",
                            f"“{part}”是一个值，不是表：其下不能再有键",
                        )
                    ]
                )
            target = target[part]
        if removed:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return data


# What a scenario key holds, in the words a message gives after "expected".
EXPECTED: dict[str, str] = {
    "years": f"expected [FIRST, LAST], two years in {FIRST_YEAR}-{LAST_YEAR} with FIRST ≤ LAST "
    f"and at most {MAX_HORIZON} years, e.g. [2024, 2026]",
    "allocation.mip_gap": "expected a relative optimality gap between 0 and 1, e.g. 1e-4",
    "allocation.time_limit": "expected a positive number of seconds, e.g. 60",
    "allocation.overrun_risk": "expected a chance strictly between 0 and 1, e.g. 0.05",
    "allocation.objective": "expected merit, count or min_cost",
    "allocation.threads": "expected a whole number of threads, 1 or more",
    "allocation.cap_per_candidate_per_year": "expected a whole number, 1 or more",
    "allocation.seed": "expected a whole number from 0 to 2147483647",
    "simulation.seed": "expected a whole number, 0 or more, e.g. 7",
    "simulation.replications": "expected a whole number of replications from 1 to 1,000 (more "
    "belong in a sweep: liangye sweep)",
    "simulation.population.firms": "expected a whole number of firms from 1 to 100,000",
    "simulation.quarters": "expected a whole number of quarters from 1 to 120",
    "candidates.synthetic.seed": "expected a whole number, 0 or more",
    "candidates.synthetic.enterprises": "expected a whole number of enterprises, 0 or more",
    "candidates.synthetic.parks": "expected a whole number of parks, 0 or more",
    "candidates.synthetic.held_share": "expected a share between 0 and 1, e.g. 0.05",
}

# EXPECTED in Chinese, key by key (a test keeps the two with the same keys).
EXPECTED_ZH: dict[str, str] = {
    "years": f"应为 [首年, 末年]：{FIRST_YEAR}-{LAST_YEAR} 之间的两个年份，首年不晚于末年，"
    f"至多 {MAX_HORIZON} 年，如 [2024, 2026]",
    "allocation.mip_gap": "应为 0 到 1 之间的相对最优间隙，如 1e-4",
    "allocation.time_limit": "应为正的秒数，如 60",
    "allocation.overrun_risk": "应为严格介于 0 和 1 之间的概率，如 0.05",
    "allocation.objective": "应为 merit（加权评分）、count（入选事项数）或 min_cost（支出）",
    "allocation.threads": "应为线程数：1 或以上的整数",
    "allocation.cap_per_candidate_per_year": "应为 1 或以上的整数",
    "allocation.seed": "应为 0 到 2147483647 之间的整数",
    "simulation.seed": "应为 0 或以上的整数，如 7",
    "simulation.replications": "应为 1 到 1,000 之间的重复次数（更多请用批量情景：liangye sweep）",
    "simulation.population.firms": "应为 1 到 100,000 之间的企业数",
    "simulation.quarters": "应为 1 到 120 之间的季度数",
    "candidates.synthetic.seed": "应为 0 或以上的整数",
    "candidates.synthetic.enterprises": "应为 0 或以上的企业数",
    "candidates.synthetic.parks": "应为 0 或以上的园区数",
    "candidates.synthetic.held_share": "应为 0 到 1 之间的占比，如 0.05",
}


def _expected(error: dict, key: str) -> str | None:
    """What a key should hold, for a pydantic error on it that is about type or range
    (None for the errors a validator words itself, which already say what is expected)."""
    kind = str(error["type"])
    if kind in ("value_error", "assertion_error", "extra_forbidden", "missing"):
        return None
    if key in EXPECTED:
        return EXPECTED[key]
    ctx = error.get("ctx") or {}
    bound = error_bound(error)
    if bound is not None:
        words = {
            "gt": "a number greater than",
            "ge": "a number of at least",
            "lt": "a number less than",
            "le": "a number of at most",
        }
        return f"expected {words[bound[0]]} {bound[1]}"
    plain = {
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "float_parsing": "a number",
        "float_type": "a number",
        "finite_number": "a finite number",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "text in quotes",
        "tuple_type": "an array [..]",
        "list_type": "an array [..]",
        "dict_type": "a table { key = value }",
    }
    if kind in plain:
        return f"expected {plain[kind]}"
    if kind == "literal_error" and "expected" in ctx:
        return f"expected {ctx['expected']}"
    return None


def expected_zh(error: dict, key: str) -> str:
    """``_expected`` in Chinese: what ``key`` should hold (``EXPECTED_ZH``), else what the
    pydantic error says by its type (``validation_zh``); never "" (call it where
    ``_expected`` gave a sentence)."""
    return EXPECTED_ZH.get(key) or validation_zh(error)


def _dotted(path: tuple) -> str:
    """A location as the problems name it: ``a.b[0].c``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _not_finite(value: object, path: tuple = ()) -> list[tuple[str, float]]:
    """(key, value) of every number in ``value`` that is not finite (TOML's nan and inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(_dotted(path), value)]
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _not_finite(v, (*path, k))]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _not_finite(v, (*path, i))]
    return []


def scenario_problems(error: ValidationError | None, data: dict, source: str) -> list[Problem]:
    """Every problem of scenario ``data`` in the user's words: the key named, what it should
    hold and what it held; a number that is not finite (nan, inf) is always one."""
    problems: dict[str, Problem] = {}
    if error is not None:
        plain = validation_problems(error, source)
        for e, problem in zip(error.errors(), plain, strict=True):
            expected = _expected(e, problem.where)
            if expected is not None:
                got = f" (got {e['input']!r})" if "input" in e else ""
                said = expected_zh(e, problem.where)
                chinese = said + (given_zh(e["input"]) if "input" in e else "")
                problem = Problem(source, problem.where, expected + got, chinese)
            problems.setdefault(problem.where, problem)
    for key, value in _not_finite(data):
        expected = EXPECTED.get(key, "expected a finite number")
        said = EXPECTED_ZH.get(key, "应为有限的数")
        problems[key] = Problem(
            source,
            key,
            f"{expected} (got {value}, which is not finite)",
            f"{said}（填写的是 {value}，不是有限的数）",
        )
    for key in EXPECTED:
        # A number key holding true or false: the schema would read it as 1 or 0.
        value = _at(data, key)
        if isinstance(value, bool):
            problems[key] = Problem(
                source,
                key,
                f"{EXPECTED[key]} (got {str(value).lower()})",
                f"{EXPECTED_ZH[key]}（填写的是 {str(value).lower()}）",
            )
    return list(problems.values())


def _at(data: dict, dotted: str) -> object:
    """The value at ``dotted`` (``allocation.mip_gap``) in nested ``data``, None if absent."""
    value: object = data
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def scenario_from_dict(data: dict, source: str) -> Scenario:
    """Validate scenario data; raise InputError naming every bad key and what it should
    hold (never pydantic's own words); numbers that are not finite are refused."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise InputError(scenario_problems(error, data, source)) from None
    if problems := scenario_problems(None, data, source):
        raise InputError(problems)
    if source:
        scenario._source = source
    return scenario


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
    original = read_toml(path)
    data = apply_overrides(original, overrides or [])
    try:
        scenario = scenario_from_dict(data, path.name)
    except InputError as error:
        if not overrides:
            raise
        raise InputError(_blame_overrides(error.problems, overrides, original)) from None
    scenario._overridden = tuple(_override_key(item) for item in overrides or [])
    population = scenario.simulation.population.file
    if population is not None:
        # Said now, with its key, where it was said once the simulation had started and by
        # the file's name alone (review 22).
        found = Path(population) if Path(population).is_absolute() else path.parent / population
        if not found.is_file():
            raise InputError(
                [
                    Problem(
                        path.name,
                        "simulation.population.file",
                        f"{population}: file not found (looked for {found})",
                        f"找不到企业文件“{population}”（查找位置：{found}）",
                    )
                ]
            )
    return scenario, path.parent


def _override_key(item: str) -> str:
    """The dotted key a ``--set`` item changes, as problems name it."""
    path = item.partition("=")[0].strip().split(".")
    if len(path) == 2 and path[0] == "budget" and path[1].isdigit():
        path = ["budget", "per_year", path[1]]
    return ".".join(path)


def _blame_overrides(
    problems: list[Problem], overrides: list[str], original: dict
) -> list[Problem]:
    """Problems a ``--set`` caused named as ``--set`` rather than as the file's: those at or
    under a key it gave, and those at a table holding a key it gave (a check of the whole
    ``allocation.success_probability``, an unknown ``nonexistent`` from ``nonexistent.key``)
    when the file as written has no problem there."""
    keys = [_override_key(item) for item in overrides]

    def holds_given(where: str) -> bool:
        return any(key_given(key, [where]) for key in keys)

    in_file: set[str] | None = None
    blamed = []
    for problem in problems:
        by_set = key_given(problem.where, keys)
        if not by_set and holds_given(problem.where):
            if in_file is None:  # the file validated alone, only when needed
                try:
                    scenario_from_dict(original, "")
                    in_file = set()
                except InputError as error:
                    in_file = {p.where for p in error.problems}
            by_set = problem.where not in in_file
        # replace() keeps each problem's Chinese.
        blamed.append(dataclasses.replace(problem, source="--set") if by_set else problem)
    return blamed


def scenario_policy(scenario: Scenario, base: Path) -> tuple[Policy, AllocationSettings]:
    """The scenario's policy and its allocation settings with the tier design applied: one
    rule for the allocation, the simulation's government and the commands' early check."""
    from .tiers import with_tier_design  # tiers reads this module's files

    policy = load_policy_reference(scenario.policy, base)
    return policy, with_tier_design(scenario.allocation, policy, scenario.tier_design)


def scenario_hash(scenario: Scenario) -> str:
    """A short, stable fingerprint of the scenario's content (after overrides)."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def scenario_inputs_hash(scenario: Scenario, base: Path) -> str:
    """``scenario_hash`` of the scenario and of the content of every file it reads: its
    policy, candidate and applications files, and the tier-design library. A scenario names
    its policy by id or path, so editing the policy file left its hash as it was, and a
    resumed sweep mixed runs of two policies (what a sweep's fingerprint must not allow)."""
    from .tiers import TIERS_FILE

    files = [resolve_policy(scenario.policy, base), TIERS_FILE]
    source = scenario.candidates
    files += [base / name for name in (source.file, source.applications) if name]
    digest = hashlib.sha256(scenario_hash(scenario).encode("utf-8"))
    for path in files:
        digest.update(path.read_bytes() if path.exists() else b"missing")
    return digest.hexdigest()[:12]
