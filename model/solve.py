"""Solving the programme: Pyomo's standard form handed to HiGHS, relaxation first.

The allocation has many small set-packing rows and a few coupling rows (budgets, quotas),
so its LP relaxation is nearly always integral or within a hair of the optimum, while
HiGHS's MIP set-up alone can take tens of seconds on 100k binaries (see README,
"Performance"). So:

1. the Pyomo model is compiled to arrays by Pyomo's ``LinearStandardFormCompiler`` and
   passed to HiGHS in one call (much faster than row-by-row translation);
2. the LP relaxation is solved (interior point with crossover: a vertex, so duals are exact);
   if its solution is integral it is optimal, with a gap of zero;
3. otherwise the LP solution rounded down (when that meets every row) is an incumbent, and
   every binary whose reduced cost exceeds the LP bound minus that incumbent is fixed at its
   LP value (it cannot change in any better plan); the remaining MIP is solved by HiGHS from
   that incumbent. The reported bound accounts for the fixing, so it stays a proof.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
import time
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from .settings import AllocationSettings

log = logging.getLogger(__name__)

INTEGRALITY_TOLERANCE = 1e-6
LARGE_LP = 20_000  # columns above which the interior point method beats simplex here


_STDOUT_LOCK = threading.Lock()


def quiet_highs() -> highspy.Highs:
    """A new HiGHS instance with logging off, its start-up banner kept out of stdout.

    HiGHS 1.16 writes its copyright banner from C++ to file descriptor 1 as the instance is
    constructed, before any option can be set (ERGO-Code/HiGHS#1932, #2749); that would corrupt
    ``liangye ... --json``. So the descriptor points at /dev/null for the construction only.
    """
    with _STDOUT_LOCK:
        sys.stdout.flush()
        with contextlib.ExitStack() as undo:
            try:
                saved = os.dup(1)
            except OSError:  # no descriptor 1 (embedded interpreters): nothing to protect
                saved = None
            if saved is not None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.close(devnull)
                undo.callback(os.close, saved)
                undo.callback(os.dup2, saved, 1)
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
    return highs


@dataclass
class SolveOutcome:
    """What the solver said: status in the user's words, values, bound, timing."""

    status: str  # optimal | time_limit | infeasible | no_solution | error
    chosen: np.ndarray  # indices of options set to 1 (empty unless a solution exists)
    solver_objective: float | None  # in the model's own sense, tie-break included
    solver_bound: float | None
    seconds: float
    termination: str
    method: str = ""  # "lp" (relaxation was integral), "mip", "mip+fixing"
    fixed: int = 0  # binaries fixed by reduced cost before the MIP

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "time_limit")


class HighsProgramme:
    """A Pyomo allocation model loaded into HiGHS once, solvable again after bound changes.

    Columns 0..n-1 are ``m.designate[0..n-1]`` in order; further columns (quota shortfalls)
    follow. Re-solves (a budget frontier, yearly rounds) change row bounds in place instead
    of rebuilding and recompiling the model.
    """

    def __init__(self, m: pyo.ConcreteModel, settings: AllocationSettings):
        self.settings = settings
        started = time.perf_counter()
        repn = LinearStandardFormCompiler().write(
            m, mixed_form=True, set_sense=None, column_order=[m.designate]
        )
        self.columns = repn.columns
        self.n_options = len(m.designate)
        self.sense = m.value.sense
        self.row_of: dict[object, int] = {}
        lower = np.full(len(repn.rows), -highspy.kHighsInf)
        upper = np.full(len(repn.rows), highspy.kHighsInf)
        for i, (con, kind) in enumerate(repn.rows):
            if kind >= 0:
                upper[i] = repn.rhs[i]
            if kind <= 0:
                lower[i] = repn.rhs[i]
            self.row_of.setdefault(con, i)
        n = len(self.columns)
        col_lower = np.array(
            [v.lb if v.lb is not None else -highspy.kHighsInf for v in self.columns], dtype=float
        )
        col_upper = np.array(
            [v.ub if v.ub is not None else highspy.kHighsInf for v in self.columns], dtype=float
        )
        self.integer = np.array([v.is_binary() or v.is_integer() for v in self.columns], dtype=bool)
        cost = np.asarray(repn.c.toarray()).ravel() if repn.c.shape[0] else np.zeros(n)
        matrix = repn.A.tocsc()
        self.highs = quiet_highs()
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = len(repn.rows)
        lp.col_cost_ = cost
        lp.col_lower_ = col_lower
        lp.col_upper_ = col_upper
        lp.row_lower_ = lower
        lp.row_upper_ = upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.sense_ = (
            highspy.ObjSense.kMaximize if self.sense == pyo.maximize else highspy.ObjSense.kMinimize
        )
        lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
        self.highs.passModel(lp)
        self.col_lower, self.col_upper = col_lower, col_upper
        self.cost = cost
        self.matrix = matrix
        self.maximise = self.sense == pyo.maximize
        self.cuts: dict[int, list[tuple[int, int, float]]] = {}  # budget row -> (cut row, k, scale)
        budget_rows = [
            self.row_of[con]
            for name in ("budget_limit", "budget_total")
            for con in getattr(m, name, {}).values()
            if con in self.row_of
        ]
        self.base_rows = self.highs.getNumRow()  # cut rows follow the model's own rows
        rows_major = matrix.tocsr()
        for row in budget_rows:
            self._add_rounding_cuts(rows_major, row)
        self.compile_seconds = time.perf_counter() - started

    def _add_rounding_cuts(self, csr, row: int) -> None:
        """Chvátal–Gomory cuts of a budget row: Σ ⌊w_j/k⌋ x_j ≤ ⌊b/k⌋ for k = 2..6.

        With award amounts on a grid (20, 50, 150万元: weights 2, 5, 15 in units of 10), the LP
        spends leftover money on half an award that no combination of whole awards can use;
        HiGHS then needs thousands of nodes to prove it (58 s on a 9,000-binary instance).
        These cuts are valid for every integer plan (x ≥ 0 integer and Σ w x ≤ b imply the
        integer left side is ≤ b/k) and close that gap at the root (0.3 s, one node).
        Rows whose coefficients are not on a decimal grid (scale ≤ 10⁴) get none.
        """
        columns = csr.indices[csr.indptr[row] : csr.indptr[row + 1]]
        values = csr.data[csr.indptr[row] : csr.indptr[row + 1]]
        if len(values) == 0 or np.any(values < 0) or not self.integer[columns].all():
            return
        for scale in (1, 10, 100, 1000, 10000):
            weights = np.round(values * scale)
            if np.allclose(weights, values * scale, rtol=0, atol=1e-6):
                break
        else:
            return
        divisor = int(np.gcd.reduce(weights.astype(np.int64)))
        weights = (weights // divisor).astype(np.int64)
        upper = self.highs.getLp().row_upper_[row]
        self.cuts[row] = []
        for k in range(2, 7):
            kept = weights // k > 0
            self.highs.addRow(
                -highspy.kHighsInf,
                _cut_rhs(upper, scale * 1.0 / divisor, k),
                int(kept.sum()),
                columns[kept].astype(np.int32),
                (weights[kept] // k).astype(float),
            )
            self.cuts[row].append((self.highs.getNumRow() - 1, k, scale / divisor))

    def set_row_upper(self, constraint: object, upper: float) -> None:
        """Change one row's upper bound (e.g. a budget) for the next solve; its cuts follow."""
        row = self.row_of[constraint]
        lower = self.highs.getLp().row_lower_[row]
        self.highs.changeRowBounds(row, lower, upper)
        for cut, k, factor in self.cuts.get(row, []):
            self.highs.changeRowBounds(cut, -highspy.kHighsInf, _cut_rhs(upper, factor, k))

    def _reset_options(self) -> None:
        self.highs.resetOptions()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("random_seed", self.settings.seed)
        if self.settings.threads:
            self.highs.setOptionValue("threads", self.settings.threads)

    def _set_integrality(self, integer: bool) -> None:
        columns = np.flatnonzero(self.integer).astype(np.int32)
        if len(columns):
            kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
            self.highs.changeColsIntegrality(len(columns), columns, np.array([kind] * len(columns)))

    def _restore_bounds(self) -> None:
        columns = np.arange(len(self.columns), dtype=np.int32)
        self.highs.changeColsBounds(len(columns), columns, self.col_lower, self.col_upper)

    def _row_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lp = self.highs.getLp()  # current bounds: a re-solve may have changed them
        rows = self.base_rows  # the model's rows; cuts hold for every integer point anyway
        return np.asarray(lp.row_lower_)[:rows], np.asarray(lp.row_upper_)[:rows]

    def _feasible(self, x: np.ndarray) -> bool:
        lower, upper = self._row_bounds()
        activity = self.matrix @ x
        in_rows = np.all(activity >= lower - 1e-7) and np.all(activity <= upper + 1e-7)
        in_columns = np.all(x >= self.col_lower - 1e-9) and np.all(x <= self.col_upper + 1e-9)
        return bool(in_rows and in_columns)

    def _gain(self, x: np.ndarray) -> float:
        """The objective of ``x`` as a quantity to maximise."""
        value = float(np.dot(self.cost, x))
        return value if self.maximise else -value

    def _round_and_repair(
        self, x: np.ndarray, reduced: np.ndarray, limit: int = 20_000
    ) -> np.ndarray:
        """The LP solution rounded down, then improved greedily: binaries at 0 whose reduced
        cost is smallest are switched on while every row stays within its bounds."""
        rounded = np.where(self.integer, np.floor(x + INTEGRALITY_TOLERANCE), x)
        _, upper = self._row_bounds()
        activity = self.matrix @ rounded
        gain = self.cost if self.maximise else -self.cost
        start, index, value = self.matrix.indptr, self.matrix.indices, self.matrix.data
        off = np.flatnonzero(self.integer & (rounded < 0.5) & (gain > 0) & (self.col_upper > 0.5))
        for j in off[np.argsort(np.abs(reduced[off]), kind="stable")][:limit]:
            rows = index[start[j] : start[j + 1]]
            after = activity[rows] + value[start[j] : start[j + 1]]
            if np.all(after <= upper[rows] + 1e-9):
                activity[rows] = after
                rounded[j] = 1.0
        return rounded

    def solve(self, warm_start: np.ndarray | None = None) -> SolveOutcome:
        """Solve to the settings' gap and time limit; see the module docstring for the method."""
        started = time.perf_counter()
        settings = self.settings
        if not self.integer.any():
            return self._solve_mip(started, None, "lp")
        # 1. the relaxation
        self._reset_options()
        self._set_integrality(False)
        if len(self.columns) > LARGE_LP:
            self.highs.setOptionValue("solver", "ipm")
            self.highs.setOptionValue("run_crossover", "on")
        self.highs.setOptionValue("time_limit", settings.time_limit)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            self._set_integrality(True)
            return self._outcome("infeasible", None, None, None, started, status, "lp")
        if status != highspy.HighsModelStatus.kOptimal:
            self._set_integrality(True)
            return self._solve_mip(started, warm_start, "mip")
        solution = self.highs.getSolution()
        x = np.asarray(solution.col_value)
        z_lp = self.highs.getInfo().objective_function_value
        fractional = self.integer & (np.abs(x - np.round(x)) > INTEGRALITY_TOLERANCE)
        self._set_integrality(True)
        if not fractional.any():
            return self._outcome("optimal", np.round(x), z_lp, z_lp, started, status, "lp")
        # 2. an incumbent from the LP, and a proof when it is already within the gap
        reduced = np.abs(np.asarray(solution.col_dual))
        incumbent = self._round_and_repair(x, reduced)
        if not self._feasible(incumbent):
            incumbent = None
        better = incumbent is None or (
            warm_start is not None and self._gain(warm_start) > self._gain(incumbent)
        )
        if warm_start is not None and better and self._feasible(warm_start):
            incumbent = warm_start
        fixed = 0
        if incumbent is not None:
            z_inc = float(np.dot(self.cost, incumbent))
            gap = abs(z_lp - z_inc) / max(abs(z_inc), 1e-9)
            if gap <= settings.mip_gap:
                return self._outcome(
                    "optimal", incumbent, z_inc, z_lp, started, status, "lp+rounding"
                )
            # 3. reduced-cost fixing: a binary whose reduced cost exceeds the distance from the
            # LP bound to the incumbent keeps its LP value in every better plan.
            slack = abs(z_lp - z_inc) + 1e-9 * max(1.0, abs(z_lp))
            to_fix = np.flatnonzero(self.integer & ~fractional & (reduced > slack))
            if len(to_fix):
                values = np.round(x[to_fix])
                self.highs.changeColsBounds(len(to_fix), to_fix.astype(np.int32), values, values)
                fixed = len(to_fix)
        outcome = self._solve_mip(started, incumbent, "mip+fixing" if fixed else "mip", fixed)
        if fixed:
            self._restore_bounds()
        return outcome

    def _solve_mip(
        self, started: float, warm_start: np.ndarray | None, method: str, fixed: int = 0
    ) -> SolveOutcome:
        settings = self.settings
        self._reset_options()
        remaining = max(0.1, settings.time_limit - (time.perf_counter() - started))
        self.highs.setOptionValue("time_limit", remaining)
        self.highs.setOptionValue("mip_rel_gap", settings.mip_gap)
        if warm_start is not None:
            self.highs.setSolution(_solution(warm_start))
        self.highs.run()
        status = self.highs.getModelStatus()
        info = self.highs.getInfo()
        has_solution = info.primal_solution_status == 2
        x = np.asarray(self.highs.getSolution().col_value) if has_solution else None
        objective = info.objective_function_value if has_solution else None
        bound = info.mip_dual_bound if info.mip_node_count >= 0 else objective
        if status == highspy.HighsModelStatus.kOptimal:
            state = "optimal"
        elif status == highspy.HighsModelStatus.kInfeasible:
            state = "infeasible"
        elif status == highspy.HighsModelStatus.kModelEmpty:
            state, x, objective, bound = "optimal", np.zeros(0), 0.0, 0.0
        elif has_solution:
            state = "time_limit"
        else:
            state = "no_solution" if status == highspy.HighsModelStatus.kTimeLimit else "error"
        outcome = self._outcome(state, x, objective, bound, started, status, method)
        outcome.fixed = fixed
        return outcome

    def _outcome(self, state, x, objective, bound, started, status, method) -> SolveOutcome:
        chosen = np.array([], dtype=int)
        if x is not None and state in ("optimal", "time_limit"):
            chosen = np.flatnonzero(np.asarray(x)[: self.n_options] > 0.5)
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
        )

    def load_values(self, m: pyo.ConcreteModel) -> None:
        """Copy the last solution's values into the Pyomo variables (for reading e.g. shortfalls)."""
        values = np.asarray(self.highs.getSolution().col_value)
        for var, value in zip(self.columns, values, strict=True):
            var.set_value(float(value), skip_validation=True)


def _cut_rhs(upper: float, factor: float, k: int) -> float:
    """⌊⌊b · factor⌋ / k⌋: the rounded right-hand side of a budget cut (tolerant of 1e-9 noise)."""
    if not math.isfinite(upper):
        return highspy.kHighsInf
    return float(math.floor(math.floor(upper * factor + 1e-9) / k))


def _solution(x: np.ndarray) -> highspy.HighsSolution:
    solution = highspy.HighsSolution()
    solution.col_value = list(map(float, x))
    solution.value_valid = True
    return solution


def solve_model(m: pyo.ConcreteModel, settings: AllocationSettings) -> SolveOutcome:
    """Solve ``m`` once (compile, relaxation first, MIP if needed); values loaded into ``m``.

    Never reads a solution without checking the status first; on a time limit the best
    plan found so far is returned with status ``time_limit``.
    """
    started = time.perf_counter()
    if len(m.designate) == 0 and not any(True for _ in m.component_data_objects(pyo.Var)):
        return SolveOutcome("optimal", np.array([], dtype=int), 0.0, 0.0, 0.0, "empty", "lp")
    programme = HighsProgramme(m, settings)
    outcome = programme.solve()
    if outcome.has_solution:
        programme.load_values(m)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
