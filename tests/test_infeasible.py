"""Scenarios that cannot be met are explained in quotas and money, not stack traces."""

from __future__ import annotations

from conftest import make_candidates, make_policy, programme, solve


def test_quota_with_too_few_eligible_candidates():
    """The quota asks for 5 designations a year; only 3 candidates pass the revenue rule."""
    quota = [
        {
            "name": "示范企业5家以上",
            "programmes": ["P"],
            "per": "year",
            "min": 5,
            "reference": "三（一）1",
        }
    ]
    policy = make_policy(
        [programme("P", {"municipal": 20}, eligibility=["revenue >= 2000"])], quotas=quota
    )
    rows = [{"id": f"C{i}", "score": 70, "revenue": 5000 if i < 3 else 100} for i in range(6)]
    result = solve(policy, make_candidates(rows), {2024: 1000})
    assert result.status == "infeasible"
    assert len(result.chosen) == 0
    text = " ".join(result.diagnosis)
    assert (
        "示范企业5家以上" in text and "needs 5" in text and "only 3" in text and "三（一）1" in text
    )


def test_quota_beyond_the_budget_names_the_shortfall():
    """At least 3 designations at 20万元 each cost 60万元; the budget is 40万元: short by 20."""
    quota = [{"programmes": ["P"], "per": "year", "min": 3}]
    policy = make_policy([programme("P", {"municipal": 20})], quotas=quota)
    rows = [{"id": f"C{i}", "score": 70 + i} for i in range(5)]
    result = solve(policy, make_candidates(rows), {2024: 40})
    assert result.status == "infeasible"
    text = " ".join(result.diagnosis)
    assert "60万元" in text and "40万元" in text and "short by 20万元" in text


def test_conflicting_quotas_are_measured():
    """Quota 1 wants 2 of P; quota 2 allows at most 1 designation in all; P and Q are the same
    matter. Without the budget mattering, quota 1 can only be met to 1 of 2."""
    quotas = [
        {"name": "q-min", "programmes": ["P"], "per": "year", "min": 2},
        {"name": "q-max", "per": "year", "max": 1},
    ]
    policy = make_policy([programme("P", {"municipal": 20})], quotas=quotas)
    rows = [{"id": f"C{i}", "score": 70} for i in range(4)]
    result = solve(policy, make_candidates(rows), {2024: 1000})
    assert result.status == "infeasible"
    assert any(
        "q-min" in line and "at most 1 of the required 2" in line for line in result.diagnosis
    )
