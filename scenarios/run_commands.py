"""The ``liangye run``, ``simulate`` and ``frontier`` commands (heavy imports inside them)."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from liangye.model.errors import InputError, Problem

from .cli_options import check_simulation_options
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
    errors,
    print_json,
)

if TYPE_CHECKING:
    from .background import BackgroundSimulation
    from .schema import Scenario
    from .simulate import SimulationRun
    from .simulation_digest import SimulationDigest

MAX_SCALE = 100.0  # the largest budget multiple a frontier takes
# Help shared by run, simulate and frontier (Chinese first, then English).
SCENARIO_HELP = "情景文件（默认：内置 default）; scenario file (default: the bundled default)"
SET_BUDGET_HELP = (
    "修改情景的一个键，如 budget.2025=2500，可重复; override a key, e.g. budget.2025=2500"
)
RUN_OUT_HELP = (
    "输出文件夹（默认 results/runs/<运行编号>）; output folder (default: results/runs/<run-id>)"
)


def run(
    scenario: Annotated[
        Path | None,
        typer.Argument(help=SCENARIO_HELP),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help=SET_BUDGET_HELP,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=RUN_OUT_HELP,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="在标准输出打印一个 JSON 对象; print one JSON object to stdout"
        ),
    ] = False,
    confirm: Annotated[
        int, typer.Option("--confirm", help=CONFIRM_HELP, min=0, max=MAX_CONFIRM)
    ] = 0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """运行情景：先分配，再模拟奖励效果（与无奖励对照），写入 results/runs/。
    Run a scenario: allocate, then simulate its awards against a no-award twin; write both
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

        from .loader import load_scenario, scenario_hash, scenario_policy

        loaded, base = load_scenario(scenario, set_ or [])
        scenario_policy(loaded, base)  # a bad policy refused before the run folder
        command = " ".join(sys.argv)
        folder = out or new_run_dir(None, loaded.id, scenario_hash(loaded))
        _start_run(folder, command)
        sim.simulate(folder / "simulation", loaded, base, command)
        # Imported once the child has its orders: Pyomo and HiGHS load while it simulates.
        from .display import show_allocation
        from .runner import WORKBOOK, run_allocation, save_allocation, save_workbook

        spinner = console.status(f"allocating {loaded.id}…", spinner="dots")
        with spinner if not as_json else _nothing() as status:
            on_confirm = confirm_progress(status, f"allocating {loaded.id}")
            result = run_allocation(loaded, base, confirm, on_confirm)
        # The files the report reads first; the workbook (0.3 s) is written while the
        # second process writes the report, then the answer is shown (the tables on the
        # terminal; the JSON waits, as it names the report).
        workbook = "xlsx" in loaded.outputs
        written = save_allocation(
            result, folder, loaded.outputs, loaded, command=command, workbook=False, base=base
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


def simulate(
    scenario: Annotated[
        Path | None,
        typer.Argument(help=SCENARIO_HELP),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="根随机种子（默认 simulation.seed）; root seed (default: simulation.seed)",
        ),
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option(
            "--replications",
            help="重复模拟次数，至少 1（默认取情景设置）; replications, 1 or more (default: the scenario's)",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="修改情景的一个键，如 simulation.award_scale=2，可重复; override a key, e.g. simulation.award_scale=2",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=RUN_OUT_HELP,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="以一个 JSON 对象打印摘要; print the summary as one JSON object to stdout",
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """模拟情景的奖励效果（与无奖励对照）。
    Simulate a scenario's awards against a no-award twin and write results/runs/."""
    from liangye.results.store import new_run_dir

    from .loader import load_scenario, scenario_hash, scenario_policy

    _setup_logging(verbose)
    check_simulation_options(seed, replications)
    loaded, base = load_scenario(scenario, set_ or [])
    scenario_policy(loaded, base)  # a bad policy refused before the run folder
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


def frontier(
    scenario: Annotated[
        Path | None,
        typer.Argument(help=SCENARIO_HELP),
    ] = None,
    scales: Annotated[
        str,
        typer.Option(
            "--scales",
            help="预算倍数，如 0.5,0.75,1,1.5,2; budget multiples, e.g. 0.5,0.75,1,1.5,2",
        ),
    ] = "0.25,0.5,0.75,1,1.25,1.5,2",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help=SET_BUDGET_HELP,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=RUN_OUT_HELP,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="以 JSON 打印预算前沿; print the frontier as JSON")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """预算前沿：每一档预算能买到什么。
    What each budget buys: the scenario solved at multiples of its budget, greedy beside."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from liangye.model.frontier import budget_frontier, quota_budget
    from liangye.results.export import write_plan_csv
    from liangye.results.plots import plot_frontier
    from liangye.results.store import new_run_dir, write_manifest, write_parquet

    from .loader import load_scenario, scenario_hash
    from .runner import scenario_problem, scenario_record

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
                    "预算前沿需要按预算缩放：请在情景中设定预算",
                )
            ]
        )
    folder = out or new_run_dir(None, f"{loaded.id}-frontier", scenario_hash(loaded))
    _start_run(folder, " ".join(sys.argv))
    columns = (TextColumn("求解预算前沿"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, disable=as_json) as bar:
        task = bar.add_task("frontier", total=len(levels))
        table = budget_frontier(problem, levels, progress=lambda _: bar.advance(task))
    needed = quota_budget(problem)
    write_parquet(folder / "frontier.parquet", table)
    # Text a spreadsheet would run as a formula is escaped, as in plan.csv.
    write_plan_csv(table, folder / "frontier.csv")
    plot_frontier(table, folder / "frontier.png", f"{loaded.title or loaded.id}：预算前沿", needed)
    write_manifest(
        folder,
        kind="frontier",
        quota_budget=needed,
        scenario=scenario_record(loaded, base),
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
    for column in (
        "预算",
        "求解状态",
        "目标值",
        "与上界间隙",
        "入选事项数",
        "按分排序法目标值",
        "用时（秒）",
    ):
        view.add_column(column, justify="right", overflow="fold")
    for row in table.itertuples():
        objective = row.objective
        gap = getattr(row, "gap", None)
        view.add_row(
            f"{row.budget:,.0f}",
            STATUS_ZH.get(row.status, row.status),
            f"{objective:,.1f}" if objective is not None and objective == objective else "—",
            # How far a point may be from the best plan at its budget (a point not proven
            # optimal showed nothing of it: the default's are 4.8% from their bound).
            f"{gap:.2%}" if gap is not None and gap == gap else "—",
            str(row.designations),
            f"{row.greedy_objective:,.1f}"
            + (f"（违反 {row.greedy_rules_broken} 条规则）" if row.greedy_rules_broken else ""),
            f"{row.seconds:.2f}",
        )
    console.print(view)
    if needed is not None:
        bounded = problem.settings.overrun_risk is not None
        console.print(
            "各年预算按同一比例增减时，满足全部最低名额和应付奖励所需的最低预算"
            f"（期间合计，按预计支出）：{needed:,.1f}万元"
            + ("；设有超支概率上限时所需预算更高，略高于它的预算也可能没有方案" if bounded else ""),
            highlight=False,
        )
    # Each point starts from the previous one's plan (model/frontier.py): it can end on
    # another plan than a fresh ``allocate`` at that budget, proven or not (review 10:
    # Wuhan's own budget gave 25,116.0 here and 25,124.6 there, both within its 1e-3 gap).
    gap = problem.settings.mip_gap
    unproven = bool(table["status"].isin(["work_limit", "time_limit"]).any())
    console.print(
        f"注意：各点从前一个点的方案出发求解；已证明最优的点与最优值相差不超过要求的相对间隙"
        f"（{gap:.2%}）"
        + (
            "，未证明最优的点是计算量或时间上限内找到的最好方案，与最优值至多相差其“与上界间隙”"
            if unproven
            else ""
        )
        + "。同一预算下单独运行 liangye allocate 可能得到另一个同样符合全部规则的方案，"
        "目标值可能略有不同；要执行的方案请用 liangye allocate 在选定的预算下求出。",
        highlight=False,
    )
    console.print(f"已写入 written: {folder}（frontier.png, frontier.csv）", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``run``, ``simulate`` and ``frontier`` to the ``liangye`` command line."""
    app.command(name="run")(run)
    app.command(name="simulate")(simulate)
    app.command(name="frontier")(frontier)
