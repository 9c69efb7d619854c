"""The relaxation-first solve, its budget cuts, and the budget frontier's re-used model."""

from __future__ import annotations

import pytest

from liangye.model.allocation import allocate
from liangye.model.frontier import budget_frontier, quota_budget, scaled
from liangye.model.options import build_problem
from liangye.model.programme import build_model
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.solve import HighsProgramme, solve_model

from conftest import make_candidates, make_policy, programme


def parity_problem(budget: int = 50):
    """Municipal awards cost 20 and score best per 万元; the budget 50 buys two of them and
    leaves 10 that no whole award can use. The LP spends it on half a third award."""
    policy = make_policy([programme("P", {"provincial": 50, "municipal": 20})])
    candidates = make_candidates([{"id": f"C{i}", "score": 90 - i} for i in range(5)])
    return build_problem(
        policy,
        candidates,
        Budget(per_year={2024: budget}),
        AllocationSettings(level_weights={"provincial": 2}),
    )


def test_budget_cuts_close_the_parity_gap():
    """LP without cuts: 20·x ≤ 50 lets 2.5 municipal awards in. The cut ⌊w/2⌋ with weights
    (2, 5) in units of 10 and b = 5: x_mun + 2·x_prov ≤ 2 forbids the half award, so the
    relaxation's bound equals the integer optimum: C0 and C1 municipal (90 + 89 = 179) or
    C0 provincial (180) plus nothing (50 spent): the optimum is 180 with spend 50."""
    problem = parity_problem()
    programme_ = HighsProgramme(build_model(problem), problem.settings)
    assert programme_.counted.cuts, "the budget row should carry rounding cuts"
    outcome = programme_.solve()
    assert outcome.status == "optimal"
    result = allocate(problem)
    assert result.objective == pytest.approx(180)
    # The bound includes the tie-break bonus, which stays below half a merit step.
    assert 180 <= result.bound < 180.5


def test_fractional_relaxation_still_proves_optimality():
    """Costs off the decimal grid get no cuts (amount 20.0001), so the LP stays fractional;
    the MIP must still return the optimum 179 (two municipal awards, C0 and C1)."""
    policy = make_policy([programme("P", {"municipal": 20.00013})])
    candidates = make_candidates([{"id": f"C{i}", "score": 90 - i} for i in range(5)])
    problem = build_problem(policy, candidates, Budget(per_year={2024: 50}), AllocationSettings())
    outcome = solve_model(build_model(problem), problem.settings)
    assert outcome.status == "optimal" and outcome.method != "lp"
    assert sorted(outcome.chosen.tolist()) == [0, 1]


def test_frontier_matches_solving_each_budget_afresh():
    policy = make_policy(
        [programme("P", {"national": 150, "provincial": 50, "municipal": 20})], years=[2024, 2025]
    )
    candidates = make_candidates(
        [{"id": f"C{i:02d}", "score": 50 + (i * 7) % 45} for i in range(40)]
    )
    problem = build_problem(
        policy,
        candidates,
        Budget(per_year={2024: 200, 2025: 200}),
        AllocationSettings(level_weights={"national": 3, "provincial": 2}),
    )
    scales = [0.5, 1.0, 1.7, 3.0]
    frontier = budget_frontier(problem, scales)
    assert list(frontier["status"]) == ["optimal"] * len(scales)
    afresh = [allocate(scaled(problem, s), explain=False).objective for s in scales]
    assert frontier["objective"].tolist() == pytest.approx(afresh)
    assert frontier["objective"].is_monotonic_increasing
    assert (frontier["objective"] >= frontier["greedy_objective"] - 1e-9).all()
    # Each point says what it is proven against: a bound at least its objective, within
    # the requested gap (a point not proven optimal said nothing of how far it might be).
    assert (frontier["bound"] >= frontier["objective"] - 1e-6).all()
    assert (frontier["gap"] <= problem.settings.mip_gap).all()


def test_a_frontier_point_reports_the_bound_and_gap_allocate_reports():
    """One meaning of bound and gap (allocation.bound_and_gap): a point of the frontier at
    the problem's own budget reports what allocate reports there."""
    from liangye.model.frontier import budget_frontier

    problem = build_problem(
        make_policy(
            [programme("P", {"national": 150, "provincial": 50, "municipal": 20})],
            years=[2024, 2025],
        ),
        make_candidates([{"id": f"C{i:02d}", "score": 50 + (i * 7) % 45} for i in range(40)]),
        Budget(per_year={2024: 200, 2025: 200}),
        AllocationSettings(level_weights={"national": 3, "provincial": 2}),
    )
    point = budget_frontier(problem, [1.0]).iloc[0]
    direct = allocate(problem, explain=False)
    assert point["objective"] == pytest.approx(direct.objective)
    assert point["bound"] == pytest.approx(direct.bound)
    assert point["gap"] == pytest.approx(direct.gap, abs=1e-12)


def test_compiled_columns_start_with_the_designations_whatever_order_the_compiler_picks(
    monkeypatch,
):
    """The compiler is first asked for its own column order (which, in Pyomo 6.10, puts the
    designations first); if it ever put another variable first, the model must be compiled
    again in the order the solve relies on: columns 0..n-1 = designate[0..n-1]."""
    import numpy as np
    import pyomo.environ as pyo
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from liangye.model.highs_model import HighsModel

    model = pyo.ConcreteModel()
    model.extra = pyo.Var(bounds=(0, 1))
    model.designate = pyo.Var(range(3), domain=pyo.Binary)
    model.designate_array = np.array(list(model.designate.values()), dtype=object)
    model.budget_limit = pyo.Constraint(
        expr=20 * model.designate[0] + 50 * model.designate[1] + 20 * model.designate[2] <= 50
    )
    model.value = pyo.Objective(
        expr=7 * model.extra + sum((i + 1) * model.designate[i] for i in range(3)),
        sense=pyo.maximize,
    )
    write = LinearStandardFormCompiler.write
    calls = []

    def extra_first_unless_told(self, m, **options):
        calls.append(options.get("column_order"))
        options.setdefault("column_order", [m.extra])
        return write(self, m, **options)

    monkeypatch.setattr(LinearStandardFormCompiler, "write", extra_first_unless_told)
    compiled = HighsModel(model)
    assert len(calls) == 2, "the first order put `extra` first: it should have compiled again"
    assert [compiled.columns[i] is model.designate[i] for i in range(3)] == [True] * 3
    assert compiled.columns[3] is model.extra
    assert compiled.cost.tolist() == [1.0, 2.0, 3.0, 7.0]


def test_the_budget_the_quotas_need_is_the_least_that_has_a_plan():
    """Two municipal awards of 20 a year are required (a minimum quota of 2 per year): the
    least money is 40 a year, 80 in all; the frontier's table says the rank-by-score plan,
    which ignores quotas, breaks them where it does."""
    policy = make_policy(
        [programme("P", {"provincial": 50, "municipal": 20})],
        years=[2024, 2025],
        quotas=[{"programmes": ["P"], "levels": ["municipal"], "per": "year", "min": 2}],
    )
    candidates = make_candidates([{"id": f"C{i}", "score": 90 - i} for i in range(6)])
    problem = build_problem(
        policy,
        candidates,
        Budget(per_year={2024: 100, 2025: 100}),
        AllocationSettings(level_weights={"provincial": 3}),
    )
    assert quota_budget(problem) == pytest.approx(80.0)
    assert allocate(scaled(problem, 0.4)).status == "optimal"  # 40 a year
    assert allocate(scaled(problem, 0.39)).status == "infeasible"
    frontier = budget_frontier(problem, [0.4, 1.0])
    # At 100 a year the greedy plan gives provincial awards (50) to the best two: no
    # municipal one, so the minimum of 2 is broken in both years.
    assert frontier["greedy_rules_broken"].tolist()[1] > 0


def test_the_quota_line_is_where_the_scaled_budgets_first_have_a_plan():
    """Two municipal designations (20 each) due in 2024, budgets of 10 in 2024 and 90 in
    2025: the cheapest plan spends 40, but the frontier scales both budgets together, and
    2024's holds 40 only at four times its size, 400 in all (review 10: Wuhan's line said
    3,365万元 where its frontier had no plan below about 5,400)."""
    policy = make_policy(
        [programme("P", {"municipal": 20})],
        years=[2024, 2025],
        quotas=[{"programmes": ["P"], "per": "year", "years": [2024], "min": 2}],
    )
    candidates = make_candidates([{"id": f"C{i}", "score": 90 - i} for i in range(4)])
    problem = build_problem(
        policy, candidates, Budget(per_year={2024: 10, 2025: 90}), AllocationSettings()
    )
    assert quota_budget(problem) == pytest.approx(400.0)
    assert allocate(scaled(problem, 4)).status == "optimal"
    assert allocate(scaled(problem, 3.99)).status == "infeasible"


def test_every_constraint_of_the_programme_is_in_a_declared_row_block():
    """The solver finds rows by the blocks programme.ROW_BLOCKS declares: a rule added or
    renamed without declaring it would be missed (its money rows not counted by class, a
    frontier not moving its budget). Checked on a model with every rule family."""
    import pyomo.environ as pyo

    from liangye.model.programme import ROW_BLOCKS, row_block
    from liangye.model.solve import HighsProgramme

    policy = make_policy(
        [programme("P", {"provincial": 50, "municipal": 20})],
        years=[2024, 2025],
        quotas=[{"programmes": ["P"], "per": "year", "min": 1, "max": 3}],
        balance=[{"by": "district", "max_share": 0.8}],
    )
    candidates = make_candidates(
        [{"id": f"C{i}", "score": 90 - i, "district": "AB"[i % 2]} for i in range(8)]
    )
    problem = build_problem(
        policy,
        candidates,
        Budget(per_year={2024: 100, 2025: 100}, total=180),
        AllocationSettings(cap_per_candidate_per_year=1),
    )
    m = build_model(problem)
    declared = {name for names in ROW_BLOCKS.values() for name in names}
    built = {c.local_name for c in m.component_objects(pyo.Constraint)}
    assert built <= declared, built - declared
    for block in ("budget", "stacking", "cap", "quota", "balance"):
        assert row_block(m, block), block
    compiled = HighsProgramme(m, problem.settings)
    assert len(compiled.budget_rows) == len(row_block(m, "budget")) == 3  # two years, total


def test_allocate_leaves_the_collector_as_it_found_it_and_its_model_collectable(monkeypatch):
    """allocate pauses the garbage collector while it works (model/allocation.py) and gives
    it back as it was: on when it was on, off when the caller had paused it (as the
    simulation's rounds do); the model's cycles are gone in the first collection after."""
    import gc
    import weakref

    import liangye.model.allocation as allocation

    built = []

    def keep(problem, build=allocation.build_model):
        model = build(problem)
        built.append(weakref.ref(model))
        return model

    monkeypatch.setattr(allocation, "build_model", keep)
    problem = parity_problem()
    assert gc.isenabled()
    result = allocate(problem)
    assert gc.isenabled()
    gc.disable()
    try:
        assert allocate(problem).objective == result.objective
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.collect()
    assert len(built) >= 2 and all(ref() is None for ref in built)
