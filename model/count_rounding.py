"""Rounding a fractional relaxation by its class counts: a whole plan that spends the money
the way the relaxation did.

When the relaxation is fractional, so are its payment-class counts (designations per class
of equal payments, ``highs_model.py``). Rounding designations one by one then leaves money
that no whole award can use: a yearly budget of 12,000 spent on awards of 20 and 50 is used
up only when the number of 50s is even. Here the counts are rounded together:

1. a small integer programme over the counts alone (HiGHS, a few dozen columns): spend
   each budget row as far as its money is worth something in the relaxation (the duals of
   the row and of its rounding cuts, ``class_worth``), keep the classes the relaxation left empty empty and the total number of
   designations at most the relaxation's, and among such counts stay nearest to the
   relaxation's;
2. the relaxation re-solved from its optimal basis with every class count held at those
   numbers (``HighsModel.class_rows``). With the counts whole, the designations form an
   assignment whose vertices are integral, so the re-solve usually returns a whole plan.

The cap on the total matters when the budget reaches the whole pool: every eligible
candidate is then designated and only the levels are chosen, and counts that add up to more
designations than there are candidates cannot be held. (Counts without the cap, tried as a
second proposal, never concluded an instance the capped ones had not, on 64 instances of
the tests' and the benchmark's families; they were dropped.)

This is a heuristic for an incumbent, nothing more: ``solve.py`` checks what comes back
against every row, and the relaxation's bound is what proves a plan within the gap. On the
benchmark's generous family (1,000 candidates) it replaces a 0.3-0.8 s MIP by a small
programme and a re-solve of about 0.02 s together (docs/performance.md).
"""

from __future__ import annotations

import logging

import highspy
import numpy as np
import scipy.sparse as sp

from .highs_arrays import pass_arrays
from .highs_model import INTEGRALITY_TOLERANCE, HighsModel
from .highs_quiet import quiet_highs
from .payment_classes import PaymentClasses
from .rounding_cuts import cut_coefficients

log = logging.getLogger(__name__)

TIE_BREAK = 1e-4  # distance to the relaxation's counts, per count, relative to the money's worth
# Counts by which the chosen counts may lie farther from the relaxation's than the nearest
# (on the 64 instances named above, 100 concluded 30 of them; 10 as many, more slowly; 1,000
# only 17).
DISTANCE_SLACK = 100
MAX_NODES = 200  # branch-and-bound nodes of the small programme


def rounded_plan(model: HighsModel, x: np.ndarray, row_dual: np.ndarray) -> np.ndarray | None:
    """A whole plan found by rounding the class counts of relaxation solution ``x``, or None.

    ``row_dual`` is the relaxation's row duals at ``x``. The plan is integral but not yet
    checked against the rows. The relaxation instance is left with its class rows free.
    """
    classes = model.classes
    if classes is None:
        return None
    relaxed = classes.counts(x)
    if np.all(np.abs(relaxed - np.round(relaxed)) <= INTEGRALITY_TOLERANCE):
        return None  # the counts are whole; what is fractional is not about money
    counts = whole_counts(model, classes, x, relaxed, row_dual)
    return None if counts is None else resolve_holding(model, counts)


def whole_counts(
    model: HighsModel,
    classes: PaymentClasses,
    x: np.ndarray,
    relaxed: np.ndarray,
    row_dual: np.ndarray,
) -> np.ndarray | None:
    """Whole class counts that fit the budget rows, chosen as the module docstring says
    (step 1); None when HiGHS finds none. ``relaxed`` is the class counts of ``x``."""
    rows = np.asarray(model.money_rows)
    k, b = classes.n_classes, len(rows)
    # Money the relaxation spends outside the classes (e.g. continuous columns) stays spent.
    budget = model.matrix[rows, :]
    members = np.zeros(model.n_model, dtype=bool)
    members[classes.columns] = True
    outside = budget @ np.where(members, 0.0, x[: model.n_model])
    lower = model.row_lower[rows] - outside
    upper = model.row_upper[rows] - outside
    # When the objective is to minimise spending, money has no worth to pursue: the counts
    # are only rounded to the nearest that fit.
    value = class_worth(model, classes, row_dual) if model.maximise else np.zeros(k)
    tie = TIE_BREAK * max(1.0, float(value.max(initial=0.0)))
    # columns: counts n (k), distance above d⁺ (k), distance below d⁻ (k)
    eye = sp.eye(k, format="csr")
    blocks = [
        [sp.csr_matrix(classes.pays.T), sp.csr_matrix((b, 2 * k))],
        [eye, sp.hstack([-eye, eye])],
        [sp.csr_matrix(np.ones((1, k))), sp.csr_matrix((1, 2 * k))],  # the total's cap
    ]
    row_lower = [lower, relaxed, [-highspy.kHighsInf]]
    row_upper = [upper, relaxed, [np.floor(relaxed.sum() + INTEGRALITY_TOLERANCE)]]
    matrix = sp.bmat(blocks, format="csc")
    size = np.where(relaxed > INTEGRALITY_TOLERANCE, classes.sizes, 0).astype(float)
    highs = quiet_highs()
    # Which mix spends the money is what matters; the distance only breaks ties, so proving
    # it to within a few counts is enough. A node limit, not a time limit, bounds the effort
    # (the same instance must give the same plan on any machine).
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", DISTANCE_SLACK * tie)
    highs.setOptionValue("mip_max_nodes", MAX_NODES)
    pass_arrays(
        highs,
        matrix,
        np.concatenate([value, np.full(2 * k, -tie)]),
        0.0,
        np.zeros(3 * k),
        np.concatenate([size, np.full(2 * k, highspy.kHighsInf)]),
        np.concatenate(row_lower),
        np.concatenate(row_upper),
        maximise=True,
    )
    highs.changeColsIntegrality(
        k, np.arange(k, dtype=np.int32), np.full(k, highspy.HighsVarType.kInteger)
    )
    highs.run()
    if highs.getInfo().primal_solution_status != 2:
        return None
    return np.round(np.asarray(highs.getSolution().col_value)[:k])


def class_worth(model: HighsModel, classes: PaymentClasses, row_dual: np.ndarray) -> np.ndarray:
    """What one more designation of each class is worth to the relaxation in money: the
    duals of the budget rows it pays into and of their rounding cuts (``add_rounding_cuts``:
    coefficient ⌊w/k⌋ of its payment w on the cut's grid), times its coefficients there.

    A row's dual is non-zero only where the row binds, so unspent money is worth nothing.
    """
    value = np.zeros(classes.n_classes)
    for j, row in enumerate(model.money_rows):
        pays = classes.pays[:, j]
        value += abs(row_dual[row]) * pays
        for cut, k, factor in model.cuts.get(row, []):
            value += abs(row_dual[cut]) * cut_coefficients(pays, factor, k)
    return value


def resolve_holding(model: HighsModel, counts: np.ndarray) -> np.ndarray | None:
    """The relaxation re-solved with every class count held at ``counts``; its solution if
    that is optimal and integral, else None. The class rows are freed again afterwards."""
    rows = model.class_rows()
    relaxation = model.relaxation
    # This function owns what it changes in the relaxation and puts it back, whatever happens:
    # the class rows' bounds (free again) and the solver option.
    _, solver = relaxation.getOptionValue("solver")  # (status, value)
    relaxation.changeRowsBounds(len(rows), rows, counts, counts)
    # From the optimal basis, whatever solved the relaxation (the interior point method would
    # start over).
    relaxation.setOptionValue("solver", "simplex")
    try:
        relaxation.run()
        if relaxation.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        plan = np.asarray(relaxation.getSolution().col_value)
    finally:
        free = np.full(len(rows), highspy.kHighsInf)
        relaxation.changeRowsBounds(len(rows), rows, -free, free)
        relaxation.setOptionValue("solver", solver)
    if not model.integral(plan):
        log.debug("class counts held, but designations stay fractional")
        return None
    return np.where(model.integer, np.round(plan), plan)
