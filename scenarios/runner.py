"""Running a scenario: load its inputs, allocate, and store the results."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from liangye.model.allocation import AllocationResult, allocate
from liangye.model.applications_table import load_tables
from liangye.model.budget_risk import row_zh
from liangye.model.errors import InputError, Problem
from liangye.model.options import AllocationProblem, build_problem
from liangye.model.policy import Policy
from liangye.model.settings import AllocationSettings
from liangye.model.synthetic import synthetic_applications, synthetic_candidates
from liangye.model.table_readings import readings_of
from liangye.model.wording import OBJECTIVE_ZH, bound_zh
from liangye.results.export import write_plan_csv, write_plan_xlsx
from liangye.results.store import write_json, write_manifest, write_parquet

from .loader import scenario_hash, scenario_policy
from .schema import Scenario

if TYPE_CHECKING:  # the report is imported only when one is written
    from liangye.results.report import ReportNames
    from liangye.results.report_html import Section

log = logging.getLogger(__name__)


def scenario_candidates(
    scenario: Scenario, base: Path, policy: Policy, settings: AllocationSettings
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The scenario's candidate table and applications (None when scores sit on candidates).

    A synthetic pool with ``applications = true`` applies to every tier of ``policy`` its
    candidates are eligible for, entitlements dated over the scenario's years."""
    source = scenario.candidates
    if source.synthetic is not None:
        pool = source.synthetic
        candidates = synthetic_candidates(
            pool.enterprises,
            pool.parks,
            seed=pool.seed,
            held_share=pool.held_share,
            extended=pool.extended,
        )
        if not pool.applications:
            return candidates, None
        years = scenario_years(scenario, policy)
        return candidates, synthetic_applications(
            candidates, policy, settings, years, seed=pool.seed
        )
    return load_tables(
        str(base / source.file),
        str(base / source.applications) if source.applications else None,
        policy,
        scenario_years(scenario, policy),
    )


def readings(*tables: pd.DataFrame | None) -> list[str]:
    """Which defensible reading each table was given (the sheet read and those not, a
    title row skipped, revenues that look like 元, …), as sentences naming the file: the
    English, then its Chinese on the next line (as problems are shown)."""
    return [
        f"{en}\n    → {zh}" if zh else en
        for table in tables
        if table is not None
        for en, zh in readings_of(table)
    ]


def report_readings(*tables: pd.DataFrame | None) -> None:
    """Say the tables' readings as warnings a user sees by default."""
    for sentence in readings(*tables):
        log.warning("%s", sentence)


def scenario_years(scenario: Scenario, policy: Policy) -> list[int]:
    """The years a scenario plans: its own range, else the policy's years in force."""
    if scenario.years:
        return list(range(scenario.years[0], scenario.years[1] + 1))
    return policy.year_range


def in_scenario(problem: Problem, scenario: Scenario) -> Problem:
    """A problem ``build_problem`` names by what it checks ("budget 2027", "settings
    years") named instead by the key the user wrote and where: the scenario file
    (``default.toml budget.per_year.2027``) or ``--set``; others as they are."""
    if problem.source == "budget":
        where = f"budget.per_year.{problem.where}" if problem.where.isdigit() else "budget"
    elif problem.source == "settings":
        where = problem.where if problem.where == "years" else f"allocation.{problem.where}"
    else:
        return problem
    return dataclasses.replace(problem, source=scenario.source_of(where), where=where)


def scenario_problem_and_readings(
    scenario: Scenario, base: Path
) -> tuple[AllocationProblem, list[str]]:
    """The allocation problem a scenario describes (paths resolved against ``base``) and
    the readings its tables were given: what ``allocate SCENARIO`` and ``validate`` build."""
    policy, settings = scenario_policy(scenario, base)
    candidates, applications = scenario_candidates(scenario, base, policy, settings)
    years = scenario_years(scenario, policy)
    try:
        problem = build_problem(policy, candidates, scenario.budget, settings, years, applications)
    except InputError as error:
        raise InputError([in_scenario(p, scenario) for p in error.problems]) from None
    log.info("%s: %d candidates, %d options", scenario.id, len(candidates), problem.size)
    return problem, readings(candidates, applications)


def scenario_problem(scenario: Scenario, base: Path) -> AllocationProblem:
    """The allocation problem a scenario describes, its tables' readings said as warnings."""
    problem, said = scenario_problem_and_readings(scenario, base)
    for sentence in said:
        log.warning("%s", sentence)
    return problem


def run_allocation(
    scenario: Scenario,
    base: Path,
    confirm: int = 0,
    on_confirm: Callable[[int, int, str], None] | None = None,
) -> AllocationResult:
    """Allocate for ``scenario`` (paths resolved against ``base``); what it would have taken
    confirmed by re-solving for ``confirm`` cases each side (``allocate``'s confirm_cases,
    ``on_confirm`` told as each figure is begun)."""
    return allocate(scenario_problem(scenario, base), confirm_cases=confirm, on_confirm=on_confirm)


def money_by_year(result: AllocationResult) -> pd.DataFrame | None:
    """Each year's budget, expected and 95th-percentile spend and chance of overrun, then
    the years after the horizon with what falls due in them (expected)."""
    risk = result.risk
    if risk is None:
        return None
    budget = result.problem.budget.per_year
    rows = [
        {
            "year": t,
            "budget": float(budget[t]) if t in budget else None,
            "expected": float(risk.expected.get(t, 0)),
            "p95": float(risk.p95[t]),
            "overrun": risk.overrun.get(str(t)),
            "after_horizon": False,
        }
        for t in result.problem.years
    ]
    rows += [
        {
            "year": t,
            "budget": None,
            "expected": float(v),
            "p95": None,
            "overrun": None,
            "after_horizon": True,
        }
        for t, v in risk.commitments.items()
    ]
    return pd.DataFrame(rows)


def _risk_headline(result: AllocationResult) -> dict[str, object]:
    """The plan's money as a law, in the workbook's words: overrun chances, the 95th
    percentile of each year's spend, and commitments after the horizon."""
    risk = result.risk
    if risk is None:
        return {}
    alpha = result.problem.settings.overrun_risk
    # Chances as numbers (shown as percents by the workbook), so that a bureau can compute.
    rows: dict[str, object] = {"超支概率上限": "未设" if alpha is None else alpha}
    for label, chance in risk.overrun.items():
        name = "任一年" if label == "any_year" else row_zh(label)
        rows[f"{name}超支概率"] = float(chance)
    rows.update({f"{t}年支出95%分位（万元）": float(v) for t, v in risk.p95.items()})
    rows.update(
        {f"{t}年承诺支出（期后，预计，万元）": float(v) for t, v in risk.commitments.items()}
    )
    return rows


WORKBOOK = "plan.xlsx"


def scenario_record(scenario: Scenario, base: Path | None) -> dict[str, Any]:
    """The scenario as a run's manifest records it: the files it names (policy, candidates,
    applications, a firm population) by absolute path where they are files beside it, so
    that a report made later from another folder finds them (it read "foshan.toml" against
    its own folder and showed programme ids for names, review 23); a bundled policy by its
    id, as written."""
    data = scenario.model_dump(mode="json")
    if base is None:
        return data

    def absolute(value: object) -> object:
        if not isinstance(value, str) or not value:
            return value
        path = Path(value)
        path = path if path.is_absolute() else base / path
        return str(path.resolve()) if path.is_file() else value

    data["policy"] = absolute(data.get("policy"))
    candidates = data.get("candidates") or {}
    for key in ("file", "applications"):
        if key in candidates:
            candidates[key] = absolute(candidates[key])
    population = (data.get("simulation") or {}).get("population") or {}
    if "file" in population:
        population["file"] = absolute(population["file"])
    return data


def save_allocation(
    result: AllocationResult,
    folder: Path,
    outputs: list[str],
    scenario: Scenario | None = None,
    command: str | None = None,
    workbook: bool = True,
    base: Path | None = None,
) -> list[Path]:
    """Write the plan, the reasons and the summary into ``folder``; return the files written.
    ``workbook``: the Excel workbook too, when the outputs ask for it (``liangye run``
    writes it apart, with ``save_workbook``, while its report is being written); ``base``:
    the scenario file's folder (``scenario_record``)."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = result.selected
    summary = result.to_dict()
    written = [write_json(folder / "allocation.json", summary)]
    if "csv" in outputs:
        written.append(write_plan_csv(plan, folder / "plan.csv"))
        written.append(write_plan_csv(result.reasons, folder / "reasons.csv"))
    if "xlsx" in outputs and workbook:
        written.append(save_workbook(result, folder))
    if "parquet" in outputs:
        numeric = plan.assign(
            **{c: plan[c].astype(float) for c in ("amount", "cost", "expected_cost")}
        )
        written.append(write_parquet(folder / "plan.parquet", numeric))
        written.append(write_parquet(folder / "reasons.parquet", result.reasons))
    write_manifest(
        folder,
        kind="allocation",
        scenario=scenario_record(scenario, base) if scenario else None,
        scenario_hash=scenario_hash(scenario) if scenario else None,
        seed=result.problem.settings.seed,
        command=command,
        status=result.status,
        # The years allocated, which a scenario's [first, last] cannot say when they skip
        # one (--years 2024,2026): the report reads them from here.
        years=[int(t) for t in result.problem.years],
    )
    return written


def save_workbook(result: AllocationResult, folder: Path) -> Path:
    """Write the plan's Excel workbook (``WORKBOOK``: plan, reasons, the headline figures,
    money by year and the result's own tables) into ``folder``."""
    plan = result.selected
    kind = result.problem.settings.objective
    headline = {
        "政策": result.problem.policy.title,
        "状态": result.status,
        # As the terminal shows them: the bound to the cent, the gap as a percent.
        f"目标值（{OBJECTIVE_ZH.get(kind, kind)}）": result.objective,
        bound_zh(kind): None if result.bound is None else round(result.bound, 2),
        "相对间隙": result.gap,  # a number, shown as a percent (spreadsheet.write_pairs)
        "入选数": len(plan),
        **{f"{t}年预计支出（万元）": float(v) for t, v in result.spend.items()},
        **{f"{t}年预算（万元）": float(v) for t, v in result.problem.budget.per_year.items()},
        **_risk_headline(result),
        "按分排序法目标值": result.greedy.objective,
        "按分排序法入选数": result.greedy.count,
        # Beside a higher objective (even above the bound) the rules it breaks must be read
        # too: the summary showed the objective alone (review 15).
        "按分排序法违反规则数": len(result.greedy.violations),
        "按分排序法违反的规则": "；".join(
            getattr(v, "zh", str(v)) for v in result.greedy.violations
        )
        or "无",
    }
    return write_plan_xlsx(
        plan,
        result.reasons,
        headline,
        folder / WORKBOOK,
        money_by_year(result),
        result.workbook_tables(),
    )


def write_report(
    folder: Path,
    scenario: Scenario,
    base: Path,
    simulation: Section | None = None,
    pending: Collection[str] = (),
) -> Path:
    """Write ``report.html`` of the run in ``folder`` (the allocation and, when written, its
    simulation), with the scenario's programme and tier-design names in Chinese, as the
    run's last output: call it once every output it reads is written and before the run is
    marked finished, so that the manifest lists it (the page describes the run as
    complete). ``simulation``: the simulation's report section, if already made
    (``simulation_report_section``); ``pending``: files of the run still being written
    meanwhile (not read by the report: the workbook), named among its files."""
    from liangye.results.report import write_run_report

    names = report_names_for(scenario, base)
    return write_run_report(folder, names, simulation=simulation, finishing=True, pending=pending)


def simulation_report_section(
    folder: Path, scenario: Scenario, base: Path, figure: bytes | None = None
) -> Section:
    """The report's simulation section of the simulation written in ``folder``, made from
    its files as ``write_report`` would make it (``liangye run``'s simulation process makes
    it while the allocation is still being written); ``figure``: the servitization figure
    already drawn (the folder's servitization.png), else drawn again."""
    from liangye.results.report import read_run, simulation_section

    return simulation_section(read_run(folder), report_names_for(scenario, base), figure)


def report_names_for(scenario: Scenario, base: Path) -> ReportNames:
    """The scenario's programme and tier-design names in Chinese, for its report."""
    from .report_commands import report_names

    return report_names(scenario.model_dump(mode="json"), base)
