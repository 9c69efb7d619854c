"""``liangye allocate``: a plan from a scenario file, or from a policy and a candidate table."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from liangye.model.errors import InputError, Problem

from .cli_options import (
    allocation_settings,
    check_overrun_risk,
    parse_budget,
    parse_chances,
    parse_years,
)
from .cli_shared import (
    CONFIRM_HELP,
    MAX_CONFIRM,
    VERBOSE_HELP,
    _exit_for,
    _finish_run,
    _nothing,
    _setup_logging,
    _start_run,
    confirm_progress,
    console,
    print_json,
)

if TYPE_CHECKING:
    from liangye.model.allocation import AllocationResult
    from liangye.model.settings import AllocationSettings, Budget

    from .schema import Scenario


def _finish(
    result: AllocationResult, as_json: bool, out: Path | None, folder_written: list[Path]
) -> None:
    from .display import show_allocation

    if as_json:
        print_json(result.to_dict())
    else:
        show_allocation(console, result)
        if folder_written:
            console.print(f"已写入 written: {folder_written[0].parent}", highlight=False)
    _exit_for(result.status, as_json, math.isfinite(result.problem.settings.time_limit))


def allocate_command(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            help="情景文件（政策、候选、预算与设置；默认：内置 default）; a scenario file: its policy, "
            "candidates, budgets and settings (default: the bundled default scenario, unless "
            "--policy and --candidates are given)"
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy", help="政策文件或内置政策编号; policy file, or a bundled policy id"
        ),
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option("--candidates", help="候选名单（CSV 或 XLSX）; candidate table (CSV or XLSX)"),
    ] = None,
    applications: Annotated[
        Path | None, typer.Option("--applications", help="申报表; applications table")
    ] = None,
    years: Annotated[
        str | None,
        typer.Option(
            "--years",
            help="年份，如 2024-2026（默认：政策的年份）; e.g. 2024-2026 (default: the policy's)",
        ),
    ] = None,
    budget: Annotated[
        list[str] | None,
        typer.Option(
            "--budget",
            help="预算（万元）：每年同额 AMOUNT，或 YEAR=AMOUNT，可重复; AMOUNT for every year, or YEAR=AMOUNT (万元); repeatable",
        ),
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(
            "--objective",
            help="目标：merit（加权评分）、count（入选事项数）或 min_cost（支出）; merit, count or min_cost",
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="计时上限（秒），默认不设，方案与机器快慢无关; a clock in seconds on top of the work limit (default: none, so the plan "
            "is the same on any machine)",
        ),
    ] = None,
    gap: Annotated[
        float | None,
        typer.Option(
            "--gap",
            help="相对最优间隙（默认 1e-4 即 0.01%，越大越早停、证明越弱）; relative optimality gap (default 1e-4, i.e. 0.01%; a larger gap, e.g. 0.01, "
            "stops sooner with a plan proven less)",
        ),
    ] = None,
    chance: Annotated[
        list[str] | None,
        typer.Option(
            "--chance",
            help="级别=概率：由该级政府认定的档次获批的概率，可重复; "
            "LEVEL=P: the chance a tier conferred by LEVEL is conferred; repeatable",
        ),
    ] = None,
    overrun_risk: Annotated[
        float | None,
        typer.Option(
            "--overrun-risk",
            help="ALPHA：每年获批奖励与应付支出超出预算的最大概率; ALPHA: the largest chance, in every year, that conferred awards and "
            "obligations overrun the budget",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="修改情景的一个键（与情景文件同用）; override a scenario key (with SCENARIO)",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="输出文件夹; folder for plan.csv, plan.xlsx, ...")
    ] = None,
    confirm: Annotated[
        int, typer.Option("--confirm", help=CONFIRM_HELP, min=0, max=MAX_CONFIRM)
    ] = 0,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="在标准输出打印一个 JSON 对象; print one JSON object to stdout"
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """分配：在政策与预算下选出认定与推荐。
    Choose designations under a policy and budget: from a scenario file (its policy, pool,
    budgets, chances and settings; no simulation), or from a policy and a candidate table."""
    from liangye.model.allocation import allocate
    from liangye.model.applications_table import load_tables
    from liangye.model.options import build_problem

    from .loader import EXPECTED_ZH, load_policy_reference, load_scenario
    from .runner import report_readings, save_allocation, scenario_problem

    _setup_logging(verbose)
    chances = parse_chances(chance or [])
    check_overrun_risk(overrun_risk)
    if objective is not None and objective not in ("merit", "count", "min_cost"):
        raise InputError(
            [
                Problem(
                    "--objective",
                    objective,
                    "expected merit, count or min_cost",
                    EXPECTED_ZH["allocation.objective"],
                )
            ]
        )
    # Every option is checked before any file is read: a bad one is named as the option.
    settings = allocation_settings(
        objective=objective,
        time_limit=time_limit,
        mip_gap=gap,
        success_probability=chances,
        overrun_risk=overrun_risk,
    )
    loaded = recorded = None
    base: Path | None = None  # the scenario file's folder, when there is one
    # Nothing given: the bundled default scenario, as run, simulate and frontier take it.
    default = scenario is None and policy is None and candidates is None and applications is None
    if scenario is not None or default:
        mixed = [
            flag
            for flag, value in (
                ("--policy", policy),
                ("--candidates", candidates),
                ("--applications", applications),
                ("--years", years),
                ("--budget", budget),
            )
            if value
        ]
        if mixed:
            raise InputError(
                [
                    Problem(
                        " ".join(mixed),
                        "",
                        "a scenario file names its own policy, candidates, years and budget: "
                        "drop these, or change the scenario with --set",
                        "情景文件已写明政策、候选名单、年份和预算：请去掉这些选项，"
                        "或用 --set 修改情景",
                    )
                ]
            )
        overrides = list(set_ or [])
        for key, value in (
            ("objective", None if objective is None else f'"{objective}"'),
            ("time_limit", time_limit),
            ("mip_gap", gap),
            ("overrun_risk", overrun_risk),
        ):
            if value is not None:
                overrides.append(f"allocation.{key}={value}")
        overrides += [f"allocation.success_probability.{k}={v}" for k, v in chances.items()]
        loaded, base = load_scenario(scenario, overrides)
        problem = scenario_problem(loaded, base)
    else:
        missing = [f for f, v in (("--policy", policy), ("--candidates", candidates)) if not v]
        if missing:
            raise InputError(
                [
                    Problem(
                        " and ".join(missing),
                        "",
                        "give a scenario file, or a policy (--policy) and a candidate table "
                        "(--candidates)",
                        "请给出情景文件，或者给出政策（--policy）和候选名单（--candidates）",
                    )
                ]
            )
        if set_:
            # --set changes a scenario file's keys; without a file there are none to change,
            # and dropping it silently would solve a problem the user did not ask for.
            raise InputError(
                [
                    Problem(
                        "--set",
                        " ".join(set_),
                        "changes a scenario file's keys: give the scenario file, or use "
                        "--budget, --years, --objective, --chance, --gap and --overrun-risk "
                        "with --policy and --candidates",
                        "--set 修改的是情景文件的键：请给出情景文件；或在 --policy 和 "
                        "--candidates 之外用 --budget、--years、--objective、--chance、--gap "
                        "和 --overrun-risk",
                    )
                ]
            )
        year_list = parse_years(years) if years else None
        loaded_policy = load_policy_reference(policy)
        year_list = year_list or loaded_policy.year_range
        table, apps = load_tables(
            str(candidates),
            str(applications) if applications else None,
            loaded_policy,
            year_list,
        )
        report_readings(table, apps)
        budget_given = parse_budget(budget or [], year_list)
        problem = build_problem(loaded_policy, table, budget_given, settings, year_list, apps)
        # What the flags amount to, as a scenario, for the run folder's manifest: a report
        # written from the folder said "no budget" and "?" for policy and candidates.
        recorded = flags_scenario(
            policy, loaded_policy.title, year_list, budget_given, candidates, applications, settings
        )
    command = " ".join(sys.argv)
    if out:
        _start_run(out, command)
    with console.status("solving…", spinner="dots") if not as_json else _nothing() as status:
        on_confirm = confirm_progress(status, "solving")
        result = allocate(problem, confirm_cases=confirm, on_confirm=on_confirm)
    written = []
    if out:
        outputs = loaded.outputs if loaded else ["csv", "xlsx", "parquet"]
        written = save_allocation(
            result, out, outputs, loaded or recorded, command=command, base=base
        )
        _finish_run(out)
    _finish(result, as_json, out, written)


def flags_scenario(
    policy: str,
    title: str | None,
    years: list[int],
    budget: Budget,
    candidates: Path | str,
    applications: Path | str | None,
    settings: AllocationSettings,
) -> Scenario:
    """The scenario that ``allocate --policy --candidates ...`` runs, with its files by
    absolute path (the manifest is read from elsewhere) and a bundled policy by its id; its
    years the span of those allocated (the manifest lists them, for years that skip one)."""
    from .loader import bundled_policies, resolve_policy
    from .schema import CandidateSource, Scenario

    # By id where the id is what was read (as load_policy_reference decides), else by path.
    path = resolve_policy(policy)
    reference = policy if bundled_policies().get(policy) == path else str(path.resolve())
    return Scenario(
        id="allocate",
        title=title,
        policy=reference,
        years=(min(years), max(years)),
        budget=budget,
        candidates=CandidateSource(
            file=str(Path(candidates).resolve()),
            applications=str(Path(applications).resolve()) if applications else None,
        ),
        allocation=settings,
    )


def register(app: typer.Typer) -> None:
    """Add ``allocate`` to the ``liangye`` command line."""
    app.command(name="allocate")(allocate_command)
