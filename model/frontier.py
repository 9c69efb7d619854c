"""The budget frontier: what each level of budget buys, solved on one model re-used in place."""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd

from .allocation import plan_objective
from .checks import expected_spend, plan_violations
from .greedy import greedy_plan
from .options import AllocationProblem
from .programme import build_model, row_block
from .settings import Budget
from .solve import HighsProgramme

log = logging.getLogger(__name__)


def scaled(problem: AllocationProblem, scale: float) -> AllocationProblem:
    """The same problem with every budget (yearly, cumulative and total) times ``scale``."""
    factor = Decimal(str(scale))
    budget = problem.budget
    return replace(
        problem,
        budget=Budget(
            per_year={t: v * factor for t, v in budget.per_year.items()},
            total=None if budget.total is None else budget.total * factor,
            carry_over=budget.carry_over,
        ),
    )


def quota_budget(problem: AllocationProblem) -> float | None:
    """The least money (万元, expected, over the horizon) with which every minimum quota is
    met and every obligation paid: the cheapest plan of the problem with no budget, or None
    when no plan meets the quotas at any budget. A budget below it has no plan; the
    frontier's plot marks it."""
    from .allocation import allocate
    from .solve import PLAN_STATUSES

    settings = problem.settings.model_copy(update={"objective": "min_cost", "overrun_risk": None})
    cheapest = allocate(replace(problem, budget=Budget(), settings=settings), explain=False)
    if cheapest.status not in PLAN_STATUSES:
        return None
    return float(sum(cheapest.spend.values()))


def budget_frontier(problem: AllocationProblem, scales: list[float], progress=None) -> pd.DataFrame:
    """Solve the allocation at each budget ``scale`` × the problem's budget.

    The model is built and handed to HiGHS once, at the smallest scale (so every budget row
    that can bind anywhere on the frontier exists; a row that cannot bind at the smallest
    budget cannot bind at a larger one). Each further point only raises the budget rows'
    right-hand sides, which scale linearly, and starts from the previous plan, which stays
    feasible when the budget grows. Returns one row per scale with the optimum beside the
    greedy rule.
    """
    if problem.budget.unlimited:
        raise ValueError("a budget frontier needs a budget to scale")
    scales = sorted(scales)
    if scales[0] <= 0:
        raise ValueError("budget scales must be positive")
    if problem.settings.overrun_risk is not None:
        return _bounded_frontier(problem, scales, progress)
    base = scaled(problem, scales[0])
    m = build_model(base)
    programme = HighsProgramme(m, problem.settings)
    rows = [(con, programme.row_upper[programme.row_of[con]]) for con in row_block(m, "budget")]
    records = []
    warm: np.ndarray | None = None
    for scale in scales:
        for con, upper in rows:
            programme.set_row_upper(con, upper * scale / scales[0])
        outcome = programme.solve(warm_start=warm)
        point = scaled(problem, scale)
        greedy = greedy_plan(point)
        record = {
            "scale": scale,
            "budget": float(sum(point.budget.per_year.values()) or (point.budget.total or 0)),
            "status": outcome.status,
            "objective": None,
            "designations": 0,
            "spend": None,
            "greedy_objective": plan_objective(point, greedy, problem.settings.objective),
            "greedy_designations": len(greedy),
            "greedy_spend": float(sum(expected_spend(point, greedy).values())),
            # The rank-by-score rule does not look at minimum quotas: its objective is only
            # comparable where it breaks no rule.
            "greedy_rules_broken": len(plan_violations(point, greedy)),
            "seconds": outcome.seconds,
            "method": outcome.method,
        }
        if outcome.has_solution:
            chosen = outcome.chosen
            violations = plan_violations(point, chosen)
            if violations:
                raise RuntimeError("frontier plan breaks rules: " + "; ".join(violations))
            record.update(
                objective=plan_objective(point, chosen, problem.settings.objective),
                designations=len(chosen),
                spend=float(sum(expected_spend(point, chosen).values())),
            )
            warm = outcome.values
        records.append(record)
        if progress is not None:
            progress(scale)
    return pd.DataFrame.from_records(records)


def _bounded_frontier(
    problem: AllocationProblem, scales: list[float], progress=None
) -> pd.DataFrame:
    """The frontier with an overrun bound: each point solved afresh by ``allocate`` (the
    risk cuts of one budget do not hold for another), with each point's overrun chance."""
    from .allocation import allocate

    records = []
    for scale in scales:
        point = scaled(problem, scale)
        result = allocate(point, explain=False)
        greedy = greedy_plan(point)
        records.append(
            {
                "scale": scale,
                "budget": float(sum(point.budget.per_year.values()) or (point.budget.total or 0)),
                "status": result.status,
                "objective": result.objective,
                "designations": len(result.selected) if len(result.chosen) else 0,
                "spend": float(sum(result.spend.values())) if len(result.chosen) else None,
                "greedy_objective": plan_objective(point, greedy, problem.settings.objective),
                "greedy_designations": len(greedy),
                "greedy_spend": float(sum(expected_spend(point, greedy).values())),
                "greedy_rules_broken": len(plan_violations(point, greedy)),
                "seconds": result.solve_seconds,
                "method": result.method,
                "overrun_any_year": (result.overrun or {}).get("any_year"),
            }
        )
        if progress is not None:
            progress(scale)
    return pd.DataFrame.from_records(records)
