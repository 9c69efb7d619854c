"""The report of a run folder: one self-contained Chinese HTML page a bureau can forward.

It reads only what the run wrote (manifest, allocation.json, the plan and reasons, the
frontier, the simulation's summary and tables), so ``liangye report DIR`` gives the same
page as ``liangye run`` wrote. Names the files do not hold (programme and tier-design names
from the policy and tiers files) come in ``ReportNames``. This module reads the run folder
and puts the page together; its sections are made in ``report_scenario`` (the scenario in
words), ``report_plan`` (the plan, the money, the reasons, the frontier) and
``report_simulation`` (the simulation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from liangye.model.errors import InputError, Problem, raise_if_any

from .report_html import (
    Report,
    Section,
    money,
    number,
    pairs_table,
    render,
    share,
    unique_anchors,
    write_html,
)
from .report_labels import STATUS
from .report_plan import frontier_section, money_section, plan_section, reasons_section
from .report_scenario import scenario_section
from .report_simulation import (
    SERVITIZATION_FIGURE,
    _thresholds,
    servitization_png,
    simulation_section,
)
from .store import SIMULATION_FOLDER, read_json, run_finished, run_listing

# The names other modules import from here, those made elsewhere among them (the scenarios'
# runner and simulation import them from this module).
__all__ = [
    "REPORT_FILE",
    "SERVITIZATION_FIGURE",
    "ReportNames",
    "RunFiles",
    "is_run_folder",
    "read_run",
    "run_report",
    "run_section",
    "servitization_png",
    "simulation_section",
    "write_run_report",
]

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
INCOMPLETE_ZH = "未完成或被中断：本报告只含已写出的部分，请重新运行后再使用"


@dataclass
class ReportNames:
    """Chinese names the run's files do not hold: programme id -> name (the policy file),
    tier design id -> title (tiers.toml), and the policy's title."""

    programmes: dict[str, str] = field(default_factory=dict)
    designs: dict[str, str] = field(default_factory=dict)
    policy_title: str | None = None

    def programme(self, programme: str) -> str:
        return self.programmes.get(programme, programme)

    def design(self, design: str | None) -> str:
        if design is None:
            return "政策文件原定档次"
        return self.designs.get(design, design)


@dataclass
class RunFiles:
    """What a run folder holds, read once: None (or empty) for what it does not."""

    folder: Path
    manifest: dict[str, Any]
    allocation: dict[str, Any] | None = None
    plan: pd.DataFrame | None = None
    reasons: pd.DataFrame | None = None
    frontier: pd.DataFrame | None = None
    simulation: Path | None = None  # the folder holding summary.json
    summary: dict[str, Any] | None = None
    trajectories: pd.DataFrame | None = None
    payments: pd.DataFrame | None = None
    complete: bool = False  # the run finished (``store.run_finished``)

    @property
    def scenario(self) -> dict[str, Any]:
        scenario = self.manifest.get("scenario")
        if scenario is None and self.simulation is not None:
            scenario = read_json(self.simulation / "manifest.json").get("scenario")
        return scenario or {}


# Columns the report reads from each table a run writes: a file without them is damaged.
TABLE_COLUMNS = {
    "plan": ("candidate_id", "programme", "level", "year", "decision"),
    "reasons": ("candidate_id", "outcome"),
    "frontier": ("status",),
}


def read_run(folder: Path, simulation_tables: bool = True) -> RunFiles:
    """The files of a run folder (``liangye run``, ``allocate``, ``simulate``, ``frontier``);
    the simulation's trajectories and payments only if ``simulation_tables`` (its section
    may be made elsewhere: ``run_report``).

    Raises InputError naming every file that cannot be read, lacks the columns the report
    reads, or is listed in a finished run's manifest but gone: a report with a section
    silently missing would be read as the whole run."""
    problems: list[Problem] = []
    files = RunFiles(folder, read_json(folder / "manifest.json"))
    files.complete = run_finished(folder, files.manifest)
    listed = set(files.manifest.get("files") or []) if files.manifest.get("complete") else set()
    for name in sorted(listed):
        if not (folder / name).exists():
            problems.append(
                Problem(
                    str(folder / name),
                    "",
                    "is listed in manifest.json but missing: the folder was changed after the "
                    "run; run it again (or restore the file)",
                    "运行清单 manifest.json 列出了此文件，但文件夹中没有：运行结束后文件夹被改动过；"
                    "请重新运行（或找回该文件）",
                )
            )
    files.allocation = _read(folder / "allocation.json", read_json, problems)
    files.plan = _table(folder, "plan", problems)
    files.reasons = _table(folder, "reasons", problems)
    files.frontier = _table(folder, "frontier", problems)
    for place in (folder / SIMULATION_FOLDER, folder):
        if (place / "summary.json").exists():
            files.simulation = place
            files.summary = _read(place / "summary.json", read_json, problems)
            if simulation_tables:
                files.trajectories = _read(
                    place / "trajectories.parquet", pd.read_parquet, problems
                )
                files.payments = _read(place / "payments.parquet", pd.read_parquet, problems)
            break
    else:
        if SIMULATION_FOLDER in listed and (folder / SIMULATION_FOLDER).is_dir():
            problems.append(_missing_summary(folder / SIMULATION_FOLDER / "summary.json"))
    raise_if_any(problems)
    return files


def _missing_summary(path: Path) -> Problem:
    return Problem(
        str(path),
        "",
        "is missing: the simulation's folder has no summary; run it again",
        "模拟文件夹中缺少结果摘要 summary.json：请重新运行",
    )


def _read(path: Path, read: Callable[[Path], Any], problems: list[Problem]) -> Any:
    """``read(path)``; None when the file is not there or (a problem said) cannot be read."""
    if not path.exists():
        return None
    try:
        return read(path)
    except InputError as error:
        problems += error.problems
    except (OSError, ValueError, pa.ArrowException) as error:
        problems.append(
            Problem(
                str(path),
                "",
                f"cannot be read ({type(error).__name__}: {error}): the file is damaged; run again",
                "文件已损坏，无法读取：请重新运行",
            )
        )
    return None


def _table(folder: Path, stem: str, problems: list[Problem]) -> pd.DataFrame | None:
    """The run's ``stem`` table (Parquet, else CSV), None when it has none; a problem when it
    cannot be read or lacks a column the report reads."""
    parquet, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    path = parquet if parquet.exists() else csv
    frame = _read(path, pd.read_parquet if path == parquet else _csv, problems)
    if frame is None:
        return None
    missing = [c for c in TABLE_COLUMNS[stem] if c not in frame.columns]
    if missing:
        problems.append(
            Problem(
                str(path),
                "header",
                f"lacks the column(s) {', '.join(missing)} a run writes: the file is damaged or "
                "not this run's; run again",
                f"缺少运行写出的列（{'、'.join(missing)}）：文件已损坏或不属于本次运行；请重新运行",
            )
        )
        return None
    return frame


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8")


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a run liangye wrote (its manifest names a run's kind)."""
    return read_json(folder / "manifest.json").get("kind") in {
        "allocation",
        "simulation",
        "frontier",
    }


# --- the page ---------------------------------------------------------------------------


def run_report(
    folder: Path,
    names: ReportNames | None = None,
    simulation: Section | None = None,
    finishing: bool = False,
    pending: Collection[str] = (),
) -> Report:
    """The report of the run in ``folder``: the scenario in words, the plan, spend against
    the budget and its risk, who was not selected and why, the simulation's outcomes and
    the figures; sections for what the folder does not hold are left out. ``simulation``
    is the simulation's section if it was already made from the same files
    (``simulation_section``; ``liangye run`` has its simulation's process make it).
    ``finishing``: the report is the run's last output, written just before the run is
    marked complete (``store.finish_run``); the run is described as that will mark it
    (complete, its files those of the folder with the report and the ``pending`` files,
    still being written meanwhile, among them), not as unfinished."""
    names = names or ReportNames()
    files = read_run(folder, simulation_tables=simulation is None)
    if finishing:
        listed = {*run_listing(folder), REPORT_FILE, *pending}
        files.manifest = {**files.manifest, "complete": True, "files": sorted(listed)}
        files.complete = True  # as finish_run will mark it, once the report is written
    scenario = files.scenario
    title = scenario.get("title") or scenario.get("id") or folder.name
    # Named by what the folder holds: a simulate-only folder has no allocation.
    holds = [
        part
        for part, present in (
            ("分配方案", files.allocation is not None),
            ("模拟", files.summary is not None),
            ("预算前沿", files.manifest.get("kind") == "frontier"),
        )
        if present
    ]
    report = Report(
        title=f"{title}：{'与'.join(holds) or '运行'}报告",
        subtitle=f"情景 {scenario.get('id', '?')}，运行文件夹 {folder.name}",
        facts=_facts(files, names),
    )
    report.sections.append(scenario_section(files, names))
    if files.allocation is not None:
        report.sections += [
            plan_section(files, names),
            money_section(files, names),
            reasons_section(files),
        ]
    if files.frontier is not None:
        report.sections.append(frontier_section(files))
    if files.summary is not None:
        report.sections.append(simulation or simulation_section(files, names))
    report.sections.append(run_section(files))
    unique_anchors(report.sections)
    return report


def write_run_report(
    folder: Path,
    names: ReportNames | None = None,
    out: Path | None = None,
    simulation: Section | None = None,
    finishing: bool = False,
    pending: Collection[str] = (),
) -> Path:
    """Write the report of the run in ``folder`` to ``out`` (default ``folder/report.html``),
    with the simulation's section if already made and as the run's last output if
    ``finishing``, ``pending`` files still being written (``run_report``)."""
    page = render(run_report(folder, names, simulation, finishing, pending))
    return write_html(out or folder / REPORT_FILE, page)


def _facts(files: RunFiles, names: ReportNames) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    if not files.complete:
        facts.append(("运行状态", INCOMPLETE_ZH))
    allocation = files.allocation
    if allocation is not None:
        spend = sum(allocation.get("spend", {}).values())
        budget = sum((allocation.get("budget") or {}).values())
        facts += [
            ("方案状态", STATUS.get(allocation.get("status", ""), allocation.get("status", ""))),
            ("入选（认定与推荐）", f"{len(allocation.get('selected', []))} 项"),
            (
                "期内预计支出",
                f"{money(spend)} 万元" + (f" / 预算 {money(budget)}" if budget else ""),
            ),
        ]
        overrun = (allocation.get("overrun_probability") or {}).get("any_year")
        if overrun is not None:
            facts.append(("任一年超支概率", share(overrun, 1)))
    summary = (files.summary or {}).get("summary", {})
    if summary:
        paid = summary.get("spend.paid", {}).get("mean")
        facts.append(("模拟实际支付（均值）", f"{money(paid)} 万元"))
        thresholds = _thresholds(files)
        if thresholds:
            t = thresholds[0]
            net = summary.get(f"additionality.{t}.net_additional", {}).get("mean")
            facts.append((f"净新增服务化企业（≥{t}%）", number(net, 1)))
    return facts


def run_section(files: RunFiles) -> Section:
    """How the run was made: command, versions, files, whether it finished."""
    m = files.manifest
    rows = [
        ("命令", str(m.get("command") or "")),
        ("开始时间（UTC）", str(m.get("created") or "")),
        ("是否完成", "是" if files.complete else "否（运行未完成或被中断）"),
        ("情景指纹", str(m.get("scenario_hash") or "")),
        # The manifest's seed is the solver's (allocation.seed); the simulation's is its own.
        ("求解器随机种子", str(m.get("seed") if m.get("seed") is not None else "")),
    ]
    if files.summary and files.summary.get("seed") is not None:
        rows.append(("模拟随机种子", str(files.summary["seed"])))
    rows.append(("文件", "、".join(m.get("files") or [])))
    rows += [(f"版本：{k}", str(v)) for k, v in (m.get("versions") or {}).items()]
    return Section("运行信息", tables=[pairs_table(rows)])
