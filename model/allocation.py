"""validate → build → solve → extract: one allocation, with its greedy twin and explanations."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from .checks import expected_spend, plan_violations
from .explain import candidate_reasons, diagnose_infeasible
from .greedy import greedy_plan
from .options import AllocationProblem
from .programme import build_model, objective_coefficients
from .solve import solve_model

log = logging.getLogger(__name__)

PLAN_COLUMNS = [
    "candidate_id",
    "name",
    "district",
    "sector",
    "programme",
    "level",
    "year",
    "amount",
    "cost",
    "probability",
    "expected_cost",
    "nomination",
    "score",
]


@dataclass
class PlanSummary:
    """A plan's headline numbers, comparable between the optimum and the greedy rule."""

    objective: float
    count: int
    spend: dict[int, Decimal]
    violations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "objective": self.objective,
            "count": self.count,
            "spend": {str(t): float(v) for t, v in self.spend.items()},
            "total_spend": float(sum(self.spend.values())),
            "violations": self.violations,
        }


@dataclass
class AllocationResult:
    """The answer to one allocation: status, plan, bound and gap, greedy plan, reasons."""

    problem: AllocationProblem
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    build_seconds: float  # Pyomo model and its compilation for HiGHS
    solve_seconds: float
    method: str  # how the solve concluded (solve.py: lp, lp+rounding, lp+counts, counts, mip)
    chosen: np.ndarray
    greedy: PlanSummary
    reasons: pd.DataFrame
    diagnosis: list[str]
    overrun: dict[str, float] | None

    @property
    def spend(self) -> dict[int, Decimal]:
        return expected_spend(self.problem, self.chosen)

    @property
    def selected(self) -> pd.DataFrame:
        """The plan, one row per designation or nomination, in candidate order."""
        rows = self.problem.options.iloc[self.chosen]
        info = self.problem.candidates.loc[rows["candidate"], ["name", "district", "sector"]]
        plan = rows.reset_index(drop=True).join(info.reset_index(drop=True))
        plan["expected_cost"] = [
            c * Decimal(str(p)) for c, p in zip(plan["cost"], plan["probability"], strict=True)
        ]
        return plan[PLAN_COLUMNS]

    def to_dict(self) -> dict:
        """A JSON-ready summary: the ``--json`` output of ``liangye allocate``."""
        selected = [
            {
                "candidate_id": r.candidate_id,
                "programme": r.programme,
                "level": r.level,
                "year": int(r.year),
                "amount": float(r.cost),
                "expected_amount": float(r.expected_cost),
                "nomination": bool(r.nomination),
                "score": float(r.score),
            }
            for r in self.selected.itertuples()
        ]
        return {
            "policy": self.problem.policy.id,
            "objective_kind": self.problem.settings.objective,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "seconds": round(self.seconds, 4),
            "build_seconds": round(self.build_seconds, 4),
            "solve_seconds": round(self.solve_seconds, 4),
            "method": self.method,
            "candidates": len(self.problem.candidates),
            "options": self.problem.size,
            "spend": {str(t): float(v) for t, v in self.spend.items()},
            "budget": {str(t): float(v) for t, v in self.problem.budget.per_year.items()},
            "greedy": self.greedy.to_dict(),
            "selected": selected,
            "diagnosis": self.diagnosis,
            "overrun_probability": self.overrun,
            "outcomes": self.reasons["outcome"].value_counts().to_dict(),
        }


def plan_objective(problem: AllocationProblem, chosen: np.ndarray, objective: str) -> float:
    """The primary objective of a plan (total cost, positive, for min_cost)."""
    primary, _ = objective_coefficients(problem, objective)
    value = float(primary[chosen].sum()) if len(chosen) else 0.0
    return -value if objective == "min_cost" else value


def overrun_probability(problem: AllocationProblem, chosen: np.ndarray) -> dict[str, float] | None:
    """Chance that conferred nominations push spending over budget, by Monte Carlo.

    Each nomination is conferred independently with its level's probability; the city pays
    the full amount if it is. None when the plan has no uncertain nominations or no budget.
    """
    settings = problem.settings
    rows = problem.options.iloc[chosen]
    uncertain = rows["probability"].to_numpy() < 1
    if not uncertain.any() or not problem.budget.per_year or settings.overrun_samples == 0:
        return None
    rng = np.random.default_rng(settings.seed)
    conferred = rng.random((settings.overrun_samples, len(rows))) < rows["probability"].to_numpy()
    paid = conferred * rows["cost"].astype(float).to_numpy()
    result: dict[str, float] = {}
    any_over = np.zeros(settings.overrun_samples, dtype=bool)
    for t in problem.years:
        if t not in problem.budget.per_year:
            continue
        in_year = rows["year"].to_numpy() == t
        over = paid[:, in_year].sum(axis=1) > float(problem.budget.per_year[t]) + 1e-9
        result[str(t)] = float(over.mean())
        any_over |= over
    result["any_year"] = float(any_over.mean())
    return result


def allocate(problem: AllocationProblem, explain: bool = True) -> AllocationResult:
    """Solve the allocation and explain it. Never raises for an infeasible problem: the
    result says ``infeasible`` and ``diagnosis`` says why."""
    settings = problem.settings
    started = time.perf_counter()
    model = build_model(problem)
    build_seconds = time.perf_counter() - started
    outcome = solve_model(model, settings)
    chosen = outcome.chosen if outcome.has_solution else np.array([], dtype=int)
    objective = bound = gap = None
    if outcome.has_solution:
        violations = plan_violations(problem, chosen)
        if violations:  # the solver's tolerances let something through: never show such a plan
            raise RuntimeError("solver returned a plan that breaks rules: " + "; ".join(violations))
        objective = plan_objective(problem, chosen, settings.objective)
        raw_bound = (
            outcome.solver_bound if outcome.solver_bound is not None else outcome.solver_objective
        )
        if raw_bound is not None:
            bound = -raw_bound if settings.objective == "min_cost" else raw_bound
            gap = abs(bound - objective) / max(abs(objective), 1e-9) if objective or bound else 0.0
    greedy = greedy_plan(problem)
    greedy_summary = PlanSummary(
        objective=plan_objective(problem, greedy, settings.objective),
        count=len(greedy),
        spend=expected_spend(problem, greedy),
        violations=plan_violations(problem, greedy),
    )
    diagnosis = diagnose_infeasible(problem) if outcome.status == "infeasible" else []
    reasons = (
        candidate_reasons(problem, chosen)
        if explain
        else pd.DataFrame(columns=["candidate_id", "name", "outcome", "detail"])
    )
    return AllocationResult(
        problem=problem,
        status=outcome.status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=time.perf_counter() - started,
        build_seconds=build_seconds + outcome.compile_seconds,
        solve_seconds=outcome.seconds,
        method=outcome.method,
        chosen=chosen,
        greedy=greedy_summary,
        reasons=reasons,
        diagnosis=diagnosis,
        overrun=overrun_probability(problem, chosen),
    )
