"""Rounding the relaxation by class counts (model/count_rounding.py): whole plans that spend
the budget, within the gap of the true optimum, and the relaxation left as it was."""

from __future__ import annotations

from collections import Counter

import highspy
import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from liangye.model.allocation import allocate
from liangye.model.count_rounding import rounded_plan, whole_counts
from liangye.model.options import build_problem
from liangye.model.programme import build_model
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.solve import HighsProgramme

from conftest import make_candidates, make_policy, programme

SEEDS = range(12)
GAP = 1e-4


def deep_budget_problem(seed: int):
    """40 firms, two programmes (150/50/20 and 50/20) over two years, a yearly budget that
    reaches deep into the pool and ends in 10: whole awards of 20 and 50 fill it only in
    some mixes, so the relaxation is often fractional in a way plain rounding cannot fix."""
    rng = np.random.default_rng(seed)
    policy = make_policy(
        [
            programme("P", {"national": 150, "provincial": 50, "municipal": 20}),
            programme("Q", {"provincial": 50, "municipal": 20}, matter="Q"),
        ],
        years=[2024, 2025],
        upgrade="none",  # the instances these tests were tuned on: one award per matter
    )
    candidates = make_candidates(
        [{"id": f"C{i:02d}", "score": round(float(rng.uniform(50, 100)), 2)} for i in range(40)]
    )
    budget = int(rng.integers(60, 160)) * 10
    return build_problem(
        policy,
        candidates,
        Budget(per_year={2024: budget, 2025: budget}),
        AllocationSettings(level_weights={"national": 3, "provincial": 2}, mip_gap=GAP),
    )


def exact_optimum(programme_: HighsProgramme) -> float:
    """The compiled model solved as a plain 0-1 programme by scipy (no classes, no cuts)."""
    sign = -1.0 if programme_.maximise else 1.0
    result = milp(
        sign * programme_.cost,
        constraints=LinearConstraint(programme_.matrix, programme_.row_lower, programme_.row_upper),
        bounds=Bounds(programme_.col_lower, programme_.col_upper),
        integrality=programme_.integer.astype(int),
        options={"mip_rel_gap": 1e-9},
    )
    assert result.status == 0
    return sign * result.fun + programme_.offset


@pytest.fixture(scope="module")
def solved():
    found = {}
    for seed in SEEDS:
        problem = deep_budget_problem(seed)
        programme_ = HighsProgramme(build_model(problem), problem.settings)
        found[seed] = (problem, programme_.solve(), exact_optimum(programme_))
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_answer_is_within_the_gap_of_the_exact_optimum(solved, seed):
    _, outcome, optimum = solved[seed]
    assert outcome.status == "optimal"
    assert outcome.solver_objective <= optimum + 1e-6
    assert outcome.solver_objective >= optimum - GAP * abs(optimum)
    # The reported bound is a real bound.
    assert outcome.solver_bound >= optimum - 1e-6


def test_count_rounding_is_what_concludes_several_of_these(solved):
    """Otherwise the tests above would not test it."""
    ends = Counter(outcome.method for _, outcome, _ in solved.values())
    assert ends["lp+counts"] >= 3, ends


def fractional_relaxation():
    """The first instance whose relaxation is fractional, solved to its relaxation only."""
    for seed in SEEDS:
        problem = deep_budget_problem(seed)
        programme_ = HighsProgramme(build_model(problem), problem.settings)
        relaxation = programme_.relaxation
        relaxation.setOptionValue("output_flag", False)
        relaxation.run()
        solution = relaxation.getSolution()
        x = np.asarray(solution.col_value)
        if not programme_.integral(x):
            return programme_, x, np.asarray(solution.row_dual)
    raise AssertionError("no instance with a fractional relaxation")


def test_whole_counts_fit_the_budget_and_keep_to_the_relaxation():
    programme_, x, row_dual = fractional_relaxation()
    classes = programme_.classes
    relaxed = classes.counts(x)
    counts = whole_counts(programme_, classes, x, relaxed, row_dual)
    assert counts is not None
    assert np.array_equal(counts, np.round(counts))
    spend = classes.pays.T @ counts
    assert np.all(spend <= programme_.row_upper[programme_.budget_rows] + 1e-9)
    assert counts.sum() <= np.floor(relaxed.sum() + 1e-9)
    assert np.all(counts[relaxed < 1e-9] == 0), "a class the relaxation left empty was used"
    assert np.all(counts <= classes.sizes)


def test_rounded_plan_is_whole_and_leaves_the_class_rows_free():
    """...and leaves the relaxation's options as it found them (count rounding owns and
    restores the HiGHS state it changes)."""
    programme_, x, row_dual = fractional_relaxation()
    programme_.relaxation.setOptionValue("solver", "ipm")
    plan = rounded_plan(programme_, x, row_dual)
    assert programme_.relaxation.getOptionValue("solver")[1] == "ipm"
    assert plan is not None, "rounding the counts found no plan on this instance"
    assert programme_.integral(plan)
    assert programme_.feasible(plan)
    lp = programme_.relaxation.getLp()
    rows = programme_.class_rows()
    assert np.all(np.asarray(lp.row_lower_)[rows] == -highspy.kHighsInf)
    assert np.all(np.asarray(lp.row_upper_)[rows] == highspy.kHighsInf)


def test_interior_point_relaxation_still_rounds_by_counts(solved, monkeypatch):
    """Above ``LARGE_LP`` columns the relaxation is solved by the interior point method (with
    crossover); the re-solve with the counts held starts from its basis, and the answers stay
    within the gap of the exact optimum."""
    import liangye.model.solve as solve_module

    monkeypatch.setattr(solve_module, "LARGE_LP", 0)
    methods = []
    for seed in SEEDS:
        problem, _, optimum = solved[seed]
        outcome = HighsProgramme(build_model(problem), problem.settings).solve()
        assert outcome.status == "optimal"
        assert optimum - GAP * abs(optimum) <= outcome.solver_objective <= optimum + 1e-6
        methods.append(outcome.method)
    assert "lp+counts" in methods, methods


def test_the_same_instance_gives_the_same_plan():
    """The small programme is bounded by nodes, not time: a rerun reproduces the plan."""
    concluded_by_counts = 0
    for seed in list(SEEDS)[:6]:
        first = allocate(deep_budget_problem(seed), explain=False)
        again = allocate(deep_budget_problem(seed), explain=False)
        assert first.method == again.method
        assert first.chosen.tolist() == again.chosen.tolist()
        concluded_by_counts += first.method == "lp+counts"
    assert concluded_by_counts >= 1


def test_whole_counts_with_fractional_designations_are_held_not_branched_on(monkeypatch):
    """When the counts-only MIP returns fractional designations, the relaxation re-solved
    with its counts held gives the whole plan (no full MIP); it is as good as the full MIP's.
    The instance is the benchmark's generous family at 500 candidates (seed 1), where it
    happens; found by scanning the family."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from instances import benchmark_problem

    problem = benchmark_problem(500, 1, True, "generous", mip_gap=GAP)
    held = HighsProgramme(build_model(problem), problem.settings).solve()
    assert held.status == "optimal" and "held" in held.method
    monkeypatch.setattr(HighsProgramme, "_held", lambda self, x: None)
    full = HighsProgramme(build_model(problem), problem.settings).solve()
    assert "mip" in full.method
    assert held.solver_objective >= full.solver_objective - GAP * abs(full.solver_objective)
    assert held.solver_objective <= full.solver_bound + 1e-6
