"""The report of a run folder: one self-contained Chinese HTML page a bureau can forward.

It reads only what the run wrote (manifest, allocation.json, the plan and reasons, the
frontier, the simulation's summary and tables), so ``liangye report DIR`` gives the same
page as ``liangye run`` wrote. Names the files do not hold (programme and tier-design names
from the policy and tiers files) come in ``ReportNames``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plots
from .export import REASON_HEADERS_ZH, UNREACHABLE_ZH
from .report_designs import metric_rows, replication_metrics
from .report_html import (
    Figure,
    Report,
    Section,
    Table,
    frame_table,
    money,
    number,
    pairs_table,
    render,
    share,
    unique_anchors,
    write_html,
)
from .report_labels import DECISION, OBJECTIVE, OUTCOME, STATUS, is_share, outcome_label
from .store import SIMULATION_FOLDER, read_json, run_listing

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
SERVITIZATION_TITLE = "服务化进程：有奖励与无奖励对照"
SERVITIZATION_FIGURE = "servitization.png"  # in a simulation's folder
# Columns of reasons.csv the report shows under its own headers; any other column (the
# explanations may gain some) is shown as well, under its own name.
# Long tables are cut here in the page (the workbook and CSV files hold every row).
DETAIL_ROWS = 100
REASON_COLUMNS = {"candidate_id": "编号", "name": "名称", "outcome": "结果"}


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


# --- sections ---------------------------------------------------------------------------


def scenario_section(files: RunFiles, names: ReportNames) -> Section:
    """The scenario in words: policy, years, budget, candidates, objective, chances, bound,
    tier design, simulation settings."""
    s = files.scenario
    lines: list[str] = []
    policy = s.get("policy", "?")
    title = names.policy_title
    lines.append(f"政策：{title}（{policy}）。" if title else f"政策：{policy}。")
    years = s.get("years")
    if years:
        lines.append(f"规划年份：{years[0]}–{years[1]} 年。")
    lines.append(_budget_words(s.get("budget") or {}))
    lines.append(_candidate_words(s.get("candidates") or {}))
    allocation = s.get("allocation") or {}
    objective = allocation.get("objective", "merit")
    words = f"分配目标：{OBJECTIVE.get(objective, objective)}"
    weights = allocation.get("level_weights") or {}
    if objective == "merit" and weights:
        words += "，级别权重 " + "、".join(
            f"{plots.level_name(k)} {number(v, 2)}" for k, v in weights.items()
        )
    lines.append(words + "。")
    chances = allocation.get("success_probability") or {}
    if chances:
        lines.append(
            "上级认定概率（情景假设，文件未规定）："
            + "、".join(f"{plots.level_name(k)} {share(v, 0)}" for k, v in chances.items())
            + "。向上推荐按预计金额计入预算。"
        )
    alpha = allocation.get("overrun_risk")
    lines.append(
        f"超支风险上限：每个预算行超支概率不超过 {share(alpha, 1)}。"
        if alpha is not None
        else "未设超支风险上限：预算按预计支出控制。"
    )
    lines.append(f"奖励档次：{names.design(s.get('tier_design'))}。")
    simulation = s.get("simulation") or {}
    if files.summary is not None and simulation:
        population = simulation.get("population") or {}
        firms = population.get("firms")
        lines.append(
            f"模拟：{'企业 ' + number(firms, 0) + ' 家，' if firms else ''}"
            f"{simulation.get('quarters', '?')} 个季度，重复 {files.summary.get('replications', '?')} 次，"
            f"随机种子 {files.summary.get('seed', '?')}；每次模拟均与同一随机数下的无奖励对照世界比较。"
        )
    return Section("情景说明", paragraphs=lines)


def _budget_words(budget: Mapping[str, Any]) -> str:
    per_year = budget.get("per_year") or {}
    total = budget.get("total")
    if not per_year and total is None:
        return "预算：不设预算约束。"
    values = {str(k): float(v) for k, v in per_year.items()}
    if values and len(set(values.values())) == 1:
        words = f"预算：每年 {money(next(iter(values.values())))} 万元"
    elif values:
        words = "预算：" + "，".join(f"{y} 年 {money(v)} 万元" for y, v in values.items())
    else:
        words = "预算：不分年"
    if total is not None:
        words += f"，期间合计不超过 {money(float(total))} 万元"
    words += "，结余可结转" if budget.get("carry_over") else "，结余不结转"
    return words + "。"


def _candidate_words(candidates: Mapping[str, Any]) -> str:
    synthetic = candidates.get("synthetic")
    if synthetic:
        words = (
            f"候选：合成候选池，企业 {synthetic.get('enterprises', '?')} 家、"
            f"园区 {synthetic.get('parks', '?')} 个（随机种子 {synthetic.get('seed', '?')}）"
        )
        if synthetic.get("applications"):
            words += "，按政策资格申报其符合条件的各项目"
        return words + "。"
    words = f"候选：{candidates.get('file', '?')}"
    if candidates.get("applications"):
        words += f"，申报表 {candidates['applications']}"
    return words + "。"


def plan_section(files: RunFiles, names: ReportNames) -> Section:
    """The plan: its status and quality, designations by programme, level and year, the
    rank-by-score plan beside it."""
    a = files.allocation or {}
    status = a.get("status", "")
    lines = [f"求解状态：{STATUS.get(status, status)}。"]
    if a.get("objective") is not None:
        words = f"目标值 {number(a['objective'], 1)}"
        if a.get("bound") is not None:
            words += f"，上界 {number(a['bound'], 1)}"
        if a.get("gap") is not None:
            words += f"，相对间隙 {share(a['gap'], 2)}"
        lines.append(words + "。")
    for sentence in a.get("diagnosis") or []:
        lines.append(f"诊断：{sentence}")
    greedy = a.get("greedy") or {}
    tables: list[Table] = []
    selected = pd.DataFrame(a.get("selected") or [])
    if len(selected):
        selected["项目"] = [names.programme(p) for p in selected["programme"]]
        selected["级别"] = [plots.level_name(v) for v in selected["level"]]
        selected["方式"] = [DECISION.get(d, d) for d in selected["decision"]]
        # Years side by side: one row per programme, level and decision.
        grouped = selected.pivot_table(
            index=["项目", "级别", "方式"],
            columns="year",
            values="expected_amount",
            aggfunc=["size", "sum"],
            fill_value=0,
        )
        years = sorted({int(y) for y in selected["year"]})
        counts = grouped["size"].reindex(columns=years, fill_value=0).to_numpy().tolist()
        sums = grouped["sum"].reindex(columns=years, fill_value=0).to_numpy().tolist()
        rows = [
            [*key, *(number(n, 0) for n in count), *(money(v) for v in total)]
            for key, count, total in zip(grouped.index, counts, sums, strict=True)
        ]
        headers = [
            "项目",
            "级别",
            "方式",
            *(f"{y}年项数" for y in years),
            *(f"{y}年预计金额（万元）" for y in years),
        ]
        tables.append(
            Table(
                headers,
                rows,
                "入选项目按项目、级别与年份汇总",
                [False] * 3 + [True] * (2 * len(years)),
                note=_later_payments_note(selected),
            )
        )
    if greedy:
        spend = sum((greedy.get("spend") or {}).values())
        rows = [
            [
                "最优方案",
                number(a.get("objective"), 1),
                str(len(selected)),
                money(sum((a.get("spend") or {}).values())),
            ],
            [
                "按分排序法",
                number(greedy.get("objective"), 1),
                str(greedy.get("count", "")),
                money(spend),
            ],
        ]
        tables.append(
            Table(
                ["方案", "目标值", "入选项数", "期内预计支出（万元）"],
                rows,
                "最优方案与按分排序法（逐项按评分排序直至资金用尽）对比",
                [False, True, True, True],
                note=(
                    f"按分排序法的方案有 {len(greedy['violations'])} 处不符合规则、配额或超支风险上限。"
                    if greedy.get("violations")
                    else None
                ),
            )
        )
    if files.plan is not None and len(files.plan):
        plan = files.plan.assign(
            programme=[names.programme(p) for p in files.plan["programme"]],
            level=[plots.level_name(v) for v in files.plan["level"]],
            decision=[DECISION.get(d, d) for d in files.plan["decision"]],
        )
        tables.append(
            frame_table(
                plan,
                {
                    "candidate_id": "编号",
                    "name": "名称",
                    "district": "县区",
                    "programme": "项目",
                    "level": "级别",
                    "year": "年份",
                    "decision": "方式",
                    "cost": "金额（万元）",
                    "probability": "获批概率",
                    "score": "评分",
                },
                {
                    "year": str,
                    "cost": lambda v: money(v, 1),
                    "probability": lambda v: share(v, 0),
                    "score": lambda v: number(v, 1),
                },
                caption="方案明细（全部明细见运行文件夹中的 plan 文件）",
                most=DETAIL_ROWS,
            )
        )
    return Section("分配方案", paragraphs=lines, tables=tables)


def _later_payments_note(selected: pd.DataFrame) -> str | None:
    """A note under the plan's table when some designation pays in later years too (e.g. a
    rebate over three years): the table sums each designation's award in the year it is
    made, so its yearly amounts then differ from the spend by year (expected amounts, as the
    table's). None when none does."""
    if "payments" not in selected:
        return None
    chances = selected["probability"] if "probability" in selected else [1.0] * len(selected)
    # Payments are what is paid if conferred; the table's amounts are expected ones.
    later = sum(
        float(amount) * float(chance)
        for year, payments, chance in zip(
            selected["year"], selected["payments"], chances, strict=True
        )
        if isinstance(payments, dict)
        for paid_in, amount in payments.items()
        if int(paid_in) != int(year)
    )
    if later <= 0:
        return None
    return (
        f"各年金额按认定（推荐）年份计；另有分年兑现的部分（如按年返还的奖励）共 {money(later, 1)} 万元"
        "在以后年份支付，按支付年份的合计见“支出、预算与超支风险”一节。"
    )


def money_section(files: RunFiles, names: ReportNames) -> Section:
    """Spend against the budget by year, its law (95th percentile, overrun chances),
    commitments after the horizon, the price of the overrun bound, and the payout figure."""
    a = files.allocation or {}
    budget = {int(k): float(v) for k, v in (a.get("budget") or {}).items()}
    spend = {int(k): float(v) for k, v in (a.get("spend") or {}).items()}
    p95 = {int(k): float(v) for k, v in (a.get("spend_p95") or {}).items()}
    overrun = a.get("overrun_probability") or {}
    rows = [
        [
            str(t),
            money(budget.get(t)),
            money(spend.get(t), 1),
            money(p95.get(t), 1),
            share(overrun.get(str(t)), 2),
        ]
        for t in sorted(set(spend) | set(budget))
    ]
    tables = [
        Table(
            ["年份", "预算（万元）", "预计支出（万元）", "95%分位支出（万元）", "超支概率"],
            rows,
            "分年支出与预算",
            [False, True, True, True, True],
        )
    ]
    lines: list[str] = []
    if overrun.get("any_year") is not None:
        lines.append(
            f"任一年超支的概率为 {share(overrun['any_year'], 1)}（按推荐获批概率精确计算）。"
        )
    if a.get("overrun_risk") is not None and a.get("price_of_safety") is not None:
        lines.append(
            f"为把超支概率控制在 {share(a['overrun_risk'], 1)} 以内，目标值比只按预计支出控制的方案"
            f"少 {number(a['price_of_safety'], 1)}（后者为上界 {number(a.get('expected_cost_objective'), 1)}）。"
        )
    commitments = a.get("commitments") or {}
    if commitments:
        lines.append(
            "期后承诺（预计）："
            + "，".join(f"{y} 年 {money(v, 1)} 万元" for y, v in commitments.items())
            + "。"
        )
    figures = []
    payments = plots.plan_payments(a.get("selected") or [])
    if len(payments):
        figure = plots.payout_figure(
            payments, budget, "方案支出：按项目、级别与年份", names.programmes, p95
        )
        figures.append(
            Figure(
                "柱为预计支出（金额×获批概率），黑线为当年预算，灰色须线从只付确定部分到推荐全部获批，"
                "红色菱形为95%分位支出；期后年份为承诺支出。",
                plots.figure_png(figure),
                "方案支出图",
            )
        )
    return Section("支出、预算与超支风险", paragraphs=lines, tables=tables, figures=figures)


def reasons_section(files: RunFiles) -> Section:
    """Who was not selected and why: counts by outcome, then each candidate's reason (the
    Chinese reason where the explanations give one) and every further column they give
    (what it would have taken)."""
    reasons = files.reasons
    if reasons is None or not len(reasons):
        return Section("未入选的候选及原因", paragraphs=["本次运行未写出候选说明。"])
    counts = reasons["outcome"].value_counts()
    lines = [
        "候选共 "
        + str(len(reasons))
        + " 个："
        + "，".join(f"{OUTCOME.get(k, k)} {v} 个" for k, v in counts.items())
        + "。"
    ]
    losers = reasons[reasons["outcome"] != "selected"].copy()
    losers["outcome"] = [OUTCOME.get(o, o) for o in losers["outcome"]]
    # What it would have taken, read as the workbook reads it: the year as 2025年, whether
    # re-solving confirmed it as 是/否; the option it was measured at is in the reason's
    # Chinese sentence already (以2025年…计), so its code is left out here.
    losers = losers.drop(columns=["threshold_at"], errors="ignore")
    if "extra_budget_year" in losers.columns:
        losers["extra_budget_year"] = [
            "" if pd.isna(v) else f"{int(v)}年" for v in losers["extra_budget_year"]
        ]
    for column in ("score_needed", "extra_budget_wan", "score_margin"):
        values = pd.to_numeric(losers[column], errors="coerce") if column in losers else None
        if values is not None and np.isinf(values).any():  # no score or money reaches it
            losers[column] = [
                UNREACHABLE_ZH if np.isinf(v) else ("" if np.isnan(v) else number(v, 2))
                for v in values
            ]
    if "threshold_confirmed" in losers.columns:
        losers["threshold_confirmed"] = [
            "是" if bool(v) else "否" for v in losers["threshold_confirmed"].fillna(False)
        ]
    headers = dict(REASON_COLUMNS)
    if "reason_zh" in losers.columns:
        headers["reason_zh"] = "原因"
    else:
        headers["detail"] = "原因"
    for column in losers.columns:
        if column not in headers and column not in ("detail", "reason_zh"):
            headers[column] = REASON_HEADERS_ZH.get(column, column)
    formats = {
        c: (lambda v: number(v, 2))
        for c in losers.columns
        if c in headers and c not in REASON_COLUMNS and pd.api.types.is_numeric_dtype(losers[c])
    }
    tables = (
        [frame_table(losers, headers, formats, caption="未入选的候选", most=DETAIL_ROWS)]
        if len(losers)
        else []
    )
    if not len(losers):
        lines.append("所有候选均已入选。")
    return Section("未入选的候选及原因", paragraphs=lines, tables=tables)


def frontier_section(files: RunFiles) -> Section:
    """The budget frontier: its figure and table."""
    frontier = files.frontier
    assert frontier is not None
    figure = plots.frontier_figure(frontier, "预算前沿：预算能买到什么")
    table = frame_table(
        frontier.assign(status=[STATUS.get(s, s) for s in frontier["status"]]),
        {
            "budget": "期间总预算（万元）",
            "status": "状态",
            "objective": "目标值",
            "designations": "入选项数",
            "greedy_objective": "按分排序法目标值",
            "greedy_designations": "按分排序法入选项数",
        },
        {
            "budget": money,
            "objective": lambda v: number(v, 1),
            "designations": lambda v: number(v, 0),
            "greedy_objective": lambda v: number(v, 1),
            "greedy_designations": lambda v: number(v, 0),
        },
    )
    return Section(
        "预算前沿",
        tables=[table],
        figures=[
            Figure(
                "左：目标值；中：入选项数；右：每增加100万元带来的目标值。实线为最优方案，虚线为按分排序法。",
                plots.figure_png(figure),
                "预算前沿图",
            )
        ],
    )


def _thresholds(files: RunFiles) -> list[int]:
    runs = (files.summary or {}).get("runs") or []
    if not runs:
        return []
    return [round(float(a["threshold"]) * 100) for a in runs[0].get("additionality") or []]


def servitization_png(
    trajectories: pd.DataFrame,
    payments: pd.DataFrame,
    thresholds: Sequence[int],
    budget: Mapping[int, float],
    programmes: Mapping[str, str],
) -> bytes:
    """The servitization figure of a simulation (``plots.servitization_figure``) as PNG
    bytes, drawn one way for the report and for the simulation's ``servitization.png``:
    one line per threshold (in %) the trajectories hold, the budget per year, programme
    names in Chinese."""
    shares = {
        f"share_above_{t}": f"≥ {t}%"
        for t in thresholds
        if f"share_above_{t}" in trajectories.columns
    }
    figure = plots.servitization_figure(
        trajectories, payments, SERVITIZATION_TITLE, shares, dict(budget), programmes
    )
    return plots.figure_png(figure)


def simulation_section(files: RunFiles, names: ReportNames, figure: bytes | None = None) -> Section:
    """The simulation's outcomes (mean and range over replications), the design metrics
    and the servitization figure (``figure``: its PNG, if already drawn from the same run
    by ``servitization_png``, as the simulation's servitization.png is)."""
    summary = files.summary or {}
    table = summary.get("summary") or {}
    n = summary.get("replications", 0)
    lines = [
        f"共 {n} 次重复模拟，随机种子 {summary.get('seed', '?')}；下表为各指标在重复间的均值与范围。"
        "“无谓资助”指无奖励时也会达到门槛的获奖企业。"
    ]
    rows = []
    for key in _headline_keys(table, _thresholds(files)):
        stats = table[key]
        form = (lambda v: share(v, 1)) if is_share(key) else (lambda v: number(v, 1))
        rows.append(
            [
                outcome_label(key),
                form(stats.get("mean")) or ("无" if stats.get("undefined") else ""),
                form(stats.get("min")),
                form(stats.get("max")),
            ]
        )
    tables = [Table(["指标", "均值", "最小", "最大"], rows, "模拟结果", [False, True, True, True])]
    # Pooled over the replications (the table above gives means): said, so that a sum of
    # three worlds is not read beside the mean of one.
    count = summary.get("replications")
    replications_said = f"{count}次模拟" if isinstance(count, int) and count > 1 else ""
    for cost in summary.get("cost_per_additional") or []:
        value = cost.get("cost_per_additional")
        lines.append(
            f"门槛 {round(float(cost['threshold']) * 100)}%：{replications_said}合计支付 "
            f"{money(cost.get('paid'))} 万元，净新增 {number(cost.get('net_additional'), 0)} 家，"
            + (
                f"每家净新增企业成本 {money(value)} 万元。"
                if value is not None
                else "没有净新增企业，每家成本无从计算。"
            )
        )
    thresholds = _thresholds(files)
    if thresholds:
        design = pd.DataFrame(
            metric_rows(
                names.design((files.scenario or {}).get("tier_design")),
                replication_metrics(summary.get("runs") or [], thresholds[0]),
            )
        )
        tables.append(_design_table(design, thresholds[0]))
    figures = []
    if files.trajectories is not None and files.payments is not None and len(files.trajectories):
        budget = {
            int(k): float(v)
            for k, v in ((files.scenario.get("budget") or {}).get("per_year") or {}).items()
        }
        png = figure or servitization_png(
            files.trajectories, files.payments, thresholds, budget, names.programmes
        )
        figures.append(
            Figure(
                "左：服务收入占比达到门槛的制造企业比例，实线有奖励、虚线无奖励，阴影为重复间范围；"
                "右：各年实际支付，黑线为预算，须线为重复间范围。",
                png,
                "服务化进程图",
            )
        )
    return Section("模拟结果", paragraphs=lines, tables=tables, figures=figures)


def _headline_keys(table: Mapping[str, Any], thresholds: list[int]) -> list[str]:
    """The outcomes a reader looks at first, in reading order, of those ``table`` holds."""
    keys = [
        "servitization.mean_service_share_start",
        "servitization.mean_service_share_award",
        "servitization.mean_service_share_twin",
    ]
    for t in thresholds:
        keys += [f"servitization.share_above_{t}_{w}" for w in ("start", "award", "twin")]
        keys += [
            f"additionality.{t}.{k}"
            for k in ("net_additional", "awarded_firms", "deadweight", "deadweight_paid_share")
        ]
    keys += [
        "designations.decided",
        "designations.nominations",
        "designations.conferred",
        "designations.revoked",
        "spend.paid",
        "spend.owed_after_horizon",
        "overrun.occurred.any_year",
    ]
    keys += sorted(k for k in table if k.startswith("overrun.by_row."))
    return [k for k in keys if k in table]


def _design_table(design: pd.DataFrame, threshold: int) -> Table:
    labels = {
        "spend": "实际支付（万元）",
        "additional": f"净新增服务化企业（≥{threshold}%，家）",
        "cost_per_additional": "每家净新增企业成本（万元，合计口径）",
        "deadweight_share": "无谓支出占比",
        "overrun_risk": "任一年超支的比例（区间为95%置信区间）",
    }
    rows = []
    for row in design.itertuples():
        form = (
            (lambda v: share(v, 1))
            if row.metric in ("deadweight_share", "overrun_risk")
            else (lambda v: number(v, 1))
        )
        rows.append(
            [
                labels[row.metric],
                form(row.mean) or "无",
                (f"{form(row.low)}–{form(row.high) or '无上限'}" if form(row.low) else ""),
            ]
        )
    return Table(["指标", "数值", "范围"], rows, "方案评价指标", [False, True, True])


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
