"""The Pyomo programme compiled for HiGHS, with designations counted by payment class.

Pyomo's ``LinearStandardFormCompiler`` turns the model into arrays, which are passed to
HiGHS in one call (much faster than row-by-row translation). On the way, one reformulation
that changes no answer:

**Payment classes.** The budget rows are knapsacks over a handful of distinct amounts (20,
50 and 150万元; 45 and 25 for nominations at expected cost). Options that pay the same
amounts in the same years form a class k, counted by an integer column

    paying[k] = Σ_{o ∈ k} designate[o]                        (one link row per class)

and the budget rows are written over the counts, Σ_k pay_{k,t} · paying[k] ≤ B_t. The
feasible plans are the same, but the integrality that makes budgets hard (which mix of
amounts fits the money) now sits in a few dozen integer counts instead of tens of thousands
of binaries, where HiGHS's branching and cuts act on it directly; and a relaxation that
keeps only the counts integer is solved without HiGHS's per-binary MIP set-up (see
``solve.py``). On the default scenario this turns a 60 s time-out at a 0.1% gap into a
proof of optimality in seconds (README, "Performance").

Model space is the Pyomo model's columns and rows; HiGHS space appends the class counts as
columns and the link rows (then any rounding cuts) as rows. Row i < ``base_rows`` is the
same constraint in both spaces.
"""

from __future__ import annotations

import math
import time

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from .highs_quiet import quiet_highs


class HighsModel:
    """A Pyomo allocation model loaded into HiGHS once, re-solvable after bound changes.

    Columns 0..n-1 are ``m.designate[0..n-1]`` in order; other model columns (quota
    shortfalls) follow; class counts come last. Re-solves (a budget frontier) change row
    bounds in place instead of rebuilding and recompiling the model.
    """

    def __init__(self, m: pyo.ConcreteModel):
        started = time.perf_counter()
        repn = LinearStandardFormCompiler().write(
            m, mixed_form=True, set_sense=None, column_order=[m.designate]
        )
        self.columns = repn.columns
        self.n_options = len(m.designate)
        self.n_model = len(self.columns)
        self.maximise = m.value.sense == pyo.maximize
        self.row_of: dict[object, int] = {}
        n_rows = len(repn.rows)
        row_lower = np.full(n_rows, -highspy.kHighsInf)
        row_upper = np.full(n_rows, highspy.kHighsInf)
        for i, (con, kind) in enumerate(repn.rows):
            if kind >= 0:
                row_upper[i] = repn.rhs[i]
            if kind <= 0:
                row_lower[i] = repn.rhs[i]
            self.row_of.setdefault(con, i)
        inf = highspy.kHighsInf
        self.col_lower = np.array([-inf if v.lb is None else v.lb for v in self.columns], float)
        self.col_upper = np.array([inf if v.ub is None else v.ub for v in self.columns], float)
        self.integer = np.array([v.is_binary() or v.is_integer() for v in self.columns], bool)
        n = self.n_model
        self.cost = np.asarray(repn.c.toarray()).ravel() if repn.c.shape[0] else np.zeros(n)
        self.offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
        self.matrix = repn.A.tocsc()  # model space: what the rules say, row by row
        self.base_rows = n_rows
        self.budget_rows = [
            self.row_of[con]
            for name in ("budget_limit", "budget_total")
            for con in getattr(m, name, {}).values()
            if con in self.row_of
        ]
        self.class_of = np.full(n, -1, dtype=int)  # payment class of each model column
        self.class_pay = np.zeros((0, len(self.budget_rows)))
        highs_matrix, count_upper = self._counted_by_class()
        self.n_classes = len(count_upper)
        self.cuts: dict[int, list[tuple[int, int, float]]] = {}  # budget row -> cuts
        self.highs = quiet_highs()
        self._pass(highs_matrix, row_lower, row_upper, count_upper)
        for row in self.budget_rows:
            self._add_rounding_cuts(highs_matrix.tocsr(), row)
        self.compile_seconds = time.perf_counter() - started

    # -- building -------------------------------------------------------------------------

    def _counted_by_class(self) -> tuple[sp.csc_matrix, np.ndarray]:
        """The HiGHS-space matrix: budget rows over class counts, plus one link row per class.

        Returns the matrix and each count's upper bound (its class size). With no budget
        rows, or when classes would not aggregate (amounts all distinct), the model matrix
        is used as it is and there are no counts.
        """
        a = self.matrix
        if not self.budget_rows:
            return a, np.zeros(0)
        budget = a[self.budget_rows, :].toarray()  # few rows × n columns
        paying = np.flatnonzero(np.any(budget != 0, axis=0) & self.integer)
        if len(paying) == 0:
            return a, np.zeros(0)
        pays, klass = np.unique(budget[:, paying].T, axis=0, return_inverse=True)
        klass = klass.ravel()
        if len(pays) * 2 > len(paying):  # hardly any aggregation: not worth the extra rows
            return a, np.zeros(0)
        self.class_of[paying] = klass
        self.class_pay = pays
        n, k = self.n_model, len(pays)
        keep = np.ones(a.shape[0])
        keep[self.budget_rows] = 0.0
        without_budget = sp.diags(keep) @ a  # budget rows emptied: they move to the counts
        rows, cols = np.nonzero(pays.T)
        count_block = sp.csc_matrix(
            (pays.T[rows, cols], (np.asarray(self.budget_rows)[rows], cols)), shape=(a.shape[0], k)
        )
        link = sp.csc_matrix(
            (
                np.concatenate([np.ones(len(paying)), -np.ones(k)]),
                (np.concatenate([klass, np.arange(k)]), np.concatenate([paying, n + np.arange(k)])),
            ),
            shape=(k, n + k),
        )
        upper = np.bincount(klass, minlength=k).astype(float)
        matrix = sp.vstack([sp.hstack([without_budget, count_block]), link], format="csc")
        matrix.eliminate_zeros()
        return matrix, upper

    def _pass(self, matrix, row_lower, row_upper, count_upper) -> None:
        k = len(count_upper)
        lp = highspy.HighsLp()
        lp.num_col_ = matrix.shape[1]
        lp.num_row_ = matrix.shape[0]
        lp.col_cost_ = np.concatenate([self.cost, np.zeros(k)])
        lp.col_lower_ = np.concatenate([self.col_lower, np.zeros(k)])
        lp.col_upper_ = np.concatenate([self.col_upper, count_upper])
        lp.row_lower_ = np.concatenate([row_lower, np.zeros(k)])
        lp.row_upper_ = np.concatenate([row_upper, np.zeros(k)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.sense_ = highspy.ObjSense.kMaximize if self.maximise else highspy.ObjSense.kMinimize
        lp.offset_ = self.offset
        self.highs.passModel(lp)
        self.n_columns = matrix.shape[1]
        self.all_lower = np.asarray(lp.col_lower_, dtype=float)
        self.all_upper = np.asarray(lp.col_upper_, dtype=float)
        self.counts = np.arange(self.n_model, self.n_columns)

    def _add_rounding_cuts(self, csr: sp.csr_matrix, row: int) -> None:
        """Chvátal–Gomory cuts of a budget row: Σ ⌊w_j/k⌋ y_j ≤ ⌊b/k⌋ for k = 2..6.

        With award amounts on a grid (20, 50, 150万元: weights 2, 5, 15 in units of 10), the LP
        spends leftover money on half an award that no combination of whole awards can use.
        These cuts are valid for every integer plan (y ≥ 0 integer and Σ w y ≤ b imply the
        integer left side is ≤ b/k) and close much of that gap at the root. Over class counts
        they are rows of a few dozen entries. Rows whose coefficients are not on a decimal
        grid (scale ≤ 10⁴) get none.
        """
        columns = csr.indices[csr.indptr[row] : csr.indptr[row + 1]]
        values = csr.data[csr.indptr[row] : csr.indptr[row + 1]]
        integral = np.concatenate([self.integer, np.ones(self.n_columns - self.n_model, bool)])
        if len(values) == 0 or np.any(values < 0) or not integral[columns].all():
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
                cut_rhs(upper, scale * 1.0 / divisor, k),
                int(kept.sum()),
                columns[kept].astype(np.int32),
                (weights[kept] // k).astype(float),
            )
            self.cuts[row].append((self.highs.getNumRow() - 1, k, scale / divisor))

    # -- between the two spaces -----------------------------------------------------------

    def lift(self, x: np.ndarray) -> np.ndarray:
        """A model-space point with its class counts appended (HiGHS space)."""
        counts = np.bincount(
            self.class_of[self.class_of >= 0],
            weights=x[self.class_of >= 0],
            minlength=self.n_classes,
        )
        return np.concatenate([x[: self.n_model], counts[: self.n_classes]])

    def row_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The model rows' current bounds (a re-solve may have changed them)."""
        lp = self.highs.getLp()
        rows = self.base_rows
        return np.asarray(lp.row_lower_)[:rows], np.asarray(lp.row_upper_)[:rows]

    def feasible(self, x: np.ndarray) -> bool:
        """Does model-space ``x`` meet every row and column bound (within 1e-7)?"""
        lower, upper = self.row_bounds()
        activity = self.matrix @ x
        in_rows = np.all(activity >= lower - 1e-7) and np.all(activity <= upper + 1e-7)
        in_cols = np.all(x >= self.col_lower - 1e-9) and np.all(x <= self.col_upper + 1e-9)
        return bool(in_rows and in_cols)

    def gain(self, x: np.ndarray) -> float:
        """The objective of model-space ``x`` as a quantity to maximise."""
        value = float(np.dot(self.cost, x[: self.n_model])) + self.offset
        return value if self.maximise else -value

    def set_row_upper(self, constraint: object, upper: float) -> None:
        """Change one row's upper bound (e.g. a budget) for the next solve; its cuts follow."""
        row = self.row_of[constraint]
        lower = self.highs.getLp().row_lower_[row]
        self.highs.changeRowBounds(row, lower, upper)
        for cut, k, factor in self.cuts.get(row, []):
            self.highs.changeRowBounds(cut, -highspy.kHighsInf, cut_rhs(upper, factor, k))

    # -- integrality and bounds -----------------------------------------------------------

    def set_integrality(self, designations: bool, counts: bool) -> None:
        """Declare the model's integer columns and the class counts integer or continuous."""
        for columns, integer in (
            (np.flatnonzero(self.integer), designations),
            (self.counts, counts),
        ):
            if len(columns):
                kind = (
                    highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
                )
                self.highs.changeColsIntegrality(
                    len(columns), columns.astype(np.int32), np.array([kind] * len(columns))
                )

    def fix(self, columns: np.ndarray, values: np.ndarray) -> None:
        if len(columns):
            self.highs.changeColsBounds(len(columns), columns.astype(np.int32), values, values)

    def restore_bounds(self) -> None:
        columns = np.arange(self.n_columns, dtype=np.int32)
        self.highs.changeColsBounds(len(columns), columns, self.all_lower, self.all_upper)

    def load_values(self, m: pyo.ConcreteModel, x: np.ndarray) -> None:
        """Copy model-space values into the Pyomo variables (for reading e.g. shortfalls)."""
        for var, value in zip(self.columns, x[: self.n_model], strict=True):
            var.set_value(float(value), skip_validation=True)


def cut_rhs(upper: float, factor: float, k: int) -> float:
    """⌊⌊b · factor⌋ / k⌋: the rounded right-hand side of a budget cut (tolerant of 1e-9 noise)."""
    if not math.isfinite(upper):
        return highspy.kHighsInf
    return float(math.floor(math.floor(upper * factor + 1e-9) / k))
