"""What the command line shows a person: rich tables of an allocation and of input problems."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from liangye.model.allocation import AllocationResult
from liangye.model.budget_risk import row_zh
from liangye.model.errors import InputError
from liangye.model.status import STATUS_ZH, plan_name_zh
from liangye.model.wording import (
    OBJECTIVE_ZH,
    OUTCOME_ZH,
    bound_zh,
    level_zh,
    notes_zh_grouped,
    percent,
)
from liangye.results.export import UNREACHABLE_ZH

STATUS_STYLE = {
    "optimal": "green",
    "time_limit": "yellow",
    "work_limit": "yellow",
    "infeasible": "red",
    "no_solution": "red",
    "error": "red",
}


def show_problems(
    console: Console, error: InputError, title: str = "输入有误 Input problems"
) -> None:
    """Every problem of an InputError, one per line, naming file and place (the file, row,
    column and key names are the user's own; the sentences are English), each followed by
    its Chinese (``Problem.zh``; every problem the package raises has one)."""
    console.print(f"[bold red]{title} ({len(error.problems)}):[/]")
    for problem in error.problems:
        console.print(Text.assemble(("  ✗ ", "red"), str(problem)), highlight=False)
        if problem.zh:
            console.print(Text.assemble(("    → ", "dim"), problem.located_zh()), highlight=False)
    console.print("请按以上各条（文件、行、列或键）逐项修改后重试。", highlight=False)


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def show_allocation(console: Console, result: AllocationResult) -> None:
    """A readable summary in Chinese (the reader's language; --json keeps the English keys):
    status and proof, spend against budget, the rank-by-score plan beside the optimum,
    designations by programme name, level and year, the overrun risk, and the candidates
    left out closest to selection."""
    data = result.to_dict()
    style = STATUS_STYLE.get(result.status, "white")
    # What the problem left out or suspects (a programme whose column the table lacks, a
    # rule no candidate meets): said by default, not only with -v.
    for line in notes_zh_grouped(result.problem.notes):
        console.print(Text.assemble(("注意：", "yellow"), line), highlight=False)
    kind = OBJECTIVE_ZH.get(data["objective_kind"], data["objective_kind"])
    console.print(
        f"[bold]{result.problem.policy.title}[/]\n"
        f"[{style}]{STATUS_ZH.get(result.status, result.status)}[/]（{result.status}）  "
        f"目标值（{kind}）{_money(result.objective)}  "
        f"{bound_zh(data['objective_kind'])} {_money(result.bound)}  "
        f"相对间隙 {'—' if result.gap is None else f'{result.gap:.2%}'}  "
        f"用时 {result.seconds:.2f} 秒（建模 {result.build_seconds:.2f}，求解 "
        f"{result.solve_seconds:.2f}，逐项说明 {result.explain_seconds:.2f}）  候选 {data['candidates']} 个，选项 {data['options']} 个",
        highlight=False,
    )
    if result.diagnosis:
        # In Chinese for the reader (the English stays in --json's "diagnosis").
        console.print("[bold red]没有满足全部规则的方案：[/]")
        # A grid, so that a long sentence (Chinese has no spaces to break at) wraps under
        # itself instead of leaving its bullet alone on a line.
        bullets = Table.grid(padding=(0, 1))
        bullets.add_column(no_wrap=True)
        bullets.add_column(overflow="fold")
        for line in result.diagnosis_zh or result.diagnosis:
            bullets.add_row("  •", Text(line))
        console.print(bullets)
    money = Table(title="各年支出（万元）", title_justify="left")
    risk = result.risk
    broken = len(result.greedy.violations)
    # A rank-by-score plan that breaks rules is no alternative, whatever its objective (it
    # can read above the bound): its column says so (review 15).
    greedy_zh = f"按分排序法（违反{broken}条规则）" if broken else "按分排序法"
    columns = ["年份", "预算", plan_name_zh(data.get("status")), greedy_zh]
    if risk is not None:
        columns += ["95%分位支出", "超支概率"]
    for column in columns:
        money.add_column(column, justify="right")
    for year in result.problem.years:
        budget = result.problem.budget.per_year.get(year)
        row = [
            str(year),
            "不限" if budget is None else _money(float(budget)),
            _money(data["spend"][str(year)]),
            _money(data["greedy"]["spend"][str(year)]),
        ]
        if risk is not None:
            chance = risk.overrun.get(str(year))
            row += [
                _money(float(risk.p95[year])),
                "—" if chance is None else f"{chance:.2%}",
            ]
        money.add_row(*row)
    money.add_row(
        "目标值", "", _money(result.objective), _money(result.greedy.objective), style="bold"
    )
    money.add_row("入选事项数", "", str(len(result.selected)), str(result.greedy.count))
    console.print(money)
    if result.greedy.violations:
        shown = result.greedy.violations[:3]
        more = f"等，共{broken}条" if broken > len(shown) else ""
        console.print(
            f"[yellow]按分排序法的方案违反 {broken} 条规则，不能作为备选方案：[/]"
            + "；".join(getattr(v, "zh", v) for v in shown)
            + more
            + ("（全部见工作簿“汇总”）" if more else ""),
            highlight=False,
        )
    if len(result.chosen):
        show_designations(console, result.selected)
    if risk is not None:
        alpha = result.problem.settings.overrun_risk
        bound = f"每年不超过 {percent(alpha)}" if alpha is not None else "未设上限"

        def said(label: str, chance: float) -> str:
            if label != "any_year":
                return f"{row_zh(label)} {chance:.2%}"
            if risk.any_exact or risk.any_lower is None:
                return f"任一年 {chance:.2%}"
            # linked rows (carried-over budgets) too many to count jointly: both bounds,
            # and the sampled estimate between them
            between = f"介于 {risk.any_lower:.2%} 与 {chance:.2%} 之间"
            if risk.any_estimate is None:
                return f"任一年{between}"
            return f"任一年约 {risk.any_estimate[0]:.1%}（抽样估计，{between}）"

        chances = "，".join(said(k, v) for k, v in risk.overrun.items())
        console.print(
            f"超支概率（{bound}）：{chances or '无预算'}"
            + ("" if risk.any_exact else "（任一年的精确值计算量过大，给出上下界与抽样估计）"),
            highlight=False,
        )
        if data["price_of_safety"] is not None:
            console.print(
                # The expected-cost plan is solved to a looser gap (solve.loosened): its
                # objective is no proven bound, so it is named as a plan, not the optimum.
                f"控制超支风险的代价：目标值少 {data['price_of_safety']:,.2f}（不控制超支风险、"
                f"只按预计支出的方案为 {data['expected_cost_objective']:,.2f}，"
                "按较宽的最优间隙求得，非精确值）",
                highlight=False,
            )
        if risk.commitments:
            console.print(
                "规划期后的承诺支出（预计，万元）："
                + "，".join(f"{t}年 {_money(float(v))}" for t, v in risk.commitments.items()),
                highlight=False,
            )
    outcomes = data["outcomes"]
    console.print(
        "候选结果："
        # Selected first, then the rest by how many, each with its measure word.
        + "，".join(
            f"{OUTCOME_ZH.get(k, k)} {v} 个"
            for k, v in sorted(outcomes.items(), key=lambda kv: (kv[0] != "selected", -kv[1]))
        ),
        highlight=False,
    )
    show_closest_left_out(console, result)


def show_designations(console: Console, plan: pd.DataFrame) -> None:
    """Designations counted by programme (its Chinese name), level and year."""
    order = {"national": 0, "provincial": 1, "municipal": 2, "county": 3}
    named = plan.assign(
        名称=plan["programme_name"] if "programme_name" in plan else plan["programme"],
        rank=plan["level"].astype(str).map(order).fillna(9),
        级别=plan["level"].astype(str).map(level_zh),
    )
    counts = named.pivot_table(
        index=["名称", "rank", "级别"],
        columns="year",
        values="candidate_id",
        aggfunc="count",
        fill_value=0,
    ).droplevel("rank")  # levels from the highest down, not in the order of their names
    table = Table(title="各项目、级别、年度的认定与推荐数", title_justify="left")
    table.add_column("项目")
    table.add_column("级别")
    for year in counts.columns:
        table.add_column(f"{year}年", justify="right")
    for (programme, level), row in counts.iterrows():
        table.add_row(str(programme), str(level), *(str(int(v)) for v in row))
    console.print(table)


# How many candidates left out the summary shows (every one is in reasons.csv and plan.xlsx).
CLOSEST_SHOWN = 5


def show_closest_left_out(console: Console, result: AllocationResult) -> None:
    """The candidates left out that came closest to selection (the smallest raise of score
    needed, else of money), with their reason in Chinese and what it would have taken."""
    reasons = result.reasons
    if "score_needed" not in reasons.columns or not len(reasons):
        return
    scores = result.problem.options.groupby("candidate_id")["score"].max()
    left_out = reasons[~reasons["outcome"].isin(["selected", "ineligible", "not_applied"])].copy()
    if left_out.empty:
        return
    own = pd.to_numeric(left_out["candidate_id"].map(scores), errors="coerce")
    left_out["raise"] = pd.to_numeric(left_out["score_needed"], errors="coerce") - own
    left_out = left_out.sort_values(
        ["raise", "extra_budget_wan"], kind="stable", na_position="last"
    )
    shown = left_out.head(CLOSEST_SHOWN)
    if shown.empty or shown[["score_needed", "extra_budget_wan"]].isna().all().all():
        return
    table = Table(title="最接近入选的未入选候选", title_justify="left")
    for column in ("编号", "名称", "结果", "入选所需评分", "所需增加预算（万元）"):
        table.add_column(column)
    for row in shown.itertuples():
        table.add_row(
            str(row.candidate_id),
            str(row.name),
            OUTCOME_ZH.get(row.outcome, row.outcome),
            _figure(row.score_needed, getattr(row, "score_confirmed", False)),
            _figure(row.extra_budget_wan, getattr(row, "money_confirmed", False)),
        )
    console.print(table)
    estimated = [
        value
        for row in shown.itertuples()
        for value, confirmed in (
            (row.score_needed, getattr(row, "score_confirmed", False)),
            (row.extra_budget_wan, getattr(row, "money_confirmed", False)),
        )
        if value == value and not confirmed  # a figure (not NaN) that is an estimate
    ]
    if estimated:
        # An estimate read from the relaxation can be far off on a small table (68.7 where
        # 70.8 was needed, 45万元 where 280): said beside the table, with what settles it.
        console.print(
            "  标注（估）的数字为估算（按线性松弛的影子价格推算，未经重新求解确认）；"
            "用 --confirm N 对最接近的 N 个候选重新求解确认。",
            highlight=False,
        )
    # The reasons below the table, each on its own lines: a column of long Chinese
    # sentences is unreadable in a terminal 80 characters wide.
    for row in shown.itertuples():
        console.print(f"  {row.candidate_id}：{row.reason_zh}", markup=False, highlight=False)


def _figure(value: float, confirmed: object = True) -> str:
    """A threshold as shown: — when there is none, 无法达到 when none suffices; marked 估
    when it is an estimate, not settled by re-solving."""
    if value is None or value != value:  # NaN
        return "—"
    settled = not pd.isna(confirmed) and bool(confirmed)
    mark = "" if settled else "（估）"
    if value == float("inf"):
        return UNREACHABLE_ZH + mark
    return f"{value:,.1f}".rstrip("0").rstrip(".") + mark
