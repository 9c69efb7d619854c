"""The budget frontier: what each level of budget buys, solved on one model re-used in place."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd

from .allocation import bound_and_gap, plan_objective
from .checks import expected_spend, plan_violations
from .greedy import greedy_plan
from .options import AllocationProblem
from .plan_tables import designation_count
from .programme import build_model, row_block
from .settings import Budget
from .solve import HighsProgramme

log = logging.getLogger(__name__)


def scaled(problem: AllocationProblem, scale: float) -> AllocationProblem:
    """The same problem with every budget (yearly, cumulative and total) times ``scale``."""
    factor = Decimal(str(scale))
    budget = problem.budget
    return problem.with_budget(
        Budget(
            per_year={t: v * factor for t, v in budget.per_year.items()},
            total=None if budget.total is None else budget.total * factor,
            carry_over=budget.carry_over,
        )
    )


def horizon_money(budget: Budget) -> float:
    """What a budget lets the horizon spend, in 万元: its yearly budgets' sum, its total
    where that is less (or where there are no yearly budgets)."""
    yearly = float(sum(budget.per_year.values())) if budget.per_year else None
    total = None if budget.total is None else float(budget.total)
    amounts = [a for a in (yearly, total) if a is not None]
    return min(amounts) if amounts else 0.0


def quota_budget(problem: AllocationProblem) -> float | None:
    """The least money on the frontier's axis (``horizon_money``, 万元) with which every
    minimum quota is met and every obligation paid, at expected cost: the budgets scaled
    together, as the frontier scales them, by the least multiple that admits a plan; None
    when none does (the quotas cannot be met at any budget). A budget below it has no plan;
    the frontier's plot marks it.

    Not the cheapest plan's total: the quotas may need money in early years that the
    budgets' proportions give only at a larger total (Wuhan's 2022-2023 quotas: a plan of
    3,365万元 in all, but no plan on its frontier below about 5,400)."""
    from .solve import PLAN_STATUSES, solve_model

    settings = problem.settings.model_copy(update={"objective": "min_cost", "overrun_risk": None})
    m = build_model(replace(problem, settings=settings), budget_scale=True)
    outcome = solve_model(m, settings)
    if outcome.status not in PLAN_STATUSES or not outcome.has_solution:
        return None
    # The plan's own multiple (feasible, whatever the proof), up a hair so that its budgets,
    # rounded to 0.1万元 as shown, still hold it.
    factor = max(float(m.budget_scale.value or 0.0), 0.0)
    money = horizon_money(scaled(problem, factor).budget) if factor > 0 else 0.0
    return math.ceil(money * 10 - 1e-6) / 10


def budget_frontier(problem: AllocationProblem, scales: list[float], progress=None) -> pd.DataFrame:
    """Solve the allocation at each budget ``scale`` × the problem's budget, on one model.

    The model is built and handed to HiGHS once, at the smallest scale (so every budget row
    that can bind anywhere on the frontier exists; a row that cannot bind at the smallest
    budget cannot bind at a larger one). Each point moves the budget rows (and, with an
    overrun bound, their loaded copies, ``risk_loads.py``), whose right-hand sides scale
    linearly, and runs the whole solve of ``solve.solve_compiled`` from the previous plan
    (which stays feasible when the budget grows), the relaxation's dual simplex from its
    last basis. The exact risk cuts one point appends hold only at its own budgets, so they
    are dropped before the next (``CountedModel.drop_appended``). A point whose obligations
    alone exceed its budget is infeasible without a solve ("obligations"). Each plan is
    checked against every rule at its budget. Returns one row per scale with the optimum
    beside the greedy rule, and with an overrun bound each plan's exact overrun chance.
    """
    from .budget_risk import plan_risk
    from .diagnosis import obligations_beyond_budget
    from .solve import PLAN_STATUSES, solve_compiled

    if problem.budget.unlimited:
        raise ValueError("a budget frontier needs a budget to scale")
    scales = sorted(scales)
    if scales[0] <= 0:
        raise ValueError("budget scales must be positive")
    bounded = problem.settings.overrun_risk is not None
    m = build_model(scaled(problem, scales[0]))
    programme = HighsProgramme(m, problem.settings)
    rows = [
        (programme.row_of[con], float(programme.row_upper[programme.row_of[con]]))
        for block in ("budget", "risk_load")
        for con in row_block(m, block)
    ]
    records = []
    warm: np.ndarray | None = None
    for scale in scales:
        started = time.perf_counter()
        point = scaled(problem, scale)
        for row, upper in rows:
            programme.set_upper_at(row, upper * scale / scales[0])
        record: dict[str, object] = {
            "scale": scale,
            # The money the horizon may spend: the yearly budgets' sum, or the horizon total
            # where that is less (it showed the sum beside a total that binds).
            "budget": horizon_money(point.budget),
            "status": "infeasible",
            "objective": None,
            # What the plan is proven against: the bound on the best objective at this
            # budget and the relative gap (a point not proven optimal may be that far short).
            "bound": None,
            "gap": None,
            "designations": 0,
            "spend": None,
            **_greedy_columns(point, problem.settings.objective),
            "seconds": 0.0,
            "method": "obligations",
        }
        if bounded:
            record["overrun_any_year"] = None
        if not obligations_beyond_budget(point):
            try:
                outcome = solve_compiled(programme, point, warm_start=warm)
            finally:
                programme.drop_appended()
            programme.warm_relaxation = True
            record.update(status=str(outcome.status), method=outcome.method)
            if outcome.status in PLAN_STATUSES and outcome.has_solution:
                chosen = outcome.chosen
                risk = plan_risk(point, chosen) if bounded else None
                violations = plan_violations(point, chosen, risk)
                if violations:
                    raise RuntimeError("frontier plan breaks rules: " + "; ".join(violations))
                value = plan_objective(point, chosen, problem.settings.objective)
                bound, gap = bound_and_gap(outcome, value, problem.settings.objective)
                record.update(
                    objective=round(value, 6),
                    bound=None if bound is None else round(bound, 6),
                    gap=gap,
                    designations=designation_count(point, chosen),
                    # Rounded as the objective is: sums of expected amounts in 万元 read
                    # 6230.5999999999985 in frontier.csv.
                    spend=round(float(sum(expected_spend(point, chosen).values())), 6),
                )
                if risk is not None:
                    record["overrun_any_year"] = (risk.overrun or {}).get("any_year")
                warm = outcome.values
        record["seconds"] = time.perf_counter() - started
        records.append(record)
        if progress is not None:
            progress(scale)
    return pd.DataFrame.from_records(records)


def _greedy_columns(point: AllocationProblem, objective: str) -> dict[str, object]:
    """The rank-by-score rule's columns of a frontier row at budget ``point``."""
    greedy = greedy_plan(point)
    return {
        "greedy_objective": round(plan_objective(point, greedy, objective), 6),
        "greedy_designations": designation_count(point, greedy),
        "greedy_spend": round(float(sum(expected_spend(point, greedy).values())), 6),
        # The rank-by-score rule does not look at minimum quotas: its objective is only
        # comparable where it breaks no rule.
        "greedy_rules_broken": len(plan_violations(point, greedy)),
    }
