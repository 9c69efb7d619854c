"""The checks a sweep file passes before its first run: every lever and uncertainty value
it can take is one the base scenario accepts, and every outcome is one a replication
reports. A mistake found here costs the user a message; found by the runs, a night."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from liangye.model.errors import InputError, Problem, raise_if_any
from liangye.model.policy import read_toml

from .loader import apply_overrides, scenario_from_dict
from .sweep import overrides_for, rounded, scenario_path, toml_value
from .sweep_schema import BUDGET_SCALE, Discrete, Factor, Normal, Range, Sweep


def _key_zh(problem: Problem) -> str:
    """A scenario's problem in Chinese with its key, as a sweep file's problem repeats it."""
    said = problem.zh or problem.message
    return f"{problem.where}：{said}" if problem.where else said


def check_keys(sweep: Sweep, sweep_file: Path) -> None:
    """``key_problems``, raised as one InputError if there are any."""
    raise_if_any(key_problems(sweep, sweep_file))


def key_problems(sweep: Sweep, sweep_file: Path) -> list[Problem]:
    """Load the base scenario with each lever and uncertainty set to each value it can take
    (every listed value, the ends of ranges); every key the scenario does not have or value
    it refuses, named by the sweep file and key. A base scenario that its ``set`` breaks is
    said alone: the factors cannot be tried on it."""
    path = scenario_path(sweep, sweep_file)
    data = read_toml(path)
    problems: list[Problem] = []
    try:
        base = apply_overrides(data, sweep.set)
        scenario_from_dict(base, path.name)
    except InputError as error:
        return [
            Problem(sweep_file.name, "set", f"{p.where}: {p.message}", _key_zh(p))
            for p in error.problems
        ]
    for group, factors in (("levers", sweep.levers), ("uncertainties", sweep.uncertainties)):
        for key, factor in factors.items():
            if key == BUDGET_SCALE:
                problems += _scale_problems(sweep_file.name, f"{group}.{key}", factor, base)
                continue
            # Every value refused, not the first only ([0.05, 0.0, 1.5] named 0.0 and hid
            # 1.5, review 19); an unknown key once, as every value fails alike.
            refused_any = False
            for where, value in labelled_extremes(factor):
                refused = _refused(base, key, value)
                if refused is None:
                    continue
                refused_any = True
                reasons, said = refused
                unknown = "not a known key" in reasons or "is a value, not a table" in reasons
                written = toml_value(value)
                if unknown:
                    message = f"is not a key of the scenario {path.name} ({reasons})"
                    chinese = f"不是情景 {path.name} 的键（{said}）"
                    problems.append(Problem(sweep_file.name, f"{group}.{key}", message, chinese))
                    break
                message = f"value {written} is refused by the scenario: {reasons}"
                chinese = f"情景不接受取值 {written}：{said}"
                problems.append(Problem(sweep_file.name, f"{group}.{key}{where}", message, chinese))
            if not refused_any:
                problems += _fraction_problems(sweep_file.name, f"{group}.{key}", factor, base, key)
    return problems


# Keys whose value can leave the simulation without a single round of the policy.
ROUND_KEYS = ("years", "policy", "simulation.start_year", "simulation.quarters")
ROUND_KEYS += ("simulation.round_quarter",)


def setting_warnings(sweep: Sweep, sweep_file: Path) -> list[str]:
    """What a lever or uncertainty value the scenario accepts would still leave out, said
    before the first run (quiet runs do not repeat it): a value at which the simulation holds
    no round of the policy (a start year after its last year: every such run paid nothing,
    and the analysis ranked that setting best on rounds that missed no quota, review 19), or
    at which a budget year is reached by no round. Each factor's values are checked with the
    other factors at the base scenario's. Each as a sentence naming the file and the key,
    its Chinese on the next line."""
    from .simulate import no_round_said, unused_budget_said

    path = scenario_path(sweep, sweep_file)
    base = apply_overrides(read_toml(path), sweep.set)
    said: list[str] = []
    for group, factors in (("levers", sweep.levers), ("uncertainties", sweep.uncertainties)):
        for key, factor in factors.items():
            if not key.startswith(ROUND_KEYS):
                continue
            for where, value in labelled_extremes(factor):
                try:
                    scenario = scenario_from_dict(
                        apply_overrides(base, overrides_for({key: value}, base)), path.name
                    )
                    span = _span(scenario, path.parent)
                except InputError:
                    continue  # refused: said by key_problems
                whys = [no_round_said(*span), unused_budget_said(*span, scenario.budget)]
                for why in whys:
                    if why is not None:
                        said.append(
                            f"{sweep_file.name} {group}.{key}{where} = {toml_value(value)}: "
                            f"{why[0]}\n    → {sweep_file.name} {group}.{key}{where} = "
                            f"{toml_value(value)}：{why[1]}"
                        )
    return said


def _span(scenario: Any, folder: Path) -> tuple[Any, Any, int]:
    from .simulate import simulated_span

    params, policy, _, start = simulated_span(scenario, folder)
    return params, policy, start


def _refused(base: dict[str, Any], key: str, value: object) -> tuple[str, str] | None:
    """(the reasons in English, in Chinese) the base scenario gives for refusing ``key`` set
    to ``value``; None when it takes it."""
    try:
        scenario_from_dict(apply_overrides(base, overrides_for({key: value}, base)), "")
    except InputError as error:
        reasons = "; ".join(f"{p.where} {p.message}".strip() for p in error.problems)
        return reasons, "；".join(_key_zh(p) for p in error.problems)
    return None


def _scale_problems(source: str, where: str, factor: Factor, base: dict[str, Any]) -> list[Problem]:
    """What is wrong with a budget scale: no budget to scale, or a value that is not a
    number above zero (``"big"`` or ``true`` would otherwise fail every run, or be read
    as 1)."""
    if not base.get("budget", {}).get("per_year"):
        return [
            Problem(
                source,
                where,
                "the scenario sets no budget",
                "情景没有设定预算：budget_scale 无预算可缩放",
            )
        ]
    problems = []
    for label, value in labelled_extremes(factor):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value <= 0:  # type: ignore[arg-type]
            written = toml_value(value)
            problems.append(
                Problem(
                    source,
                    f"{where}{label}",
                    f"expected a number above 0 that multiplies every budget, e.g. 0.8 "
                    f"(got {written})",
                    f"应为大于 0 的数，用来乘以每一年的预算，如 0.8（填写的是 {written}）",
                )
            )
    return problems


def _fraction_problems(
    source: str, where: str, factor: Factor, base: dict[str, Any], key: str
) -> list[Problem]:
    """A continuous range or normal law over a key that takes whole numbers only (a number
    of firms): the values checked pass, but every value drawn between them would fail its
    run."""
    if isinstance(factor, Range) and not factor.integer:
        inside = factor.low + (factor.high - factor.low) * 0.37
    elif isinstance(factor, Normal):
        inside = factor.mean + factor.sd * 0.37
    else:
        return []
    if float(inside).is_integer():
        inside += 0.25
    if _refused(base, key, float(inside)) is None:
        return []
    return [
        Problem(
            source,
            where,
            f"the scenario takes whole numbers only for {key}, but values drawn from this "
            f"factor are not whole (e.g. {inside:g}) and every such run would fail: use a "
            "range with integer = true",
            f"情景的 {key} 只取整数，而此因素抽到的值不是整数（如 {inside:g}），每次这样的运行"
            "都会失败：请用带 integer = true 的范围",
        )
    ]


def outcome_problems(sweep: Sweep, sweep_file: Path) -> list[Problem]:
    """Every outcome no simulated replication reports (``agents.outcomes.is_outcome_name``),
    named with an example of each form."""
    from liangye.agents.outcomes import OUTCOME_EXAMPLES, is_outcome_name

    examples = ", ".join(OUTCOME_EXAMPLES)
    return [
        Problem(
            sweep_file.name,
            f"outcomes[{i}]",
            f"{key!r} is no simulation outcome (outcomes are named like {examples})",
            f"“{key}”不是模拟的结果（结果的名称形如 {'、'.join(OUTCOME_EXAMPLES)}）",
        )
        for i, key in enumerate(sweep.outcomes)
        if not is_outcome_name(key)
    ]


def labelled_extremes(factor: Factor) -> list[tuple[str, object]]:
    """The values worth checking (every listed value, or the ends of a range), each with
    where it is written in the factor: ``[0]``, ``.low``, ``.mean``."""
    if isinstance(factor, Discrete):
        return [(f"[{i}]", value) for i, value in enumerate(factor.values)]
    if isinstance(factor, Range):
        return [(".low", rounded(factor, factor.low)), (".high", rounded(factor, factor.high))]
    return [(".mean", factor.mean)]
