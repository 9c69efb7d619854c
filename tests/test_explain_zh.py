"""Reasons in Chinese: every outcome and sentence form, with programme and level names from
the policy (never ids), money in 万元 and years as 2025年; the English kept beside them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liangye.model.wording import Words

from conftest import make_candidates, make_policy, picks, programme, solve

# Programme ids that cannot be mistaken for Chinese text: none may appear in a Chinese reason.
IDS = ("demo_award", "design_centre", "green_title", "prize_award")


def named(pid: str, name: str, amounts: dict[str, float], **extra: object) -> dict:
    return {**programme(pid, amounts, **extra), "name": name}


def reason(result, candidate: str) -> tuple[str, str, str]:
    """(outcome, English detail, Chinese reason) of one candidate."""
    row = result.reasons.set_index("candidate_id").loc[candidate]
    return row["outcome"], row["detail"], row["reason_zh"]


def no_ids(text: str) -> bool:
    return not any(pid in text for pid in IDS)


def solve_applied(folder, policy, candidates, applications: str, budget: float, **settings):
    """Allocate ``candidates`` under ``policy`` with an applications table (``applications``:
    its rows after the header candidate_id,programme,level,score) and 2024's ``budget``."""
    from decimal import Decimal

    from liangye.model.allocation import allocate
    from liangye.model.applications_table import load_applications
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    path = folder / "apps.csv"
    path.write_text("candidate_id,programme,level,score\n" + applications, encoding="utf-8")
    problem = build_problem(
        policy,
        candidates,
        Budget(per_year={2024: Decimal(str(budget))}),
        AllocationSettings(**settings),
        applications=load_applications(str(path)),
    )
    return allocate(problem)


def test_selected_names_programme_level_year_and_money_in_chinese():
    """A is designated 示范企业 at the municipal level in 2024 for 20万元."""
    policy = make_policy([named("demo_award", "服务型制造示范企业", {"municipal": 20})])
    result = solve(policy, make_candidates([{"id": "A", "score": 80}]), {2024: 100})
    outcome, detail, zh = reason(result, "A")
    assert outcome == "selected"
    assert "designated demo_award at municipal in 2024 (20万元)" in detail
    assert zh.startswith("2024年认定为服务型制造示范企业（市级）（20万元）")
    assert no_ids(zh)


def test_a_nomination_gives_its_chance_and_an_upgrade_what_it_tops_up():
    """Two years. A holds nothing: the plan designates it municipal (20) in 2024 and
    nominates it national (150, chance 0.3) in 2025 as an upgrade chain (top-up 130): the
    reason says both designations, the top-up and the chance. B is nominated national
    directly (weight 4: 4 × 80 × 0.3 = 96 beats 80 at the municipal level)."""
    levels = [
        {"level": "national", "amount": 150, "conferred_by": "national"},
        {"level": "municipal", "amount": 20, "conferred_by": "municipal"},
    ]
    policy = make_policy(
        [{"id": "demo_award", "name": "服务型制造示范企业", "reference": "t", "levels": levels}],
        years=[2024, 2025],
    )
    result = solve(
        policy,
        make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 80}]),
        {2024: 20, 2025: 100},
        success_probability={"national": 0.3},
        level_weights={"national": 4},
    )
    _, detail_a, zh_a = reason(result, "A")
    _, _, zh_b = reason(result, "B")
    assert "upgraded from demo_award municipal (2024)" in detail_a
    assert "由2024年的服务型制造示范企业（市级）晋级" in zh_a
    # the tier the chain starts from is part of it, not an award set aside
    assert "set aside" not in detail_a and "本期未另行安排" not in zh_a
    assert (
        "2025年推荐申报服务型制造示范企业（国家级）（获批后晋级补差130万元，获批概率30%）" in zh_a
    )
    assert "推荐申报服务型制造示范企业（国家级）（获批后150万元，获批概率30%）" in zh_b
    assert no_ids(zh_a + zh_b)


def test_an_entitlement_and_what_just_gao_bu_chong_fu_set_aside():
    """A is entitled to two titles of one matter (30 and 50): 就高不重复 pays the 50 and the
    reason names the other, set aside, by name."""
    policy = make_policy(
        [
            named(
                "green_title",
                "省级绿色工厂",
                {"municipal": 30},
                matter="m",
                applicants="'T30' in titles",
                decision="entitlement",
                decision_reference="t",
            ),
            named(
                "prize_award",
                "国家级绿色工厂",
                {"municipal": 50},
                matter="m",
                applicants="'T50' in titles",
                decision="entitlement",
                decision_reference="t",
            ),
        ]
    )
    result = solve(
        policy, make_candidates([{"id": "A", "score": 1, "titles": "T30；T50"}]), {2024: 100}
    )
    _, _, zh = reason(result, "A")
    assert "2024年应享国家级绿色工厂（市级）（50万元）" in zh
    assert "同一事项只奖励一次（就高不重复），本期未另行安排：省级绿色工厂（市级）" in zh
    assert no_ids(zh)


def two_programmes_with_a_revenue_rule():
    """Two municipal programmes open from 营业收入 2000; A (3000, score 80) meets it and B
    (1000, score 90) does not: (policy, candidates)."""
    rule = ["revenue >= 2000"]
    policy = make_policy(
        [
            named("demo_award", "服务型制造示范企业", {"municipal": 20}, eligibility=rule),
            named("design_centre", "工业设计中心", {"municipal": 20}, eligibility=rule),
        ]
    )
    candidates = make_candidates(
        [{"id": "A", "revenue": 3000, "score": 80}, {"id": "B", "revenue": 1000, "score": 90}]
    )
    return policy, candidates


def test_ineligible_names_the_rule_with_chinese_columns_and_groups_programmes():
    """B's revenue is below both programmes' threshold: one sentence names both programmes
    and the rule, with 营业收入 for revenue."""
    policy, candidates = two_programmes_with_a_revenue_rule()
    outcome, detail, zh = reason(solve(policy, candidates, {2024: 100}), "B")
    assert outcome == "ineligible" and "revenue >= 2000" in detail
    assert zh == "不符合申报条件：服务型制造示范企业、工业设计中心：不满足条件“营业收入 ≥ 2000”"


def test_an_applicant_is_told_only_about_what_it_applied_for(tmp_path):
    """With an applications table, B (below both programmes' revenue threshold) applied to
    the design centre only: its reason names that programme, not the demonstration award it
    never asked for (a design-award applicant read seven green titles, review 15)."""
    policy, candidates = two_programmes_with_a_revenue_rule()
    applications = "A,demo_award,municipal,80\nB,design_centre,municipal,90\n"
    result = solve_applied(tmp_path, policy, candidates, applications, 100)
    outcome, detail, zh = reason(result, "B")
    assert outcome == "ineligible"
    assert zh == "不符合申报条件：工业设计中心：不满足条件“营业收入 ≥ 2000”"
    assert "demo_award" not in detail


def test_an_applicant_refused_for_a_title_it_holds_is_not_told_of_programmes_it_never_asked_for(
    tmp_path,
):
    """H holds the demonstration award's municipal title and applied for it again: refused
    (就高不重复), its reason began with a parks-only cluster it never applied for (review 20)."""
    policy = make_policy(
        [
            named("demo_award", "服务型制造示范企业", {"municipal": 20}),
            named("cluster", "工业设计集聚区", {"municipal": 100}, kinds=["park"]),
        ]
    )
    candidates = make_candidates(
        [
            {"id": "A", "score": 80, "held": None},
            {"id": "H", "score": 90, "held": "demo_award:municipal"},
        ]
    )
    applications = "A,demo_award,municipal,80\nH,demo_award,municipal,90\n"
    outcome, detail, zh = reason(
        solve_applied(tmp_path, policy, candidates, applications, 100), "H"
    )
    assert outcome == "ineligible"
    assert zh.startswith("不符合申报条件：服务型制造示范企业：") and "就高不重复" in zh
    assert "集聚区" not in zh and "cluster" not in detail


def test_a_park_is_told_which_programmes_are_for_firms_only():
    policy = make_policy([named("demo_award", "服务型制造示范企业", {"municipal": 20})])
    candidates = make_candidates([{"id": "P", "score": 80, "kind": "park"}])
    outcome, _, zh = reason(solve(policy, candidates, {2024: 100}), "P")
    assert outcome == "ineligible"
    assert zh == "不符合申报条件：服务型制造示范企业：仅限企业申报"


def test_out_of_budget_says_what_is_left_and_the_lowest_score_selected():
    """P costs 20 a year, budget 20: A (90) is selected, B (70) is out of budget; its
    reason gives the money left and the lowest score selected (in Chinese)."""
    policy = make_policy([named("demo_award", "服务型制造示范企业", {"municipal": 20})])
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 70}])
    outcome, detail, zh = reason(solve(policy, candidates, {2024: 20}), "B")
    assert outcome == "out_of_budget"
    assert "only 0万元 is left in 2024; its score 70 vs lowest selected 90" in detail
    assert (
        "其金额最低的可选奖励（服务型制造示范企业（市级），2024年）预计需20万元，2024年预算已无余额"
        in zh
    )
    assert "其评分70分，服务型制造示范企业（市级）入选者最低90分" in zh


def test_a_horizon_total_that_binds_is_named_not_the_year_with_room():
    """Each year could pay B's award, the horizon total cannot: the reason names the total
    and what is left of it, and the extra money it gives is what the re-solve raised (the
    year's budget and the total together), not the year alone."""
    policy = make_policy(
        [named("demo_award", "服务型制造示范企业", {"municipal": 20})], years=[2024, 2026]
    )
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 70}])
    years = {2024: 100, 2025: 100, 2026: 100}
    result = solve(policy, candidates, years, total=30)
    outcome, detail, zh = reason(result, "B")
    assert outcome == "out_of_budget"
    assert "only 10万元 is left in the horizon total" in detail
    assert "期间总预算仅剩10万元" in zh and "年预算仅剩" not in zh
    assert "年预算和期间总预算各再增加10万元方可入选" in zh
    # and that much more in both does select B
    richer = solve(policy, candidates, {t: v + 10 for t, v in years.items()}, total=40)
    assert "B" in set(richer.selected["candidate_id"])


def test_the_overrun_bound_says_how_the_chance_would_rise():
    levels = [{"level": "national", "amount": 150, "conferred_by": "national"}]
    policy = make_policy(
        [{"id": "demo_award", "name": "服务型制造示范企业", "reference": "t", "levels": levels}]
    )
    result = solve(
        policy,
        make_candidates([{"id": "A", "score": 90}]),
        {2024: 100},
        success_probability={"national": 0.2},
        overrun_risk=0.1,
    )
    outcome, _, zh = reason(result, "A")
    assert outcome == "out_of_budget"
    assert "按预计支出可以安排，但加入后2024年超支概率将由0.0%升至20.0%，超过上限10%" in zh


def test_a_full_quota_is_named_by_its_chinese_name():
    quota = [
        {
            "programmes": ["demo_award"],
            "per": "year",
            "max": 2,
            "name": "每年至多2家",
            "reference": "t",
        }
    ]
    policy = make_policy([named("demo_award", "示范企业", {"municipal": 10})], quotas=quota)
    candidates = make_candidates(
        [{"id": c, "score": s} for c, s in [("A", 90), ("B", 80), ("C", 70)]]
    )
    outcome, _, zh = reason(solve(policy, candidates), "C")
    assert outcome == "outranked"
    assert zh.startswith("每年至多2家（2024年）名额已满")


def test_a_quota_without_a_name_is_described_in_chinese():
    quota = [{"programmes": ["demo_award"], "per": "year", "max": 1, "reference": "t"}]
    policy = make_policy([named("demo_award", "示范企业", {"municipal": 10})], quotas=quota)
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 80}])
    _, _, zh = reason(solve(policy, candidates), "B")
    assert zh.startswith("第1项名额（示范企业，每年）（2024年）名额已满")


def test_not_needed_under_min_cost_and_a_binding_balance_rule():
    policy = make_policy(
        [named("demo_award", "示范企业", {"municipal": 20})],
        quotas=[{"per": "year", "min": 1}],
    )
    candidates = make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 80}])
    outcome, _, zh = reason(solve(policy, candidates, {2024: 100}, objective="min_cost"), "B")
    assert outcome == "not_needed" and zh == "成本最低的方案满足各项名额要求时无需选择该候选"

    balanced = make_policy(
        [named("demo_award", "示范企业", {"municipal": 10})],
        balance=[{"by": "district", "max_count": 1}],
    )
    candidates = make_candidates(
        [{"id": "A", "score": 90, "district": "X"}, {"id": "B", "score": 85, "district": "X"}]
    )
    outcome, _, zh = reason(solve(balanced, candidates, {2024: 100}), "B")
    assert outcome == "outranked"
    assert zh.startswith(
        "受均衡、数量上限或“就高不重复”等规则约束未能入选（最佳选项示范企业（市级），2024年"
    )


def test_the_diagnosis_of_an_impossible_plan_is_in_chinese_too():
    """Two firms entitled to 30 each, budget 40: the obligations alone are 20 over; the
    English diagnosis is kept, the Chinese names the firms and the programme by name."""
    policy = make_policy(
        [
            named(
                "prize_award",
                "设计奖",
                {"municipal": 30},
                decision="entitlement",
                decision_reference="t",
            )
        ]
    )
    result = solve(
        policy, make_candidates([{"id": "A", "score": 50}, {"id": "B", "score": 60}]), {2024: 40}
    )
    assert result.status == "infeasible"
    (line,) = result.diagnosis
    (zh,) = result.diagnosis_zh
    assert "over by 20万元" in line
    assert zh.startswith(
        "2024年：仅应享奖励（无论方案如何都须支付）预计即需60万元，预算为40万元，超出20万元"
    )
    assert "A 设计奖（市级）（30万元）" in zh and no_ids(zh)
    assert result.to_dict()["diagnosis_zh"] == [zh]


def test_a_quota_too_few_can_fill_is_diagnosed_in_chinese():
    quota = [
        {
            "programmes": ["demo_award"],
            "per": "year",
            "min": 3,
            "name": "每年至少3家",
            "reference": "三（一）",
        }
    ]
    policy = make_policy([named("demo_award", "示范企业", {"municipal": 10})], quotas=quota)
    result = solve(policy, make_candidates([{"id": "A", "score": 90}]), {2024: 100})
    assert result.status == "infeasible"
    assert result.diagnosis_zh == [
        "每年至少3家：2024年须认定3家，但符合条件的候选仅1家（三（一））"
    ]


def test_a_quota_too_few_applied_for_is_diagnosed_as_applications_not_eligibility(tmp_path):
    """With an applications table only what was applied for can fill a quota: three firms
    are eligible, one applied, and the diagnosis says so (it said "only 1 eligible", which
    sent a reader to the programme's rules; review 15, 44 of 1,000 eligible firms)."""
    quota = [{"programmes": ["demo_award"], "per": "year", "min": 3, "name": "每年至少3家"}]
    policy = make_policy([named("demo_award", "示范企业", {"municipal": 10})], quotas=quota)
    candidates = make_candidates([{"id": k, "score": 90} for k in "ABC"])
    result = solve_applied(tmp_path, policy, candidates, "A,demo_award,municipal,90\n", 100)
    assert result.status == "infeasible"
    assert result.diagnosis_zh == ["每年至少3家：2024年须认定3家，但符合条件且申报了的候选仅1家"]
    assert result.diagnosis == [
        "每年至少3家 needs 3 designations in 2024 but only 1 eligible candidate(s) applied for it"
    ]


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("kind park only", "仅限园区申报"),
        ("sector not in 10+X", "所属行业不在“10+X”之列"),
        ("no band of the award applies", "不属于该奖励的任何档次"),
        ("applied but not eligible", "已申报但不符合该项条件"),
        ("already holds demo_award at provincial", "已获得示范企业（省级）"),
        ("entitled to it in an earlier year already", "此前年度已享受该奖励"),
        (
            "already paid 20万元 in matter 'm'; 就高不重复 pays only a higher award "
            "(this one is 20万元)",
            "同一事项已获奖励20万元，按“就高不重复”只奖励更高额度（本项20万元）",
        ),
        (
            "就高不重复: entitled to demo_award at municipal in 2025 in the same matter",
            "按“就高不重复”，同一事项已于2025年应享示范企业（市级）",
        ),
        (
            "同一product_id不重复奖励: P1 is rewarded to A in 2024",
            "同一产品不重复奖励：P1已于2024年奖励给A",
        ),
        ("not in the running ('x' in titles)", "不在申报范围内（申报条件：titles含“x”）"),
        ("a reason no one wrote a translation for", "a reason no one wrote a translation for"),
    ],
)
def test_every_exclusion_form_has_its_chinese(english, chinese):
    assert Words({"demo_award": "示范企业"}).exclusion_zh(english) == chinese


def test_exclusions_made_by_the_rules_are_all_translated():
    """Real exclusions (history, a product rewarded once, an application not eligible)
    come out in Chinese: no English sentence is left in any reason."""
    policy = make_policy(
        [
            named("demo_award", "示范企业", {"municipal": 20}),
            named(
                "prize_award",
                "设计奖",
                {"municipal": 50},
                decision="entitlement",
                decision_reference="t",
                no_repeat_by="product_id",
            ),
        ],
        upgrade="none",
    )
    candidates = make_candidates(
        [
            {"id": "A", "score": 10, "product_id": "P1", "held": "demo_award:municipal"},
            {"id": "B", "score": 90, "product_id": "P1", "held": "demo_award:municipal"},
        ]
    )
    result = solve(policy, candidates, {2024: 200})
    zh = result.reasons.set_index("candidate_id")["reason_zh"]
    assert "同一事项已获认定，本政策不予晋级" in zh["B"]
    assert "同一产品不重复奖励：P1已于2024年奖励给A" in zh["B"]
    for text in zh:
        assert "rule '" not in text and "already" not in text and "entitled" not in text


def test_the_command_line_prints_the_diagnosis_in_chinese():
    from rich.console import Console

    from liangye.scenarios.display import show_allocation

    policy = make_policy(
        [
            named(
                "prize_award",
                "设计奖",
                {"municipal": 30},
                decision="entitlement",
                decision_reference="t",
            )
        ]
    )
    result = solve(
        policy, make_candidates([{"id": "A", "score": 50}, {"id": "B", "score": 60}]), {2024: 40}
    )
    console = Console(record=True, width=200)
    show_allocation(console, result)
    assert "仅应享奖励（无论方案如何都须支付）预计即需60万元" in console.export_text()


def test_a_score_needed_far_above_every_candidate_is_said_so():
    """B (70) is out of a one-award budget; A holds it with 90. B needs just above 90: no
    remark. Where the score needed runs far past every candidate's, the sentence says so (the figure put in by hand, as an estimate on
    a large instance gives it: Wuhan's parks needed 290 where scores end near 100)."""
    policy = make_policy([named("demo_award", "服务型制造示范企业", {"municipal": 20})])
    near = solve(
        policy, make_candidates([{"id": "A", "score": 90}, {"id": "B", "score": 70}]), {2024: 20}
    )
    _, _, zh = reason(near, "B")
    assert "评分需达到90.1分方可入选" in zh and "高于全部候选的最高分" not in zh
    from liangye.model.threshold_words import threshold_sentences

    result = near
    table = pd.DataFrame(
        {
            "score_needed": [np.nan, 250.0],
            "extra_budget_wan": [np.nan, np.nan],
            "extra_budget_year": pd.array([pd.NA, pd.NA], dtype="Int64"),
            "score_margin": [np.nan, np.nan],
            "threshold_at": pd.array([None, None], dtype=object),
            "threshold_confirmed": [False, False],
            "score_confirmed": [False, False],
            "money_confirmed": [False, False],
        },
        index=result.problem.candidates.index,
    )
    base = result.reasons[["candidate_id", "name", "outcome", "detail", "reason_zh"]]
    said = threshold_sentences(result.problem, table, base)
    assert "评分需达到250分方可入选，高于全部候选的最高分90分" in said["reason_zh"].iloc[1]
    # No money in the year searched helps: that year is named (money in another might).
    table["score_needed"] = [np.nan, np.nan]
    table["extra_budget_wan"] = [np.nan, np.inf]
    table["extra_budget_year"] = pd.array([pd.NA, 2024], dtype="Int64")
    said = threshold_sentences(result.problem, table, base)
    assert "即使2024年预算足以支付当年全部可选奖励，也无法入选（估算）" in said["reason_zh"].iloc[1]
    assert "not even a 2024 budget enough to pay every award" in said["detail"].iloc[1]


def test_an_award_open_in_a_year_with_room_is_not_called_out_of_budget():
    """min_cost meets the one 2024 designation the quota asks for and spends 2024's whole
    budget; the others could still be designated in 2025, whose budget is untouched: they
    are not needed, not out of budget (the cheapest award, 2024's, was the only one read)."""
    quota = [{"programmes": ["P"], "per": "year", "years": [2024], "min": 1}]
    policy = make_policy([programme("P", {"municipal": 20})], quotas=quota, years=[2024, 2025])
    rows = [{"id": f"C{i}", "score": 70 + i} for i in range(4)]
    result = solve(policy, make_candidates(rows), {2024: 20, 2025: 100}, objective="min_cost")
    assert result.status == "optimal" and len(result.chosen) == 1
    left_out = result.reasons[result.reasons["outcome"] != "selected"]
    assert len(left_out) == 3
    assert set(left_out["outcome"]) == {"not_needed"}, left_out["reason_zh"].tolist()


def test_a_plan_that_spends_nothing_costs_zero_not_minus_zero():
    """min_cost with nothing required chooses nothing: its objective is 0.0 (JSON "0.0", not
    "-0.0")."""
    import math

    policy = make_policy([programme("P", {"municipal": 20})])
    rows = [{"id": "C0", "score": 70}]
    result = solve(policy, make_candidates(rows), {2024: 100}, objective="min_cost")
    assert result.status == "optimal" and len(result.chosen) == 0
    assert result.objective == 0.0 and math.copysign(1.0, result.objective) == 1.0


def test_every_column_a_bundled_policy_reads_has_a_chinese_name():
    """The reasons quote a rule in Chinese (Words.rule_zh): no rule of a bundled policy
    leaves an English column name for a Chinese reader (the report showed
    ``'国家级绿色工厂' 属于 green_manufacturing``)."""
    import re

    from liangye.model.policy import load_policy
    from liangye.scenarios.loader import bundled_policies

    left = set()
    rules = 0
    for path in bundled_policies().values():
        policy = load_policy(path)
        for p in policy.programmes:
            texts = [p.applicants or "", *p.eligibility]
            for level in p.levels:
                texts += [*level.eligibility, *(band.when for band in level.bands or [])]
            for text in filter(None, texts):
                rules += 1
                unquoted = re.sub(r"'[^']*'", "", Words.rule_zh(text))
                left |= set(re.findall(r"[A-Za-z_]{3,}", unquoted))
    assert rules > 30
    assert left == set()


def test_tiers_that_stack_are_never_said_to_be_set_aside_for_jiu_gao_bu_chong_fu():
    """Under stacking "all" a firm may hold both tiers: with money for the municipal one
    only, the provincial one was not chosen, not set aside by 就高不重复."""
    policy = make_policy(
        [named("demo_award", "服务型制造示范企业", {"provincial": 50, "municipal": 20})],
        stacking="all",
    )
    result = solve(policy, make_candidates([{"id": "A", "score": 80}]), {2024: 20})
    outcome, detail, zh = reason(result, "A")
    assert outcome == "selected" and "市级" in zh
    assert "就高不重复" not in zh and "set aside" not in detail


def test_with_carry_over_a_later_cumulative_row_that_binds_keeps_a_firm_out_of_budget():
    """Carry-over, 40 in 2024 and 0 in 2025: A and B (90, 80) are designated in 2025 and use
    the 2024-2025 row's 40; C (70) applies in 2024, where 40 is unspent, but its 20 would
    break the cumulative row. C is out of budget (it was told a balance or stacking rule
    bound it, though the policy has none)."""
    from decimal import Decimal

    from liangye.model.allocation import allocate
    from liangye.model.applications_table import load_applications
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    policy = make_policy(
        [named("demo_award", "服务型制造示范企业", {"municipal": 20})], years=[2024, 2025]
    )
    candidates = make_candidates(
        [{"id": "A", "score": 90}, {"id": "B", "score": 80}, {"id": "C", "score": 70}]
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        apps = Path(folder) / "apps.csv"
        apps.write_text(
            "candidate_id,programme,level,score,year\n"
            "A,demo_award,municipal,90,2025\nB,demo_award,municipal,80,2025\n"
            "C,demo_award,municipal,70,2024\n",
            encoding="utf-8",
        )
        problem = build_problem(
            policy,
            candidates,
            Budget(per_year={2024: Decimal(40), 2025: Decimal(0)}, carry_over=True),
            AllocationSettings(),
            applications=load_applications(str(apps)),
        )
    result = allocate(problem)
    assert set(result.selected["candidate_id"]) == {"A", "B"}
    outcome, _, zh = reason(result, "C")
    assert outcome == "out_of_budget"
    assert "均衡" not in zh and "2024年预算已无余额" in zh


def test_a_plan_at_exactly_the_overrun_bound_is_refused_and_the_reason_says_so():
    """One firm, a national nomination of 100 with chance 0.3 against a budget of 50: its
    overrun chance would be 30%, exactly the bound α = 0.3, which a plan must stay below.
    The reason names the bound (it blamed a balance, cap or stacking rule)."""
    policy = make_policy(
        [
            {
                "id": "P",
                "name": "服务型制造示范企业",
                "reference": "t",
                "levels": [{"level": "national", "amount": 100}],
            }
        ]
    )
    result = solve(
        policy,
        make_candidates([{"id": "A", "score": 90}]),
        {2024: 50},
        success_probability={"national": 0.3},
        overrun_risk=0.3,
    )
    outcome, detail, zh = reason(result, "A")
    assert outcome == "out_of_budget"
    assert "reaching the bound 0.3" in detail and "达到上限30%（方案须低于上限）" in zh
    assert "均衡" not in zh


def test_an_entitlement_a_higher_government_confers_is_said_as_owed_if_conferred():
    """A title the nation confers, paid by the city to every firm so recognised: "如2024年获评
    …，兑现200万元（获评概率30%）", not "应享…（获批概率30%）" (entitled and uncertain at once)."""
    policy = make_policy(
        [
            {
                "id": "smart",
                "name": "国家智能制造示范企业",
                "reference": "t",
                "decision": "entitlement",
                "levels": [{"level": "national", "amount": 200}],
            }
        ]
    )
    result = solve(
        policy,
        make_candidates([{"id": "A", "score": 80}]),
        {2024: 100},
        success_probability={"national": 0.3},
    )
    outcome, _, zh = reason(result, "A")
    assert outcome == "selected"
    assert "如2024年获评国家智能制造示范企业（国家级），兑现200万元（获评概率30%）" in zh
    assert "应享" not in zh


def test_a_firm_out_of_budget_is_compared_at_the_award_its_reason_names():
    """National 100 (chance 0.5) or municipal 20, 70 to spend: A (90) is nominated, B (80)
    designated municipal, C (70) is out of budget. Its reason names its cheapest award, the
    municipal one, and compares its score with the lowest selected there (B's 80), not at
    its best tier (A's national 90: beside a municipal figure it read as a contradiction)."""
    policy = make_policy(
        [
            {
                "id": "P",
                "name": "服务型制造示范企业",
                "reference": "t",
                "levels": [
                    {"level": "national", "amount": 100},
                    {"level": "municipal", "amount": 20},
                ],
            }
        ]
    )
    rows = [{"id": "A", "score": 90}, {"id": "B", "score": 80}, {"id": "C", "score": 70}]
    result = solve(
        policy,
        make_candidates(rows),
        {2024: 70},
        success_probability={"national": 0.5},
        level_weights={"national": 6, "municipal": 1},
    )
    assert picks(result) == {("A", "P", "national", 2024), ("B", "P", "municipal", 2024)}
    outcome, _, zh = reason(result, "C")
    assert outcome == "out_of_budget"
    assert "其金额最低的可选奖励（服务型制造示范企业（市级），2024年）" in zh
    assert "其评分70分，服务型制造示范企业（市级）入选者最低80分" in zh


def test_nobody_at_its_tier_is_said_before_the_programmes_other_levels(tmp_path):
    """C applied for the national level only, and nobody was nominated there: its score is
    compared with the programme's municipal winners, and the reason says so (it read
    "服务型制造示范企业入选者最低80分", which a national applicant took for its own
    competitors; review 15)."""
    policy = make_policy(
        [
            {
                "id": "P",
                "name": "服务型制造示范企业",
                "reference": "t",
                "levels": [
                    {"level": "national", "amount": 100, "conferred_by": "national"},
                    {"level": "municipal", "amount": 20},
                ],
            }
        ]
    )
    rows = [{"id": "A", "score": 90}, {"id": "B", "score": 80}, {"id": "C", "score": 95}]
    applications = "A,P,municipal,90\nB,P,municipal,80\nC,P,national,95\n"
    chances = {"national": 0.5}
    result = solve_applied(
        tmp_path, policy, make_candidates(rows), applications, 45, success_probability=chances
    )
    assert picks(result) == {("A", "P", "municipal", 2024), ("B", "P", "municipal", 2024)}
    outcome, detail, zh = reason(result, "C")
    assert outcome == "out_of_budget"
    assert (
        "其评分95分，服务型制造示范企业（国家级）无入选者，服务型制造示范企业其他级别入选者最低80分"
        in zh
    )
    assert "none selected at its tier, lowest selected at the programme's other levels 80" in detail


def test_a_candidate_without_an_application_is_told_it_did_not_apply():
    """With an applications table, a candidate with no row in it was told 没有可以申报的项目
    ("no programme it may apply for"), as if nothing were open to it."""
    from liangye.model.allocation import allocate
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    policy = make_policy([programme("P", {"municipal": 10})])
    candidates = make_candidates([{"id": "C0", "score": 50.0}, {"id": "C1", "score": 60.0}])
    applications = pd.DataFrame(
        [{"candidate_id": "C0", "programme": "P", "level": "municipal", "score": 50.0}]
    )
    problem = build_problem(
        policy, candidates, Budget(per_year={2024: 100}), AllocationSettings(), [2024], applications
    )
    reasons = allocate(problem).reasons.set_index("candidate_id")
    assert reasons.at["C1", "outcome"] == "not_applied"
    assert reasons.at["C1", "reason_zh"].startswith("未申报")
    assert reasons.at["C0", "outcome"] == "selected"
    # without an applications table nobody is "not applied"
    plain = allocate(
        build_problem(
            policy, candidates, Budget(per_year={2024: 100}), AllocationSettings(), [2024]
        )
    )
    assert "not_applied" not in set(plain.reasons["outcome"])


def test_one_that_applied_for_nothing_is_told_what_was_open_to_it_and_what_it_is_owed():
    """Review 23: B met every rule of D but applied for nothing, and read "ineligible" with D
    left out of the list; it is also in the running for E, an award owed by right, which no
    application claimed: not paid, nothing said. Now B is told it did not apply, D and E
    were open to it and E is owed; the plan notes E's unclaimed candidate; C, open to
    nothing, is told it did not apply and why nothing was open."""
    from liangye.model.allocation import allocate
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    policy = make_policy(
        [
            named("D", "示范企业", {"municipal": 10}, eligibility=["revenue >= 1000"]),
            named(
                "E",
                "国家级试点奖励",
                {"municipal": 30},
                decision="entitlement",
                decision_reference="t",
                applicants="running",
            ),
        ]
    )
    candidates = make_candidates(
        [
            {"id": "A", "score": 70.0, "revenue": 5000, "running": False},
            {"id": "B", "score": 60.0, "revenue": 5000, "running": True},
            {"id": "C", "score": 50.0, "revenue": 10, "running": False},
        ]
    )
    applications = pd.DataFrame(
        [{"candidate_id": "A", "programme": "D", "level": "municipal", "score": 70.0}]
    )
    problem = build_problem(
        policy, candidates, Budget(per_year={2024: 100}), AllocationSettings(), [2024], applications
    )
    result = allocate(problem)
    reasons = result.reasons.set_index("candidate_id")
    assert reasons.at["B", "outcome"] == reasons.at["C", "outcome"] == "not_applied"
    b = reasons.at["B", "reason_zh"]
    assert b.startswith("未申报") and "符合申报条件的项目：示范企业、国家级试点奖励" in b
    assert "其中“国家级试点奖励”为按规定应享的奖励，未申报则本方案不计入应付" in b
    c = reasons.at["C", "reason_zh"]
    assert c.startswith("未申报") and "也不符合以下项目的申报条件" in c and "示范企业" in c
    notes = result.to_dict()["notes_zh"]
    assert any("国家级试点奖励" in n and "1 个候选" in n and "B" in n for n in notes), notes


def test_one_whose_group_already_holds_the_place_is_told_the_group_rule():
    """no_repeat_by (同一集团不重复): B (89) shares group G1 with A (94), who is selected;
    the money would pay both. B was told its budget had run out and that it needed 94
    (review 23); it is told the group rule, the group and who holds the place."""
    policy = make_policy([named("P", "试点企业", {"municipal": 20}, no_repeat_by="group")])
    rows = [
        {"id": "A", "score": 94, "group": "G1"},
        {"id": "B", "score": 89, "group": "G1"},
        {"id": "C", "score": 70, "group": "G2"},
    ]
    result = solve(policy, make_candidates(rows), {2024: 100})
    assert picks(result) == {("A", "P", "municipal", 2024), ("C", "P", "municipal", 2024)}
    outcome, detail, zh = reason(result, "B")
    assert outcome == "outranked"
    assert "no_repeat_by group" in detail and "(A)" in detail
    assert zh.startswith("“试点企业”同一") and "不重复奖励：与其同属“G1”的A已入选" in zh
    assert "预算" not in zh.split("；")[0]


def test_a_parks_rule_needs_no_column_of_a_table_of_firms_only():
    """Zhongshan's park programme reads has_service_platform; a table of firms only was
    refused for lacking it, though no firm can apply there (review 15). The column is asked
    for only when some candidate is of a kind the rule could apply to."""
    from liangye.model.errors import InputError

    policy = make_policy(
        [
            named("demo_award", "服务型制造示范企业", {"municipal": 20}),
            named(
                "pilot_park",
                "试点园区",
                {"municipal": 50},
                kinds=["park"],
                eligibility=["has_service_platform"],
            ),
        ]
    )
    firms = make_candidates([{"id": "A", "score": 80}, {"id": "B", "score": 70}])
    result = solve(policy, firms, {2024: 100})
    assert result.status == "optimal" and set(result.selected["candidate_id"]) == {"A", "B"}
    with_a_park = make_candidates(
        [{"id": "A", "score": 80}, {"id": "P", "score": 90, "kind": "park"}]
    )
    with pytest.raises(InputError, match="has_service_platform"):
        solve(policy, with_a_park, {2024: 100})


def test_a_tier_above_a_title_held_says_it_pays_the_difference():
    """H holds the municipal title (20) and is designated provincial (50): plan.csv has the
    tier's amount 50 and the cost 30, and its reason said 30 with nothing on why; a reader
    comparing it with the policy's 50 read a wrong amount (review 20)."""
    policy = make_policy(
        [named("demo_award", "服务型制造示范企业", {"provincial": 50, "municipal": 20})]
    )
    candidates = make_candidates(
        [
            {"id": "A", "score": 80, "held": None},
            {"id": "H", "score": 90, "held": "demo_award:municipal"},
        ]
    )
    result = solve(policy, candidates, {2024: 200})
    plan = result.selected.set_index("candidate_id")
    assert plan.loc["H", "level"] == "provincial" and float(plan.loc["H", "cost"]) == 30
    outcome, detail, zh = reason(result, "H")
    assert outcome == "selected"
    assert "补差30万元，本级50万元，同一事项已获较低奖励" in zh
    assert "a top-up of 30万元 on its 50万元" in detail
    _, _, zh_a = reason(result, "A")
    assert "补差" not in zh_a  # a first title is paid its amount


def test_what_is_owed_by_right_counts_titles_held_and_levels():
    """Review 24: a holder of a higher title in the matter was told the lower entitlement is
    owed; a programme whose entitlement is one level of several was called owed to one that
    could reach only its other level; an application to one level claimed another's
    entitlement. A holds H (300) in E's matter: not owed E. M's municipal entitlement needs a
    revenue nobody has: owed to nobody. Z applied to M's provincial tier only: E is still
    unclaimed by Z, as by B."""
    from liangye.model.allocation import allocate
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    municipal = {"level": "municipal", "conferred_by": "municipal"}
    policy = make_policy(
        [
            {
                "id": "E",
                "name": "应享奖励",
                "reference": "t",
                "decision": "entitlement",
                "decision_reference": "t",
                "matter": "m1",
                "levels": [{**municipal, "amount": 30}],
            },
            {
                "id": "H",
                "name": "高级称号",
                "reference": "t",
                "matter": "m1",
                "levels": [{"level": "provincial", "amount": 300, "conferred_by": "municipal"}],
            },
            {
                "id": "M",
                "name": "混合项目",
                "reference": "t",
                "levels": [
                    {
                        **municipal,
                        "amount": 10,
                        "decision": "entitlement",
                        "decision_reference": "t",
                        "eligibility": ["revenue >= 100000"],
                    },
                    {"level": "provincial", "amount": 50, "conferred_by": "municipal"},
                ],
            },
        ]
    )
    candidates = make_candidates(
        [
            {"id": "A", "score": 70.0, "held": "H:provincial"},
            {"id": "B", "score": 60.0},
            {"id": "Z", "score": 60.0},
        ]
    )
    applications = pd.DataFrame(
        [{"candidate_id": "Z", "programme": "M", "level": "provincial", "score": 60.0}]
    )
    problem = build_problem(
        policy,
        candidates,
        Budget(per_year={2024: 1000}),
        AllocationSettings(),
        [2024],
        applications,
    )
    result = allocate(problem)
    reasons = result.reasons.set_index("candidate_id")
    assert "应享的奖励" not in reasons.at["A", "reason_zh"]
    b = reasons.at["B", "reason_zh"]
    assert "其中“应享奖励”为按规定应享的奖励" in b and "“混合项目”为按规定" not in b
    [note] = [n for n in result.to_dict()["notes_zh"] if "为按规定应享的奖励" in n]
    assert note.startswith("“应享奖励（市级）”") and "2 个候选" in note and "（B、Z）" in note
