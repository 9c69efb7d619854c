"""The policy keys added for the documents, on tiny instances whose answer is clear by hand:
applicants, bands, caps, later payouts, per-product no-repeat, stock targets, sector lists,
unquantified balance, reserve pools, and the schema's refusals."""

from __future__ import annotations

import pickle
from decimal import Decimal

import numpy as np
import pytest

from liangye.model.checks import expected_spend, plan_violations
from liangye.model.errors import InputError
from liangye.model.greedy import greedy_plan
from liangye.model.options import build_problem, later_spend
from liangye.model.reserve import reserve_pool
from liangye.model.settings import AllocationSettings, Budget

from conftest import make_candidates, make_policy, picks, programme, solve

TWO_YEARS = {"years": [2024, 2025]}


def budget(**per_year: float) -> Budget:
    return Budget(per_year={int(k[1:]): Decimal(str(v)) for k, v in per_year.items()})


# --- applicants: who is in the running ---------------------------------------------------


def test_applicants_column_missing_means_the_programme_sits_out():
    policy = make_policy(
        [
            programme("sm", {"municipal": 20}),
            programme("title", {"municipal": 30}, applicants="running"),
        ],
        quotas=[{"programmes": ["title"], "per": "horizon", "min": 1, "name": "one title"}],
    )
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 80}])
    problem = build_problem(policy, candidates, Budget(), AllocationSettings())
    assert set(problem.options["programme"]) == {"sm"}
    assert any("title" in note.en and "takes no part" in note.en for note in problem.notes)
    assert [q.name for q in problem.policy.quotas] == []  # its quota is not applied
    assert any("one title is not applied" in note.en for note in problem.notes)


def test_policy_whose_programmes_all_sit_out_allocates_nothing():
    policy = make_policy([programme("title", {"municipal": 30}, applicants="running")])
    result = solve(policy, make_candidates([{"id": "A", "score": 90}]))
    assert result.status == "optimal" and picks(result) == set()
    assert result.problem.size == 0 and len(result.problem.notes) == 1


def test_applicants_column_present_selects_who_runs():
    policy = make_policy(
        [programme("title", {"municipal": 30}, applicants="track == '甲'")],
        quotas=[{"programmes": ["title"], "per": "horizon", "min": 1}],
    )
    candidates = make_candidates(
        [{"id": "A", "score": 90, "track": "乙"}, {"id": "B", "score": 80, "track": "甲"}]
    )
    result = solve(policy, candidates)
    assert picks(result) == {("B", "title", "municipal", 2024)}
    reasons = result.problem.exclusions
    assert "not in the running" in reasons[reasons["programme"] == "title"]["reason"].iloc[0]


# --- bands and caps ----------------------------------------------------------------------


def banded(**extra) -> dict:
    level = {
        "level": "municipal",
        "conferred_by": "municipal",
        "bands": [
            {"when": "revenue > 1亿", "amount": 50},
            {"when": "revenue > 2000", "amount": 10},
        ],
        **extra,
    }
    return {"id": "spin", "name": "spin", "reference": "t", "levels": [level]}


def test_bands_price_each_candidate_and_decide_eligibility():
    policy = make_policy([banded()])
    candidates = make_candidates(
        [
            {"id": "big", "score": 90, "revenue": 20000.0},
            {"id": "small", "score": 80, "revenue": 3000.0},
            {"id": "tiny", "score": 99, "revenue": 2000.0},  # not above 2000: no band
        ]
    )
    result = solve(policy, candidates, budget={2024: 55})
    paid = dict(zip(result.selected["candidate_id"], result.selected["amount"], strict=True))
    assert paid == {"big": Decimal(50)}  # 50 + 10 would exceed 55
    assert "no band" in result.problem.exclusions.set_index("candidate").loc[2, "reason"]
    # a scenario amount overrides every band's amount (bands still decide who is eligible)
    flat = solve(policy, candidates, budget={2024: 55}, amounts={"spin": {"municipal": 20}})
    assert picks(flat) == {("big", "spin", "municipal", 2024), ("small", "spin", "municipal", 2024)}


def test_cap_refuses_a_scenario_amount_above_it():
    policy = make_policy(
        [
            {
                "id": "platform",
                "name": "platform",
                "reference": "t",
                "levels": [{"level": "municipal", "cap": 60}],
            }
        ]
    )
    candidates = make_candidates([{"id": "A", "score": 90}])
    with pytest.raises(InputError, match="has no amount in the policy document"):
        build_problem(policy, candidates, Budget(), AllocationSettings())
    with pytest.raises(InputError, match="above the document's cap of 60"):
        build_problem(
            policy, candidates, Budget(), AllocationSettings(amounts={"platform": {"市级": 61}})
        )
    ok = build_problem(
        policy, candidates, Budget(), AllocationSettings(amounts={"platform": {"市级": 60}})
    )
    assert ok.options["amount"].tolist() == [Decimal(60)]


# --- later payouts ------------------------------------------------------------------------


def with_payout(**payout) -> dict:
    levels = [
        {"level": "municipal", "amount": 10, "conferred_by": "municipal", "payouts": [payout]}
    ]
    return {"id": "p", "name": "p", "reference": "t", "levels": levels}


def test_payout_counts_in_the_year_it_falls():
    """10 on designation, 8 the year after. With 2025's budget at 5, a 2024 designation would
    overspend 2025 and a 2025 one 2025 itself: nothing fits. At 8 the 2024 one does."""
    policy = make_policy([with_payout(years_after=[1], amount=8)], **TWO_YEARS)
    candidates = make_candidates([{"id": "A", "score": 90}])
    tight = solve(policy, candidates, budget={2024: 10, 2025: 5})
    assert picks(tight) == set()
    enough = solve(policy, candidates, budget={2024: 10, 2025: 8})
    assert picks(enough) == {("A", "p", "municipal", 2024)}
    assert enough.spend == {2024: Decimal(10), 2025: Decimal(8)}
    # the greedy rule and the independent check see the same money
    assert greedy_plan(enough.problem).tolist() == enough.chosen.tolist()
    [broken] = plan_violations(tight.problem, enough.chosen)
    assert broken == "2025: spends 8.0 over the budget 5"
    assert broken.zh == "2025年预计支出 8万元，超过预算 5万元"  # what the command line shows
    assert pickle.loads(pickle.dumps(broken)).zh == broken.zh


def test_an_overspend_with_carry_over_is_said_over_the_years_it_sums():
    """Carry-over, 10 in 2024 and 5 in 2025: the plan spending 10 and 8 breaks the 2024-2025
    row (18 over 15), said as that, not as "2025: spends 8 over the budget 5" nor, with
    2024 overspent, against a negative budget."""
    policy = make_policy([with_payout(years_after=[1], amount=8)], **TWO_YEARS)
    candidates = make_candidates([{"id": "A", "score": 90}])
    tight = solve(policy, candidates, budget={2024: 10, 2025: 5}, carry_over=True)
    enough = solve(policy, candidates, budget={2024: 10, 2025: 8})
    [broken] = plan_violations(tight.problem, enough.chosen)
    assert (
        broken == "2024-2025: spends 18.0 in all over the budget of those years 15 (carried over)"
    )
    assert broken.zh == "2024–2025年累计预计支出 18万元，超过累计预算 15万元（结余可结转）"


def test_payout_share_of_a_column_with_carry_over_and_beyond_horizon():
    """share 0.5 × 6 = 3 a year for three years; nominations at expected cost."""
    policy = make_policy(
        [with_payout(years_after=[1, 2, 3], share=0.5, of="tax_gain")], **TWO_YEARS
    )
    candidates = make_candidates([{"id": "A", "score": 90, "tax_gain": 6.0}])
    problem = build_problem(policy, candidates, Budget(), AllocationSettings(), [2024, 2025])
    chosen = np.array([0])  # A in 2024
    assert problem.options.loc[0, "year"] == 2024
    assert expected_spend(problem, chosen) == {2024: Decimal(10), 2025: Decimal("3.0")}
    assert later_spend(problem, chosen) == {
        2025: Decimal("3.0"),
        2026: Decimal("3.0"),
        2027: Decimal("3.0"),
    }
    # carry-over: 2024 spends 10 of 11, the 1 left plus 2025's 2 covers the rebate of 3
    carried = solve(policy, candidates, budget={2024: 11, 2025: 2}, carry_over=True)
    assert picks(carried) == {("A", "p", "municipal", 2024)}
    plain = solve(policy, candidates, budget={2024: 11, 2025: 2})
    assert picks(plain) == set()


def test_payout_needs_its_column():
    policy = make_policy([with_payout(years_after=[1], share=0.5, of="tax_gain")])
    with pytest.raises(InputError, match="column 'tax_gain' is not in the candidate table"):
        build_problem(
            policy, make_candidates([{"id": "A", "score": 1}]), Budget(), AllocationSettings()
        )


# --- the same product is not rewarded twice ------------------------------------------------


def test_no_repeat_by_product():
    policy = make_policy([programme("prize", {"municipal": 50}, no_repeat_by="product_id")])
    candidates = make_candidates(
        [
            {"id": "A", "score": 90, "product_id": "P1"},
            {"id": "B", "score": 80, "product_id": "P1"},  # the same product as A
            {"id": "C", "score": 70, "product_id": None},  # unknown: its own product
            {"id": "D", "score": 60, "product_id": None},
        ]
    )
    result = solve(policy, candidates)
    assert {p[0] for p in picks(result)} == {"A", "C", "D"}
    assert greedy_plan(result.problem).size == 3
    # without the column every candidate counts as its own product (and a note says so)
    bare = solve(policy, make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 80}]))
    assert {p[0] for p in picks(bare)} == {"A", "B"}
    assert any("product_id" in note.en for note in bare.problem.notes)


# --- stock targets, quota years --------------------------------------------------------------


def test_counts_held_lowers_the_minimum_by_designations_held():
    """A stock target of 3 national designations; two candidates already hold one. With
    money for one national nomination only, the quota is met only if held ones count."""
    quota = {"programmes": ["sm"], "levels": ["national"], "per": "horizon", "min": 3}
    rows = [
        {"id": "H1", "score": 50, "held": "sm:national"},
        {"id": "H2", "score": 50, "held": "sm:national"},
        {"id": "N1", "score": 90},
        {"id": "N2", "score": 80},
    ]
    flow = make_policy([programme("sm", {"national": 100})], quotas=[quota])
    assert solve(flow, make_candidates(rows), budget={2024: 100}).status == "infeasible"
    stock = make_policy(
        [programme("sm", {"national": 100})], quotas=[{**quota, "counts_held": True}]
    )
    result = solve(stock, make_candidates(rows), budget={2024: 100})
    assert result.status == "optimal"
    assert picks(result) == {("N1", "sm", "national", 2024)}
    assert result.problem.policy.quotas[0].min == 1


def test_quota_outside_the_allocated_years_is_not_applied():
    policy = make_policy(
        [programme("sm", {"municipal": 20})],
        years=[2024, 2025],
        quotas=[{"programmes": ["sm"], "per": "horizon", "years": [2024], "min": 5, "name": "q"}],
    )
    candidates = make_candidates([{"id": "A", "score": 90}])
    problem = build_problem(policy, candidates, Budget(), AllocationSettings(), [2025])
    assert problem.policy.quotas == []
    assert any("q is not applied" in note.en for note in problem.notes)


# --- sector lists and unquantified balance --------------------------------------------------


def test_closed_sector_list_restricts_and_open_list_does_not():
    def policy_with(open_list: bool):
        return make_policy(
            [programme("pilot", {"municipal": 0}, sector_list="fields")],
            lists=[
                {
                    "id": "fields",
                    "name": "领域",
                    "of": "sector",
                    "open": open_list,
                    "reference": "二",
                    "items": [{"name": "石油化工"}],
                }
            ],
        )

    rows = [
        {"id": "A", "score": 90, "sector": "石油化工"},
        {"id": "B", "score": 80, "sector": "其他"},
    ]
    assert {p[0] for p in picks(solve(policy_with(False), make_candidates(rows)))} == {"A"}
    assert {p[0] for p in picks(solve(policy_with(True), make_candidates(rows)))} == {"A", "B"}


def test_unquantified_balance_is_recorded_not_enforced():
    policy = make_policy(
        [programme("pilot", {"municipal": 0})],
        balance=[{"by": "district", "note": "统筹空间布局: no number"}],
    )
    rows = [{"id": "A", "score": 90}, {"id": "B", "score": 80}]  # both in district A
    result = solve(policy, make_candidates(rows))
    assert len(picks(result)) == 2
    assert any("not enforced" in note.en for note in result.problem.notes)
    with pytest.raises(InputError, match="needs max_share, max_count or both"):
        make_policy([programme("pilot", {"municipal": 0})], balance=[{"by": "district"}])


def test_balance_by_another_column():
    policy = make_policy(
        [programme("pilot", {"municipal": 0})],
        balance=[{"by": "park", "max_count": 1}],
    )
    rows = [
        {"id": "A", "score": 90, "park": "P1"},
        {"id": "B", "score": 80, "park": "P1"},
        {"id": "C", "score": 70, "park": "P2"},
    ]
    assert {p[0] for p in picks(solve(policy, make_candidates(rows)))} == {"A", "C"}
    with pytest.raises(InputError, match="column 'park' is not in the candidate table"):
        solve(policy, make_candidates([{"id": "A", "score": 1}]))


# --- reserve pools ---------------------------------------------------------------------------


def test_reserve_pool_ranks_those_left_out_by_year():
    policy = make_policy(
        [programme("pilot", {"municipal": 0})],
        years=[2024, 2025],
        quotas=[{"programmes": ["pilot"], "per": "year", "max": 1}],
        reserves=[
            {
                "name": "后备库",
                "programmes": ["pilot"],
                "per": "year",
                "size": 2,
                "reference": "五（二）",
            }
        ],
    )
    rows = [{"id": c, "score": s} for c, s in [("A", 90), ("B", 80), ("C", 70), ("D", 60)]]
    result = solve(policy, make_candidates(rows))
    year_of = {c: t for c, _, _, t in picks(result)}
    assert set(year_of) == {"A", "B"} and set(year_of.values()) == {2024, 2025}
    later = next(c for c, t in year_of.items() if t == 2025)
    pool = reserve_pool(result.problem, result.chosen)
    by_year = {t: list(g["candidate_id"]) for t, g in pool.groupby("year")}
    # 2024: the later pilot and C (size 2); 2025: A and B are pilots by then
    assert by_year == {2024: [later, "C"], 2025: ["C", "D"]}
    assert list(pool["rank"]) == [1, 2, 1, 2]


# --- the schema refuses what it cannot mean -------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {
                "levels": [
                    {
                        "level": "municipal",
                        "amount": 5,
                        "bands": [{"when": "revenue > 1", "amount": 5}],
                    }
                ]
            },
            "either amount or bands",
        ),
        ({"levels": [{"level": "municipal", "amount": 70, "cap": 60}]}, "above the cap 60"),
        (
            {
                "levels": [
                    {
                        "level": "municipal",
                        "amount": 5,
                        "payouts": [{"years_after": [1], "amount": 1, "share": 0.5, "of": "x"}],
                    }
                ]
            },
            "not both",
        ),
        (
            {
                "levels": [
                    {
                        "level": "municipal",
                        "amount": 5,
                        "payouts": [{"years_after": [0], "amount": 1}],
                    }
                ]
            },
            "distinct years ≥ 1",
        ),
        (
            {"levels": [{"level": "municipal", "bands": [{"when": "revenue >", "amount": 5}]}]},
            "does not parse",
        ),
        (
            {"applicants": "running ==", "levels": [{"level": "municipal", "amount": 1}]},
            "applicants: rule",
        ),
        (
            {"sector_list": "nowhere", "levels": [{"level": "municipal", "amount": 1}]},
            "'nowhere' is not an id in [[lists]]",
        ),
    ],
)
def test_schema_refusals(extra, message):
    data = {"id": "p", "name": "p", "reference": "t", **extra}
    with pytest.raises(InputError) as caught:
        make_policy([data])
    assert message in str(caught.value)


def test_quota_and_target_refusals():
    sm = programme("sm", {"municipal": 1})
    with pytest.raises(InputError, match="needs a note"):
        make_policy([sm], quotas=[{"programmes": ["sm"], "min": 1, "about": 2}])
    with pytest.raises(InputError, match="counts_held is for stock targets"):
        make_policy([sm], quotas=[{"programmes": ["sm"], "min": 1, "counts_held": True}])
    with pytest.raises(InputError, match="'nope' names no quota"):
        make_policy(
            [sm],
            targets=[
                {
                    "name": "t",
                    "value": 1,
                    "unit": "家",
                    "year": 2024,
                    "quota": "nope",
                    "reference": "二",
                }
            ],
        )


@pytest.mark.parametrize("stacking", ["highest", "all"])
def test_the_check_names_a_candidate_designated_twice(stacking):
    """The independent check (checks.plan_violations) finds a candidate given two levels of
    one matter (就高不重复, stacking "highest") or one level twice over the years ("all"), and
    names it; a plan without repeats passes."""
    policy = make_policy(
        [programme("P", {"provincial": 50, "municipal": 20})], stacking=stacking, **TWO_YEARS
    )
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 80}])
    problem = build_problem(policy, candidates, Budget(), AllocationSettings(), [2024, 2025])
    options = problem.options
    a_rows = options.index[options["candidate_id"] == "A"]
    if stacking == "highest":  # A provincial and municipal in 2024: one matter twice
        twice = a_rows[(options.loc[a_rows, "year"] == 2024).to_numpy()]
    else:  # A municipal in 2024 and again in 2025
        twice = a_rows[(options.loc[a_rows, "level"] == "municipal").to_numpy()]
    b_once = options.index[options["candidate_id"] == "B"][:1]
    plan = np.concatenate([twice.to_numpy(), b_once.to_numpy()])
    found = [v for v in plan_violations(problem, plan) if "designated twice" in v]
    assert len(found) == 1 and "candidate A" in found[0]
    assert not [v for v in plan_violations(problem, plan[1:]) if "designated twice" in v]
