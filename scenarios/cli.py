"""The ``liangye`` command line: run, simulate, allocate, frontier, validate."""

from __future__ import annotations

import os
import signal
import sys
import threading


def _interrupted_while_starting(signum: int, frame: object) -> None:
    """Ctrl-C while the command line's modules load: one line and exit 130, no traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    os._exit(130)  # nothing has been written yet: there is nothing to clean up


# Until the module has loaded (the handler is put back at its end), Ctrl-C ends the program
# quietly; after that, main() turns KeyboardInterrupt into the same line. Only the default
# handler is replaced, and only from the main thread: a host that set its own keeps it.
_SIGINT_BEFORE = signal.getsignal(signal.SIGINT)
_GUARDED = (
    _SIGINT_BEFORE is signal.default_int_handler
    and threading.current_thread() is threading.main_thread()
)
if _GUARDED:
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import json  # noqa: E402 - after the Ctrl-C guard
import logging  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.logging import RichHandler  # noqa: E402
from rich.text import Text  # noqa: E402

from liangye.model.errors import InputError, Problem  # noqa: E402

from .cli_options import (  # noqa: E402
    allocation_settings,
    check_overrun_risk,
    check_simulation_options,
    parse_budget,
    parse_chances,
    parse_years,
)
from .policy_commands import policy_app  # noqa: E402

# The commands import what they need when they run (pandas, Pyomo, HiGHS, Mesa, pyarrow):
# `liangye --help` and a mistyped option answer at once.
if TYPE_CHECKING:
    from liangye.model.allocation import AllocationResult

    from .background import BackgroundSimulation
    from .schema import Scenario
    from .simulate import SimulationRun
    from .simulation_digest import SimulationDigest

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False
)
console = Console()
errors = Console(stderr=True)

EXIT_INPUT = 2  # bad input files or options
# What it would have taken is estimated for every candidate from the relaxation and settled
# by re-solving as far as a fixed budget of work allows (all of a small instance; none past
# a few hundred options, where a solve of the default scenario takes about 3 s): --confirm N
# asks for the N closest each side as well, whatever they cost.
MAX_CONFIRM = 50
CONFIRM_HELP = (
    "also settle what it would have taken by re-solving for the N left out closest to "
    "selection and the N selected closest to losing their place, whatever it costs "
    "(default 0: only what the automatic budget of work covers, all of a small instance)"
)
EXIT_INFEASIBLE = 3  # the rules cannot all be met: the diagnosis says why
MAX_SCALE = 100.0  # the largest budget multiple a frontier takes
EXIT_NO_PLAN = 4  # no plan found within the time or work limit: nothing was decided


def _exit_for(status: str, as_json: bool, clock: bool = False) -> None:
    """End a command that allocated with the code its status calls for (0 with a plan);
    without a plan that is not a proof of infeasibility, say why in Chinese first: the clock
    the user set (``clock``: a time limit was given) ran out, the fixed budget of work did,
    or the solver failed."""
    from liangye.model.status import PLAN_STATUSES

    if status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)
    if status not in PLAN_STATUSES:
        if not as_json:
            errors.print(f"[red]{no_plan_zh(status, clock)}[/]", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)


def no_plan_zh(status: str, clock: bool) -> str:
    """Why an allocation ended without a plan, and what to try, in Chinese."""
    nothing = "本次未作决定（按规定应付的奖励也未列入）。"
    if status == "error":
        return (
            "未找到方案：求解器（HiGHS）报告失败，" + nothing + "请检查输入中是否有极端的"
            "数值（金额、评分、概率），或设 LIANGYE_DEBUG=1 后重试以查看详情。"
        )
    if clock:
        return (
            "未找到方案：在设定的求解时间内没有得到任何方案，"
            + nothing
            + "请放宽 --time-limit（或去掉它）后重试。"
        )
    return (
        "未找到方案：在固定的工作量上限内没有得到任何方案（结果不随机器快慢而变），"
        + nothing
        + "可放宽超支风险上限（--overrun-risk）或最低名额后重试。"
    )


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=errors, show_path=False)],
    )


def print_json(data: object) -> None:
    """``data`` as one line of strict JSON on stdout: a number that is not finite is null
    (never Infinity or NaN, which strict parsers refuse)."""
    from liangye.results.store import finite_json

    text = json.dumps(finite_json(data), ensure_ascii=False, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")


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


@app.command("allocate")
def allocate_command(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="a scenario file: its policy, candidates, budgets and settings"),
    ] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="policy file, or a bundled policy id")
    ] = None,
    candidates: Annotated[
        Path | None, typer.Option("--candidates", help="candidate table (CSV or XLSX)")
    ] = None,
    applications: Annotated[
        Path | None, typer.Option("--applications", help="applications table")
    ] = None,
    years: Annotated[
        str | None, typer.Option("--years", help="e.g. 2024-2026 (default: the policy's)")
    ] = None,
    budget: Annotated[
        list[str] | None,
        typer.Option("--budget", help="AMOUNT for every year, or YEAR=AMOUNT (万元); repeatable"),
    ] = None,
    objective: Annotated[
        str | None, typer.Option("--objective", help="merit, count or min_cost")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="a clock in seconds on top of the work limit (default: none, so the plan "
            "is the same on any machine)",
        ),
    ] = None,
    gap: Annotated[
        float | None, typer.Option("--gap", help="relative optimality gap (default 1e-4)")
    ] = None,
    chance: Annotated[
        list[str] | None,
        typer.Option(
            "--chance",
            help="LEVEL=P: the chance a tier conferred by LEVEL is conferred; repeatable",
        ),
    ] = None,
    overrun_risk: Annotated[
        float | None,
        typer.Option(
            "--overrun-risk",
            help="ALPHA: the largest chance, in every year, that conferred awards and "
            "obligations overrun the budget",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a scenario key (with SCENARIO)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="folder for plan.csv, plan.xlsx, ...")
    ] = None,
    confirm: Annotated[
        int, typer.Option("--confirm", help=CONFIRM_HELP, min=0, max=MAX_CONFIRM)
    ] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="print one JSON object to stdout")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Choose designations under a policy and budget: from a scenario file (its policy, pool,
    budgets, chances and settings; no simulation), or from a policy and a candidate table."""
    from liangye.model.allocation import allocate
    from liangye.model.candidates import load_applications, load_candidates
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
    loaded = None
    if scenario is not None:
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
                        "场景文件已写明政策、候选名单、年份和预算：请去掉这些选项，"
                        "或用 --set 修改场景",
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
                        "请给出场景文件，或者给出政策（--policy）和候选名单（--candidates）",
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
                        "--set 修改的是场景文件的键：请给出场景文件；或在 --policy 和 "
                        "--candidates 之外用 --budget、--years、--objective、--chance、--gap "
                        "和 --overrun-risk",
                    )
                ]
            )
        year_list = parse_years(years) if years else None
        loaded_policy = load_policy_reference(policy)
        year_list = year_list or loaded_policy.year_range
        apps = load_applications(str(applications)) if applications else None
        table = load_candidates(str(candidates), needs_score=apps is None)
        report_readings(table, apps)
        problem = build_problem(
            loaded_policy, table, parse_budget(budget or [], year_list), settings, year_list, apps
        )
    command = " ".join(sys.argv)
    if out:
        _start_run(out, command)
    with console.status("solving…", spinner="dots") if not as_json else _nothing():
        result = allocate(problem, confirm_cases=confirm)
    written = []
    if out:
        outputs = loaded.outputs if loaded else ["csv", "xlsx", "parquet"]
        written = save_allocation(result, out, outputs, loaded, command=command)
        _finish_run(out)
    _finish(result, as_json, out, written)


def _start_run(folder: Path, command: str) -> None:
    """Ready the run folder (see results.store: refused if it holds files that are not an
    earlier run's, cleared if it holds only an earlier run's) and mark it incomplete; say on
    stderr what was cleared."""
    from liangye.results.store import start_run

    cleared = start_run(folder, command)
    if cleared:
        errors.print(
            f"cleared an earlier run from {folder}: {', '.join(cleared)}",
            highlight=False,
            markup=False,
        )


def _finish_run(folder: Path) -> None:
    """Mark the run in ``folder`` complete, once every output is written."""
    from liangye.results.store import finish_run

    finish_run(folder)


@app.command()
def run(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario file (default: the bundled default)")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a key, e.g. budget.2025=2500")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder (default: results/runs/<run-id>)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print one JSON object to stdout")
    ] = False,
    confirm: Annotated[
        int, typer.Option("--confirm", help=CONFIRM_HELP, min=0, max=MAX_CONFIRM)
    ] = 0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run a scenario: allocate, then simulate its awards against a no-award twin; write both
    under results/runs/ (the simulation in the run's simulation/ folder). An --out folder
    holding an earlier run only is cleared first; one holding other files is refused."""
    from .background import BackgroundSimulation

    _setup_logging(verbose)
    # The second process starts first: it loads the simulation's modules (1.2 s) while this
    # one reads the scenario; it then simulates while this one allocates (the simulation
    # does not read this allocation), and writes the report while this one shows the
    # answer. A scenario that fails to load stops it (scenarios/background.py).
    with BackgroundSimulation() as sim:
        from liangye.results.store import new_run_dir

        from .loader import load_scenario, scenario_hash

        loaded, base = load_scenario(scenario, set_ or [])
        command = " ".join(sys.argv)
        folder = out or new_run_dir(None, loaded.id, scenario_hash(loaded))
        _start_run(folder, command)
        sim.simulate(folder / "simulation", loaded, base, command)
        # Imported once the child has its orders: Pyomo and HiGHS load while it simulates.
        from .display import show_allocation
        from .runner import WORKBOOK, run_allocation, save_allocation, save_workbook

        spinner = console.status(f"allocating {loaded.id}…", spinner="dots")
        with spinner if not as_json else _nothing():
            result = run_allocation(loaded, base, confirm)
        # The files the report reads first; the workbook (0.3 s) is written while the
        # second process writes the report, then the answer is shown (the tables on the
        # terminal; the JSON waits, as it names the report).
        workbook = "xlsx" in loaded.outputs
        written = save_allocation(
            result, folder, loaded.outputs, loaded, command=command, workbook=False
        )
        simulation = _wait_for_simulation(sim, loaded.id, quiet=as_json)
        _finish_run(folder / "simulation")
        sim.write_report(folder, pending=[WORKBOOK] if workbook else [])
        if workbook:
            written.append(save_workbook(result, folder))
        if not as_json:
            show_allocation(console, result)
            console.print(simulation.table())
            console.print(
                f"已写入 written: {written[0].parent}（模拟结果在 simulation/）", highlight=False
            )
        report = sim.report()
    _finish_run(folder)
    if as_json:
        summary = simulation.summary
        answer = {
            **result.to_dict(),
            "folder": str(folder),
            "report": str(report),
            "simulation": {
                "folder": str(folder / "simulation"),
                "seed": simulation.seed,
                "replications": simulation.replications,
                "summary": summary["summary"],
                "cost_per_additional": summary["cost_per_additional"],
            },
        }
        print_json(answer)
    else:
        console.print(f"报告 report: {report}", highlight=False)
    _exit_for(result.status, as_json, math.isfinite(result.problem.settings.time_limit))


def _wait_for_simulation(sim: BackgroundSimulation, name: str, quiet: bool) -> SimulationDigest:
    """Wait for ``liangye run``'s simulation with its progress bar on stderr (none if
    ``quiet``), from the quarters it has done so far."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, disable=quiet) as bar:
        task = bar.add_task(f"模拟 {name}（季度，有奖励与无奖励两个世界）", total=None)
        sim.set_progress(lambda done, total: bar.update(task, completed=done, total=total))
        return sim.result()


def _simulate(
    loaded: Scenario,
    base: Path,
    folder: Path,
    seed: int | None,
    replications: int | None,
    quiet: bool,
    command: str,
) -> SimulationRun:
    """Simulate ``loaded`` into ``folder`` with a progress bar on stderr (none if ``quiet``)."""
    # Imported here so that the commands that do not simulate start without loading Mesa.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from .simulate import simulate_into

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, disable=quiet) as bar:
        task = bar.add_task(f"模拟 {loaded.id}（季度，有奖励与无奖励两个世界）", total=None)
        return simulate_into(
            folder,
            loaded,
            base,
            seed,
            replications,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            command=command,
        )


@app.command()
def simulate(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario file (default: the bundled default)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="root seed (default: simulation.seed)")
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option("--replications", help="replications, 1 or more (default: the scenario's)"),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a key, e.g. simulation.award_scale=2"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder (default: results/runs/<run-id>)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the summary as one JSON object to stdout")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Simulate a scenario's awards against a no-award twin and write results/runs/."""
    from liangye.results.store import new_run_dir

    from .loader import load_scenario, scenario_hash

    _setup_logging(verbose)
    check_simulation_options(seed, replications)
    loaded, base = load_scenario(scenario, set_ or [])
    folder = out or new_run_dir(None, f"{loaded.id}-sim", scenario_hash(loaded))
    command = " ".join(sys.argv)
    _start_run(folder, command)
    run = _simulate(loaded, base, folder, seed, replications, as_json, command)
    _finish_run(folder)
    if as_json:
        print_json({**run.summary(), "folder": str(folder)})
        return
    from .simulate import headline_table

    console.print(headline_table(run))
    console.print(f"已写入 written: {folder}", highlight=False)


@app.command()
def frontier(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario file (default: the bundled default)")
    ] = None,
    scales: Annotated[
        str, typer.Option("--scales", help="budget multiples, e.g. 0.5,0.75,1,1.5,2")
    ] = "0.25,0.5,0.75,1,1.25,1.5,2",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a key, e.g. budget.2025=2500")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder (default: results/runs/<run-id>)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the frontier as JSON")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """What each budget buys: the scenario solved at multiples of its budget, greedy beside."""
    from rich.progress import Progress
    from rich.table import Table

    from liangye.model.frontier import budget_frontier, quota_budget
    from liangye.results.export import write_plan_csv
    from liangye.results.plots import plot_frontier
    from liangye.results.store import new_run_dir, write_manifest, write_parquet

    from .loader import load_scenario, scenario_hash
    from .runner import scenario_problem

    _setup_logging(verbose)
    try:
        levels = sorted({float(part) for part in scales.split(",") if part.strip()})
    except ValueError:
        raise InputError(
            [
                Problem(
                    "--scales",
                    scales,
                    "expected numbers like 0.5,1,2",
                    "应为以逗号隔开的数，如 0.5,1,2",
                )
            ]
        ) from None
    # nan sorts anywhere and fails every comparison: refused by name, as is a multiple no
    # budget would be set to (the scaled budgets must stay numbers a plan is measured in).
    if not levels or not all(math.isfinite(v) and 0 < v <= MAX_SCALE for v in levels):
        raise InputError(
            [
                Problem(
                    "--scales",
                    scales,
                    f"expected positive budget multiples, at most {MAX_SCALE:g} (e.g. 0.5,1,2)",
                    f"应为正的预算倍数，至多 {MAX_SCALE:g}（如 0.5,1,2）",
                )
            ]
        )
    loaded, base = load_scenario(scenario, set_ or [])
    problem = scenario_problem(loaded, base)
    if problem.budget.unlimited:
        raise InputError(
            [
                Problem(
                    loaded.id,
                    "budget",
                    "a frontier needs a budget to scale",
                    "预算前沿需要按预算缩放：请在场景中设定预算",
                )
            ]
        )
    folder = out or new_run_dir(None, f"{loaded.id}-frontier", scenario_hash(loaded))
    _start_run(folder, " ".join(sys.argv))
    with Progress(console=errors, disable=as_json) as bar:
        task = bar.add_task("求解预算前沿", total=len(levels))
        table = budget_frontier(problem, levels, progress=lambda _: bar.advance(task))
    needed = quota_budget(problem)
    write_parquet(folder / "frontier.parquet", table)
    # Text a spreadsheet would run as a formula is escaped, as in plan.csv.
    write_plan_csv(table, folder / "frontier.csv")
    plot_frontier(table, folder / "frontier.png", f"{loaded.title}：预算前沿", needed)
    write_manifest(
        folder,
        kind="frontier",
        quota_budget=needed,
        scenario=loaded.model_dump(mode="json"),
        scenario_hash=scenario_hash(loaded),
        scales=levels,
        command=" ".join(sys.argv),
    )
    _finish_run(folder)
    if as_json:
        print_json(table.to_dict(orient="records"))
        return
    from liangye.model.status import STATUS_ZH

    view = Table(title="预算前沿（万元）", title_justify="left")
    for column in ("预算", "求解状态", "目标值", "认定数", "按分排序法目标值", "用时（秒）"):
        view.add_column(column, justify="right", overflow="fold")
    for row in table.itertuples():
        objective = row.objective
        view.add_row(
            f"{row.budget:,.0f}",
            STATUS_ZH.get(row.status, row.status),
            f"{objective:,.1f}" if objective is not None and objective == objective else "—",
            str(row.designations),
            f"{row.greedy_objective:,.1f}"
            + (f"（违反 {row.greedy_rules_broken} 条规则）" if row.greedy_rules_broken else ""),
            f"{row.seconds:.2f}",
        )
    console.print(view)
    if needed is not None:
        bounded = problem.settings.overrun_risk is not None
        console.print(
            f"满足全部最低名额和应付奖励所需的最低预算（整个期间，按预计支出）：{needed:,.1f}万元"
            + ("；设有超支概率上限时所需预算更高，略高于它的预算也可能没有方案" if bounded else ""),
            highlight=False,
        )
    console.print(f"已写入 written: {folder}（frontier.png, frontier.csv）", highlight=False)


@app.command()
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="policy, scenario, candidate or application files")
    ],
) -> None:
    """Check input files and report every problem at once (a scenario is followed to its
    policy and candidate files); readings taken are printed as warnings."""
    from .display import show_problems
    from .validate import check_file, check_together

    failed = 0
    results = [check_file(path) for path in files]
    together = check_together(files, results)
    labels = [str(path) for path in files]
    if together is not None:  # what only shows across the files, as allocate puts them
        results.append(together)
        labels.append("（合起来 together）")
    for path, checked in zip(labels, results, strict=True):
        if checked.problems:
            failed += 1
            show_problems(
                console,
                InputError(checked.problems),
                f"{path}：有问题 {checked.kind} with problems",
            )
        else:
            console.print(
                f"[green]✓[/] {path}：没有问题 {checked.kind}, no problems", highlight=False
            )
        for sentence in checked.warnings:
            console.print(f"  [yellow]注意 warning:[/] {sentence}", highlight=False)
    if failed:
        raise typer.Exit(EXIT_INPUT)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process Ctrl-C ended


def _interrupted() -> None:
    """Ctrl-C: one line on stderr and exit 130; a second Ctrl-C meanwhile is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    sys.exit(EXIT_INTERRUPTED)


def main() -> None:
    """Entry point. Promises: bad input exits 2 with every problem listed; Ctrl-C at any
    moment (inside a command, while its modules load, while an error is shown) exits 130
    with the one line "interrupted"; neither ever prints a traceback."""
    try:
        _main()
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit:
        # The command's outcome is decided (and shown): a Ctrl-C while the interpreter shuts
        # down (joining the queue threads of `run`'s second process, say) cannot change it,
        # and would otherwise end the process by SIGINT without the one line.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise


def problems_json(error: InputError) -> list[dict[str, str]]:
    """Every problem of ``error`` as JSON for tools: file or option, row or key, the English
    and the Chinese."""
    return [
        {"source": p.source, "where": p.where, "message": p.message, "message_zh": p.zh}
        for p in error.problems
    ]


def _main() -> None:
    try:
        code = app(standalone_mode=False)
    except InputError as error:
        from .display import show_problems

        show_problems(errors, error)
        if "--json" in sys.argv[1:]:
            # A tool asked for JSON: the same problems, on stdout, so that it need not read
            # the terminal's text (stderr keeps it for the person).
            print_json({"status": "input_error", "problems": problems_json(error)})
        sys.exit(EXIT_INPUT)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    except typer.TyperException as error:  # usage errors: unknown option, missing argument
        from .usage import plain_usage, usage_zh

        message = plain_usage(error.format_message())
        errors.print(
            Text.assemble(("命令行参数有误 error:", "bold red"), f" {message}"), highlight=False
        )
        errors.print(Text.assemble("  → ", usage_zh(message)), highlight=False)
        sys.exit(error.exit_code)
    except OSError as error:
        # A path that names a folder where a file is wanted (or the reverse), a file that
        # exists where a folder is to be made, no permission: the path and what the system
        # said, as for any other bad input.
        if os.environ.get("LIANGYE_DEBUG"):
            raise
        where = f"{error.filename}: " if error.filename else ""
        errors.print(
            f"[bold red]文件或文件夹无法读写 file error:[/] {where}{error.strerror or error}",
            highlight=False,
        )
        sys.exit(EXIT_INPUT)
    except Exception as error:  # the last line of defence: one sentence, details on request
        if os.environ.get("LIANGYE_DEBUG"):
            raise
        errors.print(
            f"[bold red]error:[/] {error}  (set LIANGYE_DEBUG=1 for the traceback)", highlight=False
        )
        sys.exit(1)
    if code == EXIT_INTERRUPTED:  # typer turns a KeyboardInterrupt in a command into 130
        _interrupted()
    sys.exit(code or 0)


app.add_typer(policy_app, name="policy")

from .report_commands import register as _register_reports  # noqa: E402 - after the app exists
from .sweep_commands import register as _register_sweeps  # noqa: E402 - after the app exists

_register_sweeps(app)
_register_reports(app)

if _GUARDED:  # loaded: from here on main() turns Ctrl-C into the one line
    signal.signal(signal.SIGINT, _SIGINT_BEFORE)
