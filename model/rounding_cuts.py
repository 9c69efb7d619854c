"""Rounding cuts of budget rows (Chvátal–Gomory, on the amounts' decimal grid), kept with
the rows they belong to so that moving a budget moves its cuts' right-hand sides too."""

from __future__ import annotations

import math

import highspy
import numpy as np
import scipy.sparse as sp


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
