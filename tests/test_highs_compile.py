"""The standard form read straight off the programme's expressions (``highs_compile.py``) is
Pyomo's ``LinearStandardFormCompiler``'s to the last array, dtype and row, on models with
every kind of row the builder writes; and anything it does not read goes to Pyomo's."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
import test_risk_bound as risk_instances
import test_solve_paths as path_instances
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from liangye.model.highs_compile import standard_form
from liangye.model.highs_model import _compile
from liangye.model.options import build_problem
from liangye.model.programme import build_model
from liangye.model.settings import AllocationSettings, Budget

from conftest import make_candidates


def assert_same_as_pyomo(m) -> None:
    expected = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    got = standard_form(m)
    assert got is not None
    for name in ("A", "c"):
        a, b = getattr(expected, name), getattr(got, name)
        assert type(a) is type(b) and a.shape == b.shape
        for part in ("data", "indices", "indptr"):
            x, y = getattr(a, part), getattr(b, part)
            assert x.dtype == y.dtype and np.array_equal(x, y)
    assert expected.c_offset.dtype == got.c_offset.dtype
    assert np.array_equal(expected.c_offset, got.c_offset)
    assert list(expected.rhs) == list(got.rhs)
    assert [type(x) for x in expected.rhs] == [type(x) for x in got.rhs]
    assert len(expected.rows) == len(got.rows)
    assert all(r.constraint is g.constraint for r, g in zip(expected.rows, got.rows, strict=True))
    assert [r.bound_type for r in expected.rows] == [g.bound_type for g in got.rows]
    assert len(expected.columns) == len(got.columns)
    assert all(a is b for a, b in zip(expected.columns, got.columns, strict=True))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("objective", ["merit", "count", "min_cost"])
def test_paths_instances(seed, objective):
    """Nominations at expected cost, yearly budgets, a balance share, caps on odd seeds."""
    candidates, budget, capped = path_instances.instance(seed)
    problem = path_instances.liangye_problem(candidates, budget, capped)
    problem = build_problem(
        problem.policy,
        candidates,
        problem.budget,
        problem.settings.model_copy(update={"objective": objective}),
    )
    assert_same_as_pyomo(build_model(problem))


@pytest.mark.parametrize("seed", range(8))
def test_overrun_bound_instances(seed):
    """Entitlements (rows held equal to 1), upgrades, instalments, risk-loaded rows, a total
    budget with carry-over on even seeds."""
    rows, chances, budget, alpha, upgrade, instalment = risk_instances.instance(seed)
    problem = build_problem(
        risk_instances.policy_for(upgrade, instalment),
        make_candidates(rows + [dict(r, id=f"{r['id']}b") for r in rows]),
        Budget(
            per_year={t: Decimal(v) for t, v in budget.items()},
            total=Decimal(sum(budget.values()) - 10) if seed % 2 == 0 else None,
            carry_over=seed % 2 == 0,
        ),
        AllocationSettings(
            level_weights=risk_instances.WEIGHT,
            success_probability=chances,
            overrun_risk=alpha,
        ),
    )
    assert_same_as_pyomo(build_model(problem))


def test_a_fixed_variable_is_left_to_pyomo():
    candidates, budget, capped = path_instances.instance(1)
    m = build_model(path_instances.liangye_problem(candidates, budget, capped))
    m.designate[0].fix(1)
    assert standard_form(m) is None
    repn = _compile(m)  # Pyomo's, then the designations put first as before
    assert all(a is b for a, b in zip(repn.columns, m.designate_array, strict=False))


@pytest.mark.parametrize("seed", range(4))
def test_quota_and_count_rows(seed):
    """Minimum and maximum quotas (a shortfall column in the minimum's row), a balance count,
    and a budget of one amount (a single coefficient group: a product, not a sum)."""
    from conftest import make_policy, programme

    rng = np.random.default_rng(seed)
    policy = make_policy(
        [programme("P", {"municipal": 20}), programme("Q", {"municipal": 20})],
        years=[2024, 2025],
        quotas=[{"programmes": ["P"], "levels": ["municipal"], "per": "year", "min": 1, "max": 3}],
        balance=[{"by": "district", "max_count": 2, "per": "year"}],
    )
    candidates = make_candidates(
        [
            {"id": f"C{i}", "score": int(rng.integers(50, 100)), "district": f"D{i % 3}"}
            for i in range(int(rng.integers(5, 12)))
        ]
    )
    problem = build_problem(
        policy,
        candidates,
        Budget(per_year={2024: Decimal(60), 2025: Decimal(80)}),
        AllocationSettings(),
    )
    m = build_model(problem)
    assert len(m.quota_min) and len(m.quota_max) and len(m.balance_count)
    assert_same_as_pyomo(m)
