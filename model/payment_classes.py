"""Payment classes: designations that pay the same amounts in the same budget rows, counted
together, and the counted HiGHS instance of the integer phases built over them.

The budget rows are knapsacks over a handful of distinct amounts; options that pay the same
amounts in the same years (and, by their tags, with the same chance) form a class whose
count is an integer column of the counted instance (``highs_model.py`` explains why).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .highs_arrays import pass_arrays
from .highs_quiet import quiet_highs
from .rounding_cuts import add_budget_cuts

if TYPE_CHECKING:
    from .highs_model import HighsModel


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
        pass_arrays(
            self.highs,
            matrix,
            np.concatenate([model.cost, np.zeros(k)]),
            model.offset,
            self.all_lower,
            self.all_upper,
            np.concatenate([model.row_lower, np.zeros(k)]),
            np.concatenate([model.row_upper, np.zeros(k)]),
            model.maximise,
        )
        self.cuts = add_budget_cuts(self.highs, matrix, model.budget_rows, self.integer)
        # What each counted column adds to the budget rows' expected spend, summed over them
        # (the objective of ``minimising_spend``): read from the counted matrix's budget rows.
        self.spend = np.asarray(matrix[model.budget_rows].sum(axis=0)).ravel()
        # Appended columns compute their values from the point so far (``lift``).
        self.extensions: list = []
        # The instance as built: what ``drop_appended`` goes back to.
        self.built_rows = self.highs.getNumRow()
        self.built_columns = self.n_columns

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
        # ... of their designations only: a column that is not a designation keeps its
        # coefficient there (the extra money of the diagnosis's elastic budget rows).
        money_only = sp.diags(1.0 - keep) @ a
        money_only = money_only[:, model.n_options :]
        if money_only.nnz:
            padded = sp.hstack(
                [sp.csc_matrix((a.shape[0], model.n_options)), money_only], format="csc"
            )
            without_budget = (without_budget + padded).tocsc()
        rows, cols = np.nonzero(classes.pays.T)
        count_block = sp.csc_matrix(
            (classes.pays.T[rows, cols], (np.asarray(model.money_rows)[rows], cols)),
            shape=(a.shape[0], k),
        )
        link = sp.hstack([classes.members(n), -sp.eye(k)], format="csr")
        matrix = sp.vstack([sp.hstack([without_budget, count_block]), link], format="csc")
        matrix.eliminate_zeros()
        return matrix, classes.sizes.astype(float)

    @contextmanager
    def minimising_spend(self) -> Iterator[None]:
        """Inside, the instance minimises its expected spend over every budget row (columns
        appended meanwhile cost nothing); on leaving, the model's own objective and sense are
        back, whatever columns and rows were appended."""
        spend = np.zeros(self.n_columns)
        spend[: len(self.spend)] = self.spend
        self._set_costs(spend)
        self.highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
        try:
            yield
        finally:
            own = np.zeros(self.n_columns)
            own[: self.n_model] = self.model.cost
            self._set_costs(own)
            self.highs.changeObjectiveSense(
                highspy.ObjSense.kMaximize if self.model.maximise else highspy.ObjSense.kMinimize
            )

    def _set_costs(self, cost: np.ndarray) -> None:
        columns = np.arange(len(cost), dtype=np.int32)
        self.highs.changeColsCost(len(columns), columns, np.asarray(cost, dtype=float))

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

    def drop_appended(self) -> None:
        """Delete every row and column appended since the instance was built (risk cuts,
        their threshold columns) and forget their extensions: the cuts of one budget do not
        hold at another (the budget frontier drops them between points)."""
        rows = self.highs.getNumRow()
        if rows > self.built_rows:
            self.highs.deleteRows(
                rows - self.built_rows, np.arange(self.built_rows, rows, dtype=np.int32)
            )
        if self.n_columns > self.built_columns:
            extra = np.arange(self.built_columns, self.n_columns, dtype=np.int32)
            self.highs.deleteCols(len(extra), extra)
            keep = self.built_columns
            self.n_columns = keep
            self.integer = self.integer[:keep]
            self.all_lower = self.all_lower[:keep]
            self.all_upper = self.all_upper[:keep]
        self.extensions.clear()

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
    # Rows of equal payments, numbered in lexicographic order (tag first), as pandas'
    # groupby(sort=True).ngroup() numbers them (np.unique(axis=0), which sorts the float rows,
    # took 0.2 s at 10,000 candidates; pandas 1.7 ms at a simulated round's 6,000, this 0.3).
    payments = budget[:, paying]
    keys = list(payments)
    if tags is not None:
        keys = [np.asarray(tags, dtype=float)[paying], *keys]
    klass = _ngroup(keys)
    _, first = np.unique(klass, return_index=True)
    if len(first) * 2 > len(paying):  # hardly any aggregation: not worth the extra rows
        return None
    return PaymentClasses(paying, klass, payments.T[first])


def _ngroup(keys: list[np.ndarray]) -> np.ndarray:
    """Each position's group among the distinct tuples of ``keys``, the groups numbered in
    the tuples' lexicographic order (``keys[0]`` first): pandas' ``groupby(sort=True)
    .ngroup()`` for finite keys (-0.0 and 0.0 alike, as there)."""
    if any(np.isnan(key).any() for key in keys):  # pandas leaves such rows out (-1)
        return (
            pd.DataFrame(dict(enumerate(keys)))
            .groupby(list(range(len(keys))), sort=True)
            .ngroup()
            .to_numpy()
        )
    order = np.lexsort(keys[::-1])
    new = np.zeros(len(order), dtype=bool)
    new[:1] = True
    for key in keys:
        ordered = key[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    klass = np.empty(len(order), dtype=np.int64)
    klass[order] = np.cumsum(new) - 1
    return klass
