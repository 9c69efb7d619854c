"""The rounding repair of the solve (``HighsProgramme._round_and_repair``) switches on the same
columns as the plain loop it replaced, on random matrices of every kind it may meet: entries
of either sign, repeated entries, rows long and short, tight and free, and a column limit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from liangye.model.highs_model import INTEGRALITY_TOLERANCE
from liangye.model.solve import HighsProgramme


def plain_repair(model, x: np.ndarray, reduced: np.ndarray, limit: int = 20_000) -> np.ndarray:
    """The loop as it stood: every column in turn, tested entry by entry."""
    rounded = np.where(model.integer, np.floor(x + INTEGRALITY_TOLERANCE), x)
    activity = (model.matrix @ rounded).tolist()
    upper = (model.row_upper + 1e-9).tolist()
    gain = model.cost if model.maximise else -model.cost
    start = model.matrix.indptr.tolist()
    index = model.matrix.indices.tolist()
    value = model.matrix.data.tolist()
    off = np.flatnonzero(model.integer & (rounded < 0.5) & (gain > 0) & (model.col_upper > 0.5))
    for j in off[np.argsort(np.abs(reduced[off]), kind="stable")][:limit].tolist():
        entries = range(start[j], start[j + 1])
        if all(activity[index[k]] + value[k] <= upper[index[k]] for k in entries):
            for k in entries:
                activity[index[k]] += value[k]
            rounded[j] = 1.0
    return rounded


def random_model(seed: int) -> tuple[SimpleNamespace, np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    rows = int(rng.integers(1, 60))
    density = float(rng.uniform(0.01, 0.3))
    # amounts on a coarse grid (ties in sums), some rows long enough for the numpy marking
    a = sp.random(rows, n, density=density, random_state=seed, format="coo")
    a.data = np.round(rng.choice([0.5, 1, 2, 5, 15, 0.1, 0.2, 0.3], len(a.data)), 1)
    if seed % 3 == 0:  # some negative entries (balance-like rows)
        a.data[rng.random(len(a.data)) < 0.1] *= -1
    row, col, data = a.row, a.col, a.data
    if seed % 4 == 1:  # a repeated entry or two, kept apart (as a compiler may hand them over)
        extra = rng.integers(0, len(data), size=min(3, len(data)))
        row, col, data = (
            np.append(row, row[extra]),
            np.append(col, col[extra]),
            np.append(data, data[extra]),
        )
    by_column = np.lexsort((row, col))
    matrix = sp.csc_matrix(
        (data[by_column], row[by_column], np.searchsorted(col[by_column], np.arange(n + 1))),
        shape=(rows, n),
    )
    x = np.where(rng.random(n) < 0.3, rng.random(n), 0.0)
    x[rng.random(n) < 0.1] = 1.0
    activity = matrix @ np.floor(x + INTEGRALITY_TOLERANCE)
    upper = activity + rng.choice([0.0, 0.1, 1.0, 3.0, 10.0, 30.0, np.inf], rows)
    integer = rng.random(n) < 0.9
    model = SimpleNamespace(
        matrix=matrix,
        row_upper=upper,
        integer=integer,
        cost=rng.normal(size=n),
        maximise=bool(seed % 2),
        col_upper=np.where(rng.random(n) < 0.95, 1.0, 0.0),
    )
    reduced = np.round(rng.random(n), 2) if seed % 5 else np.zeros(n)
    limit = int(rng.integers(1, n + 1)) if seed % 7 == 0 else 20_000
    return model, x, reduced, limit


@pytest.mark.parametrize("seed", range(300))
def test_the_repair_switches_on_what_the_plain_loop_did(seed):
    model, x, reduced, limit = random_model(seed)
    expected = plain_repair(model, x, reduced, limit)
    got = HighsProgramme._round_and_repair(model, x, reduced, limit)
    assert np.array_equal(got, expected)


def test_a_full_long_row_shuts_out_every_later_column():
    # one budget row of 100 columns with room for two: the first two in reduced-cost order
    n = 100
    matrix = sp.csc_matrix(np.ones((1, n)))
    model = SimpleNamespace(
        matrix=matrix,
        row_upper=np.array([2.0]),
        integer=np.ones(n, dtype=bool),
        cost=np.ones(n),
        maximise=True,
        col_upper=np.ones(n),
    )
    reduced = np.arange(n, 0, -1, dtype=float)
    got = HighsProgramme._round_and_repair(model, np.zeros(n), reduced)
    assert np.flatnonzero(got).tolist() == [98, 99]
    assert np.array_equal(got, plain_repair(model, np.zeros(n), reduced))
