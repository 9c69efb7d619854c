"""The report's allocation sections: the plan, spend and budget, who was left out, the frontier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from liangye.model.status import plan_name_zh
from liangye.model.wording import OBJECTIVE_ZH, bound_zh

from . import plots
from .export import REASON_HEADERS_ZH, UNREACHABLE_ZH
from .report_html import Figure, Section, Table, frame_table, money, number, share
from .report_labels import DECISION, OUTCOME, STATUS

if TYPE_CHECKING:  # the report's run files and names; report.py imports this module
    from .report import ReportNames, RunFiles

# Long tables are cut here in the page (the workbook and CSV files hold every row).
DETAIL_ROWS = 100
# Columns of reasons.csv the report shows under its own headers; any other column (the
# explanations may gain some) is shown as well, under its own name.
REASON_COLUMNS = {"candidate_id": "编号", "name": "名称", "outcome": "结果"}


def plan_section(files: RunFiles, names: ReportNames) -> Section:
    """The plan: its status and quality, designations by programme, level and year, the
    rank-by-score plan beside it."""
    a = files.allocation or {}
    status = a.get("status", "")
    lines = [f"求解状态：{STATUS.get(status, status)}。"]
    if a.get("objective") is not None:
        kind = a.get("objective_kind", "merit")
        words = f"目标值（{OBJECTIVE_ZH.get(kind, kind)}）{number(a['objective'], 1)}"
        if a.get("bound") is not None:
            words += f"，{bound_zh(kind)} {number(a['bound'], 1)}"
        if a.get("gap") is not None:
            words += f"，相对间隙 {share(a['gap'], 2)}"
        lines.append(words + "。")
    # The Chinese of each finding (allocation.json keeps both); the English only for a run
    # written before the Chinese was kept.
    for sentence in a.get("diagnosis_zh") or a.get("diagnosis") or []:
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
                plan_name_zh(a.get("status")),
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
                f"{plan_name_zh(a.get('status'))}与按分排序法（逐项按评分排序直至资金用尽）对比",
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
        # A designation paying later instalments (a rebate over three years) shows them
        # beside its own year's money: the rows then add up to the spend over the years.
        later = "total_cost" in plan and bool(
            (plan["total_cost"].astype(float) != plan["cost"].astype(float)).any()
        )
        money_columns = (
            {"cost": "当年金额（万元）", "total_cost": "含分年兑现合计（万元）"}
            if later
            else {"cost": "金额（万元）"}
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
                    **money_columns,
                    "probability": "获批概率",
                    "score": "评分",
                },
                {
                    "year": str,
                    "cost": lambda v: money(v, 1),
                    "total_cost": lambda v: money(v, 1),
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
            f"少 {number(a['price_of_safety'], 1)}（后者为 {number(a.get('expected_cost_objective'), 1)}，"
            "按较宽的最优间隙求得，并非精确上界）。"
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
    for column in ("threshold_confirmed", "score_confirmed", "money_confirmed"):
        if column in losers.columns:  # 是/否, not the 0 and 1 a bool column formats as
            losers[column] = ["是" if bool(v) else "否" for v in losers[column].fillna(False)]
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
                "左：目标值；中：入选项数；右：每增加100万元带来的目标值。实线为本系统的方案"
                "（各点状态见上表），虚线为按分排序法。",
                plots.figure_png(figure),
                "预算前沿图",
            )
        ],
    )
