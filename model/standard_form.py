"""Pyomo's linear standard form of an allocation model, read straight from its expressions.

``standard_form(m)`` returns what ``LinearStandardFormCompiler().write(m, mixed_form=True,
set_sense=None, column_order=[m.designate])`` returns for a model that ``programme.py``
builds: the same rows in the same order with the same kinds and right-hand sides, the same
columns, and the same sparse arrays entry for entry. Pyomo's compiler walks every row's
expression tree through its generic visitor (about 30 ms of a 7,000-option round's 110 ms);
the programme's rows are flat sums of binaries (``programme._linear``), whose variables and
coefficients can be read off the expression objects directly.

Only these shapes are read here: a variable, a ``LinearExpression`` of variables or of
monomials with plain-number coefficients, a plain number times a ``LinearExpression`` of
variables, and a ``SumExpression`` of those and plain numbers. Anything else (another
expression, a fixed variable, a variable twice in a row, a ``Param``, a suffix, more than
one component of columns besides the designations, a bound that is not a plain number) and
the whole model is handed to Pyomo's compiler instead, so that the answer is always Pyomo's.
"""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.common.gc_manager import PauseGC
from pyomo.common.numeric_types import native_numeric_types
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    ProductExpression,
    SumExpression,
)
from pyomo.repn.plugins.standard_form import (
    LinearStandardFormCompiler,
    LinearStandardFormInfo,
    RowEntry,
)
from pyomo.repn.util import FileDeterminism_to_SortComponents, ordered_active_constraints

# The compiler's settings the HiGHS layer asks for (highs_model._compile).
_OPTIONS = {"mixed_form": True, "set_sense": None}
# The kinds of component the programme's models hold; any other and Pyomo compiles.
_KNOWN = frozenset({pyo.Var, pyo.Constraint, pyo.Objective, pyo.Set, pyo.RangeSet})


_FIXED = operator.attrgetter("fixed")


class _Unfamiliar(Exception):
    """A model part this module does not read: Pyomo's compiler reads the model instead."""


def pyomo_standard_form(m: pyo.ConcreteModel, **options) -> LinearStandardFormInfo:
    """Pyomo's own compile of ``m`` (mixed form, the model's sense, ``options`` added)."""
    return LinearStandardFormCompiler().write(m, **_OPTIONS, **options)


def standard_form(m: pyo.ConcreteModel) -> LinearStandardFormInfo:
    """The standard form Pyomo's compiler gives ``m`` with ``m.designate`` as its first
    columns (``column_order=[m.designate]``), read directly where every part of ``m`` has a
    shape this module knows (module docstring), else Pyomo's compile itself."""
    try:
        with PauseGC():  # as Pyomo's compiler: many small objects made and dropped
            return _Reader(m).read()
    except _Unfamiliar:
        return pyomo_standard_form(m, column_order=[m.designate])


class _Reader:
    """One reading of a model's standard form (``standard_form``)."""

    def __init__(self, m: pyo.ConcreteModel):
        self.m = m
        self.config = LinearStandardFormCompiler.CONFIG(dict(_OPTIONS))
        self.sorter = FileDeterminism_to_SortComponents(self.config.file_determinism)
        self.columns: list = []
        self.column_of: dict[int, int] = {}
        self.components: set[int] = set()
        # As Pyomo's column_order=[m.designate]: the designations first, in index order.
        self._add_component(m.designate)

    def _add_component(self, component) -> None:
        """Every variable of ``component`` as columns, in index order, as Pyomo records a
        component when it first meets one of its variables."""
        if id(component) in self.components:
            raise _Unfamiliar("a variable outside its component's columns")
        if len(self.components) > 1:
            # A third component: its place among the others would depend on where Pyomo's
            # walker first meets each, which this reader does not follow coefficient by
            # coefficient (a zero-coefficient monomial is met but not recorded).
            raise _Unfamiliar("more than two components of columns")
        self.components.add(id(component))
        m = self.m
        if component is m.designate and len(m.designate_array) == len(component):
            # The builder's array of the designations is the component's values in index
            # order (programme.add_designation_variables): read without Pyomo's iteration.
            variables = list(m.designate_array)
        else:
            variables = [var for _, var in component.items(self.sorter)]
        start = itertools.count(len(self.columns))
        self.column_of.update(zip(map(id, variables), start, strict=False))
        self.columns += variables

    def _column(self, var) -> int:
        """The column of variable ``var`` (its component added on first sight)."""
        if var.__class__ is not VarData and not (
            getattr(var, "is_variable_type", None) and var.is_variable_type()
        ):
            raise _Unfamiliar("not a variable")
        column = self.column_of.get(id(var))
        if column is None:
            self._add_component(var.parent_component())
            column = self.column_of.get(id(var))
            if column is None:
                raise _Unfamiliar("a variable its component does not list")
        return column

    def terms(self, expr) -> tuple[list[int], list[float] | None, float]:
        """(columns, coefficients or None for all 1, constant) of a linear expression, in the
        order Pyomo's visitor records them; zero coefficients dropped as Pyomo drops them."""
        if expr.__class__ is LinearExpression:
            args = expr.args
            try:  # the usual row: a sum of designations, all coefficients 1
                return list(map(self.column_of.__getitem__, map(id, args))), None, 0
            except KeyError:
                pass
            columns: list[int] = []
            coefs: list[float] = []
            constant = 0
            column_of = self.column_of
            for arg in args:
                if arg.__class__ is MonomialTermExpression:
                    coef, var = arg._args_
                    if coef.__class__ not in native_numeric_types:
                        raise _Unfamiliar("a coefficient that is not a number")
                    column = column_of.get(id(var))
                    if column is None:
                        column = self._column(var)
                    if coef:
                        columns.append(column)
                        coefs.append(coef)
                elif arg.__class__ in native_numeric_types:
                    constant += arg
                else:
                    columns.append(self._column(arg))
                    coefs.append(1)
            return columns, coefs, constant
        if expr.__class__ is SumExpression:
            columns, coefs, constant = [], [], 0
            for arg in expr.args:
                if arg.__class__ in native_numeric_types:
                    constant += arg
                    continue
                part, scale, more = self.terms(arg)
                columns += part
                coefs += [1] * len(part) if scale is None else scale
                constant += more
            return columns, coefs, constant
        if expr.__class__ is ProductExpression:
            factor, inner = expr.args
            if factor.__class__ not in native_numeric_types or inner.__class__ not in (
                LinearExpression,
                VarData,
            ):
                raise _Unfamiliar("a product this reader does not expand")
            part, scale, more = self.terms(inner)
            if scale is not None or more:
                raise _Unfamiliar("a scaled expression with coefficients or a constant")
            if not factor:
                return [], [], 0
            # Pyomo multiplies each recorded coefficient (1) by the factor.
            return part, [factor * 1] * len(part), 0
        if expr.__class__ in native_numeric_types:
            return [], [], expr
        return [self._column(expr)], None, 0

    def read(self) -> LinearStandardFormInfo:
        """The standard form (``LinearStandardFormInfo``), as Pyomo's compiler writes it."""
        m = self.m
        for component in m.component_objects(active=True, descend_into=True):
            if component.ctype not in _KNOWN:
                # Blocks (objectives gathered block by block), suffixes (Pyomo warns),
                # parameters, expressions and anything Pyomo's compiler refuses.
                raise _Unfamiliar(f"a {component.ctype.__name__} component")
        objectives = list(m.component_data_objects(pyo.Objective, active=True, sort=self.sorter))
        obj_rows = [self.terms(obj.expr) for obj in objectives]
        rows: list = []
        rhs: list = []
        con_rows: list[tuple[list[int], list[float] | None]] = []
        for con in ordered_active_constraints(m, self.config):
            lb, body, ub = con.to_bounded_expression()
            if (lb is not None and lb.__class__ not in native_numeric_types) or (
                ub is not None and ub.__class__ not in native_numeric_types
            ):
                raise _Unfamiliar("a bound that is not a number")
            columns, coefs, offset = self.terms(body)
            if lb is None and ub is None:
                continue
            if not columns:
                if (lb is None or lb <= offset) and (ub is None or ub >= offset):
                    continue  # a constant row that holds, as Pyomo leaves it out
                raise _Unfamiliar("a constant row that fails (Pyomo raises)")
            if lb == ub:
                rows.append(RowEntry(con, 0))
                rhs.append(ub - offset)
                con_rows.append((columns, coefs))
                continue
            if ub is not None:
                rows.append(RowEntry(con, 1))
                rhs.append(ub - offset)
                con_rows.append((columns, coefs))
            if lb is not None:
                rows.append(RowEntry(con, -1))
                rhs.append(lb - offset)
                con_rows.append((columns, coefs))
        if any(map(_FIXED, self.columns)):
            raise _Unfamiliar("fixed variables (Pyomo moves them to the right-hand side)")
        n_cols = len(self.columns)
        c = _csc([(cols, coefs) for cols, coefs, _ in obj_rows], n_cols)
        A = _csc(con_rows, n_cols)
        # Columns no row and no objective mention are left out, as Pyomo leaves them out.
        active = (A.indptr[1:] > A.indptr[:-1]) | (c.indptr[1:] > c.indptr[:-1])
        columns = self.columns
        if not active.all():
            keep = np.concatenate((active, [True]))
            columns = [v for k, v in zip(active, columns, strict=True) if k]
            c = sp.csc_array((c.data, c.indices, c.indptr[keep]), [c.shape[0], len(columns)])
            A = sp.csc_array((A.data, A.indices, A.indptr[keep]), [A.shape[0], len(columns)])
        offsets = np.array([offset for _, _, offset in obj_rows])
        return LinearStandardFormInfo(c, offsets, A, rhs, rows, columns, objectives, [])


def _csc(rows: list[tuple[list[int], list[float] | None]], n_cols: int) -> sp.csc_array:
    """The rows as a CSC array, made as Pyomo's compiler makes it (CSR, then CSC with
    duplicates summed and zeros dropped); a column twice in a row is left to Pyomo."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int32)
    lengths = [len(cols) for cols, _ in rows]
    if lengths:
        np.cumsum(lengths, out=indptr[1:])
    nnz = int(indptr[-1])
    index = np.fromiter(itertools.chain.from_iterable(c for c, _ in rows), np.int32, nnz)
    data = np.fromiter(
        itertools.chain.from_iterable(
            itertools.repeat(1.0, len(c)) if v is None else v for c, v in rows
        ),
        np.float64,
        nnz,
    )
    matrix = sp.csr_array((data, index, indptr), [len(rows), n_cols])
    if not nnz:
        return matrix.tocsc()
    matrix = matrix.tocsc()
    # Rows in order give each column its rows in order: a column twice in a row shows as the
    # same row twice running within a column. Pyomo's visitor would have added the two to
    # each other, in its own order: left to Pyomo.
    rows_at = matrix.indices
    repeated = rows_at[1:] == rows_at[:-1]
    starts = matrix.indptr[1:-1]
    repeated[starts[(starts > 0) & (starts < nnz)] - 1] = False
    if repeated.any():
        raise _Unfamiliar("a column twice in a row")
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix
