"""The report's simulation section: its outcomes, design metrics and servitization figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import plots
from .report_designs import metric_rows, replication_metrics
from .report_html import Figure, Section, Table, money, number, share
from .report_labels import is_share, outcome_label

if TYPE_CHECKING:  # the report's run files and names; report.py imports this module
    from .report import ReportNames, RunFiles

SERVITIZATION_TITLE = "服务化进程：有奖励与无奖励对照"
SERVITIZATION_FIGURE = "servitization.png"  # in a simulation's folder


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
        "获认定企业含只有称号、没有奖励资金的企业（如培育称号）；“无效激励”指获得奖励资金、"
        "但无奖励时也会达到门槛的企业。"
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
    lines += not_simulated_lines(summary.get("not_simulated") or [])
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


def not_simulated_lines(entries: list[Mapping[str, str]]) -> list[str]:
    """What of the policy the simulation does not run (summary.json's ``not_simulated``), in
    the report's words: the programmes that sit out and why, and the quotas that go with
    them (the yearly rounds count as planned under every rule the simulation applies)."""
    programmes = [e["what_zh"] for e in entries if e.get("kind") == "programme"]
    quotas = [e["what_zh"] for e in entries if e.get("kind") == "quota"]
    lines = []
    if programmes:
        lines.append(
            f"未模拟的项目（{len(programmes)} 个，模拟中不评审、不支付）："
            + "；".join(programmes)
            + "。"
        )
    if quotas:
        lines.append(
            f"因其项目未模拟而未执行的配额（{len(quotas)} 条；年度评审“按全部规则”指模拟执行的规则）："
            + "；".join(quotas)
            + "。"
        )
    return lines


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
            for k in (
                "net_additional",
                "net_above",
                "kept_above",
                "awarded_firms",
                "awarded_firms_paid",
                "deadweight_firms_paid",
                "deadweight_paid_share",
            )
        ]
    keys += [
        "designations.decided",
        "designations.nominations",
        "designations.conferred",
        "designations.revoked",
        "spend.paid",
        "spend.owed_after_horizon",
        "overrun.occurred.any_year",
        "rounds.without_minimums",
        "rounds.obligations_only",
    ]
    keys += sorted(k for k in table if k.startswith("overrun.by_row."))
    return [k for k in keys if k in table]


def _design_table(design: pd.DataFrame, threshold: int) -> Table:
    labels = {
        "spend": "实际支付（万元）",
        "additional": f"净新增服务化企业（≥{threshold}%，家）",
        "cost_per_additional": "每家净新增企业成本（万元，合计口径）",
        "deadweight_share": "无效激励资金占比",
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
