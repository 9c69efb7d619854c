"""HiGHS models from arrays: a sparse matrix and bound vectors handed over in one call."""

from __future__ import annotations

import highspy
import numpy as np


def pass_arrays(
    highs: highspy.Highs,
    matrix,
    cost,
    offset,
    col_lower,
    col_upper,
    row_lower,
    row_upper,
    maximise,
) -> highspy.HighsStatus:
    """Pass an LP (a column-wise sparse matrix, costs, bounds, sense) to ``highs`` as arrays
    HiGHS reads in place, every column continuous (integer columns are declared after).

    Setting a ``HighsLp``'s vectors from numpy instead converts them element by element
    (2.6 ms for a simulated round's 8,000 columns and 22,000 entries, against 0.3 ms).
    """
    n_rows, n_columns = matrix.shape
    sense = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    return highs.passModel(
        n_columns,
        n_rows,
        matrix.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(sense),
        float(offset),
        np.asarray(cost, dtype=float),
        np.asarray(col_lower, dtype=float),
        np.asarray(col_upper, dtype=float),
        np.asarray(row_lower, dtype=float),
        np.asarray(row_upper, dtype=float),
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data.astype(float),
        np.zeros(n_columns, dtype=np.int32),  # HighsVarType.kContinuous
    )
