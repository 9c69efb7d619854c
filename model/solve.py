"""Solving the programme: relaxation first, then only as much integrality as the answer needs.

The allocation has many small stacking rows (one designation per candidate and matter) and a
few coupling rows (budgets, quotas, balance), so its LP relaxation is nearly always integral
or within a hair of the optimum, while HiGHS's MIP set-up alone can take tens of seconds on
100k binaries (README, "Performance"). The model reaches HiGHS with designations counted by
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
import pyomo.environ as pyo

from .count_rounding import resolve_holding, rounded_plan
from .highs_model import INTEGRALITY_TOLERANCE, HighsModel
from .highs_quiet import use_threads
from .options import AllocationProblem
from .risk_loads import LOAD_GAP, LOAD_NODES
from .risk_solve import risk_bounded
from .settings import AllocationSettings
from .status import PLAN_STATUSES, Status

log = logging.getLogger(__name__)


# The deterministic budget of work of one MIP, in branch-and-bound nodes × columns (a node
# costs about a simplex pass over the columns): MIP_WORK / columns nodes, at least
# MIN_NODES and at most MAX_NODES. The answer then never depends on the clock. Measured on
# the default scenario at 1.2-1.3 × its budget (18,635 columns, the hardest seen): 4,008
# nodes proved the 1e-4 gap (24-35 s with the machine shared), while the 60 s clock that
# stood here before stopped the same solve at 107,375.9 instead of 107,380.1 when the
# machine was busy. The budget (5,366 nodes there) lets such solves end as they would alone.
MIP_WORK = 100_000_000
MIN_NODES, MAX_NODES = 500, 100_000

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
# with it, 0.64 s with the full MIP, their plans within 0.1% of each other. (README,
# "Performance".)
FULL_MIP_BINARIES = 6_000

# Nodes the counts MIP of a proof on a larger model gets before the full MIP takes over from
# its plan (``HighsProgramme.counts_then_full``). The counts MIP either proves within a few
# hundred nodes or stalls: 18 applied-tight instances of 6,200-8,200 binaries needed 1-861
# nodes (0.1-13 s), and one ran its whole budget (12,500 nodes, 87 s) to stop unproven,
# which the full MIP proved in 3 s.
COUNTS_NODES = 2_000

# Whether the full MIP of a proof runs HiGHS's root reduced-cost heuristic
# (``HighsProgramme._mip``), a sub-MIP over the columns of small reduced cost. Off: on the
# issue's 50-candidate Jiaxing table at 600万元 it was 0.24 s of the MIP's 0.41 s and found
# nothing the next node did not (whole process 1.63-1.71 → 1.38-1.51 s); on 9 Jiaxing
# tables of 50-120 candidates that need the full MIP, 13.6 → 12.3 s in all, faster on 7,
# slower on 2 (0.82 → 2.17 s, 1.10 → 1.48 s); 24 applied-tight instances of 1,000
# candidates unchanged (8.77 → 8.73 s). The plans of the default, the examples and the
# simulation came out identical. Loosened solves (loaded rows, node-limited rounds) keep it.
FULL_MIP_ROOT_REDUCED_COST = False

# Whether the counts MIP runs HiGHS's feasibility jump (``HighsProgramme._mip``).
COUNTS_FEASIBILITY_JUMP = False

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


class HighsProgramme(HighsModel):
    """The compiled programme and the strategy of the module docstring."""

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

    def _round_and_repair(
        self, x: np.ndarray, reduced: np.ndarray, limit: int = 20_000
    ) -> np.ndarray:
        """The LP solution rounded down, then improved greedily: binaries at 0 whose reduced
        cost is smallest are switched on while every row stays within its upper bound.

        The same columns in the same order with the same test as a plain loop over every
        column's entries (``tests/test_solve_paths.py`` keeps that loop as the reference),
        but a column is looked at only if it can still fit: in a row where no column that
        may be switched on has a negative entry, the activity only grows, so a column that
        does not fit there now never will. Such columns are marked up front, and again in
        the large rows a switched-on column touches, with numpy; measured on the
        simulation's rounds (6,000 columns of which 0-1 get switched on, nearly all shut
        out by a full budget row once the first is on) 4.5 → 1 ms a call.
        """
        rounded = np.where(self.integer, np.floor(x + INTEGRALITY_TOLERANCE), x)
        gain = self.cost if self.maximise else -self.cost
        off = np.flatnonzero(self.integer & (rounded < 0.5) & (gain > 0) & (self.col_upper > 0.5))
        order = off[np.argsort(np.abs(reduced[off]), kind="stable")][:limit]
        if len(order) == 0:
            return rounded
        matrix = self.matrix
        activity = matrix @ rounded
        upper = self.row_upper + 1e-9
        index, value, position = _entries(matrix, order)
        growing = np.ones(len(upper), dtype=bool)  # rows whose activity can only grow
        growing[index[value < 0]] = False
        # the same float sums as the test below: activity[i] + value <= upper[i]
        doomed = np.zeros(len(order) + 1, dtype=bool)
        doomed[position[growing[index] & (activity[index] + value > upper[index])]] = True
        doomed[-1] = False  # a sentinel: the walk below ends there
        # Rows of more entries than this are marked again with numpy when they move; the
        # test is left to find the others (a numpy call costs more than a few Python steps).
        large = ((np.bincount(index, minlength=len(upper)) > 32) & growing).tolist()
        by_row = None
        act, up = activity.tolist(), upper.tolist()
        indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
        p = -1
        while True:
            p += 1 + int(np.argmin(doomed[p + 1 :]))  # the next column not shut out
            if p == len(order):
                break
            j = int(order[p])
            rows_j = indices[indptr[j] : indptr[j + 1]].tolist()
            values_j = data[indptr[j] : indptr[j + 1]].tolist()
            if not all(act[i] + v <= up[i] for i, v in zip(rows_j, values_j, strict=True)):
                continue
            for i, v in zip(rows_j, values_j, strict=True):
                act[i] += v
            rounded[j] = 1.0
            for i in rows_j:
                if large[i]:
                    if by_row is None:  # every column's entries grouped by row, once
                        by_row = _by_row(index, position, value, len(up))
                    members, amounts = by_row(i)
                    doomed[members[act[i] + amounts > up[i]]] = True
        return rounded

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
        # relaxation's time, at every size measured (README, "Performance").
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
            return self._outcome(Status.OPTIMAL, np.round(x), z_lp, z_lp, started, status, "lp")
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

    def mip_phases(
        self,
        started: float,
        time_left: float,
        warm_start: np.ndarray | None,
        node_limit: int | None = None,
    ) -> SolveOutcome:
        """Steps 4 and 5 of the module docstring on the counted instance as it stands (with
        whatever rows were appended, e.g. risk cuts): counts integer, then everything;
        each MIP stops after ``node_limit`` branch-and-bound nodes if given."""
        outcome = self._mip(
            started, time_left, warm_start, designations=False, method="counts", nodes=node_limit
        )
        if outcome.status == Status.FRACTIONAL:
            left = self.settings.time_limit - (time.perf_counter() - started)
            outcome = self._mip(
                started, left, outcome.values, designations=True, method="mip", nodes=node_limit
            )
        return outcome

    def counts_then_full(
        self, started: float, time_left: float, warm_start: np.ndarray | None
    ) -> SolveOutcome:
        """Steps 4 and 5 of a proof on a large model: the counts MIP for at most
        ``COUNTS_NODES`` nodes; if it stops there unproven (or without a plan), the full MIP
        from its plan, under the budget of work a MIP gets. The answer is the better plan of
        the two against the tighter of their bounds (each a valid bound on every plan: the
        counts MIP relaxes the full one)."""
        budget = self._node_budget()
        cap = min(budget, COUNTS_NODES)
        # Without RINS: its sub-MIPs took half of such a proof's time (4.7 of 9.6 s on a
        # 10,000-candidate applied-tight instance) and the proof needs the bound, not more
        # plans. 18 applied-tight instances of 6,200-8,200 binaries: 98 → 67 s in all,
        # faster on 13, slower on 2 (4.4 → 6.4 s, 2.1 → 2.8 s); the default scenario without
        # its overrun bound at 0.9-1.6 × its budget: 3.1-32 s → 1.8-28 s, at 1.2 × 27 → 8 s.
        # The full MIP keeps it (on small models neither way was faster).
        counts = self._mip(
            started,
            time_left,
            warm_start,
            designations=False,
            method="counts",
            nodes=cap,
            rins=False,
        )
        left = self.settings.time_limit - (time.perf_counter() - started)
        if counts.status == Status.FRACTIONAL:
            return self._mip(started, left, counts.values, designations=True, method="mip")
        stalled = counts.status in (Status.WORK_LIMIT, Status.NO_SOLUTION)
        if not stalled or cap == budget or left <= 0:
            return counts
        log.info("counts MIP stopped at %d nodes: the full MIP from its plan", cap)
        full = self._mip(started, left, counts.values, designations=True, method="counts, then mip")
        if not counts.has_solution:
            return full
        plan = self.better(full.values if full.has_solution else None, counts.values)
        bounds = [b for b in (counts.solver_bound, full.solver_bound) if b is not None]
        bound = (min if self.maximise else max)(bounds) if bounds else None
        if plan is not None and self.within_gap(plan, bound):
            state = Status.OPTIMAL
        else:
            state = full.status if full.status == Status.TIME_LIMIT else Status.WORK_LIMIT
        return self._outcome(
            state, plan, self.objective(plan), bound, started, full.termination, full.method
        )

    def _node_budget(self) -> int:
        """Nodes a MIP of the counted instance gets by default: ``MIP_WORK`` / its columns,
        within ``MIN_NODES`` and ``MAX_NODES``."""
        columns = max(1, self.counted.highs.getNumCol())
        return min(MAX_NODES, max(MIN_NODES, MIP_WORK // columns))

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

    def _mip(
        self,
        started: float,
        time_left: float,
        warm_start: np.ndarray | None,
        designations: bool,
        method: str,
        nodes: int | None = None,
        rins: bool = True,
    ) -> SolveOutcome:
        """One HiGHS MIP: counts integer, designations integer only if ``designations``;
        without HiGHS's RINS heuristic unless ``rins``.

        With designations continuous, a plan that comes back fractional is returned with
        status ``fractional`` (and its rounded repair in ``values``, when feasible, as the
        next step's start); its bound is still a valid bound.
        """
        counted = self.counted
        self._reset_options(counted.highs, time_left)
        if not designations:
            # Reduced-cost fixing has already removed what presolve would find here, and
            # HiGHS's MIP presolve cost more than it saved on these models (README,
            # "Performance"); the full MIP keeps it.
            counted.highs.setOptionValue("presolve", "off")
            # Feasibility jump (HiGHS 1.12+) searches over the integer columns before the
            # root; here all but a few columns are continuous, and it only took time: 20-30
            # ms of a 70-100 ms root solve on the simulation's rounds, whose plans came out
            # the same without it (the full MIP, all binaries, keeps it).
            counted.highs.setOptionValue(
                "mip_heuristic_run_feasibility_jump", COUNTS_FEASIBILITY_JUMP
            )
        if not rins:
            counted.highs.setOptionValue("mip_heuristic_run_rins", False)
        nodes = nodes if nodes is not None else self.node_limit
        if nodes is None:
            nodes = self._node_budget()
            if designations and not FULL_MIP_ROOT_REDUCED_COST:
                counted.highs.setOptionValue("mip_heuristic_run_root_reduced_cost", False)
        counted.highs.setOptionValue("mip_max_nodes", nodes)
        counted.set_integrality(designations=designations, counts=True)
        if warm_start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = counted.lift(np.asarray(warm_start, dtype=float)).tolist()
            solution.value_valid = True
            counted.highs.setSolution(solution)
        status, values, objective, bound = self._run(counted.highs)
        if status == highspy.HighsModelStatus.kInfeasible:
            return self._outcome(Status.INFEASIBLE, None, None, None, started, status, method)
        if status == highspy.HighsModelStatus.kModelEmpty:
            return self._outcome(
                Status.OPTIMAL, np.zeros(self.n_model), 0.0, 0.0, started, status, method
            )
        x = None if values is None else values[: self.n_model]
        if x is not None and not self.integral(x) and not designations:
            # Whole counts with fractional designations: the relaxation re-solved with every
            # class count held where this MIP put them is usually whole (the assignment
            # structure, count_rounding.py), and worth at least x. Measured: the benchmark's
            # generous family at 1,000 candidates (continuous scores) then ends here in
            # 0.8 s, where the full MIP's sub-MIP took 4 s more to find the same plan.
            held = self._held(x)
            if held is not None:
                state = self._plan_state(status)
                method = f"{method}+held"
                return self._outcome(
                    state, held, self.objective(held), bound, started, status, method
                )
        if x is not None and not self.integral(x):
            repaired = self._round_and_repair(x, np.zeros(self.n_model))
            start = repaired if self.feasible(repaired) else warm_start
            outcome = self._outcome(
                Status.FRACTIONAL, None, objective, bound, started, status, method
            )
            outcome.values = start
            return outcome
        if x is not None:
            state = self._plan_state(status)
        elif status in (
            highspy.HighsModelStatus.kTimeLimit,
            highspy.HighsModelStatus.kSolutionLimit,  # HiGHS's word for its node limit
        ):
            state = Status.NO_SOLUTION  # the clock or the budget of work ran out first
        else:
            state = Status.ERROR
        return self._outcome(state, x, objective, bound, started, status, method)

    @staticmethod
    def _plan_state(status: highspy.HighsModelStatus) -> Status:
        """The status of a plan HiGHS returned: proven within the gap, or stopped by the
        clock, or by a node limit (a deterministic budget of work)."""
        if status == highspy.HighsModelStatus.kOptimal:
            return Status.OPTIMAL
        if status == highspy.HighsModelStatus.kTimeLimit:
            return Status.TIME_LIMIT
        return Status.WORK_LIMIT

    def _held(self, x: np.ndarray) -> np.ndarray | None:
        """A whole plan with the class counts of ``x`` (a counts-MIP point with fractional
        designations), from the relaxation re-solved with the counts held, if it is whole,
        meets every row and is worth at least ``x``; else None."""
        if self.classes is None:
            return None
        counts = np.round(self.classes.counts(x))
        plan = resolve_holding(self, counts)
        if plan is None or not self.feasible(plan):
            return None
        if self.gain(plan) < self.gain(x) - 1e-6 * max(1.0, abs(self.gain(x))):
            return None
        return plan

    def _outcome(self, state, x, objective, bound, started, status, method) -> SolveOutcome:
        chosen = np.array([], dtype=int)
        values = None
        if x is not None and state in PLAN_STATUSES:
            values = np.round(np.asarray(x, dtype=float))
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


def _entries(matrix, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of CSC ``matrix``'s ``columns``: their rows, values, and the position in
    ``columns`` each belongs to."""
    first = matrix.indptr[columns]
    lengths = matrix.indptr[columns + 1] - first
    ends = np.cumsum(lengths)
    entry = np.repeat(first - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)
    position = np.repeat(np.arange(len(columns)), lengths)
    return matrix.indices[entry], matrix.data[entry], position


def _by_row(index: np.ndarray, position: np.ndarray, value: np.ndarray, rows: int):
    """A function of a row giving the positions and values of the entries in it."""
    # a stable sort of 16-bit keys is a radix sort: 10× faster than of the int32 rows
    keys = index.astype(np.uint16) if rows <= 1 << 16 else index
    sort = np.argsort(keys, kind="stable")
    start = np.searchsorted(index[sort], np.arange(rows + 1)).tolist()
    position, value = position[sort], value[sort]

    def entries(row: int) -> tuple[np.ndarray, np.ndarray]:
        return position[start[row] : start[row + 1]], value[start[row] : start[row + 1]]

    return entries


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
