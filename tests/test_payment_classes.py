"""Payment classes are numbered as pandas' groupby(sort=True).ngroup() numbered them: the
distinct (tag, payments) tuples in lexicographic order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liangye.model.payment_classes import _ngroup


def pandas_ngroup(keys: list[np.ndarray]) -> np.ndarray:
    frame = pd.DataFrame(dict(enumerate(keys)))
    return frame.groupby(list(range(len(keys))), sort=True).ngroup().to_numpy()


@pytest.mark.parametrize("seed", range(60))
def test_classes_are_numbered_as_pandas_numbered_them(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    k = int(rng.integers(1, 5))
    grid = rng.choice(
        [0.0, -0.0, 0.2, 0.5, 1.5, 20.0, 45.0, 1e-12, -3.0], size=int(rng.integers(1, 9))
    )
    keys = [rng.choice(grid, size=n) for _ in range(k)]
    if seed % 5 == 0:  # tags: integers as floats, many distinct
        keys.insert(0, rng.integers(0, 40, size=n).astype(float))
    got = _ngroup(keys)
    assert got.dtype == np.int64
    assert np.array_equal(got, pandas_ngroup(keys))
