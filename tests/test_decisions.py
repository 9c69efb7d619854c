"""Decision kinds, entitlements as obligations, several titles per matter, history by amount,
and upgrades inside the horizon: tiny instances worked out by hand."""

from __future__ import annotations

import pytest

from liangye.model.errors import InputError
from liangye.model.policy import policy_from_dict

from conftest import make_candidates, make_policy, picks, programme, solve


def entitled(pid: str, amounts: dict[str, float], **extra: object) -> dict:
    """A programme every tier of which is an entitlement (paid to whoever qualifies)."""
    return programme(pid, amounts, decision="entitlement", decision_reference="test", **extra)


def test_an_entitlement_is_paid_whatever_the_objective_prefers():
    """E pays 30 to firms in the running (applicants rule), an entitlement; D pays 20 at the
    city's discretion. A (score 10) is in the running for E; B (score 90) is not. Budget 40:
    E to A is owed (30), so only 10 is left and B, whose D costs 20, is left out."""
    policy = make_policy(
        [
            entitled("E", {"municipal": 30}, applicants="running"),
            programme("D", {"municipal": 20}),
        ]
    )
    candidates = make_candidates(
        [{"id": "A", "score": 10, "running": True}, {"id": "B", "score": 90, "running": False}]
    )
    result = solve(policy, candidates, {2024: 40})
    assert result.status == "optimal"
    assert picks(result) == {("A", "E", "municipal", 2024)}
    row = result.to_dict()["selected"][0]
    assert row["decision"] == "entitlement" and row["probability"] == 1.0
    assert result.reasons.set_index("candidate_id").at["B", "outcome"] == "out_of_budget"


def test_obligations_beyond_the_budget_are_named_with_the_excess():
    """Two firms entitled to 30 each, budget 40: the obligations alone (60) break 2024's
    budget by 20; the allocation is infeasible and says so, naming the obligations."""
    policy = make_policy([entitled("E", {"municipal": 30})])
    candidates = make_candidates([{"id": "A", "score": 50}, {"id": "B", "score": 60}])
    result = solve(policy, candidates, {2024: 40})
    assert result.status == "infeasible"
    (line,) = result.diagnosis
    assert "2024" in line and "60万元" in line and "over by 20万元" in line
    assert "A E municipal" in line and "B E municipal" in line


def test_an_entitlement_conferred_above_is_paid_with_its_chance():
    """E is recognised by the province (conferred_by provincial) and paid by the city: an
    entitlement paid with the provincial chance 0.5, so it counts 50 × 0.5 = 25 in the
    budget and its probability is reported."""
    levels = [{"level": "provincial", "amount": 50, "conferred_by": "provincial"}]
    policy = make_policy(
        [
            {
                "id": "E",
                "name": "E",
                "reference": "t",
                "decision": "entitlement",
                "levels": levels,
            }
        ]
    )
    result = solve(
        policy,
        make_candidates([{"id": "A", "score": 50}]),
        {2024: 30},
        success_probability={"provincial": 0.5},
    )
    assert result.status == "optimal"
    (row,) = result.to_dict()["selected"]
    assert row["decision"] == "entitlement" and row["probability"] == 0.5
    assert float(result.spend[2024]) == 25.0
    assert result.overrun["2024"] == pytest.approx(0.5)  # 50 > 30 when conferred


def test_a_nomination_without_a_chance_is_refused_naming_the_setting():
    levels = [{"level": "national", "amount": 150, "conferred_by": "national"}]
    policy = make_policy([{"id": "N", "name": "N", "reference": "t", "levels": levels}])
    with pytest.raises(InputError) as error:
        solve(policy, make_candidates([{"id": "A", "score": 50}]), {2024: 300})
    (problem,) = error.value.problems
    assert problem.where == "success_probability.national"
    assert "N (nomination)" in problem.message and "--chance national=P" in problem.message


def test_an_entitlement_without_an_amount_is_refused_even_without_candidates():
    policy = make_policy(
        [
            {
                "id": "E",
                "name": "E",
                "reference": "t",
                "decision": "entitlement",
                "applicants": "running",
                "levels": [{"level": "municipal"}],
            }
        ]
    )
    with pytest.raises(InputError) as error:
        solve(policy, make_candidates([{"id": "A", "score": 50, "running": False}]), {2024: 300})
    (problem,) = error.value.problems
    assert problem.where == "programmes[0].levels[0].amount"
    assert "entitlement needs one" in problem.message


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("decision", "automatic", "discretionary"),
        ("levels[0].decision", "grant", "entitlement"),
    ],
)
def test_an_unknown_decision_kind_names_the_key(where, value, message):
    data = {
        "id": "p",
        "title": "t",
        "years": [2024, 2024],
        "programmes": [
            {"id": "E", "name": "E", "reference": "t", "levels": [{"level": "municipal"}]}
        ],
    }
    target = data["programmes"][0]
    if where == "decision":
        target["decision"] = value
    else:
        target["levels"][0]["decision"] = value
    with pytest.raises(InputError) as error:
        policy_from_dict(data, "bad.toml")
    (problem,) = error.value.problems
    assert problem.source == "bad.toml" and problem.where == f"programmes[0].{where}"
    assert message in problem.message


def test_a_nomination_needs_a_government_above_to_confer_it():
    data = {
        "id": "p",
        "title": "t",
        "years": [2024, 2024],
        "programmes": [
            {
                "id": "N",
                "name": "N",
                "reference": "t",
                "decision": "nomination",
                "levels": [{"level": "municipal", "amount": 20}],
            }
        ],
    }
    with pytest.raises(InputError) as error:
        policy_from_dict(data, "bad.toml")
    assert "a nomination needs a conferring government above" in str(error.value)


def test_several_entitlements_of_one_matter_pay_the_highest_and_say_which_were_set_aside():
    """A is in the running for two titles of one matter (a multi-valued cell): T30 (30) and
    T50 (50), both entitlements. 就高不重复: only T50 is paid; the explanation names T30."""
    policy = make_policy(
        [
            entitled("T30", {"municipal": 30}, matter="m", applicants="'T30' in titles"),
            entitled("T50", {"municipal": 50}, matter="m", applicants="'T50' in titles"),
        ]
    )
    candidates = make_candidates([{"id": "A", "score": 1, "titles": "T30；T50"}])
    result = solve(policy, candidates, {2024: 100})
    assert picks(result) == {("A", "T50", "municipal", 2024)}
    detail = result.reasons.set_index("candidate_id").at["A", "detail"]
    assert "set aside" in detail and "T30 municipal" in detail


def test_several_titles_of_one_matter_the_plan_picks_the_most_valuable():
    """A applies to three discretionary titles of one matter (30, 50, 300; merit by level
    weight); budget 400, A's score 80. One title is paid; the optimum takes the one the
    objective values (all weigh the same: the cheapest, by the tie-break) and the others are
    set aside in the explanation."""
    policy = make_policy(
        [
            programme("W30", {"municipal": 30}, matter="smart"),
            programme("W50", {"municipal": 50}, matter="smart"),
            programme("W300", {"municipal": 300}, matter="smart"),
        ]
    )
    result = solve(policy, make_candidates([{"id": "A", "score": 80}]), {2024: 400})
    assert picks(result) == {("A", "W30", "municipal", 2024)}
    detail = result.reasons.set_index("candidate_id").at["A", "detail"]
    assert "W300 municipal" in detail and "W50 municipal" in detail


@pytest.mark.parametrize(
    ("upgrade", "expected", "spend"),
    [
        ("top_up", {("A", "W300", "municipal", 2024)}, 270),  # 300 − 30 already paid
        ("full", {("A", "W300", "municipal", 2024)}, 300),
        ("none", set(), 0),
    ],
)
def test_history_blocks_by_amount_not_by_level(upgrade, expected, spend):
    """A holds W30 (a 30万元 title) of the matter; W300 (300) is of the same matter and the
    same government level. 就高不重复 blocks only awards not above what was paid: W300 may
    still be given (priced by the upgrade rule); W30 again may not."""
    policy = make_policy(
        [
            programme("W30", {"municipal": 30}, matter="smart"),
            programme("W300", {"municipal": 300}, matter="smart"),
        ],
        upgrade=upgrade,
    )
    candidates = make_candidates([{"id": "A", "score": 80, "held": "W30:municipal"}])
    result = solve(policy, candidates, {2024: 400})
    assert picks(result) == expected
    assert float(result.spend[2024]) == spend


def upgrade_policy(upgrade: str = "top_up", **extra: object):
    levels = [
        {"level": "provincial", "amount": 50, "conferred_by": "provincial"},
        {"level": "municipal", "amount": 20, "conferred_by": "municipal"},
    ]
    extra.setdefault(
        "quotas",
        [{"programmes": ["P"], "levels": ["municipal"], "per": "year", "years": [2024], "min": 1}],
    )
    return make_policy(
        [{"id": "P", "name": "P", "reference": "t", "levels": levels}],
        years=[2024, 2026],
        upgrade=upgrade,
        **extra,
    )


@pytest.mark.parametrize(("upgrade", "top_up"), [("top_up", 30), ("full", 50)])
def test_a_firm_designated_municipal_is_upgraded_inside_the_horizon(upgrade, top_up):
    """P: provincial 50 (a nomination, conferred with chance 0.5), municipal 20 (the city's).
    The quota asks one municipal designation in 2024; A is the only firm. Weights provincial
    2, municipal 1, score 80: municipal in 2024 (merit 80) then the upgrade to provincial
    is worth 0.5 × 160 + 0.5 × 80 = 120 in expectation (provincial if conferred, municipal
    if not), against 80 without it. The upgrade pays the difference (top_up: 30) or the
    full 50, each with the conferral chance."""
    result = solve(
        upgrade_policy(upgrade),
        make_candidates([{"id": "A", "score": 80}]),
        {2024: 100, 2025: 100, 2026: 100},
        level_weights={"provincial": 2, "municipal": 1},
        success_probability={"provincial": 0.5},
    )
    assert result.objective == pytest.approx(120)
    selected = result.selected.sort_values("year")
    assert list(selected["level"]) == ["municipal", "provincial"]
    assert list(selected["upgrade_of"])[1] == "P:municipal:2024"
    assert float(selected["cost"].iloc[1]) == top_up
    assert selected["probability"].tolist() == [1.0, 0.5]


def test_an_upgrade_chain_counts_as_two_designations_wherever_a_plan_is_counted():
    """The plan's rows, the rank-by-score plan's count and the budget frontier's columns count
    an upgrade chain (municipal in 2024, then provincial) alike: two designations. The
    frontier counted it once, so at the scenario's own budget it showed fewer designations
    than the plan it had found."""
    from liangye.model.frontier import budget_frontier

    result = solve(
        upgrade_policy("top_up"),
        make_candidates([{"id": "A", "score": 80}, {"id": "B", "score": 60}]),
        {2024: 100, 2025: 100, 2026: 100},
        level_weights={"provincial": 2, "municipal": 1},
        success_probability={"provincial": 0.5},
    )
    chains = result.selected["upgrade_of"].notna().sum()
    assert chains >= 1 and len(result.selected) > len(result.chosen)
    frontier = budget_frontier(result.problem, [1.0])
    assert frontier["designations"].tolist() == [len(result.selected)]
    # and the terminal's table (it counted the plan's options: a chain once)
    import re

    from rich.console import Console

    from liangye.scenarios.display import show_allocation

    console = Console(record=True, width=200)
    show_allocation(console, result)
    row = re.search(r"入选事项数\s*│\s*│\s*(\d+)", console.export_text())
    assert row is not None and int(row.group(1)) == len(result.selected)
    assert result.greedy.count == len(result.greedy_selected)
    assert frontier["greedy_designations"].tolist() == [len(result.greedy_selected)]


def test_no_upgrade_inside_the_horizon_when_the_policy_allows_none():
    result = solve(
        upgrade_policy("none"),
        make_candidates([{"id": "A", "score": 80}]),
        {2024: 100, 2025: 100, 2026: 100},
        level_weights={"provincial": 2, "municipal": 1},
        success_probability={"provincial": 0.5},
    )
    assert picks(result) == {("A", "P", "municipal", 2024)}


def test_an_upgraded_firm_counts_once_per_level_in_a_horizon_quota():
    """An upgraded firm counts once at each level: a horizon quota of two designations of P
    at any level cannot be met by A alone (municipal, then upgraded: one firm), while one at
    municipal and one at provincial can."""
    common = {
        "level_weights": {"provincial": 2, "municipal": 1},
        "success_probability": {"provincial": 0.5},
    }
    budget = {2024: 100, 2025: 100, 2026: 100}
    firm = make_candidates([{"id": "A", "score": 80}])
    two_in_all = upgrade_policy(quotas=[{"programmes": ["P"], "per": "horizon", "min": 2}])
    assert solve(two_in_all, firm, budget, **common).status == "infeasible"
    per_level = upgrade_policy(
        quotas=[
            {"programmes": ["P"], "levels": ["municipal"], "per": "horizon", "min": 1},
            {"programmes": ["P"], "levels": ["provincial"], "per": "horizon", "min": 1},
        ]
    )
    both = solve(per_level, firm, budget, **common)
    assert both.status == "optimal" and len(both.selected) == 2  # one chain, two designations


def test_a_candidate_left_out_by_the_overrun_bound_is_told_so():
    """N pays 150 on a national conferral (chance 0.2): 30 expected, well within a budget of
    100, but conferred it overruns it, with chance 0.2 above the bound 0.1. A is left out,
    and its reason names the overrun chance it would bring, not the money."""
    levels = [{"level": "national", "amount": 150, "conferred_by": "national"}]
    policy = make_policy([{"id": "N", "name": "N", "reference": "t", "levels": levels}])
    result = solve(
        policy,
        make_candidates([{"id": "A", "score": 90}]),
        {2024: 100},
        success_probability={"national": 0.2},
        overrun_risk=0.1,
    )
    assert picks(result) == set()
    reason = result.reasons.set_index("candidate_id").loc["A"]
    assert reason["outcome"] == "out_of_budget"
    assert "overrun chance from 0.0% to 20.0%, above the bound 0.1" in reason["detail"]


def test_a_product_won_jointly_is_rewarded_once():
    """同一产品不重复奖励: A and B are entitled to a prize for the same product P1, C for its own.
    The product is paid once, to A (the earlier row); B is set aside with the reason, C paid."""
    policy = make_policy([entitled("prize", {"municipal": 50}, no_repeat_by="product_id")])
    candidates = make_candidates(
        [
            {"id": "A", "score": 10, "product_id": "P1"},
            {"id": "B", "score": 90, "product_id": "P1"},
            {"id": "C", "score": 50, "product_id": "P2"},
        ]
    )
    result = solve(policy, candidates, {2024: 200})
    assert result.status == "optimal"
    assert picks(result) == {("A", "prize", "municipal", 2024), ("C", "prize", "municipal", 2024)}
    detail = result.reasons.set_index("candidate_id").at["B", "detail"]
    assert "同一product_id不重复奖励" in detail and "P1" in detail and "A" in detail


@pytest.mark.parametrize("proof_columns", [1_500, 0])
def test_no_plan_beyond_the_overrun_bound_is_ever_returned(monkeypatch, proof_columns):
    """(With proof_columns 0 the model counts as large: no proof rounds unless no plan
    within the bound is found otherwise.) The quota asks for two national nominations in 2024 (150 each, chance 0.5) against a
    budget of 200: at expected cost (150) they fit, but both are conferred with chance 0.25,
    above the bound 0.1. No plan meets the bound: the allocation is infeasible (never the
    expected-cost plan) and the diagnosis gives the overrun chance of the cheapest plan."""
    levels = [{"level": "national", "amount": 150, "conferred_by": "national"}]
    quota = {"programmes": ["N"], "levels": ["national"], "per": "year", "min": 2}
    policy = make_policy(
        [{"id": "N", "name": "N", "reference": "t", "levels": levels}], quotas=[quota]
    )
    candidates = make_candidates([{"id": c, "score": 80} for c in "ABC"])
    monkeypatch.setattr("liangye.model.risk_solve.PROOF_COLUMNS", proof_columns)
    result = solve(
        policy,
        candidates,
        {2024: 200},
        success_probability={"national": 0.5},
        overrun_risk=0.1,
    )
    assert result.status == "infeasible" and len(result.chosen) == 0
    (line,) = result.diagnosis
    assert "2024 25.00%" in line and "at most 0.1" in line
    relaxed = solve(policy, candidates, {2024: 200}, success_probability={"national": 0.5})
    assert relaxed.status == "optimal" and len(relaxed.chosen) == 2


def _owed_municipal_then_national():
    """P: national 150 (a nomination, by its level), municipal 20 (an entitlement), 2024-2025."""
    levels = [
        {"level": "national", "amount": 150},
        {"level": "municipal", "amount": 20, "decision": "entitlement"},
    ]
    return make_policy(
        [{"id": "P", "name": "P", "reference": "t", "levels": levels}], years=[2024, 2025]
    )


def _obligation_then_nomination(tmp_path, objective: str):
    """P: national 150 (a nomination, chance 0.3), municipal 20 (an entitlement). A (score 50)
    is owed municipal in 2024 and applies for national in 2025; B (score 80) applies for
    national in 2025. Budgets 20 (2024) and 45 (2025): one nomination (45 expected)."""
    from decimal import Decimal

    from liangye.model.allocation import allocate
    from liangye.model.applications_table import load_applications
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    policy = _owed_municipal_then_national()
    apps = tmp_path / "apps.csv"
    apps.write_text(
        "candidate_id,programme,level,score,year\n"
        "A,P,municipal,50,2024\nA,P,national,50,2025\nB,P,national,80,2025\n",
        encoding="utf-8",
    )
    problem = build_problem(
        policy,
        make_candidates([{"id": "A", "score": 50}, {"id": "B", "score": 80}]),
        Budget(per_year={2024: Decimal(20), 2025: Decimal(45)}),
        AllocationSettings(
            objective=objective,
            level_weights={"national": 3, "municipal": 1},
            success_probability={"national": 0.3},
        ),
        applications=load_applications(str(apps)),
    )
    return allocate(problem)


def test_an_upgrade_of_an_obligation_is_worth_its_upgrade_alone(tmp_path):
    """A's municipal award is owed in every plan and adds no merit, so the chain "A's
    entitlement, then national" is worth 0.3 × 3 × 50 = 45 — not 45 + 0.7 × 50 for the
    obligation — and B's nomination, 0.3 × 3 × 80 = 72, wins the one nomination the money
    allows (A's obligation credited to its chain gave it to A, 80)."""
    result = _obligation_then_nomination(tmp_path, "merit")
    assert picks(result) == {("A", "P", "municipal", 2024), ("B", "P", "national", 2025)}
    assert result.objective == pytest.approx(72)


def test_an_upgrade_of_an_obligation_counts_one_designation_of_the_citys_choice(tmp_path):
    """Under `count` the chain from an entitlement is one designation the city chooses (its
    upgrade), as B's nomination is: the objective is 1, and the tie goes to merit (B)."""
    result = _obligation_then_nomination(tmp_path, "count")
    assert result.objective == pytest.approx(1)
    assert ("B", "P", "national", 2025) in picks(result)


def test_what_it_would_take_for_an_upgrade_of_an_obligation_holds_when_solved_again(tmp_path):
    """A (90) and B (60) are both owed P municipal in 2024 and apply for national in 2025;
    the money allows one upgrade, worth 0.9 × score to either. A keeps it down to a score of
    60 (a tie, decided for the earlier candidate): margin 30; B needs 90.1. The figures
    moved only the upgrade's part of the chain, and said 53.3 and 113.4 "confirmed"."""
    from decimal import Decimal

    from liangye.model.allocation import allocate
    from liangye.model.applications_table import load_applications
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    policy = _owed_municipal_then_national()

    def solved(score_a: float, score_b: float):
        apps = tmp_path / f"apps-{score_a}-{score_b}.csv"
        apps.write_text(
            "candidate_id,programme,level,score,year\n"
            f"A,P,municipal,{score_a},2024\nA,P,national,{score_a},2025\n"
            f"B,P,municipal,{score_b},2024\nB,P,national,{score_b},2025\n",
            encoding="utf-8",
        )
        problem = build_problem(
            policy,
            make_candidates([{"id": "A", "score": score_a}, {"id": "B", "score": score_b}]),
            Budget(per_year={2024: Decimal(60), 2025: Decimal(45)}),
            AllocationSettings(
                level_weights={"national": 3, "municipal": 1},
                success_probability={"national": 0.3},
                mip_gap=0,
            ),
            applications=load_applications(str(apps)),
        )
        return allocate(problem)

    def upgraded(result) -> set[str]:
        plan = result.selected
        return set(plan.loc[plan["level"] == "national", "candidate_id"])

    result = solved(90, 60)
    assert upgraded(result) == {"A"}
    reasons = result.reasons.set_index("candidate_id")
    assert reasons.at["A", "score_margin"] == pytest.approx(30)
    assert reasons.at["B", "score_needed"] == pytest.approx(90.1)
    # A won national through its chain: not "set aside"; B, selected for what it is owed,
    # is told what a tier of the city's choice would have taken, not what "selection" would.
    assert "本期未另行安排" not in reasons.at["A", "reason_zh"]
    assert "评分需达到90.1分方可另获本级认定或推荐" in reasons.at["B", "reason_zh"]
    assert upgraded(solved(60, 60)) == {"A"} and upgraded(solved(59.9, 60)) == {"B"}
    assert upgraded(solved(90, 90.1)) == {"B"}


def test_the_frontiers_budget_is_what_the_horizon_may_spend():
    """Yearly budgets of 100, 100, 100 and a horizon total of 250: the frontier's budget is
    250 times the scale, the total that binds (it showed the yearly sum, 300)."""
    from liangye.model.frontier import budget_frontier

    result = solve(
        upgrade_policy("top_up"),
        make_candidates([{"id": "A", "score": 80}, {"id": "B", "score": 60}]),
        {2024: 100, 2025: 100, 2026: 100},
        total=250,
        level_weights={"provincial": 2, "municipal": 1},
        success_probability={"provincial": 0.5},
    )
    frontier = budget_frontier(result.problem, [0.5, 1.0])
    assert frontier["budget"].tolist() == [125.0, 250.0]


def instalment_policy(upgrade: str = "top_up", quota: bool = True):
    """P: national 120 (conferred with chance 0.5), municipal 20 on designation and 10 the
    year after: 30 in all (review 23's Hefei)."""
    levels = [
        {"level": "national", "amount": 120, "conferred_by": "national"},
        {
            "level": "municipal",
            "amount": 20,
            "conferred_by": "municipal",
            "payouts": [{"amount": 10, "years_after": [1]}],
        },
    ]
    return make_policy(
        [{"id": "P", "name": "P", "reference": "t", "levels": levels}],
        years=[2024, 2026],
        upgrade=upgrade,
        quotas=[
            {"programmes": ["P"], "levels": ["municipal"], "per": "year", "years": [2024], "min": 1}
        ]
        if quota
        else [],
    )


def test_a_top_up_counts_what_the_lower_award_pays_in_all():
    """就高不重复 with instalments: municipal pays 20 then 10, national 120. The top-up was
    priced from the 20 alone (100), and the firm was paid 20 + 10 + 100 = 130 for an award
    of 120 (review 23). Inside the horizon the chain tops up 120 − 30 = 90; a holder of the
    municipal title from before likewise, and is told it was paid 30."""
    result = solve(
        instalment_policy(),
        make_candidates([{"id": "A", "score": 80}]),
        {2024: 200, 2025: 200, 2026: 200},
        level_weights={"national": 3, "municipal": 1},
        success_probability={"national": 0.5},
    )
    selected = result.selected.sort_values("year")
    assert list(selected["level"]) == ["municipal", "national"]
    assert float(selected["cost"].iloc[1]) == 90
    held = solve(
        instalment_policy(quota=False),
        make_candidates([{"id": "A", "score": 80, "held": "P:municipal"}]),
        {2024: 200, 2025: 200, 2026: 200},
        level_weights={"national": 3, "municipal": 1},
        success_probability={"national": 0.5},
    )
    assert held.selected["level"].tolist() == ["national"]
    assert {float(c) for c in held.selected["cost"]} == {90.0}


def test_a_cap_holds_over_an_awards_later_payouts():
    """累计最高不超过60: 40 on designation and 10% of a growth of 800 (80) in each of two
    years committed 200 under a cap of 60 (review 23's Foshan). The later payments stop at
    the cap, in year order: 20 the first year, nothing the second; a growth of 100 pays 10
    and 10 (under the cap)."""
    levels = [
        {
            "level": "municipal",
            "amount": 40,
            "cap": 60,
            "payouts": [{"share": 0.1, "of": "growth", "years_after": [1, 2]}],
        }
    ]
    policy = make_policy([{"id": "G", "name": "G", "reference": "t", "levels": levels}])
    candidates = make_candidates(
        [{"id": "A", "score": 90, "growth": 800}, {"id": "B", "score": 80, "growth": 100}]
    )
    result = solve(policy, candidates, {2024: 100})
    assert picks(result) == {("A", "G", "municipal", 2024), ("B", "G", "municipal", 2024)}
    later = result.problem.later_payments
    by = later.groupby(["option", "year"])["cost"].sum().map(float).to_dict()
    options = result.problem.options.reset_index(drop=True)
    a = int(options.index[options["candidate_id"] == "A"][0])
    b = int(options.index[options["candidate_id"] == "B"][0])
    assert (by.get((a, 2025)), by.get((a, 2026), 0.0)) == (20.0, 0.0)
    assert (by[(b, 2025)], by[(b, 2026)]) == (10.0, 10.0)
    # what each award pays in all, as a holder of it counts it: at most the cap
    from liangye.model.later_payments import option_totals

    problem = result.problem
    totals = option_totals(problem.policy, problem.candidates, problem.options)
    assert totals[[a, b]].tolist() == [60.0, 60.0]
