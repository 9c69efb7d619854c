"""Steps 4 and 5 of the solve (``solve.py``'s docstring): the MIPs on the counted instance.

The counts MIP (class counts integer, designations continuous) and the full MIP (everything
integer) in one HiGHS call each (``_mip``), and the ways they follow each other:
``mip_phases`` (the counts MIP, then the full MIP if a designation is still fractional; the
loops that need plans under a node limit) and ``counts_then_full`` (a proof on a large
model: the counts MIP for ``COUNTS_NODES`` nodes, then the full MIP from its plan); the
budget of nodes a MIP gets (``_node_budget``), the plan of whole counts (``_held``), and the
constants that set their HiGHS options, with the measurements behind them.

A mixin of ``solve.HighsProgramme`` rather than functions taking the programme: the code
moved here unchanged, so these stay methods of the programme, called as before
(``self._mip`` in the strategy, ``programme.mip_phases`` in ``risk_solve.py``, the tests'
patch of ``HighsProgramme._held``), and read ``self`` as they did. They use the compiled
model (``counted``, ``classes``, ``n_model``, ``maximise``, ``integral``, ``feasible``,
``gain``, ``objective``), the programme's ``settings`` and ``node_limit``, and its
``_reset_options``, ``_run``, ``_outcome``, ``_round_and_repair``, ``better`` and
``within_gap``; the strategy that chooses among these MIPs (``HighsProgramme.solve``, with
``FULL_MIP_BINARIES``), the relaxation and the outcome stay in ``solve.py``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import highspy
import numpy as np

from .count_rounding import resolve_holding
from .status import Status

if TYPE_CHECKING:  # solve.py imports this module
    from .solve import SolveOutcome

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


class MipStage:
    """The MIPs of ``HighsProgramme`` (mixed into it; see the module docstring)."""

    def mip_phases(
        self,
        started: float,
        time_left: float,
        warm_start: np.ndarray | None,
        node_limit: int | None = None,
    ) -> SolveOutcome:
        """Steps 4 and 5 of ``solve.py``'s docstring on the counted instance as it stands (with
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
            # HiGHS's MIP presolve cost more than it saved on these models
            # (docs/performance.md); the full MIP keeps it.
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
