"""The standard form read off the programme's expressions (``model/standard_form.py``) is
Pyomo's compile entry for entry: on random programmes with every rule family (quotas with
minimums and maximums, balance shares and counts, caps, carry-over and total budgets,
nominations, the overrun bound's loaded rows), each way the builder is asked for (objectives,
without budget, elastic quotas); and a model it does not read is compiled by Pyomo."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.numeric_expr import LinearExpression

from liangye.model import standard_form as sf
from liangye.model.options import build_problem
from liangye.model.programme import build_model
from liangye.model.settings import AllocationSettings, Budget

from conftest import make_candidates, make_policy


def assert_same(ours, pyomos) -> None:
    """Two standard forms equal entry for entry: arrays, types, rows, columns."""
    for name in ("A", "c"):
        a, b = getattr(ours, name), getattr(pyomos, name)
        assert type(a) is type(b) and a.shape == b.shape, name
        for part in ("data", "indices", "indptr"):
            x, y = getattr(a, part), getattr(b, part)
            assert x.dtype == y.dtype and np.array_equal(x, y), (name, part)
    assert ours.c_offset.dtype == pyomos.c_offset.dtype
    assert np.array_equal(ours.c_offset, pyomos.c_offset)
    assert [(type(x), x) for x in ours.rhs] == [(type(x), x) for x in pyomos.rhs]
    assert len(ours.rows) == len(pyomos.rows)
    assert all(x[0] is y[0] and x[1] == y[1] for x, y in zip(ours.rows, pyomos.rows, strict=True))
    assert len(ours.columns) == len(pyomos.columns)
    assert all(x is y for x, y in zip(ours.columns, pyomos.columns, strict=True))
    assert all(x is y for x, y in zip(ours.objectives, pyomos.objectives, strict=True))


def pyomo_compile(m: pyo.ConcreteModel):
    return sf.pyomo_standard_form(m, column_order=[m.designate])


def random_problem(seed: int):
    """A random two-year programme over 40 firms with every rule family."""
    rng = np.random.default_rng(seed)
    levels = [
        {"level": "national", "amount": 150, "conferred_by": "national"},
        {"level": "provincial", "amount": 50, "conferred_by": "provincial"},
        {"level": "municipal", "amount": int(rng.choice([20, 30]))},
    ]
    programmes = [
        {"id": "P", "name": "P", "reference": "t", "levels": levels},
        {
            "id": "Q",
            "name": "Q",
            "reference": "t",
            "levels": [{"level": "municipal", "amount": 10}],
        },
    ]
    extra: dict = {"years": [2024, 2025]}
    if rng.random() < 0.7:
        extra["quotas"] = [
            {"programmes": ["P"], "per": "year", "min": int(rng.integers(0, 3)), "max": 6},
            {"programmes": ["Q"], "per": "horizon", "max": int(rng.integers(1, 5))},
        ]
    if rng.random() < 0.5:
        extra["balance"] = [{"by": "district", "max_share": 0.6, "max_count": 4}]
    if rng.random() < 0.5:
        extra["cap_per_candidate_per_year"] = 1
    policy = make_policy(programmes, **extra)
    rows = [
        {
            "id": f"F{i}",
            "score": int(rng.integers(40, 100)),
            "district": str(rng.choice(["A", "B", "C"])),
        }
        for i in range(40)
    ]
    budget = Budget(
        per_year={2024: float(rng.integers(100, 400)), 2025: float(rng.integers(100, 400))},
        carry_over=bool(rng.random() < 0.5),
        total=float(rng.integers(200, 600)) if rng.random() < 0.5 else None,
    )
    settings = AllocationSettings(
        level_weights={"national": 3, "provincial": 2, "municipal": 1},
        success_probability={"national": 0.3, "provincial": 0.5},
        overrun_risk=0.1 if rng.random() < 0.5 else None,
    )
    return build_problem(policy, make_candidates(rows), budget, settings)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(
    "how",
    [
        {},
        {"objective": "count"},
        {"objective": "min_cost"},
        {"with_budget": False},
        {"elastic_quotas": True},
    ],
)
def test_same_as_pyomo(seed, how):
    problem = random_problem(seed)
    m = build_model(problem, **how)
    assert_same(sf.standard_form(m), pyomo_compile(m))
    if m.value.expr.is_potentially_variable():  # not elastic without minimums (a constant)
        assert_same(sf._Reader(m).read(), pyomo_compile(m))  # read, not handed to Pyomo


def small_model() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.designate = pyo.Var(range(4), domain=pyo.Binary)
    m.designate_array = np.array(list(m.designate.values()), dtype=object)
    v = m.designate_array
    m.value = pyo.Objective(expr=LinearExpression(list(v)), sense=pyo.maximize)
    m.one = pyo.Constraint(expr=LinearExpression([v[0], v[1]]) <= 1)
    return m


def test_reads_a_small_model():
    m = small_model()
    assert_same(sf._Reader(m).read(), pyomo_compile(m))


@pytest.mark.parametrize(
    "change",
    [
        "twice",  # a variable twice in a row: Pyomo adds the two
        "fixed",  # a fixed variable: Pyomo moves it to the right-hand side
        "param",  # a Param coefficient
        "nonlinear",  # a product of variables: Pyomo refuses it, as Pyomo says
    ],
)
def test_unfamiliar_models_go_to_pyomo(change):
    m = small_model()
    v = m.designate_array
    if change == "twice":
        m.two = pyo.Constraint(expr=LinearExpression([v[2], v[0], v[2]]) <= 1)
    elif change == "fixed":
        v[3].fix(1)
    elif change == "param":
        m.p = pyo.Param(initialize=2.0, mutable=True)
        m.two = pyo.Constraint(expr=m.p * v[2] + v[3] <= 2)
    else:
        m.two = pyo.Constraint(expr=v[2] * v[3] <= 1)
    with pytest.raises(sf._Unfamiliar):
        sf._Reader(m).read()
    if change == "nonlinear":
        with pytest.raises(ValueError):
            sf.standard_form(m)
        return
    assert_same(sf.standard_form(m), pyomo_compile(m))
