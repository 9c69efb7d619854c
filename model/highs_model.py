"""The Pyomo programme compiled for HiGHS: as stated for the relaxation, and with
designations counted by payment class for the integer phases (the classes and the counted
instance in ``payment_classes.py``, the budget rows' rounding cuts in ``rounding_cuts.py``).

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
proof of optimality in seconds (docs/performance.md). The relaxation itself is faster
without the reformulation (its link rows are dense), hence two HiGHS instances.

Model space is the Pyomo model's columns and rows. The counted instance appends the class
counts as columns and the link rows, then rounding cuts, as rows; a model row keeps its
index in both. The relaxation appends its rounding cuts and, when count rounding first
needs them, free rows summing each payment class (``count_rounding.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property, partial

import highspy
import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from .highs_arrays import pass_arrays
from .highs_quiet import quiet_highs
from .payment_classes import CountedModel, PaymentClasses, payment_classes
from .programme import ROW_BLOCKS, row_block
from .rounding_cuts import add_budget_cuts, move_row_bounds

# Re-exported for the modules that work on the compiled model (count rounding, risk cuts,
# thresholds): the compiled model, its counted instance and its array helper in one place.
__all__ = [
    "INTEGRALITY_TOLERANCE",
    "CountedModel",
    "HighsModel",
    "PaymentClasses",
    "pass_arrays",
    "payment_classes",
]

# Columns up to which the relaxation carries rounding cuts: where the dual simplex solves it
# (solve.LARGE_LP). Above, the interior point method does, and the cuts' dense rows slowed it
# more than they helped: at 20,000 (the limit before) continuous-score 1,000-candidate
# instances took 0.75 / 1.80 s against 0.34 / 0.47 s without them, the default scenario's
# allocation 2.7 s against 1.3 s (the same objective, proven or within the same bound).
CUTS_IN_RELAXATION = 12_000
INTEGRALITY_TOLERANCE = 1e-6


class HighsModel:
    """A Pyomo allocation model loaded into HiGHS once, re-solvable after bound changes.

    Columns 0..n-1 are ``m.designate[0..n-1]`` in order; other model columns (quota
    shortfalls) follow. Re-solves (a budget frontier) change row bounds in place instead of
    rebuilding and recompiling the model.
    """

    def __init__(self, m: pyo.ConcreteModel, standard_form=None):
        """Compile ``m`` (Pyomo's standard form) and load it into HiGHS; given the
        ``standard_form`` of an earlier HighsModel of the same, unchanged model, load that
        instead of compiling again (the thresholds re-solve the model the allocation has
        just compiled: the compile is most of a HighsModel's making)."""
        started = time.perf_counter()
        repn = standard_form if standard_form is not None else _compile(m)
        # Kept (its arrays are never written: ``matrix`` below is a copy) for another
        # HighsModel of the same model.
        self.standard_form = repn
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
        # Model space: what the rules say, row by row. A copy: set_coefficients writes into
        # it, and the standard form may be loaded again (tocsc of a CSC is no copy).
        self.matrix = repn.A.tocsc(copy=True)
        self.budget_rows = self.rows_in(m, "budget")
        # Rows like budget rows whose coefficients are loaded for risk (risk_loads.py): over
        # the class counts in the counted instance, but without rounding cuts (those would
        # not survive a change of coefficients).
        self.load_rows = self.rows_in(m, "risk_load")
        self.money_rows = self.budget_rows + self.load_rows
        self.risk_rows = {  # the loaded rows by their budget row's label
            label: self.row_of[con]
            for name in ROW_BLOCKS["risk_load"]
            for label, con in getattr(m, name, {}).items()
            if con in self.row_of
        }
        # Changes to the relaxation wait until it is next asked for (``relaxation``): a
        # loaded row's coefficients put back after the last solve that needed them would
        # otherwise cost thousands of HiGHS calls that no solve reads (risk_loads.py).
        self._pending: list[Callable[[highspy.Highs], None]] = []
        self._relaxation = quiet_highs()
        pass_arrays(
            self._relaxation,
            self.matrix,
            self.cost,
            self.offset,
            self.col_lower,
            self.col_upper,
            self.row_lower,
            self.row_upper,
            self.maximise,
        )
        # Rounding cuts make a small relaxation integral more often (they are dense rows over
        # the designations, which slow the interior point method on large models: there
        # they wait for the counted instance, where they span a few class counts).
        self.cuts: dict[int, list[tuple[int, int, float]]] = {}
        if self.n_model <= CUTS_IN_RELAXATION:
            self.cuts = add_budget_cuts(
                self._relaxation, self.matrix, self.budget_rows, self.integer
            )
        self._counted: CountedModel | None = None
        # The duals (columns, rows) of the relaxation of the model exactly as stated, when a
        # solve found them (``solve.HighsProgramme.relaxation_as_stated``); forgotten once
        # the model changes. The explanations' prices are those duals.
        self.stated_duals: tuple[np.ndarray, np.ndarray] | None = None
        self._row_entries: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._klass: np.ndarray | None = None  # each model column's payment class (-1: none)
        self._class_rows: np.ndarray | None = None
        self.compile_seconds = time.perf_counter() - started

    @property
    def relaxation(self) -> highspy.Highs:
        """The relaxation's HiGHS instance (the model as stated, its rounding cuts, any
        class rows), with every change asked for so far made, in the order asked."""
        if self._pending:
            pending, self._pending = self._pending, []
            for change in pending:
                change(self._relaxation)
        return self._relaxation

    def last_basis(self) -> highspy.HighsBasis | None:
        """The basis the relaxation was last solved to, over the model's own rows, or None
        (never solved, or a row it appended — a rounding cut, a class row — not basic, so
        that leaving those rows out would not leave a basis). A starting point for another
        linear programme over the same columns and rows."""
        basis = self._relaxation.getBasis()
        rows = len(self.row_upper)
        if not basis.valid or self._relaxation.getNumCol() != self.n_model:
            return None
        status = list(basis.row_status)
        if any(s != highspy.HighsBasisStatus.kBasic for s in status[rows:]):
            return None
        own = highspy.HighsBasis()
        own.col_status = list(basis.col_status)
        own.row_status = status[:rows]
        own.valid = True
        return own

    @cached_property
    def classes(self) -> PaymentClasses | None:
        """The designations grouped by what they pay in the budget rows (module docstring)."""
        tags = np.full(self.n_model, -1.0)
        tags[: self.n_options] = self.tags
        return payment_classes(self.matrix, self.money_rows, self.integer, tags)

    def rows_in(self, m: pyo.ConcreteModel, *blocks: str) -> list[int]:
        """The compiled rows of the model's row blocks ``blocks`` (``programme.ROW_BLOCKS``),
        in order: the solver finds rows by the blocks the builder declares."""
        return [
            self.row_of[con]
            for block in blocks
            for con in row_block(m, block)
            if con in self.row_of
        ]

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

    def drop_appended(self) -> None:
        """Delete the rows and columns appended to the counted instance, if it was built
        (``CountedModel.drop_appended``)."""
        if self._counted is not None:
            self._counted.drop_appended()

    def set_row_upper(self, constraint: object, upper: float) -> None:
        """Change one row's upper bound (e.g. a budget) for the next solve, everywhere."""
        self.set_upper_at(self.row_of[constraint], upper)

    def set_upper_at(self, row: int, upper: float) -> None:
        """Change model row ``row``'s upper bound for the next solve, everywhere."""
        self.stated_duals = None
        self.row_upper[row] = upper
        lower = float(self.row_lower[row])
        self._pending.append(lambda highs: move_row_bounds(highs, self.cuts, row, lower, upper))
        if self._counted is not None:
            counted = self._counted
            move_row_bounds(counted.highs, counted.cuts, row, self.row_lower[row], upper)

    def set_coefficients(self, row: int, columns: np.ndarray, values: np.ndarray) -> None:
        """Change the coefficients of designation ``columns`` in model row ``row`` (a row
        with no rounding cuts: ``load_rows``), everywhere: the model-space matrix, the
        relaxation, and the counted instance (over a payment class's count when every
        designation of the class is given the same value, as ``risk_loads.py`` does)."""
        self.stated_duals = None
        columns = np.asarray(columns, dtype=int)
        values = np.asarray(values, dtype=float)
        matrix = self.matrix
        # Where the row's entries sit in the column-wise matrix, found once per row; only the
        # entries whose value changes are written (HiGHS takes one coefficient a call).
        if row not in self._row_entries:
            at = np.flatnonzero(matrix.indices == row)
            self._row_entries[row] = (np.searchsorted(matrix.indptr, at, side="right") - 1, at)
        row_columns, row_at = self._row_entries[row]
        at = row_at[np.searchsorted(row_columns, columns)]
        changed = matrix.data[at] != values
        matrix.data[at] = values
        if changed.any():
            self._pending.append(
                partial(
                    _change_coefficients,
                    row=row,
                    columns=columns[changed].tolist(),
                    values=values[changed].tolist(),
                )
            )
        if self._counted is None:
            return
        classes = self.classes
        counted = self._counted.highs
        if classes is None:
            _change_coefficients(counted, row, columns.tolist(), values.tolist())
            return
        if self._klass is None:
            self._klass = np.full(self.n_model, -1)
            self._klass[classes.columns] = classes.klass
        where = self.money_rows.index(row)
        klass = self._klass[columns]
        paying = klass >= 0
        klass, given = klass[paying], values[paying]
        ids, first = np.unique(klass, return_index=True)
        if not np.array_equal(given, given[first][np.searchsorted(ids, klass)]):
            # a class given several values: one designation at a time, the last one stays
            for k, value in zip(klass.tolist(), given.tolist(), strict=True):
                if classes.pays[k, where] != value:
                    classes.pays[k, where] = value
                    counted.changeCoeff(row, self.n_model + k, value)
            return
        # One value per class: the classes that change, in the order the columns first name
        # them (as the loop above would change them), vectorised.
        in_turn = np.argsort(first, kind="stable")
        ids, value = ids[in_turn], given[first[in_turn]]
        moved = classes.pays[ids, where] != value
        classes.pays[ids[moved], where] = value[moved]
        _change_coefficients(
            counted, row, (self.n_model + ids[moved]).tolist(), value[moved].tolist()
        )

    def load_values(self, m: pyo.ConcreteModel, x: np.ndarray) -> None:
        """Copy model-space values into the Pyomo variables (for reading e.g. shortfalls)."""
        for var, value in zip(self.columns, x[: self.n_model], strict=True):
            var.set_value(float(value), skip_validation=True)


def _change_coefficients(
    highs: highspy.Highs, row: int, columns: list[int], values: list[float]
) -> None:
    """HiGHS's coefficients of ``row`` in ``columns`` set to ``values``, in that order."""
    change = highs.changeCoeff
    for column, value in zip(columns, values, strict=True):
        change(row, column, value)


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
