"""What the command line shows a person: rich tables of an allocation and of input problems."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from liangye.model.allocation import AllocationResult
from liangye.model.errors import InputError

STATUS_STYLE = {
    "optimal": "green",
    "time_limit": "yellow",
    "work_limit": "yellow",
    "infeasible": "red",
    "no_solution": "red",
    "error": "red",
}


def show_problems(console: Console, error: InputError, title: str = "Input problems") -> None:
    """Every problem of an InputError, one per line, naming file and place."""
    console.print(f"[bold red]{title} ({len(error.problems)}):[/]")
    for problem in error.problems:
        console.print(Text.assemble(("  ✗ ", "red"), str(problem)), highlight=False)


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def show_allocation(console: Console, result: AllocationResult) -> None:
    """A readable summary: status and proof, spend against budget, greedy beside optimum."""
    data = result.to_dict()
    style = STATUS_STYLE.get(result.status, "white")
    # What the problem left out or suspects (a programme whose column the table lacks, a
    # rule no candidate meets): said by default, not only with -v.
    for note in result.problem.notes:
        console.print(Text.assemble(("note: ", "yellow"), note), highlight=False)
    console.print(
        f"[bold]{result.problem.policy.title}[/]\n"
        f"status [{style}]{result.status}[/]   objective ({data['objective_kind']}) "
        f"{_money(result.objective)}   bound {_money(result.bound)}   "
        f"gap {'—' if result.gap is None else f'{result.gap:.2e}'}   "
        f"{result.seconds:.2f}s (build {result.build_seconds:.2f}s, solve {result.solve_seconds:.2f}s)   "
        f"{data['candidates']} candidates, {data['options']} options",
        highlight=False,
    )
    if result.diagnosis:
        # In Chinese for the reader (the English stays in --json's "diagnosis").
        console.print("[bold red]No plan meets every rule（没有满足全部规则的方案）:[/]")
        for line in result.diagnosis_zh or result.diagnosis:
            console.print(f"  • {line}", markup=False, highlight=False)
    money = Table(title="Spend by year (万元)", title_justify="left")
    risk = result.risk
    columns = ["year", "budget", "optimal plan", "greedy plan"]
    if risk is not None:
        columns += ["95th percentile", "overrun chance"]
    for column in columns:
        money.add_column(column, justify="right")
    for year in result.problem.years:
        budget = result.problem.budget.per_year.get(year)
        row = [
            str(year),
            "unlimited" if budget is None else _money(float(budget)),
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
        "objective", "", _money(result.objective), _money(result.greedy.objective), style="bold"
    )
    money.add_row("designations", "", str(len(result.chosen)), str(result.greedy.count))
    console.print(money)
    if result.greedy.violations:
        console.print(
            f"[yellow]the greedy plan breaks {len(result.greedy.violations)} rule(s):[/] "
            + "; ".join(result.greedy.violations[:3]),
            highlight=False,
        )
    if len(result.chosen):
        plan = result.selected
        counts = plan.pivot_table(
            index=["programme", "level"],
            columns="year",
            values="candidate_id",
            aggfunc="count",
            fill_value=0,
        )
        table = Table(title="Designations by programme, level and year", title_justify="left")
        table.add_column("programme")
        table.add_column("level")
        for year in counts.columns:
            table.add_column(str(year), justify="right")
        for (programme, level), row in counts.iterrows():
            table.add_row(programme, level, *(str(int(v)) for v in row))
        console.print(table)
    if risk is not None:
        alpha = result.problem.settings.overrun_risk
        bound = f"at most {alpha:g} in every year" if alpha is not None else "not bounded"
        chances = ", ".join(
            f"{'any year' if k == 'any_year' else k} {v:.2%}" for k, v in risk.overrun.items()
        )
        console.print(
            f"overrun risk ({bound}): {chances or 'no budget'}"
            + ("" if risk.any_exact else " (any year: an upper bound)"),
            highlight=False,
        )
        if data["price_of_safety"] is not None:
            console.print(
                f"price of safety: {data['price_of_safety']:,.2f} of objective against the best "
                f"plan at expected cost ({data['expected_cost_objective']:,.2f}, an upper bound)",
                highlight=False,
            )
        if risk.commitments:
            console.print(
                "commitments after the horizon (expected, 万元): "
                + ", ".join(f"{t} {_money(float(v))}" for t, v in risk.commitments.items()),
                highlight=False,
            )
    outcomes = data["outcomes"]
    console.print(
        "candidates: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())), highlight=False
    )
    show_closest_left_out(console, result)


# How many candidates left out the summary shows (every one is in reasons.csv and plan.xlsx).
CLOSEST_SHOWN = 5
OUTCOME_ZH = {"out_of_budget": "预算不足", "outranked": "排名靠后", "not_needed": "无需入选"}


def show_closest_left_out(console: Console, result: AllocationResult) -> None:
    """The candidates left out that came closest to selection (the smallest raise of score
    needed, else of money), with their reason in Chinese and what it would have taken."""
    reasons = result.reasons
    if "score_needed" not in reasons.columns or not len(reasons):
        return
    scores = result.problem.options.groupby("candidate_id")["score"].max()
    left_out = reasons[~reasons["outcome"].isin(["selected", "ineligible"])].copy()
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
            _figure(row.score_needed),
            _figure(row.extra_budget_wan),
        )
    console.print(table)
    # The reasons below the table, each on its own lines: a column of long Chinese
    # sentences is unreadable in a terminal 80 characters wide.
    for row in shown.itertuples():
        console.print(f"  {row.candidate_id}：{row.reason_zh}", markup=False, highlight=False)


def _figure(value: float) -> str:
    """A threshold as shown: — when there is none, 无法达到 when none suffices."""
    if value is None or value != value:  # NaN
        return "—"
    if value == float("inf"):
        return "无法达到"
    return f"{value:,.1f}".rstrip("0").rstrip(".")
