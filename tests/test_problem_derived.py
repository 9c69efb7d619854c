"""What a problem derives from its options once (designations, payments, quota scopes, the
greedy rule's payments) is shared with the same problem under other budgets, and only
with those (``AllocationProblem.with_budget``)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np

from liangye.model.frontier import scaled
from liangye.model.greedy import greedy_plan, option_payments
from liangye.model.programme import quota_scopes
from liangye.model.settings import Budget

from conftest import make_candidates, make_policy, programme, solve


def _problem():
    policy = make_policy(
        [programme("P", {"municipal": 20, "provincial": 50})],
        quotas=[{"programmes": ["P"], "levels": ["municipal"], "max": 2, "per": "year"}],
    )
    candidates = make_candidates(
        [{"id": c, "score": s} for c, s in zip("ABCD", (90, 80, 70, 60), strict=True)]
    )
    result = solve(policy, candidates, {2024: 60}, success_probability={"provincial": 0.5})
    return result.problem


def test_a_budget_twin_shares_what_the_options_derive():
    problem = _problem()
    twin = scaled(problem, 0.5)
    assert twin.budget.per_year[2024] == problem.budget.per_year[2024] * Decimal("0.5")
    # made by the twin, read by the original (and the reverse): one store
    assert option_payments(twin) is option_payments(problem)
    assert quota_scopes(twin) is quota_scopes(problem)
    assert twin.designations() is problem.designations()


def test_a_problem_with_other_options_starts_afresh():
    problem = _problem()
    problem.designations()
    options = problem.options.copy()
    other = replace(problem, options=options)
    assert other.derived() is not problem.derived()
    assert other.designations() is not problem.designations()


def test_the_greedy_plan_under_a_budget_twin_is_the_plan_made_afresh():
    """The shared payments must not carry one budget's money into another's plan."""
    problem = _problem()
    for scale in (0.2, 1.0, 0.5, 3.0):
        twin = scaled(problem, scale)
        greedy_plan(problem)  # fills the shared store first
        fresh = replace(problem, budget=Budget(per_year=dict(twin.budget.per_year)))
        assert np.array_equal(greedy_plan(twin), greedy_plan(fresh))
