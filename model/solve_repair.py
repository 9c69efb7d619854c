"""Step 2 of the solve (``solve.py``'s docstring), its first incumbent: the relaxation's point
rounded down and greedily repaired (``_round_and_repair``), with the numpy helpers that find
the columns that can no longer fit.

A module of its own: a self-contained piece of array work with its own test
(``tests/test_solve_repair.py``) that reads only the compiled model's arrays (``integer``,
``cost``, ``maximise``, ``col_upper``, ``matrix``, ``row_upper``), nothing of HiGHS or of the
strategy. A mixin of ``solve.HighsProgramme`` rather than a function, so that the code moved
here unchanged and ``HighsProgramme._round_and_repair`` stays what the strategy, the MIP
stage (``solve_mip.py``) and that test call.
"""

from __future__ import annotations

import numpy as np

from .highs_model import INTEGRALITY_TOLERANCE


class RoundingRepair:
    """The rounding repair of ``HighsProgramme`` (mixed into it; see the module docstring)."""

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
