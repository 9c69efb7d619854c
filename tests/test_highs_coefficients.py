"""Changing a loaded row's coefficients and bounds on a compiled programme
(``HighsModel.set_coefficients``, ``set_upper_at``): the relaxation's changes wait until it is
next asked for, and then it holds exactly what changing it at once would have given; the
counted instance's class counts follow when every designation of a class gets one value."""

from __future__ import annotations

import numpy as np
import pytest

from liangye.model.options import build_problem
from liangye.model.programme import build_model
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.solve import HighsProgramme

from conftest import make_candidates, make_policy

WEIGHT = {"national": 3, "provincial": 2, "municipal": 1}


def programme_for(seed: int) -> HighsProgramme:
    rng = np.random.default_rng(seed)
    levels = [
        {"level": "national", "amount": 150, "conferred_by": "national"},
        {"level": "provincial", "amount": 50, "conferred_by": "provincial"},
        {"level": "municipal", "amount": 20},
    ]
    policy = make_policy(
        [{"id": "P", "name": "P", "reference": "t", "levels": levels}], years=[2024, 2025]
    )
    rows = [{"id": f"F{i}", "score": int(rng.integers(50, 100))} for i in range(30)]
    problem = build_problem(
        policy,
        make_candidates(rows),
        Budget(per_year={2024: 200, 2025: 300}),
        AllocationSettings(
            level_weights=WEIGHT,
            success_probability={"national": 0.3, "provincial": 0.5},
            overrun_risk=0.1,
        ),
    )
    return HighsProgramme(build_model(problem), problem.settings)


def relaxation_rows(highs, rows: list[int], n_columns: int) -> np.ndarray:
    """The relaxation's coefficients of ``rows`` over the first ``n_columns`` columns."""
    lp = highs.getLp()
    start, index, value = (
        np.asarray(lp.a_matrix_.start_),
        np.asarray(lp.a_matrix_.index_),
        np.asarray(lp.a_matrix_.value_),
    )
    dense = np.zeros((len(rows), n_columns))
    for j in range(n_columns):
        for k in range(start[j], start[j + 1]):
            if index[k] in rows:
                dense[rows.index(index[k]), j] = value[k]
    return dense


@pytest.mark.parametrize("seed", range(3))
def test_the_relaxation_holds_every_change_once_asked_for(seed):
    programme = programme_for(seed)
    assert programme.load_rows and programme.classes is not None
    assert programme.counted is not None  # made now: its changes are made at once
    eager = programme_for(seed)  # the same model, changed call by call
    rng = np.random.default_rng(seed)
    row = programme.load_rows[0]
    csr = programme.matrix.tocsr()
    columns = csr.indices[csr.indptr[row] : csr.indptr[row + 1]].copy()
    base = csr.data[csr.indptr[row] : csr.indptr[row + 1]].copy()
    for step in range(3):
        values = base + rng.choice([0.0, 0.5, 2.0], len(base)) * (step != 2)
        programme.set_coefficients(row, columns, values)
        programme.set_upper_at(row, 100.0 + step)
        for column, value in zip(columns.tolist(), values.tolist(), strict=True):
            eager.relaxation.changeCoeff(row, column, value)
        eager.relaxation.changeRowBounds(row, eager.row_lower[row], 100.0 + step)
        assert programme._pending  # nothing reached HiGHS yet
    got = programme.relaxation  # now everything does
    assert not programme._pending
    n = programme.n_model
    rows = list(range(programme.matrix.shape[0]))
    expected = programme.matrix.toarray()
    assert np.array_equal(relaxation_rows(got, rows, n), expected)
    assert np.array_equal(relaxation_rows(eager.relaxation, rows, n), expected)
    assert got.getLp().row_upper_[row] == 102.0
    assert list(got.getLp().row_upper_) == list(eager.relaxation.getLp().row_upper_)


def test_a_class_given_one_value_moves_its_count_and_a_split_class_keeps_the_last():
    programme = programme_for(0)
    counted = programme.counted
    classes = programme.classes
    row = programme.load_rows[0]
    where = programme.money_rows.index(row)
    csr = programme.matrix.tocsr()
    columns = csr.indices[csr.indptr[row] : csr.indptr[row + 1]].copy()
    base = csr.data[csr.indptr[row] : csr.indptr[row + 1]].copy()
    klass = np.full(programme.n_model, -1)
    klass[classes.columns] = classes.klass
    # one value per class: each class's count gets its class's value
    per_class = 1.0 + np.arange(classes.n_classes)
    values = np.where(klass[columns] >= 0, per_class[klass[columns]], base)
    programme.set_coefficients(row, columns, values)
    lp = counted.highs.getLp()
    for k in np.unique(klass[columns][klass[columns] >= 0]).tolist():
        assert classes.pays[k, where] == per_class[k]
        column = programme.n_model + k
        entries = range(lp.a_matrix_.start_[column], lp.a_matrix_.start_[column + 1])
        (value,) = [lp.a_matrix_.value_[e] for e in entries if lp.a_matrix_.index_[e] == row]
        assert value == per_class[k]
    # a class given two values: as one designation at a time, the last one given stays
    k = int(np.bincount(klass[columns][klass[columns] >= 0]).argmax())
    members = np.flatnonzero(klass[columns] == k)
    assert len(members) >= 2
    values = values.copy()
    values[members[0]] = 7.0
    values[members[-1]] = 9.0
    programme.set_coefficients(row, columns, values)
    assert classes.pays[k, where] == 9.0
