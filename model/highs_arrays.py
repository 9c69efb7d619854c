"""HiGHS models from arrays: a sparse matrix and bound vectors handed over in one call."""

from __future__ import annotations

import highspy
import numpy as np


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
