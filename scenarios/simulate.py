"""Simulating a scenario: replications of the award world and its twin, written to a run folder."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from rich.table import Table

from liangye.agents.agents import GovernmentSetup
from liangye.agents.draws import POPULATION_STREAM, stream
from liangye.agents.outcomes import firm_outcomes, pooled_costs, summarise, trajectories
from liangye.agents.params import MAX_QUARTERS, SimulationParameters, changed_parameters
from liangye.agents.population import firm_population
from liangye.agents.population_checks import held_problems
from liangye.agents.records import threshold_label
from liangye.agents.replication import run_replication
from liangye.agents.rounds import round_years
from liangye.model.errors import raise_if_any
from liangye.results.report import SERVITIZATION_FIGURE, servitization_png
from liangye.results.store import (
    new_run_dir,
    write_atomic,
    write_json,
    write_manifest,
    write_parquet,
)

from .loader import scenario_hash
from .runner import report_names_for, scenario_policy, scenario_record
from .schema import Scenario
from .simulation_digest import SimulationDigest

if TYPE_CHECKING:
    from liangye.model.policy import Policy
    from liangye.model.settings import AllocationSettings, Budget

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (quarters simulated, quarters in all: both worlds)


@dataclass
class SimulationRun:
    """Every replication of a scenario: stacked tables, outcomes and their summary."""

    scenario: Scenario
    seed: int
    params: SimulationParameters
    start_year: int
    trajectories: pd.DataFrame
    awards: pd.DataFrame
    payments: pd.DataFrame
    firms: pd.DataFrame
    outcomes: list[dict[str, object]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    # per replication, seconds by world and stage (agents.replication.Replication.seconds)
    stages: list[dict[str, float]] = field(default_factory=list)
    # What of the policy the simulation does not run (agents.model.WorldResult.not_simulated)
    not_simulated: list[dict[str, str]] = field(default_factory=list)

    def digest(self) -> SimulationDigest:
        """What the command line shows of the run (its summary and headline rows), cheap to
        send from a second process."""
        return SimulationDigest(
            self.scenario.id, self.seed, len(self.outcomes), self.summary(), headline(self)
        )

    def summary(self) -> dict[str, object]:
        """The JSON summary: settings, each replication's outcomes, their spread and the
        pooled cost per additional firm. Nothing in it depends on the machine or the clock
        (timings go to the manifest), so the same scenario and seed give the same summary."""
        return {
            "scenario": self.scenario.id,
            "seed": self.seed,
            "replications": len(self.outcomes),
            "start_year": self.start_year,
            "quarters": self.params.quarters,
            # As run: the seed and replications the command gave, not the file's defaults.
            "parameters": self.params.model_dump(mode="json")
            | {"seed": self.seed, "replications": len(self.outcomes)},
            # What differs from the model's defaults, for the report to say (award_scale...).
            "changed_parameters": changed_parameters(self.params),
            # Programmes that sit out and the quotas that go with them: the rounds count
            # as planned under every rule the simulation applies, not these.
            "not_simulated": self.not_simulated,
            "runs": self.outcomes,
            "summary": summarise(self.outcomes),
            "cost_per_additional": pooled_costs(self.outcomes),
        }


def simulated_span(
    scenario: Scenario, base: Path
) -> tuple[SimulationParameters, Policy, AllocationSettings, int]:
    """The simulation's parameters (its quarters made to cover every year the scenario
    allocates), the policy and settings as priced by ``scenario_policy``, and the first
    simulated year (the simulation's, else the scenario's, else the policy's)."""
    params = scenario.simulation
    policy, settings = scenario_policy(scenario, base)
    start = params.start_year or (scenario.years[0] if scenario.years else policy.years[0])
    if "quarters" not in params.model_fields_set:
        # Unless the scenario says, every year it allocates is simulated (Wuhan's 2022-2025
        # lost its 2025 round to the twelve quarters of the default), and at least three
        # years, so that a one-year programme's effects have time to show.
        last = scenario.years[1] if scenario.years else policy.years[1]
        quarters = max(params.quarters, 4 * (last - start + 1))
        params = params.model_copy(update={"quarters": min(quarters, MAX_QUARTERS)})
    return params, policy, settings, start


def no_round_said(
    params: SimulationParameters, policy: Policy, start: int
) -> tuple[str, str] | None:
    """Why the simulation holds no round of a policy with programmes, in English and in
    Chinese (its years and the simulated ones do not meet, or the quarters end before any
    round quarter); None when it holds one. Not an error (a world without awards can be
    meant), but rarely what was asked."""
    if not policy.programmes or round_years(policy, params, start):
        return None
    end = start + (params.quarters - 1) // 4
    if max(policy.years[0], start) <= min(policy.years[1], end):
        # The years meet, but the simulated quarters stop before any year's round quarter
        # (one quarter of 2024 never reaches 2024's round in quarter 4).
        return (
            f"the simulation ({params.quarters} quarters from {start}) ends before the "
            f"round quarter (Q{params.round_quarter}) of any year of {policy.id}: no round "
            "is held and no award paid",
            f"模拟期（{start}年起共 {params.quarters} 个季度）在{policy.title}任何一年的评审季度"
            f"（第 {params.round_quarter} 季度）之前结束：模拟中不举行评审，不会有奖励",
        )
    return (
        f"the years of {policy.id} ({policy.years[0]}-{policy.years[1]}) and the simulated "
        f"years ({start}-{end}) do not meet: no round is held and no award paid",
        f"{policy.title}的年份（{policy.years[0]}-{policy.years[1]}年）与模拟期（{start}-{end}年）"
        "没有重叠：模拟中不举行评审，不会有奖励",
    )


def simulation_setup(
    scenario: Scenario, base: Path
) -> tuple[SimulationParameters, list[GovernmentSetup], int]:
    """Parameters, the government (the scenario's policy, budget and allocation settings,
    with its tier design applied by ``scenario_policy``, as for the allocation) and the first
    simulated year (``simulated_span``); warns when no round is held (``no_round_said``)."""
    params, policy, settings, start = simulated_span(scenario, base)
    said = no_round_said(params, policy, start)
    if said is not None:
        log.warning("%s", said[1])
    unused = unused_budget_said(params, policy, start, scenario.budget)
    if unused is not None:
        log.warning("%s", unused[1])
    return params, [GovernmentSetup(policy, scenario.budget, settings)], start


def unused_budget_said(
    params: SimulationParameters, policy: Policy, start: int, budget: Budget
) -> tuple[str, str] | None:
    """The budget years no simulated round reaches, in English and in Chinese (None: none).
    Said, not refused: a shorter simulation of a longer plan can be meant; but such a year
    drops out of the simulated overruns without a word otherwise."""
    rounds = set(round_years(policy, params, start)) if policy.programmes else set()
    unused = sorted(set(budget.per_year) - rounds)
    if not rounds or not unused:
        return None
    return (
        f"the budget of {', '.join(map(str, unused))} is not used by the simulation, whose "
        f"rounds are in {', '.join(map(str, sorted(rounds)))}",
        f"预算中{'、'.join(f'{t}年' for t in unused)}的额度在模拟中不使用：模拟的评审年份为"
        f"{'、'.join(f'{t}年' for t in sorted(rounds))}",
    )


def check_simulation(scenario: Scenario, base: Path) -> None:
    """Raise InputError for what the scenario's simulation would refuse before its first
    quarter (an application rule reading a column the firms lack, a programme the settings
    name that the policy has not): the award world set up on the first replication's firms
    and let go, as ``liangye validate`` asks. Nothing is simulated."""
    from liangye.agents.model import ServitizationModel, let_go

    params, governments, start = simulation_setup(scenario, base)
    seed = replication_seeds(params.seed, 1)[0]
    firms = checked_population(params, stream(seed, POPULATION_STREAM), base, governments)
    let_go(ServitizationModel(firms, params, governments, start, seed))


def checked_population(
    params: SimulationParameters,
    seed: np.random.SeedSequence,
    base: Path,
    governments: list[GovernmentSetup],
) -> pd.DataFrame:
    """``firm_population``, and for a firm file, its held titles checked against each
    government's policy (``population_checks.held_problems``): a title of no programme was
    ignored, and the firm paid in full again (review 22)."""
    firms = firm_population(params, seed, base)
    if params.population.file is not None:
        raise_if_any([p for g in governments for p in held_problems(firms, g.policy)])
    return firms


class _SaidOnce(logging.Filter):
    """Lets a record through the first time its text is seen."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


@contextmanager
def each_said_once() -> Iterator[None]:
    """Within, a log record said again word for word (by the same logger, at the same level)
    is not said again by the handlers present on entry: every replication sets up the same
    world and may hold the same failing round, and a warning of it, repeated once per
    replication, buried the run's own lines (fifty replications, fifty copies). Each handler
    has its own memory: a record one handler has shown is still new to the next."""
    handlers = {*logging.getLogger().handlers, *logging.getLogger("liangye").handlers}
    filters = {handler: _SaidOnce() for handler in handlers}
    for handler, said in filters.items():
        handler.addFilter(said)
    try:
        yield
    finally:
        for handler, said in filters.items():
            handler.removeFilter(said)


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """One SeedSequence per replication: ``SeedSequence(seed).spawn(replications)``."""
    return np.random.SeedSequence(seed).spawn(replications)


@contextmanager
def long_lived_set_aside() -> Iterator[None]:
    """Within: the objects alive on entry (the libraries, the scenario) are left out of the
    garbage collector's collections (``gc.freeze``); on exit one collection frees what was
    made within and left in cycles, and the objects set aside are put back.

    A replication allocates enough (the rounds' optimisation models) to set off two full
    collections, each traversing the 170,000 objects of the imported libraries again: 0.1 s
    of a 0.85 s replication; the collection on exit, over what was made within only, costs
    15 ms. Nothing is done if the collector is off or objects are already set aside (a
    caller doing the same)."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        # Before unfreezing: a full collection then would traverse the libraries again.
        gc.collect()
        gc.unfreeze()


def simulate_scenario(
    scenario: Scenario,
    base: Path,
    seed: int | None = None,
    replications: int | None = None,
    progress: Progress | None = None,
) -> SimulationRun:
    """Run ``replications`` (default: the scenario's) replications from root ``seed``
    (default: the scenario's); same scenario and seed, same tables. ``progress`` hears
    (quarters simulated, quarters in all) after every quarter of either world."""
    params, governments, start = simulation_setup(scenario, base)
    seed = params.seed if seed is None else seed
    count = replications or params.replications
    seeds = replication_seeds(seed, count)
    fixed = None
    if params.population.file is not None:  # a real table: load (and complete) it once
        fixed = checked_population(
            params, stream(np.random.SeedSequence(seed), POPULATION_STREAM), base, governments
        )
    parts: dict[str, list[pd.DataFrame]] = {
        "trajectories": [],
        "awards": [],
        "payments": [],
        "firms": [],
    }
    run = SimulationRun(scenario, seed, params, start, *(pd.DataFrame() for _ in range(4)))
    steps, total = 0, count * 2 * params.quarters

    def stepped() -> None:
        nonlocal steps
        steps += 1
        if progress:
            progress(steps, total)

    # Set aside for the whole loop: garbage left in cycles is freed once at its end.
    with long_lived_set_aside(), each_said_once():
        for k, child in enumerate(seeds):
            started = time.perf_counter()
            rep = run_replication(params, governments, start, child, fixed, base, stepped)
            run.seconds.append(time.perf_counter() - started)
            run.stages.append(rep.seconds)
            tag = {"replication": k, "spawn_key": "/".join(str(x) for x in child.spawn_key)}
            parts["trajectories"].append(trajectories(rep.award, rep.twin).assign(**tag))
            parts["awards"].append(rep.award.awards.assign(**tag))
            parts["payments"].append(rep.award.payments.assign(**tag))
            parts["firms"].append(firm_outcomes(rep.award, rep.twin).assign(**tag))
            run.outcomes.append({**tag, **rep.outcomes})
            if k == 0:  # the same in every replication: the firms' columns decide it
                run.not_simulated = rep.award.not_simulated
            log.info("replication %d/%d in %.1fs", k + 1, count, run.seconds[-1])
    for name, frames in parts.items():
        setattr(run, name, pd.concat(frames, ignore_index=True))
    return run


def save_simulation(
    run: SimulationRun,
    folder: Path,
    command: str | None = None,
    programmes: Mapping[str, str] | None = None,
    base: Path | None = None,
) -> list[Path]:
    """Write the trajectories, awards, payments and firms (Parquet), summary.json,
    servitization.png (the report's figure: ``servitization_png``, with ``programmes``'
    Chinese names) and manifest.json (scenario, its hash, versions, seed, and the seconds
    each replication took: kept out of summary.json so that it is the same for the same
    scenario and seed)."""
    folder.mkdir(parents=True, exist_ok=True)
    figure = servitization_png(
        run.trajectories,
        run.payments,
        [round(x * 100) for x in run.params.thresholds],
        {int(t): float(v) for t, v in run.scenario.budget.per_year.items()},
        programmes or {},
    )
    written = [
        write_parquet(folder / "trajectories.parquet", run.trajectories),
        write_parquet(folder / "awards.parquet", run.awards),
        write_parquet(folder / "payments.parquet", run.payments),
        write_parquet(folder / "firms.parquet", run.firms),
        write_json(folder / "summary.json", run.summary()),
        write_atomic(folder / SERVITIZATION_FIGURE, lambda p: p.write_bytes(figure)),
    ]
    manifest = write_manifest(
        folder,
        kind="simulation",
        scenario=scenario_record(run.scenario, base),
        scenario_hash=scenario_hash(run.scenario),
        seed=run.seed,
        replications=len(run.outcomes),
        seconds_per_replication=[round(s, 3) for s in run.seconds],
        command=command,
    )
    return [*written, manifest]


def simulate_into(
    folder: Path,
    scenario: Scenario,
    base: Path,
    seed: int | None = None,
    replications: int | None = None,
    progress: Progress | None = None,
    command: str | None = None,
) -> SimulationRun:
    """Simulate and write into ``folder`` (``<run>/simulation`` of ``liangye run``), with
    the simulation's own manifest."""
    run = simulate_scenario(scenario, base, seed, replications, progress)
    save_simulation(run, folder, command, report_names_for(scenario, base).programmes, base)
    return run


def run_simulation(
    scenario: Scenario,
    base: Path,
    seed: int | None = None,
    replications: int | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    command: str | None = None,
) -> tuple[SimulationRun, Path]:
    """Simulate a scenario into a run folder (``out``, or a new one under results/runs/)
    with a manifest; return the run and the folder."""
    folder = out or new_run_dir(None, f"{scenario.id}-sim", scenario_hash(scenario))
    return simulate_into(folder, scenario, base, seed, replications, progress, command), folder


def headline(run: SimulationRun) -> list[tuple[str, str]]:
    """The few numbers a user reads first, as (label, value) rows: means over replications."""
    summary = summarise(run.outcomes)

    def mean(key: str, form: str = "{:.3f}") -> str:
        value = summary.get(key)
        if not value or value["mean"] is None:
            return "–"
        number = value["mean"]
        if form == "{:.1f}" and float(number).is_integer():
            # A count averaged over replications: whole when it is (3,318, not 3318.0).
            return f"{number:,.0f}"
        return form.format(number)

    # In the report's words (results/report_labels.py), shortened to fit an 80-column terminal.
    rows = [
        ("重复模拟次数", str(len(run.outcomes))),
        (
            "制造企业平均服务收入占比：期初→有/无奖励",
            f"{mean('servitization.mean_service_share_start', '{:.1%}')} → "
            f"{mean('servitization.mean_service_share_award', '{:.1%}')} / "
            f"{mean('servitization.mean_service_share_twin', '{:.1%}')}",
        ),
    ]
    for x in run.params.thresholds:
        label = threshold_label(x)
        rows.append(
            (
                f"服务收入占比≥{x:.0%}的制造企业比例：期初→有/无奖励",
                f"{mean(f'servitization.{label}_start', '{:.1%}')} → "
                f"{mean(f'servitization.{label}_award', '{:.1%}')}"
                f" / {mean(f'servitization.{label}_twin', '{:.1%}')}",
            )
        )
    rows += [
        (
            "模拟中获认定事项数（认定与推荐决定数）",
            f"{mean('designations.conferred', '{:.1f}')} ({mean('designations.decided', '{:.1f}')})",
        ),
        ("实际支付（万元）", mean("spend.paid", "{:,.0f}")),
        # An overrun's chance over the replications (the headline the README promises; it
        # was only in summary.json and the report).
        ("任一年超支的重复比例", mean("overrun.occurred.any_year", "{:.0%}")),
    ]
    # How the yearly rounds ended, over all replications: a round with no plan meeting every
    # rule decides without the minimum quotas, or pays only what is owed (it was a warning
    # each round of each replication repeated); one whose problem cannot be built (its
    # reason is warned of once) is not held.
    ended = {
        kind: sum(int((o.get("rounds") or {}).get(kind, 0)) for o in run.outcomes)
        for kind in ("planned", "without_minimums", "obligations_only", "not_held")
    }
    if ended["without_minimums"] or ended["obligations_only"] or ended["not_held"]:
        rows.append(
            (
                "年度评审（各次重复合计）：按全部规则 / 不设最低名额 / 只兑现应付 / 未举行",
                " / ".join(str(ended[kind]) for kind in ended),
            )
        )
    left_out = [e for e in run.not_simulated if e["kind"] == "quota"]
    if left_out:
        # The rounds count as planned under every rule applied; these never were.
        rows.append(
            ("未执行的配额（其项目未模拟）", f"{len(left_out)} 条（见报告或 summary.json）")
        )
    pooled = {round(p["threshold"] * 100): p for p in pooled_costs(run.outcomes)}
    for x in run.params.thresholds:
        key = f"additionality.{round(x * 100)}"
        rows.append(
            (
                f"净新增服务化企业（家），≥{x:.0%}",
                mean(f"{key}.net_additional", "{:.1f}"),
            )
        )
        rows.append(
            (
                f"无效激励企业（获奖励资金且无奖励也会达标）/ 获奖励资金企业，资金占比，≥{x:.0%}",
                f"{mean(f'{key}.deadweight_firms_paid', '{:.1f}')} / "
                f"{mean(f'{key}.awarded_firms_paid', '{:.1f}')}, "
                f"{mean(f'{key}.deadweight_paid_share', '{:.0%}')}",
            )
        )
        cost = pooled.get(round(x * 100), {})
        value = cost.get("cost_per_additional")
        note = (
            f"（{cost['without_net_additional']}/{cost['replications']} 次无净新增）"
            if cost.get("without_net_additional")
            else ""
        )
        rows.append(
            (
                f"每家净新增成本（期内支付，万元，合并），≥{x:.0%}",
                ("–" if value is None else f"{value:,.0f}") + note,
            )
        )
    return rows


def headline_table(run: SimulationRun) -> Table:
    """The headline rows as a rich table for the terminal."""
    return run.digest().table()
