"""Solving the programme with HiGHS through Pyomo, and reading the answer only when it exists."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from .settings import AllocationSettings

log = logging.getLogger(__name__)


@dataclass
class SolveOutcome:
    """What the solver said: status in the user's words, values, bound, timing."""

    status: str  # optimal | time_limit | infeasible | no_solution | error
    chosen: np.ndarray  # indices of options set to 1 (empty unless a solution exists)
    solver_objective: float | None
    solver_bound: float | None
    seconds: float
    termination: str

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "time_limit")


def make_solver(settings: AllocationSettings) -> Highs:
    """A HiGHS solver through Pyomo's persistent interface, configured from ``settings``."""
    solver = Highs()
    if not solver.available():
        raise RuntimeError("HiGHS is not available: install highspy (pip install highspy)")
    return solver


def solve_model(
    m: pyo.ConcreteModel, settings: AllocationSettings, solver: Highs | None = None
) -> SolveOutcome:
    """Solve ``m`` (which maximises or minimises ``m.value``) with HiGHS.

    Never reads a solution without checking the termination condition first; on a time
    limit the best plan found so far is returned with status ``time_limit``.
    """
    solver = solver or make_solver(settings)
    started = time.perf_counter()
    options = {"random_seed": settings.seed, "mip_feasibility_tolerance": 1e-7}
    results = solver.solve(
        m,
        time_limit=settings.time_limit,
        rel_gap=settings.mip_gap,
        threads=settings.threads,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        solver_options=options,
    )
    seconds = time.perf_counter() - started
    termination = results.termination_condition
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if termination == TerminationCondition.convergenceCriteriaSatisfied and has_solution:
        status = "optimal"
    elif termination == TerminationCondition.provenInfeasible:
        status = "infeasible"
    elif termination == TerminationCondition.infeasibleOrUnbounded:
        status = "infeasible"  # every variable is bounded, so never unbounded
    elif termination == TerminationCondition.maxTimeLimit:
        status = "time_limit" if has_solution else "no_solution"
    elif termination == TerminationCondition.unknown and len(m.designate) == 0:
        status = "optimal"  # an empty model: nothing to choose, nothing violated
    else:
        status = "time_limit" if has_solution else "error"
    chosen = np.array([], dtype=int)
    if has_solution:
        results.solution_loader.load_vars()
        values = np.array([m.designate[o].value or 0.0 for o in m.designate], dtype=float)
        chosen = np.flatnonzero(values > 0.5)
    log.info("HiGHS: %s (%s) in %.2fs", status, termination.name, seconds)
    return SolveOutcome(
        status=status,
        chosen=chosen,
        solver_objective=_finite(results.incumbent_objective),
        solver_bound=_finite(results.objective_bound),
        seconds=seconds,
        termination=termination.name,
    )


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
