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
    assert "2024: 40万元 + 20万元" in text and "short by 20万元" in text
    assert "2024年预算40万元增加20万元" in " ".join(result.diagnosis_zh)


def test_money_short_of_a_horizon_quota_is_the_least_that_meets_it_in_any_year():
    """Three designations of 20万元 over 2024-2025 (a quota over the horizon); the budgets
    (10 and 50) hold two in 2025 and none in 2024: 10万元 more in 2024 meets it. The cheapest
    plan without budgets put all three in one year, and the diagnosis read its split as
    what each year needs ("2024: short by 50"; Wuhan's "2022 short by 1,688" met by 63)."""
    quota = [{"programmes": ["P"], "per": "horizon", "min": 3}]
    policy = make_policy([programme("P", {"municipal": 20})], quotas=quota, years=[2024, 2025])
    rows = [{"id": f"C{i}", "score": 70 + i} for i in range(5)]
    result = solve(policy, make_candidates(rows), {2024: 10, 2025: 50})
    assert result.status == "infeasible"
    text = " ".join(result.diagnosis)
    assert "short by 10万元" in text and "2024: 10万元 + 10万元" in text, text
    again = solve(policy, make_candidates(rows), {2024: 20, 2025: 50})  # the 10 added
    assert again.status == "optimal" and len(again.chosen) == 3


def test_money_short_by_a_fraction_of_a_wan_is_said_as_it_is():
    """Three designations of 12.5万元 over 2024-2025; budgets of 10 and 25 hold two in 2025
    and none in 2024: 2.5万元 more in 2024 meets it. The solve rounded every column of its
    answer, the extra money too, and said 2 or 3."""
    quota = [{"programmes": ["P"], "per": "horizon", "min": 3}]
    policy = make_policy([programme("P", {"municipal": 12.5})], quotas=quota, years=[2024, 2025])
    rows = [{"id": f"C{i}", "score": 70 + i} for i in range(5)]
    result = solve(policy, make_candidates(rows), {2024: 10, 2025: 25})
    assert result.status == "infeasible"
    text = " ".join(result.diagnosis)
    assert "short by 2.5万元" in text, text


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


def test_obligations_beyond_the_cap_per_candidate_are_named():
    """Two awards owed by right to the same firm in 2024 against a cap of one designation a
    year: the firm, the year and the cap are named (it was "the rules conflict even without
    quotas and budget")."""
    owed = {"decision": "entitlement", "decision_reference": "t"}
    policy = make_policy(
        [programme("A", {"municipal": 10}, **owed), programme("B", {"municipal": 10}, **owed)],
        cap_per_candidate_per_year=1,
    )
    rows = [{"id": "twice", "score": 80}, {"id": "other", "score": 70}]
    result = solve(policy, make_candidates(rows), {2024: 100})
    assert result.status == "infeasible"
    assert any(
        "twice" in line and "2024" in line and "cap of 1" in line for line in result.diagnosis
    )
    assert any("twice 2024年按规定应得的认定有2项" in line for line in result.diagnosis_zh)
