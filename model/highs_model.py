"""The Pyomo programme compiled for HiGHS: as stated for the relaxation, and with
designations counted by payment class for the integer phases.

Pyomo's ``LinearStandardFormCompiler`` turns the model into arrays, which are passed to
HiGHS in one call (much faster than row-by-row translation). The relaxation is solved on
the model as stated (``HighsModel.relaxation``). The integer phases use one reformulation
that changes no answer (``HighsModel.counted``, built only when the relaxation is not
already integral):

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
proof of optimality in seconds (README, "Performance"). The relaxation itself is faster
without the reformulation (its link rows are dense), hence two HiGHS instances.

Model space is the Pyomo model's columns and rows. The counted instance appends the class
counts as columns and the link rows, then rounding cuts, as rows; a model row keeps its
index in both. The relaxation appends its rounding cuts and, when count rounding first
needs them, free rows summing each payment class (``count_rounding.py``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from .highs_quiet import quiet_highs

CUTS_IN_RELAXATION = 20_000  # columns up to which the relaxation carries rounding cuts
INTEGRALITY_TOLERANCE = 1e-6


class HighsModel:
    """A Pyomo allocation model loaded into HiGHS once, re-solvable after bound changes.

    Columns 0..n-1 are ``m.designate[0..n-1]`` in order; other model columns (quota
    shortfalls) follow. Re-solves (a budget frontier) change row bounds in place instead of
    rebuilding and recompiling the model.
    """

    def __init__(self, m: pyo.ConcreteModel):
        started = time.perf_counter()
        repn = _compile(m)
        self.columns = repn.columns
        self.n_options = len(m.designate)
        self.n_model = len(self.columns)
        # What each designation pays and with which chance (programme.payment_tags): payment
        # classes keep apart options that differ in it.
        self.tags = np.asarray(getattr(m, "class_tags", np.zeros(self.n_options)), dtype=float)
        self.maximise = m.value.sense == pyo.maximize
        self.row_of: dict[object, int] = {}
        n_rows = len(repn.rows)
        self.row_lower = np.full(n_rows, -highspy.kHighsInf)
        self.row_upper = np.full(n_rows, highspy.kHighsInf)
        for i, (con, kind) in enumerate(repn.rows):
            if kind >= 0:
                self.row_upper[i] = repn.rhs[i]
            if kind <= 0:
                self.row_lower[i] = repn.rhs[i]
            self.row_of.setdefault(con, i)
        self.col_lower, self.col_upper, self.integer = _column_bounds(m, self.columns)
        n = self.n_model
        self.cost = np.asarray(repn.c.toarray()).ravel() if repn.c.shape[0] else np.zeros(n)
        self.offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
        self.matrix = repn.A.tocsc()  # model space: what the rules say, row by row
        self.budget_rows = self.rows_of(m, "budget_limit", "budget_total")
        # Rows like budget rows whose coefficients are loaded for risk (risk_loads.py): over
        # the class counts in the counted instance, but without rounding cuts (those would
        # not survive a change of coefficients).
        self.load_rows = self.rows_of(m, "risk_load")
        self.money_rows = self.budget_rows + self.load_rows
        self.risk_rows = {
            label: self.row_of[con]
            for label, con in getattr(m, "risk_load", {}).items()
            if con in self.row_of
        }
        self.relaxation = quiet_highs()
        self.relaxation.passModel(
            lp_arrays(
                self.matrix,
                self.cost,
                self.offset,
                self.col_lower,
                self.col_upper,
                self.row_lower,
                self.row_upper,
                self.maximise,
            )
        )
        # Rounding cuts make a small relaxation integral more often (they are dense rows over
        # the designations, which slow the interior point method on large models: there
        # they wait for the counted instance, where they span a few class counts).
        self.cuts: dict[int, list[tuple[int, int, float]]] = {}
        if self.n_model <= CUTS_IN_RELAXATION:
            self.cuts = add_budget_cuts(
                self.relaxation, self.matrix, self.budget_rows, self.integer
            )
        self._counted: CountedModel | None = None
        self._class_rows: np.ndarray | None = None
        self.compile_seconds = time.perf_counter() - started

    @cached_property
    def classes(self) -> PaymentClasses | None:
        """The designations grouped by what they pay in the budget rows (module docstring)."""
        tags = np.full(self.n_model, -1.0)
        tags[: self.n_options] = self.tags
        return payment_classes(self.matrix, self.money_rows, self.integer, tags)

    def rows_of(self, m: pyo.ConcreteModel, *names: str) -> list[int]:
        """The compiled rows of the model's constraint components ``names`` (in order): the
        solver finds row blocks by the names the builder declares them under."""
        return [
            self.row_of[con]
            for name in names
            for con in getattr(m, name, {}).values()
            if con in self.row_of
        ]

    def class_rows(self) -> np.ndarray:
        """Rows of the relaxation that sum each payment class, added on first use.

        They are free (no bounds) and change nothing until a caller bounds them, e.g. to
        hold every class count at a whole number and re-solve from the current basis.
        """
        if self._class_rows is None:
            members = self.classes.members(self.n_model).tocsr()
            first = self.relaxation.getNumRow()
            k = members.shape[0]
            self.relaxation.addRows(
                k,
                np.full(k, -highspy.kHighsInf),
                np.full(k, highspy.kHighsInf),
                members.nnz,
                members.indptr[:-1].astype(np.int32),
                members.indices.astype(np.int32),
                members.data,
            )
            self._class_rows = np.arange(first, first + k, dtype=np.int32)
        return self._class_rows

    @property
    def counted(self) -> CountedModel:
        """The reformulated instance for the integer phases (built on first use)."""
        if self._counted is None:
            self._counted = CountedModel(self)
        return self._counted

    def integral(self, x: np.ndarray) -> bool:
        """Are the model's integer columns of model-space ``x`` whole numbers?"""
        whole = x[: self.n_model][self.integer]
        return bool(np.all(np.abs(whole - np.round(whole)) <= INTEGRALITY_TOLERANCE))

    def feasible(self, x: np.ndarray) -> bool:
        """Does model-space ``x`` meet every row and column bound (within 1e-7)?"""
        activity = self.matrix @ x
        in_rows = np.all(activity >= self.row_lower - 1e-7) and np.all(
            activity <= self.row_upper + 1e-7
        )
        in_cols = np.all(x >= self.col_lower - 1e-9) and np.all(x <= self.col_upper + 1e-9)
        return bool(in_rows and in_cols)

    def objective(self, x: np.ndarray) -> float:
        """The objective of model-space ``x``, in the model's own sense."""
        return float(np.dot(self.cost, x[: self.n_model])) + self.offset

    def gain(self, x: np.ndarray) -> float:
        """The objective of model-space ``x`` as a quantity to maximise."""
        return self.objective(x) if self.maximise else -self.objective(x)

    def set_row_upper(self, constraint: object, upper: float) -> None:
        """Change one row's upper bound (e.g. a budget) for the next solve, everywhere."""
        self.set_upper_at(self.row_of[constraint], upper)

    def set_upper_at(self, row: int, upper: float) -> None:
        """Change model row ``row``'s upper bound for the next solve, everywhere."""
        self.row_upper[row] = upper
        move_row_bounds(self.relaxation, self.cuts, row, self.row_lower[row], upper)
        if self._counted is not None:
            counted = self._counted
            move_row_bounds(counted.highs, counted.cuts, row, self.row_lower[row], upper)

    def set_coefficients(self, row: int, columns: np.ndarray, values: np.ndarray) -> None:
        """Change the coefficients of designation ``columns`` in model row ``row`` (a row
        with no rounding cuts: ``load_rows``), everywhere: the model-space matrix, the
        relaxation, and the counted instance (over a payment class's count when every
        designation of the class is given the same value, as ``risk_loads.py`` does)."""
        columns = np.asarray(columns, dtype=int)
        values = np.asarray(values, dtype=float)
        matrix = self.matrix
        for column, value in zip(columns.tolist(), values.tolist(), strict=True):
            start, end = matrix.indptr[column], matrix.indptr[column + 1]
            at = start + np.flatnonzero(matrix.indices[start:end] == row)
            matrix.data[at] = value
            self.relaxation.changeCoeff(row, column, value)
        if self._counted is None:
            return
        classes = self.classes
        counted = self._counted.highs
        if classes is None:
            for column, value in zip(columns.tolist(), values.tolist(), strict=True):
                counted.changeCoeff(row, column, value)
            return
        klass = np.full(self.n_model, -1)
        klass[classes.columns] = classes.klass
        where = self.money_rows.index(row)
        for k, value in zip(klass[columns].tolist(), values.tolist(), strict=True):
            if k >= 0 and classes.pays[k, where] != value:
                classes.pays[k, where] = value
                counted.changeCoeff(row, self.n_model + k, value)

    def load_values(self, m: pyo.ConcreteModel, x: np.ndarray) -> None:
        """Copy model-space values into the Pyomo variables (for reading e.g. shortfalls)."""
        for var, value in zip(self.columns, x[: self.n_model], strict=True):
            var.set_value(float(value), skip_validation=True)


class CountedModel:
    """The model with designations counted by payment class, plus rounding cuts, in HiGHS."""

    def __init__(self, model: HighsModel):
        self.model = model
        self.n_model = model.n_model
        matrix, count_upper = self._counted_by_class()
        self.n_classes = len(count_upper)
        k = self.n_classes
        self.n_columns = matrix.shape[1]
        self.counts = np.arange(model.n_model, self.n_columns)
        self.integer = np.concatenate([model.integer, np.ones(k, dtype=bool)])
        self.all_lower = np.concatenate([model.col_lower, np.zeros(k)])
        self.all_upper = np.concatenate([model.col_upper, count_upper])
        self.highs = quiet_highs()
        self.highs.passModel(
            lp_arrays(
                matrix,
                np.concatenate([model.cost, np.zeros(k)]),
                model.offset,
                self.all_lower,
                self.all_upper,
                np.concatenate([model.row_lower, np.zeros(k)]),
                np.concatenate([model.row_upper, np.zeros(k)]),
                model.maximise,
            )
        )
        self.cuts = add_budget_cuts(self.highs, matrix, model.budget_rows, self.integer)
        # Appended columns compute their values from the point so far (``lift``).
        self.extensions: list = []

    def _counted_by_class(self) -> tuple[sp.csc_matrix, np.ndarray]:
        """The counted matrix: budget (and risk-load) rows over class counts, plus one link
        row per class.

        Returns the matrix and each count's upper bound (its class size). Without payment
        classes (no budget rows, or amounts that would not aggregate) the model matrix is
        used as it is and there are no counts.
        """
        model = self.model
        a = model.matrix
        classes = model.classes
        if classes is None:
            return a, np.zeros(0)
        n, k = model.n_model, classes.n_classes
        keep = np.ones(a.shape[0])
        keep[model.money_rows] = 0.0
        without_budget = sp.diags(keep) @ a  # budget rows emptied: they move to the counts
        rows, cols = np.nonzero(classes.pays.T)
        count_block = sp.csc_matrix(
            (classes.pays.T[rows, cols], (np.asarray(model.money_rows)[rows], cols)),
            shape=(a.shape[0], k),
        )
        link = sp.hstack([classes.members(n), -sp.eye(k)], format="csr")
        matrix = sp.vstack([sp.hstack([without_budget, count_block]), link], format="csc")
        matrix.eliminate_zeros()
        return matrix, classes.sizes.astype(float)

    def lift(self, x: np.ndarray) -> np.ndarray:
        """A model-space point with its class counts (and any appended columns) added."""
        classes = self.model.classes
        counts = np.zeros(0) if classes is None else classes.counts(x)
        point = np.concatenate([x[: self.n_model], counts])
        for extend in self.extensions:
            point = np.concatenate([point, extend(point)])
        return point

    def add_columns(self, lower: np.ndarray, upper: np.ndarray, integer: np.ndarray) -> np.ndarray:
        """Append columns (objective 0) with these bounds; return their indices. Integer
        ones stay integer in every phase (``set_integrality`` touches only the model's
        columns and the counts)."""
        k = len(lower)
        first = self.n_columns
        self.highs.addVars(k, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
        columns = np.arange(first, first + k, dtype=np.int32)
        whole = columns[np.asarray(integer, dtype=bool)]
        if len(whole):
            self.highs.changeColsIntegrality(
                len(whole), whole, np.full(len(whole), highspy.HighsVarType.kInteger)
            )
        self.n_columns += k
        self.integer = np.concatenate([self.integer, np.asarray(integer, dtype=bool)])
        self.all_lower = np.concatenate([self.all_lower, lower])
        self.all_upper = np.concatenate([self.all_upper, upper])
        return columns

    def add_row(self, lower: float, upper: float, columns: np.ndarray, values: np.ndarray) -> int:
        """Append one row lower ≤ Σ values·x[columns] ≤ upper; return its index."""
        self.highs.addRow(lower, upper, len(columns), np.asarray(columns, dtype=np.int32), values)
        return self.highs.getNumRow() - 1

    def set_integrality(self, designations: bool, counts: bool) -> None:
        """Declare the model's integer columns and the class counts integer or continuous."""
        for columns, integer in (
            (np.flatnonzero(self.model.integer), designations),
            (self.counts, counts),
        ):
            if len(columns):
                kind = (
                    highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
                )
                self.highs.changeColsIntegrality(
                    len(columns), columns.astype(np.int32), np.full(len(columns), kind)
                )

    def fix(self, columns: np.ndarray, values: np.ndarray) -> None:
        if len(columns):
            self.highs.changeColsBounds(len(columns), columns.astype(np.int32), values, values)

    def restore_bounds(self) -> None:
        columns = np.arange(self.n_columns, dtype=np.int32)
        self.highs.changeColsBounds(len(columns), columns, self.all_lower, self.all_upper)


@dataclass(frozen=True)
class PaymentClasses:
    """Options that pay the same amounts in the same budget rows, grouped (module docstring)."""

    columns: np.ndarray  # the paying integer columns
    klass: np.ndarray  # each paying column's class
    pays: np.ndarray  # class × budget row: what one designation of the class pays there

    @property
    def n_classes(self) -> int:
        return len(self.pays)

    @property
    def sizes(self) -> np.ndarray:
        """How many options each class holds (the most its count can be)."""
        return np.bincount(self.klass, minlength=self.n_classes)

    def members(self, n_columns: int) -> sp.csr_matrix:
        """Class × column 0/1 matrix: row k sums the designations of class k."""
        return sp.csr_matrix(
            (np.ones(len(self.columns)), (self.klass, self.columns)),
            shape=(self.n_classes, n_columns),
        )

    def counts(self, x: np.ndarray) -> np.ndarray:
        """Each class's count in model-space plan ``x``."""
        return np.bincount(self.klass, weights=x[self.columns], minlength=self.n_classes)


def payment_classes(
    matrix: sp.csc_matrix,
    budget_rows: list[int],
    integer: np.ndarray,
    tags: np.ndarray | None = None,
) -> PaymentClasses | None:
    """The payment classes of the integer columns that appear in budget rows, or None when
    there is nothing to group (no budget rows) or grouping would hardly aggregate.

    ``tags`` (one per column: what an option pays, when and with which chance,
    ``programme.payment_tags``) split classes further: two options paying the same expected
    amounts are one class only if their tags agree, so a class pays the same amounts with the
    same chance (``risk_cuts.py`` relies on it).
    """
    if not budget_rows:
        return None
    budget = matrix[budget_rows, :].toarray()  # few rows × n columns
    paying = np.flatnonzero(np.any(budget != 0, axis=0) & integer)
    if len(paying) == 0:
        return None
    # Rows of equal payments, numbered in lexicographic order (as np.unique(axis=0) would,
    # which sorts the float rows and took 0.2 s at 10,000 candidates against 0.01 s here).
    payments = pd.DataFrame(budget[:, paying].T)
    keys = list(payments.columns)
    if tags is not None:
        payments["tag"] = np.asarray(tags)[paying]
        keys = ["tag", *keys]
    klass = payments.groupby(keys, sort=True).ngroup().to_numpy()
    payments = payments.drop(columns="tag", errors="ignore")
    _, first = np.unique(klass, return_index=True)
    if len(first) * 2 > len(paying):  # hardly any aggregation: not worth the extra rows
        return None
    return PaymentClasses(paying, klass, payments.to_numpy()[first])


def _compile(m: pyo.ConcreteModel):
    """Pyomo's standard form of ``m``, with ``m.designate[0..n-1]`` as its first columns.

    On the programme's models Pyomo 6.10's own column order already starts with the
    designations; asking for that order explicitly cost 10-25% of the compile (0.07-0.25 s
    at 10,000 candidates), so it is asked for only if the order found differs.
    """
    compiler = LinearStandardFormCompiler()
    repn = compiler.write(m, mixed_form=True, set_sense=None)
    designations = m.designate_array
    columns = repn.columns
    if len(columns) < len(designations) or any(
        column is not designation
        for column, designation in zip(columns, designations, strict=False)
    ):
        repn = compiler.write(m, mixed_form=True, set_sense=None, column_order=[m.designate])
    if len(repn.columns) < len(designations) or any(
        column is not designation
        for column, designation in zip(repn.columns, designations, strict=False)
    ):
        _pad_designations(repn, designations)
    return repn


def _pad_designations(repn, designations: np.ndarray) -> None:
    """Put every designation first in ``repn``, adding empty columns for those no row and no
    objective mentions (Pyomo leaves such variables out: a free option of a model without
    budget rows, as the infeasibility diagnosis builds)."""
    position = {id(v): j for j, v in enumerate(repn.columns)}
    designation_ids = {id(v) for v in designations}
    new_columns = list(designations) + [v for v in repn.columns if id(v) not in designation_ids]
    old_index = np.array([position.get(id(v), -1) for v in new_columns])
    kept = np.flatnonzero(old_index >= 0)
    select = sp.csr_matrix(
        (np.ones(len(kept)), (old_index[kept], kept)), shape=(len(repn.columns), len(new_columns))
    )
    repn.A = (repn.A @ select).tocsr()
    repn.c = (repn.c @ select).tocsr()
    repn.columns = new_columns


def _column_bounds(
    m: pyo.ConcreteModel, columns: list
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds and integrality of the model's columns.

    The designations are binaries by construction (``add_designation_variables``), at least
    1 where forced (entitlements), so they are read in one step; the few other columns one by one (Pyomo's per-variable bound
    properties cost microseconds each, which adds up over 100k binaries).
    """
    inf = highspy.kHighsInf
    n_options = len(m.designate)
    lower = np.zeros(len(columns))
    lower[:n_options] = getattr(m, "forced_array", np.zeros(n_options, dtype=bool))
    upper = np.ones(len(columns))
    integer = np.ones(len(columns), dtype=bool)
    if n_options and columns[0] is not m.designate[0]:
        raise ValueError("the compiled columns do not start with m.designate")
    for i, var in enumerate(columns[n_options:], start=n_options):
        lower[i] = -inf if var.lb is None else var.lb
        upper[i] = inf if var.ub is None else var.ub
        integer[i] = var.is_binary() or var.is_integer()
    return lower, upper, integer


def lp_arrays(
    matrix, cost, offset, col_lower, col_upper, row_lower, row_upper, maximise
) -> highspy.HighsLp:
    """A HiGHS LP from a sparse matrix and bound arrays, passed in one call."""
    lp = highspy.HighsLp()
    lp.num_col_ = matrix.shape[1]
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    lp.offset_ = offset
    return lp


def add_budget_cuts(
    highs: highspy.Highs, matrix: sp.spmatrix, rows: list[int], integer: np.ndarray
) -> dict[int, list[tuple[int, int, float]]]:
    """Rounding cuts of every budget row in ``rows``: budget row -> its cuts (row, k, scale)."""
    rows_major = matrix.tocsr()
    return {row: add_rounding_cuts(highs, rows_major, row, integer) for row in rows}


def move_row_bounds(
    highs: highspy.Highs,
    cuts: dict[int, list[tuple[int, int, float]]],
    row: int,
    lower: float,
    upper: float,
) -> None:
    """Change a row's bounds in ``highs``; the right-hand sides of its cuts follow."""
    highs.changeRowBounds(row, lower, upper)
    for cut, k, factor in cuts.get(row, []):
        highs.changeRowBounds(cut, -highspy.kHighsInf, cut_rhs(upper, factor, k))


def add_rounding_cuts(
    highs: highspy.Highs, csr: sp.csr_matrix, row: int, integer: np.ndarray
) -> list[tuple[int, int, float]]:
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
    if len(values) == 0 or np.any(values < 0) or not integer[columns].all():
        return []
    for scale in (1, 10, 100, 1000, 10000):
        weights = np.round(values * scale)
        if np.allclose(weights, values * scale, rtol=0, atol=1e-6):
            break
    else:
        return []
    factor = scale / int(np.gcd.reduce(weights.astype(np.int64)))
    upper = highs.getLp().row_upper_[row]
    cuts = []
    for k in range(2, 7):
        coefficients = cut_coefficients(values, factor, k)
        kept = coefficients > 0
        highs.addRow(
            -highspy.kHighsInf,
            cut_rhs(upper, factor, k),
            int(kept.sum()),
            columns[kept].astype(np.int32),
            coefficients[kept],
        )
        cuts.append((highs.getNumRow() - 1, k, factor))
    return cuts


def cut_coefficients(values: np.ndarray, factor: float, k: int) -> np.ndarray:
    """⌊w/k⌋ for each payment's weight w = value · factor on the cut's integer grid."""
    return np.floor(np.round(values * factor) / k)


def cut_rhs(upper: float, factor: float, k: int) -> float:
    """⌊⌊b · factor⌋ / k⌋: the rounded right-hand side of a budget cut (tolerant of 1e-9 noise)."""
    if not math.isfinite(upper):
        return highspy.kHighsInf
    return float(math.floor(math.floor(upper * factor + 1e-9) / k))
