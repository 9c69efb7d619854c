"""The report's scenario section: the scenario of a run in words."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import plots
from .report_html import Section, money, number, share
from .report_labels import OBJECTIVE
from .sweep_outcomes import factor_label

if TYPE_CHECKING:  # the report's run files and names; report.py imports this module
    from .report import ReportNames, RunFiles


def scenario_section(files: RunFiles, names: ReportNames) -> Section:
    """The scenario in words: policy, years, budget, candidates, objective, chances, bound,
    tier design, simulation settings."""
    s = files.scenario
    lines: list[str] = []
    policy = s.get("policy", "?")
    title = names.policy_title
    lines.append(f"政策：{title}（{policy}）。" if title else f"政策：{policy}。")
    years = s.get("years")
    allocated = (files.manifest or {}).get("years") or []
    if allocated and allocated != list(range(allocated[0], allocated[-1] + 1)):
        # Years that skip one (--years 2024,2026): not the span [first, last].
        lines.append(f"规划年份：{'、'.join(str(t) for t in allocated)} 年。")
    elif years:
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
            "上级获批概率（情景假设，文件未规定）："
            + "、".join(f"{plots.level_name(k)} {share(v, 0)}" for k, v in chances.items())
            + "。向上推荐按预计金额计入预算。"
        )
    alpha = allocation.get("overrun_risk")
    lines.append(
        f"超支风险上限：每个预算行超支概率不超过 {share(alpha, 1)}。"
        if alpha is not None
        else "未设超支风险上限：预算按预计支出控制。"
    )
    simulation = s.get("simulation") or {}
    changed = dict((files.summary or {}).get("changed_parameters") or {})
    design = f"奖励档次：{names.design(s.get('tier_design'))}"
    scale = changed.pop("award_scale", None)
    if scale is not None:
        # The simulation pays the tiers times award_scale; the plan above is the allocation's,
        # at the policy's amounts.
        design += f"；模拟中各档金额乘以 {number(scale, 2)}（分配方案仍按原金额）"
    lines.append(design + "。")
    if files.summary is not None and simulation:
        # What the simulation ran (its summary), not what the scenario file wrote: a
        # scenario whose years outrun twelve quarters is simulated longer (simulate.py).
        ran = files.summary.get("parameters") or simulation
        firms = (ran.get("population") or {}).get("firms")
        quarters = files.summary.get("quarters", simulation.get("quarters", "?"))
        lines.append(
            f"模拟：{'企业 ' + number(firms, 0) + ' 家，' if firms else ''}"
            f"{quarters} 个季度，重复 {files.summary.get('replications', '?')} 次，"
            f"随机种子 {files.summary.get('seed', '?')}；每次模拟均与同一随机数下的无奖励对照世界比较。"
        )
        changed.pop("population.firms", None)  # said above
        if changed:
            lines.append(
                "模拟设定与默认值不同："
                + "；".join(
                    f"{factor_label('simulation.' + k)}（{k}）= {_value_words(v)}"
                    for k, v in changed.items()
                )
                + "。"
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
            f"候选：模拟候选名单（示例数据），企业 {synthetic.get('enterprises', '?')} 家、"
            f"园区 {synthetic.get('parks', '?')} 个（随机种子 {synthetic.get('seed', '?')}）"
        )
        if synthetic.get("applications"):
            words += "，按政策资格申报其符合条件的各项目"
        return words + "。"
    words = f"候选：{candidates.get('file', '?')}"
    if candidates.get("applications"):
        words += f"，申报表 {candidates['applications']}"
    return words + "。"


def _value_words(value: object) -> str:
    """A setting's value as a reader reads it: numbers as numbers, true/false as 是/否,
    tables and lists as written (JSON, without escapes)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return number(value, 4)
    return json.dumps(value, ensure_ascii=False)
