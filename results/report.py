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
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

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
from .store import SIMULATION_FOLDER, read_json, run_listing

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

    @property
    def scenario(self) -> dict[str, Any]:
        scenario = self.manifest.get("scenario")
        if scenario is None and self.simulation is not None:
            scenario = read_json(self.simulation / "manifest.json").get("scenario")
        return scenario or {}


def read_run(folder: Path, simulation_tables: bool = True) -> RunFiles:
    """The files of a run folder (``liangye run``, ``allocate``, ``simulate``, ``frontier``);
    the simulation's trajectories and payments only if ``simulation_tables`` (its section
    may be made elsewhere: ``run_report``)."""
    files = RunFiles(folder, read_json(folder / "manifest.json"))
    if (folder / "allocation.json").exists():
        files.allocation = read_json(folder / "allocation.json")
    files.plan = _table(folder, "plan")
    files.reasons = _table(folder, "reasons")
    if (folder / "frontier.parquet").exists():
        files.frontier = pd.read_parquet(folder / "frontier.parquet")
    for place in (folder / SIMULATION_FOLDER, folder):
        if (place / "summary.json").exists():
            files.simulation = place
            files.summary = read_json(place / "summary.json")
            if simulation_tables and (place / "trajectories.parquet").exists():
                files.trajectories = pd.read_parquet(place / "trajectories.parquet")
            if simulation_tables and (place / "payments.parquet").exists():
                files.payments = pd.read_parquet(place / "payments.parquet")
            break
    return files


def _table(folder: Path, stem: str) -> pd.DataFrame | None:
    if (folder / f"{stem}.parquet").exists():
        return pd.read_parquet(folder / f"{stem}.parquet")
    if (folder / f"{stem}.csv").exists():
        return pd.read_csv(folder / f"{stem}.csv", encoding="utf-8")
    return None


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
    scenario = files.scenario
    title = scenario.get("title") or scenario.get("id") or folder.name
    report = Report(
        title=f"{title}：分配方案与模拟报告",
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
        ("是否完成", "是" if m.get("complete") else "否（运行未完成或被中断）"),
        ("情景指纹", str(m.get("scenario_hash") or "")),
        ("随机种子", str(m.get("seed") if m.get("seed") is not None else "")),
        ("文件", "、".join(m.get("files") or [])),
    ]
    rows += [(f"版本：{k}", str(v)) for k, v in (m.get("versions") or {}).items()]
    return Section("运行信息", tables=[pairs_table(rows)])
