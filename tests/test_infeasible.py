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


def test_obligations_beyond_a_later_year_are_named_by_what_they_pay_there():
    """An entitlement pays 20 in its year and half a firm's tax increase in the year after:
    in 2025 the largest obligation is the firm with the large increase, named with what it
    pays there (its payout), not with its award of the year before."""
    levels = [
        {
            "level": "municipal",
            "amount": 20,
            "conferred_by": "municipal",
            "reference": "t",
            "payouts": [{"years_after": [1], "share": 0.5, "of": "tax_increase", "reference": "t"}],
        }
    ]
    policy = make_policy(
        [
            {
                "id": "E",
                "name": "自动奖励",
                "reference": "t",
                "decision": "entitlement",
                "decision_reference": "t",
                "levels": levels,
            }
        ],
        years=[2024, 2025],
    )
    rows = [
        {"id": "small", "score": 80, "tax_increase": 10},
        {"id": "large", "score": 70, "tax_increase": 1000},
    ]
    result = solve(policy, make_candidates(rows), {2024: 100, 2025: 100})
    assert result.status == "infeasible"
    later = [line for line in result.diagnosis_zh if line.startswith("2025年")]
    assert len(later) == 1
    assert "金额最大的为large 自动奖励（市级）（500万元）、small" in later[0]
