"""Solving the programme: relaxation first, then only as much integrality as the answer needs.

The allocation has many small stacking rows (one designation per candidate and matter) and a
few coupling rows (budgets, quotas, balance), so its LP relaxation is nearly always integral
or within a hair of the optimum, while HiGHS's MIP set-up alone can take tens of seconds on
100k binaries (docs/performance.md). The model reaches HiGHS with designations counted by
payment class (``highs_model.py``). Then:

1. the LP relaxation (interior point with crossover when large: a vertex, so duals are
   exact); if its solution is integral it is optimal, with a gap of zero;
2. otherwise an incumbent: the LP solution rounded down and greedily repaired, or the
   caller's warm start; if it is within the gap of the LP bound it is optimal
   ("lp+rounding"). If not, the relaxation's payment-class counts are rounded together so
   that the budget is spent as the relaxation spent it, and the relaxation re-solved with
   the counts held (``count_rounding.py``); within the gap, that is optimal ("lp+counts");
3. reduced-cost fixing: a binary whose reduced cost exceeds the LP bound minus the
   incumbent keeps its LP value in every better plan, so it is fixed;
4. a MIP in which only the class counts are integer (unless step 5 comes at once, below).
   Once the counts are whole numbers, the designations form a bipartite assignment (each
   option sits in one stacking row and one class row), whose vertices are integral; so
   HiGHS usually returns an integral plan while branching on a few dozen integers instead
   of every binary. Its bound is valid for the real problem, which it relaxes;
5. if a designation is still fractional (other rows, such as balance shares or a cap per
   candidate and year, broke the bipartite structure), the full MIP with HiGHS's presolve,
   from the best plan found so far. A small model (at most ``FULL_MIP_BINARIES`` binaries)
   goes to the full MIP at once; on a larger one the full MIP also takes over, from the
   counts MIP's plan, when the counts MIP of a proof has not concluded within
   ``COUNTS_NODES`` nodes. The loops that need good plans under a budget of nodes, not
   proofs (``HighsProgramme.loosened``, ``risk_solve.py``, ``risk_loads.py``), keep the
   counts MIP, whose nodes are cheaper.

Every reported plan is integral and checked against its rows; the bound is a proof.

Here: the strategy (``HighsProgramme.solve``), the relaxation, the outcome and the entry
points (``solve_model``, ``solve_compiled``). Steps 4 and 5, the MIPs, are in
``solve_mip.py`` (with ``COUNTS_NODES`` and the budget of nodes), the rounding repair of
step 2 in ``solve_repair.py``: mixins of ``HighsProgramme``, so their methods are its own.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.core as pyo

from .count_rounding import rounded_plan
from .highs_model import HighsModel
from .highs_quiet import use_threads
from .options import AllocationProblem
from .risk_loads import LOAD_GAP, LOAD_NODES
from .risk_solve import risk_bounded
from .settings import AllocationSettings
from .solve_mip import MIN_NODES, MipStage
from .solve_repair import RoundingRepair
from .status import PLAN_STATUSES, Status

# The names other modules import from here, those made elsewhere among them
# (threshold_settle.py imports MIN_NODES; the allocation, the frontier and the government
# agent PLAN_STATUSES).
__all__ = [
    "LARGE_LP",
    "MIN_NODES",
    "PLAN_STATUSES",
    "HighsProgramme",
    "SolveOutcome",
    "solve_compiled",
    "solve_model",
]

log = logging.getLogger(__name__)


# Binaries up to which step 4 is the full MIP itself, not the counts MIP (module docstring).
# On a small model HiGHS's presolve and cuts on the binaries (knapsack covers on the budget
# rows) close in a few nodes what branching on a dozen class counts closes only in thousands.
# Measured on 30 instances of the applied-tight benchmark family (1-3 applications a
# candidate; 1,000-7,000 candidates, 777-5,646 binaries), the whole allocate: 0.2-7.9 s with
# the full MIP against 0.3 s to more than 60 s with the counts MIP (medians 0.84 and 2.4 s;
# two counts MIPs ran past 60 s), the counts MIP faster on 5, by at most 1.2 s. At
# 7,700-8,200 binaries (10,000 candidates) the full MIP's root cuts alone took 10 s and more
# (2.5-39 s against 2-8 s), so larger models keep the counts MIP. Under a node limit (plans,
# not proofs) the counts MIP's cheaper nodes win: a 400-firm simulation's rounds took 0.37 s
# with it, 0.64 s with the full MIP, their plans within 0.1% of each other.
# (docs/performance.md.)
FULL_MIP_BINARIES = 6_000

# Columns above which the interior point method beats the dual simplex on the relaxation
# (measured: 9k columns 0.05-0.12 s simplex against 0.09-0.2 s; 18k 0.3 against 0.18 s).
LARGE_LP = 12_000


@dataclass
class SolveOutcome:
    """What the solver said: status in the user's words, values, bound, timing."""

    status: Status
    chosen: np.ndarray  # indices of options set to 1 (empty unless a solution exists)
    solver_objective: float | None  # in the model's own sense, tie-break included
    solver_bound: float | None
    seconds: float
    termination: str
    method: str = ""  # lp | lp+rounding | lp+counts | counts | mip (+fixing: binaries fixed)
    fixed: int = 0  # binaries fixed by reduced cost before the MIP
    compile_seconds: float = 0.0  # Pyomo model to HiGHS arrays (part of building, not solving)
    values: np.ndarray | None = field(default=None, repr=False)  # model-space solution
    # With an overrun bound: the expected-cost optimum the bounded plan started from.
    expected_plan: np.ndarray | None = field(default=None, repr=False)
    # The compiled model the plan came from (its matrix, bounds and row blocks as built, every
    # temporary change undone), for callers that price options on it without compiling again.
    compiled: HighsModel | None = field(default=None, repr=False)

    @property
    def has_solution(self) -> bool:
        return self.status in PLAN_STATUSES


class HighsProgramme(MipStage, RoundingRepair, HighsModel):
    """The compiled programme and the strategy of the module docstring (its MIPs from
    ``solve_mip.MipStage``, its rounding repair from ``solve_repair.RoundingRepair``)."""

    def __init__(self, m: pyo.ConcreteModel, settings: AllocationSettings):
        super().__init__(m)
        self.settings = settings
        # Branch-and-bound nodes each MIP may take (None: as many as the gap needs); set
        # while a loop only needs good plans, not proofs (risk_loads.py).
        self.node_limit: int | None = None
        # Re-solves of a changed model (the budget frontier's later points) start the
        # relaxation's dual simplex from its last basis whatever the size: the interior
        # point method, faster from nothing above LARGE_LP, cannot start from anything.
        self.warm_relaxation = False
        self._solved = False  # a solve has run: the relaxation may have moved since
        # Step 4 of the module docstring is the full MIP at once on a small model, unless
        # the solve is loosened (``loosened``: plans wanted, not proofs).
        self.full_mip_first = int(np.count_nonzero(self.integer)) <= FULL_MIP_BINARIES

    @contextlib.contextmanager
    def loosened(self, gap: float, nodes: int) -> Iterator[None]:
        """Within the block, solves stop at relative gap ``gap`` (or the settings' own, if
        looser) and ``nodes`` branch-and-bound nodes per MIP: for solves whose plans need to
        be good and whose bounds valid, not proven to the requested gap (the expected-cost
        start of a risk-bounded allocation, the loaded solves); their MIPs are the counts
        MIP whatever the size (its nodes are cheaper). Restored on leaving."""
        settings, node_limit, full_mip_first = self.settings, self.node_limit, self.full_mip_first
        self.settings = settings.model_copy(update={"mip_gap": max(settings.mip_gap, gap)})
        self.node_limit = nodes
        self.full_mip_first = False
        try:
            yield
        finally:
            self.settings, self.node_limit = settings, node_limit
            self.full_mip_first = full_mip_first

    def _reset_options(self, highs: highspy.Highs, time_left: float) -> None:
        highs.resetOptions()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("random_seed", self.settings.seed)
        highs.setOptionValue("time_limit", max(0.1, time_left))
        highs.setOptionValue("mip_rel_gap", self.settings.mip_gap)
        use_threads(highs, self.settings.threads or 2)

    def relaxation_as_stated(self) -> bool:
        """Whether the relaxation is the linear programme of the model as stated: no rounding
        cuts, no overrun bound (whose loaded rows move), not solved before (no changed bound
        or added row), nothing waiting to change it."""
        return (
            not self._solved
            and not self.cuts
            and self.settings.overrun_risk is None
            and not self._pending
            and self._class_rows is None
        )

    def prepare_relaxation(self, time_left: float) -> highspy.Highs:
        """The relaxation instance with the options it is solved with (the simplex up to
        ``LARGE_LP`` columns, the interior point method with crossover above)."""
        relaxation = self.relaxation
        self._reset_options(relaxation, time_left)
        # HiGHS's LP presolve finds little to remove here and cost 30-60% of the
        # relaxation's time, at every size measured (docs/performance.md).
        relaxation.setOptionValue("presolve", "off")
        if self.n_model > LARGE_LP and not self.warm_relaxation:
            relaxation.setOptionValue("solver", "ipm")
            relaxation.setOptionValue("run_crossover", "on")
        return relaxation

    def _best(self, plans: list[np.ndarray | None]) -> np.ndarray | None:
        """The plan with the most gain among those that meet every row (the first on ties)."""
        best = None
        for plan in plans:
            if plan is None:
                continue
            plan = np.asarray(plan, dtype=float)
            if self.feasible(plan) and (best is None or self.gain(plan) > self.gain(best)):
                best = plan
        return best

    def _within_gap(self, plan: np.ndarray | None, z_lp: float) -> bool:
        """Is ``plan`` proven within the settings' gap by the relaxation's value ``z_lp``?"""
        if plan is None:
            return False
        z = self.objective(plan)
        return abs(z_lp - z) <= self.settings.mip_gap * max(abs(z), 1e-9)

    @staticmethod
    def _run(
        highs: highspy.Highs,
    ) -> tuple[highspy.HighsModelStatus, np.ndarray | None, float | None, float]:
        """Run HiGHS; (status, its column values or None, objective, dual bound)."""
        highs.run()
        status = highs.getModelStatus()
        info = highs.getInfo()
        if info.primal_solution_status != 2:
            return status, None, None, math.nan
        values = np.asarray(highs.getSolution().col_value)
        bound = info.mip_dual_bound if info.mip_node_count >= 0 else info.objective_function_value
        return status, values, info.objective_function_value, bound

    def solve(self, warm_start: np.ndarray | None = None) -> SolveOutcome:
        """Solve to the settings' gap and time limit; see the module docstring for the method.

        ``warm_start`` is a model-space plan (e.g. the previous point of a budget frontier);
        it is used when it is feasible and better than what the relaxation gives.
        """
        started = time.perf_counter()
        limit = self.settings.time_limit

        def left() -> float:
            return limit - (time.perf_counter() - started)

        if not self.integer.any():
            return self._mip(started, left(), None, designations=False, method="lp")
        # 1. the relaxation, on the model as stated (no integrality is declared there)
        as_stated = self.relaxation_as_stated()
        relaxation = self.prepare_relaxation(left())
        status, values, z_lp, _ = self._run(relaxation)
        self._solved = True
        if as_stated and status == highspy.HighsModelStatus.kOptimal and values is not None:
            solution = relaxation.getSolution()
            self.stated_duals = (np.asarray(solution.col_dual), np.asarray(solution.row_dual))
        if status == highspy.HighsModelStatus.kInfeasible:
            return self._outcome(Status.INFEASIBLE, None, None, None, started, status, "lp")
        if status != highspy.HighsModelStatus.kOptimal or values is None:
            return self._mip(started, left(), warm_start, designations=True, method="mip")
        x = values  # the relaxation has the model's columns only
        if self.integral(x):
            return self._outcome(Status.OPTIMAL, x, z_lp, z_lp, started, status, "lp")
        # 2. an incumbent, and a proof when it is already within the gap
        solution = relaxation.getSolution()
        reduced = np.abs(np.asarray(solution.col_dual))
        row_dual = np.asarray(solution.row_dual)
        incumbent = self._best([self._round_and_repair(x, reduced), warm_start])
        method = "lp+rounding"
        if not self._within_gap(incumbent, z_lp):
            # 2b. the class counts rounded together (count_rounding.py)
            rounded = self._best([rounded_plan(self, x, row_dual)])
            if rounded is not None and (
                incumbent is None or self.gain(rounded) > self.gain(incumbent)
            ):
                incumbent, method = rounded, "lp+counts"
        fixed = np.zeros(0, dtype=int)
        if incumbent is not None:
            z_inc = self.objective(incumbent)
            if self._within_gap(incumbent, z_lp):
                return self._outcome(
                    Status.OPTIMAL, incumbent, z_inc, z_lp, started, status, method
                )
            distance = abs(z_lp - z_inc)
            # 3. reduced-cost fixing
            slack = distance + 1e-9 * max(1.0, abs(z_lp))
            fixed = np.flatnonzero(self.integer & (reduced > slack))
            self.counted.fix(fixed, np.round(x[fixed]))
        try:
            if self.full_mip_first:
                outcome = self._mip(started, left(), incumbent, designations=True, method="mip")
            elif self.node_limit is None:  # a proof, under the allocation's own budget of work
                outcome = self.counts_then_full(started, left(), incumbent)
            else:
                outcome = self.mip_phases(started, left(), incumbent)
        finally:
            if len(fixed):
                self.counted.restore_bounds()
        if len(fixed):
            outcome.method += "+fixing"
            outcome.fixed = len(fixed)
        return outcome

    def better(self, first: np.ndarray | None, second: np.ndarray | None) -> np.ndarray | None:
        """The plan of more gain among two (either may be None; the first on ties)."""
        return self._best([first, second])

    def within_gap(self, plan: np.ndarray, bound: float | None) -> bool:
        """Is ``plan`` within the settings' gap of ``bound`` (the model's own sense)?"""
        return bound is not None and self._within_gap(plan, bound)

    def as_outcome(
        self, plan: np.ndarray, bound: float | None, started: float, method: str, state: Status
    ) -> SolveOutcome:
        """A SolveOutcome for a checked model-space ``plan`` and a proven ``bound``."""
        return self._outcome(
            state, plan, self.objective(plan), bound, started, "risk bound", method
        )

    def _outcome(self, state, x, objective, bound, started, status, method) -> SolveOutcome:
        chosen = np.array([], dtype=int)
        values = None
        if x is not None and state in PLAN_STATUSES:
            # Whole where the column is integer; a continuous one (the diagnosis's extra
            # money, the frontier's budget multiple) as solved: rounding it read a least
            # multiple of 0.668 as 1.
            x = np.asarray(x, dtype=float)
            whole = np.ones(len(x), dtype=bool)
            whole[: len(self.integer)] = self.integer[: len(x)]
            values = np.where(whole, np.round(x), x)
            chosen = np.flatnonzero(values[: self.n_options] > 0.5)
        seconds = time.perf_counter() - started
        log.info("HiGHS (%s): %s in %.2fs", method, state, seconds)
        return SolveOutcome(
            status=state,
            chosen=chosen,
            solver_objective=_finite(objective),
            solver_bound=_finite(bound),
            seconds=seconds,
            termination=str(status),
            method=method,
            values=values,
        )


def solve_model(
    m: pyo.ConcreteModel,
    settings: AllocationSettings,
    problem: AllocationProblem | None = None,
    prove: bool = True,
    load: bool = True,
) -> SolveOutcome:
    """Solve ``m`` once (compile, relaxation first, MIP if needed); values loaded into ``m``
    unless ``load`` is False (``allocate`` reads the plan from the outcome, not the model).

    With ``settings.overrun_risk`` and the ``problem`` the model was built from, the plan
    also keeps every budget row's overrun chance within it (``risk_solve.py``); the
    expected-cost optimum found first is kept in ``expected_plan``. ``prove=False`` skips
    the rounds that try to prove a plan within it optimal (a simulated round needs a good
    plan within the bound, not its proof); they still run when no such plan is found.

    Never reads a solution without checking the status first; on a time limit the best
    plan found so far is returned with status ``time_limit``.
    """
    started = time.perf_counter()
    if len(m.designate) == 0 and not any(True for _ in m.component_data_objects(pyo.Var)):
        return SolveOutcome(Status.OPTIMAL, np.array([], dtype=int), 0.0, 0.0, 0.0, "empty", "lp")
    programme = HighsProgramme(m, settings)
    outcome = solve_compiled(programme, problem, prove)
    if load and outcome.values is not None:
        programme.load_values(m, outcome.values)
    outcome.compile_seconds = programme.compile_seconds
    outcome.compiled = programme
    outcome.seconds = time.perf_counter() - started - programme.compile_seconds
    return outcome


def solve_compiled(
    programme: HighsProgramme,
    problem: AllocationProblem | None = None,
    prove: bool = True,
    warm_start: np.ndarray | None = None,
) -> SolveOutcome:
    """The strategy of ``solve_model`` on a compiled programme as it stands (its budget
    rows' bounds possibly moved, as the budget frontier does): the expected-cost optimum,
    then, with an overrun bound and ``problem`` (whose budgets the rows now hold), the best
    plan within it. ``warm_start`` is a model-space plan to start from."""
    settings = programme.settings
    if problem is None or settings.overrun_risk is None:
        return programme.solve(warm_start=warm_start)
    # What the bounded solve needs of the expected-cost problem is a valid bound and a
    # start, not a proof: it is solved as loosely as the loaded solves (risk_loads.py),
    # and proven to the requested gap only if its plan turns out to meet the bound (then
    # it is the answer). The default scenario at 4,500万元 a year spent 53 s proving a
    # plan the overrun bound then set aside.
    with programme.loosened(LOAD_GAP, LOAD_NODES):
        first = programme.solve(warm_start=warm_start)
    outcome = first
    if first.has_solution:
        outcome = risk_bounded(programme, problem, settings.overrun_risk, first, prove)
        if outcome is first:
            # Within the bound already: the expected-cost problem proven as any plan is
            # (from this start); its optimum is bounded in turn, as it may not be within.
            first = programme.solve(warm_start=first.values)
            outcome = first
            if first.has_solution:
                outcome = risk_bounded(programme, problem, settings.overrun_risk, first, prove)
        outcome.expected_plan = first.chosen
    return outcome


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
