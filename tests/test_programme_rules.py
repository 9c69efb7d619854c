"""Tiny allocations whose optimum is worked out by hand, one per rule family."""

from __future__ import annotations

import pytest

from conftest import make_candidates, make_policy, picks, programme, solve


def test_eligibility_rule_excludes_candidate_and_names_the_rule():
    """P pays 20 at municipal level to firms with revenue >= 2000 (万元).
    A (revenue 3000, score 80) is eligible; B (revenue 1000, score 90) is not, despite
    the higher score. Budget 100 → optimum {A}, merit 80; B's reason names the rule."""
    policy = make_policy([programme("P", {"municipal": 20}, eligibility=["revenue >= 2000"])])
    candidates = make_candidates(
        [
            {"id": "A", "revenue": 3000, "score": 80},
            {"id": "B", "revenue": 1000, "score": 90},
        ]
    )
    result = solve(policy, candidates, {2024: 100})
    assert result.status == "optimal"
    assert picks(result) == {("A", "P", "municipal", 2024)}
    assert result.objective == pytest.approx(80)
    reason = result.reasons.set_index("candidate_id").loc["B"]
    assert reason["outcome"] == "ineligible"
    assert "revenue >= 2000" in reason["detail"]


@pytest.mark.parametrize(
    ("stacking", "expected_merit", "count"), [("highest", 80, 1), ("all", 160, 2)]
)
def test_one_designation_per_matter(stacking, expected_merit, count):
    """P1 (20) and P2 (30) are the same matter. A (score 80), budget 100.
    就高不重复 (stacking = highest): one of them, merit 80, the cheaper P1 by the tie-break.
    stacking = all: both, merit 160."""
    policy = make_policy(
        [
            programme("P1", {"municipal": 20}, matter="m"),
            programme("P2", {"municipal": 30}, matter="m"),
        ],
        stacking=stacking,
    )
    result = solve(policy, make_candidates([{"id": "A", "score": 80}]), {2024: 100})
    assert result.objective == pytest.approx(expected_merit)
    assert len(result.chosen) == count
    if stacking == "highest":
        assert picks(result) == {("A", "P1", "municipal", 2024)}


@pytest.mark.parametrize(
    ("upgrade", "expected", "spend"),
    [
        ("top_up", {("A", "P", "provincial", 2024)}, 30),  # 50 − 20 already paid = 30 ≤ 40
        ("full", set(), 0),  # provincial costs the full 50 > 40; national 150 > 40
        ("none", set(), 0),  # a holder cannot be designated again in the matter
    ],
)
def test_history_and_upgrade_modes(upgrade, expected, spend):
    """A already holds P at municipal level (paid 20). Levels: national 150, provincial 50,
    municipal 20; weights national 3, provincial 2. Budget 40.
    top_up: provincial for 30 (national would top up 130 > 40; municipal is already held).
    full: provincial costs 50 > 40 → nothing. none: no upgrade allowed → nothing."""
    policy = make_policy(
        [programme("P", {"national": 150, "provincial": 50, "municipal": 20})], upgrade=upgrade
    )
    candidates = make_candidates([{"id": "A", "score": 80, "held": "P:municipal"}])
    result = solve(policy, candidates, {2024: 40}, level_weights={"national": 3, "provincial": 2})
    assert picks(result) == expected
    assert float(result.spend[2024]) == spend
    outcome = result.reasons.set_index("candidate_id").loc["A", "outcome"]
    assert outcome == (
        "selected" if expected else ("out_of_budget" if upgrade == "full" else "ineligible")
    )


def test_yearly_budgets():
    """Two years, 20 each; P costs 20; A 90, B 80, C 70. One designation per candidate over
    the horizon, one affordable per year → A and B, one per year; C is out of budget."""
    policy = make_policy([programme("P", {"municipal": 20})], years=[2024, 2025])
    candidates = make_candidates(
        [{"id": c, "score": s} for c, s in [("A", 90), ("B", 80), ("C", 70)]]
    )
    result = solve(policy, candidates, {2024: 20, 2025: 20})
    chosen = picks(result)
    assert {c for c, *_ in chosen} == {"A", "B"}
    assert sorted(t for *_, t in chosen) == [2024, 2025]
    assert result.objective == pytest.approx(170)
    assert result.reasons.set_index("candidate_id").loc["C", "outcome"] == "out_of_budget"


@pytest.mark.parametrize(("carry_over", "merit"), [(False, 90), (True, 170)])
def test_carry_over(carry_over, merit):
    """Budgets 10 (2024) and 30 (2025); P costs 20. Without carry-over nothing fits in 2024
    and one (A) in 2025: 90. With carry-over 2025 may spend 10 + 30 = 40: A and B, 170."""
    policy = make_policy([programme("P", {"municipal": 20})], years=[2024, 2025])
    candidates = make_candidates(
        [{"id": c, "score": s} for c, s in [("A", 90), ("B", 80), ("C", 70)]]
    )
    result = solve(policy, candidates, {2024: 10, 2025: 30}, carry_over=carry_over)
    assert result.objective == pytest.approx(merit)
    assert all(t == 2025 for *_, t in picks(result))


def test_horizon_total_budget():
    """Per year 40 would allow two per year, but the horizon total of 40 allows two in all:
    A and B (merit 170)."""
    policy = make_policy([programme("P", {"municipal": 20})], years=[2024, 2025])
    candidates = make_candidates(
        [{"id": c, "score": s} for c, s in [("A", 90), ("B", 80), ("C", 70)]]
    )
    result = solve(policy, candidates, {2024: 40, 2025: 40}, total=40)
    assert {c for c, *_ in picks(result)} == {"A", "B"}
    assert float(sum(result.spend.values())) == 40


def test_minimum_quota_forces_the_expensive_programme():
    """P costs 10, Q costs 30 (different matters); A 90, B 80, C 70; budget 30.
    Without a quota: P for all three, merit 240. With 'Q at least 1 a year' the 30 must
    go to one Q, the best being A's: {A-Q}, merit 90."""
    programmes = [programme("P", {"municipal": 10}), programme("Q", {"municipal": 30})]
    candidates = make_candidates(
        [{"id": c, "score": s} for c, s in [("A", 90), ("B", 80), ("C", 70)]]
    )
    free = solve(make_policy(programmes), candidates, {2024: 30})
    assert free.objective == pytest.approx(240)
    quota = [{"programmes": ["Q"], "per": "year", "min": 1, "reference": "test"}]
    bound = solve(make_policy(programmes, quotas=quota), candidates, {2024: 30})
    assert picks(bound) == {("A", "Q", "municipal", 2024)}


@pytest.mark.parametrize(("per", "years"), [("year", [2024, 2024]), ("horizon", [2024, 2025])])
def test_maximum_quota(per, years):
    """P costs 10, ample budget; at most 2 designations (per year, or over two years)
    → the two best, A and B; C is outranked within the quota."""
    quota = [{"programmes": ["P"], "per": per, "max": 2, "name": "at most two", "reference": "t"}]
    policy = make_policy([programme("P", {"municipal": 10})], quotas=quota, years=years)
    candidates = make_candidates(
        [{"id": c, "score": s} for c, s in [("A", 90), ("B", 80), ("C", 70)]]
    )
    result = solve(policy, candidates)
    assert {c for c, *_ in picks(result)} == {"A", "B"}
    reason = result.reasons.set_index("candidate_id").loc["C"]
    assert reason["outcome"] == "outranked"
    assert "at most two" in reason["detail"]


@pytest.mark.parametrize("cap", [{"max_share": 0.5}, {"max_count": 1}])
def test_balance_by_district(cap):
    """A (90) and B (85) in district X, C (60) in Y; P costs 10, budget 20 (two awards).
    Unbalanced: A and B (175). With X at most half of the awards, or at most one: A and C (150)."""
    policy = make_policy([programme("P", {"municipal": 10})], balance=[{"by": "district", **cap}])
    candidates = make_candidates(
        [
            {"id": "A", "score": 90, "district": "X"},
            {"id": "B", "score": 85, "district": "X"},
            {"id": "C", "score": 60, "district": "Y"},
        ]
    )
    result = solve(policy, candidates, {2024: 20})
    assert {c for c, *_ in picks(result)} == {"A", "C"}
    assert result.objective == pytest.approx(150)


def test_cap_per_candidate_per_year():
    """A (90) may hold P and Q (separate matters), B (50) only P; each costs 10, budget 20.
    No cap: A-P and A-Q (180). At most one per candidate per year: A-P and B-P (140)."""
    programmes = [
        programme("P", {"municipal": 10}),
        programme("Q", {"municipal": 10}, eligibility=["score >= 60"]),
    ]
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 50}])
    assert solve(make_policy(programmes), candidates, {2024: 20}).objective == pytest.approx(180)
    capped = solve(make_policy(programmes, cap_per_candidate_per_year=1), candidates, {2024: 20})
    assert picks(capped) == {("A", "P", "municipal", 2024), ("B", "P", "municipal", 2024)}


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        ("merit", {("A", "P", "national", 2024)}),  # 3 × 90 = 270 for 50 beats 90 + 80 for 40
        ("count", {("A", "P", "municipal", 2024), ("B", "P", "municipal", 2024)}),
        ("min_cost", {("A", "P", "municipal", 2024)}),  # one is required; A's merit breaks the tie
    ],
)
def test_objectives(objective, expected):
    """P: national 50, municipal 20 (both paid by the city); weight national 3; A 90, B 80;
    budget 60; at least one designation. merit: A national (270). count: both municipal (2).
    min_cost: a single municipal award for 20, A's by the tie-break (higher merit)."""
    quota = [{"per": "year", "min": 1}]
    policy = make_policy([programme("P", {"national": 50, "municipal": 20})], quotas=quota)
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 80}])
    result = solve(
        policy, candidates, {2024: 60}, objective=objective, level_weights={"national": 3}
    )
    assert picks(result) == expected


def test_nominations_count_at_expected_cost_and_overrun_is_estimated():
    """National P (150) is conferred by the national level with chance 0.2: expected cost 30.
    Budget 30, A 90, weight 6 → A is nominated (expected merit 0.2 × 6 × 90 = 108, above
    the municipal 90); the plan overruns exactly when
    the nomination succeeds, so the overrun chance is exactly 0.2 (computed, not sampled).
    With the overrun bound 0.1 the nomination is too risky, and municipal (20, certain) is
    the best plan left."""
    policy = make_policy(
        [
            {
                "id": "P",
                "name": "P",
                "reference": "t",
                "levels": [
                    {"level": "national", "amount": 150, "conferred_by": "national"},
                    {"level": "municipal", "amount": 20},
                ],
            }
        ]
    )
    result = solve(
        policy,
        make_candidates([{"id": "A", "score": 90}]),
        {2024: 30},
        level_weights={"national": 6},
        success_probability={"national": 0.2},
    )
    assert picks(result) == {("A", "P", "national", 2024)}
    assert float(result.spend[2024]) == pytest.approx(30)
    assert result.overrun is not None
    assert result.overrun["2024"] == pytest.approx(0.2, abs=1e-12)
    assert float(result.risk.p95[2024]) == 150  # P(spend ≤ 0) = 0.8 < 0.95
    bounded = solve(
        policy,
        make_candidates([{"id": "A", "score": 90}]),
        {2024: 30},
        level_weights={"national": 6},
        success_probability={"national": 0.2},
        overrun_risk=0.1,
    )
    assert picks(bounded) == {("A", "P", "municipal", 2024)}
    assert bounded.overrun["2024"] == 0.0
    assert bounded.to_dict()["price_of_safety"] == pytest.approx(108 - 90)


def test_ties_are_broken_by_candidate_order_and_are_reproducible():
    """A and B have equal scores and costs; the budget buys one. The documented tie-break
    takes the earlier candidate in the table, every time."""
    policy = make_policy([programme("P", {"municipal": 10})])
    for order in (["A", "B"], ["B", "A"]):
        candidates = make_candidates([{"id": c, "score": 70} for c in order])
        first = picks(solve(policy, candidates, {2024: 10}))
        assert first == {(order[0], "P", "municipal", 2024)}
        assert picks(solve(policy, candidates, {2024: 10})) == first


def test_quota_scopes_are_made_again_for_another_policy():
    """quota_scopes is kept per options table and policy: the same options under a policy
    with other quotas (as dataclasses.replace makes one) get that policy's scopes."""
    from dataclasses import replace

    from liangye.model.options import build_problem
    from liangye.model.programme import quota_scopes
    from liangye.model.settings import AllocationSettings, Budget

    quota = {"programmes": ["P"], "per": "year", "min": 1}
    with_quota = make_policy([programme("P", {"municipal": 20})], quotas=[quota])
    without = make_policy([programme("P", {"municipal": 20})])
    candidates = make_candidates([{"id": "A", "score": 80}, {"id": "B", "score": 70}])
    problem = build_problem(with_quota, candidates, Budget(), AllocationSettings(), [2024])
    assert len(quota_scopes(problem)) == 1
    assert quota_scopes(replace(problem, policy=without)) == []
    assert len(quota_scopes(problem)) == 1
