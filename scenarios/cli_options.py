"""The command line's options read into the model's types: years, budgets, chances, the
overrun bound and the allocation settings, each bad value an InputError naming its option,
what it expects (in English and Chinese) and what was given."""

from __future__ import annotations

import math
from decimal import Decimal

from pydantic import ValidationError

from liangye.model.errors import InputError, Problem, message_zh, validation_zh
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.units import parse_level, parse_money


def parse_years(text: str) -> list[int]:
    """ "2024-2026" or "2025" or "2024,2026" into a list of years; a reversed range, a year
    outside 1949-2100 or a horizon past 30 years is refused naming --years and the limit."""
    from .schema import check_year_range

    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            years = list(range(first, last + 1)) if first <= last else [first, last]
        else:
            years = sorted(int(part) for part in text.split(","))
    except ValueError:
        raise InputError(
            [
                Problem(
                    "--years",
                    text,
                    "expected YEAR, FIRST-LAST or YEAR,YEAR",
                    "应写作“年份”“首年-末年”或“年份,年份”，如 2024-2026",
                )
            ]
        ) from None
    if wrong := check_year_range(years[0], years[-1]):
        raise InputError([Problem("--years", text, str(wrong), wrong.zh)])
    return years


def parse_budget(items: list[str], years: list[int]) -> Budget:
    """``--budget 3000`` (every year) or ``--budget 2025=2500`` (repeatable) into a Budget.
    A year named sets that year whatever the order (``2025=10 --budget 60`` and ``60
    --budget 2025=10`` alike: 10 in 2025, 60 in the others)."""
    per_year: dict[int, Decimal] = {}
    problems: list[Problem] = []
    # Every-year amounts first, then the years named: the order on the line does not matter.
    ordered = sorted(items, key=lambda item: "=" in item)
    for item in ordered:
        year_text, sep, amount_text = item.partition("=")
        try:
            if sep:
                per_year[int(year_text)] = parse_money(amount_text)
            else:
                for year in years:
                    per_year[year] = parse_money(item)
        except ValueError as error:
            said = (
                str(error)
                if sep or "amount" in str(error)
                else "expected AMOUNT or YEAR=AMOUNT (万元)"
            )
            # parse_money's sentences have their Chinese among the patterns; int()'s own
            # (a year that is no number) has none, and is said as the form expected.
            chinese = message_zh(said) or "应写作“金额”或“年份=金额”（万元），如 3000 或 2025=2500"
            problems.append(Problem("--budget", item, said, chinese))
    if problems:
        raise InputError(problems)
    return Budget(per_year=per_year)


def parse_chances(items: list[str]) -> dict[str, float]:
    """``--chance national=0.3`` (repeatable) into {level: chance}; every problem named."""
    chances: dict[str, float] = {}
    problems: list[Problem] = []
    for item in items:
        level_text, sep, value_text = item.partition("=")
        try:
            level = parse_level(level_text).value
            value = float(value_text)
            if not sep or not 0 <= value <= 1:  # also refuses nan
                raise ValueError
        except (ValueError, AttributeError):
            problems.append(
                Problem(
                    "--chance",
                    item,
                    "expected LEVEL=P, a level (national/provincial/…, 国家级/省级/…) and "
                    "a chance P in [0, 1], e.g. --chance national=0.3",
                    "应写作“级别=概率”：级别（national/provincial/…，国家级/省级/…）与 0 到 1 "
                    "之间的概率，如 --chance national=0.3",
                )
            )
            continue
        if level in chances and chances[level] != value:
            # Two chances for one level: neither is the one to use without asking.
            problems.append(
                Problem(
                    "--chance",
                    item,
                    f"gives {level} a second chance ({chances[level]:g} before): give each "
                    "level once",
                    f"再次给出{parse_level(level).chinese}的概率（前面已给 {chances[level]:g}）："
                    "每个级别只能给一次",
                )
            )
            continue
        chances[level] = value
    if problems:
        raise InputError(problems)
    return chances


def check_overrun_risk(value: float | None) -> float | None:
    """ALPHA must be a chance strictly between 0 and 1."""
    if value is not None and not 0 < value < 1:  # also refuses nan
        raise InputError(
            [
                Problem(
                    "--overrun-risk",
                    str(value),
                    "expected a chance strictly between 0 and 1, e.g. 0.05 (a plan that "
                    "overruns a year's budget at most one year in twenty)",
                    "应为严格介于 0 和 1 之间的概率，如 0.05（方案每年超出预算的机会至多二十分之一）",
                )
            ]
        )
    return value


SETTING_OPTIONS = {
    "objective": "--objective",
    "time_limit": "--time-limit",
    "mip_gap": "--gap",
    "success_probability": "--chance",
    "overrun_risk": "--overrun-risk",
}


def allocation_settings(**fields: object) -> AllocationSettings:
    """Settings from command-line values (None: the default). Promises: every bad value is
    reported at once, naming its option, what was expected and what was given, never in
    pydantic's words; a number that is not finite (nan, inf) is refused."""
    from .loader import EXPECTED, EXPECTED_ZH, _expected, expected_zh

    def option(key: str) -> str:
        return SETTING_OPTIONS.get(key, key)

    given = {k: v for k, v in fields.items() if v is not None}
    problems: dict[str, Problem] = {}
    for key, value in given.items():
        if isinstance(value, float) and not math.isfinite(value):
            expected = EXPECTED.get(f"allocation.{key}", "expected a finite number")
            said = EXPECTED_ZH.get(f"allocation.{key}", "应为有限的数")
            problems[key] = Problem(
                option(key),
                str(value),
                f"{expected}; {value} is not finite",
                f"{said}；{value} 不是有限的数",
            )
    try:
        settings = AllocationSettings(**given)
    except ValidationError as error:
        for e in error.errors():
            key = str(e["loc"][0])
            expected = _expected(e, f"allocation.{key}")
            said = expected or str(e["msg"]).removeprefix("Value error, ")
            chinese = expected_zh(e, f"allocation.{key}") if expected else validation_zh(e)
            problems.setdefault(key, Problem(option(key), str(e.get("input")), said, chinese))
    if problems:
        raise InputError(problems.values())
    return settings


def check_simulation_options(seed: int | None, replications: int | None) -> None:
    """``--seed`` a whole number 0 or more, ``--replications`` 1 to 1,000; both problems
    reported at once, naming the option and what it expects."""
    from liangye.agents.params import MAX_REPLICATIONS

    from .loader import EXPECTED, EXPECTED_ZH

    problems = []
    if seed is not None and seed < 0:
        said = EXPECTED_ZH["simulation.seed"]
        problems.append(Problem("--seed", str(seed), EXPECTED["simulation.seed"], said))
    if replications is not None and not 1 <= replications <= MAX_REPLICATIONS:
        problems.append(
            Problem(
                "--replications",
                str(replications),
                EXPECTED["simulation.replications"],
                EXPECTED_ZH["simulation.replications"],
            )
        )
    if problems:
        raise InputError(problems)
