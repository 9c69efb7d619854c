"""The allocation solved again for the thresholds (``Resolves``), and the search for the
least money that changes a candidate's fate on the allocation's own programme
(``MoneyProbes``), each solve charged to a deterministic budget of work
(``threshold_solves.Work``): what ``threshold_settle.py`` checks its figures with."""

from __future__ import annotations

import logging
import math

import numpy as np
import pyomo.core as pyo

from .options import AllocationProblem
from .programme import build_model, set_objective
from .solve import MIN_NODES, HighsProgramme, solve_model
from .status import Status
from .threshold_solves import OutOfWork, Unsettled, Work, passes
from .thresholds import MONEY_STEP, SCORE_STEP, option_names, rescored, with_more_money

log = logging.getLogger(__name__)

# What a solve by the allocation's own programme costs beyond its HiGHS runs, in solves:
# the relaxation, its rounding and the count rounding's small MIP, and (solved again whole)
# the Pyomo build and compilation. Measured on the random instances of the tests: 10-15 ms
# a programme solve and 12-25 ms a whole one, against 4-10 ms an exact solve. With an
# overrun bound a whole solve is a loop of MIPs (risk_solve.py).
PROGRAMME_WEIGHT = 2.0
RESOLVE_WEIGHT = 3.0
RISK_RESOLVE_WEIGHT = 25.0


class Resolves:
    """The allocation solved again, as ``allocate(problem, explain=False)`` solves it, each
    solve charged to ``work``: ``RESOLVE_WEIGHT`` solves of the problem's options for the
    build and the pipeline around HiGHS, plus the work of its HiGHS runs (``passes``).

    Without an overrun bound the solve is the allocation's own (``solve.HighsProgramme``)
    with at most as many nodes per MIP as the work has left, and never more than the
    allocation's least (``solve.MIN_NODES``): a solve that ends within them is the one the
    allocation makes, and one that stops at them is not used (its plan might differ). A
    problem whose rows are those of ``m`` (a score moved: the objective alone differs) reuses
    ``m`` with its objective rebuilt as ``build_model`` would build it, which halves a
    re-solve of a small instance (30 ms to 15 ms). With an overrun bound (a loop of solves,
    ``risk_solve.py``) the allocation's whole solve, charged ``RISK_RESOLVE_WEIGHT``."""

    def __init__(self, problem: AllocationProblem, m: pyo.ConcreteModel, prove: bool, work: Work):
        self.problem = problem
        self.m = m
        self.prove = prove
        self.work = work
        self.risky = problem.settings.overrun_risk is not None
        self.changed = False  # has m's objective been changed?
        options = problem.options
        self.candidate = options["candidate"].to_numpy()
        self.free = ~options["forced"].to_numpy(dtype=bool)
        self.merit = options["merit"].to_numpy(dtype=float)
        self.names = option_names(options)

    def plan(self, problem: AllocationProblem, same_rows: bool) -> np.ndarray | None:
        """``problem``'s plan (None: it has none). Raises OutOfWork, or Unsettled when the
        solve stopped at its node limit."""
        n = max(self.problem.size, 1)
        if self.risky:
            if not self.work.affords(n, RISK_RESOLVE_WEIGHT):
                raise OutOfWork
            self.work.charge(n, RISK_RESOLVE_WEIGHT)
            outcome = solve_model(build_model(problem), problem.settings, problem, self.prove)
            return outcome.chosen if outcome.has_solution else None
        nodes = self.work.nodes(n, RESOLVE_WEIGHT)
        if nodes < 1:
            raise OutOfWork
        if same_rows:
            self.m.del_component("value")
            set_objective(self.m, problem, problem.settings.objective)
            self.changed = True
            model = self.m
        else:
            model = build_model(problem)
        programme = HighsProgramme(model, problem.settings)
        # Asked for whatever it costs (``cases``): the allocation's own node limits.
        programme.node_limit = None if math.isinf(self.work.left) else min(nodes, MIN_NODES)
        outcome = programme.solve()
        used = RESOLVE_WEIGHT + passes(programme.relaxation)
        if outcome.method.startswith(("counts", "mip")):  # a MIP ran: its work too
            used += passes(programme.counted.highs)
        self.work.charge(n, used)
        if outcome.status == Status.INFEASIBLE:
            return None
        if outcome.status != Status.OPTIMAL:
            raise Unsettled
        return outcome.chosen

    def where(self, plan: np.ndarray | None, c: int) -> str | None:
        """Where ``plan`` designates candidate c at the city's choice (None: nowhere): its
        option of most merit."""
        if plan is None:
            return None
        mine = [int(o) for o in plan if self.candidate[o] == c and self.free[o]]
        return self.names[max(mine, key=lambda o: self.merit[o])] if mine else None

    def affordable(self) -> None:
        """Raises OutOfWork unless one more solve fits: asked before a problem is made for
        it (a copy of the options table, which costs on a large problem)."""
        weight = RISK_RESOLVE_WEIGHT if self.risky else RESOLVE_WEIGHT + 1
        if not self.work.affords(max(self.problem.size, 1), weight):
            raise OutOfWork

    def raised(self, c: int, steps: int) -> str | None:
        self.affordable()
        return self.where(self.plan(rescored(self.problem, c, steps * SCORE_STEP), True), c)

    def kept(self, c: int, steps: int) -> bool:
        self.affordable()
        lowered = rescored(self.problem, c, -steps * SCORE_STEP)
        return self.where(self.plan(lowered, True), c) is not None

    def richer(self, c: int, year: int | None, steps: int) -> np.ndarray | None:
        """The plan with ``steps`` 万元 more in ``year`` (and the horizon total)."""
        self.affordable()
        return self.plan(with_more_money(self.problem, year, steps * MONEY_STEP), False)


class MoneyProbes:
    """The allocation's own programme (``solve.HighsProgramme``), compiled once and solved
    again with budget rows raised, as the budget frontier re-solves it: from the relaxation's
    last basis, 10-15 ms a question on the random instances against 20-26 ms for a solve
    from scratch and 13-33 ms for the exact programme's knapsacks proven to a tight gap. Its
    plans follow the allocation's objective and tie-break, so the boundary they find is the
    allocation's (it agreed on 22-40 of 40 budgets, where ties were many, with the solve
    from scratch): the allocation itself is then asked there (``check_money``)."""

    def __init__(self, problem: AllocationProblem, m: pyo.ConcreteModel, work: Work):
        self.programme = HighsProgramme(m, problem.settings)
        self.upper = self.programme.row_upper.copy()
        self.work = work
        self.n = max(problem.size, 1)

    def plan(self, rows: list[int], amount: float) -> np.ndarray | None:
        """The plan with ``amount`` 万元 more in ``rows``; None without one. Raises OutOfWork,
        or Unsettled when the solve stopped at its node limit."""
        nodes = self.work.nodes(self.n, PROGRAMME_WEIGHT)
        if nodes < 1:
            raise OutOfWork
        programme = self.programme
        programme.node_limit = min(nodes, MIN_NODES)
        for row in rows:
            programme.set_upper_at(row, self.upper[row] + amount)
        try:
            outcome = programme.solve()
        finally:
            for row in rows:
                programme.set_upper_at(row, self.upper[row])
        used = PROGRAMME_WEIGHT + passes(programme.relaxation)
        if outcome.method.startswith(("counts", "mip")):
            used += passes(programme.counted.highs)
        self.work.charge(self.n, used)
        if outcome.status == Status.INFEASIBLE:
            return None
        if outcome.status != Status.OPTIMAL:
            raise Unsettled
        return outcome.chosen
