"""A scenario per bundled policy, on a synthetic pool, allocates without error and meets its
policy's rules; the bundled default exercises the whole Jiaxing policy."""

from __future__ import annotations

from collections import Counter

import pytest

from liangye.model.checks import plan_violations
from liangye.model.reserve import reserve_pool
from liangye.scenarios.loader import PACKAGE_DIR, bundled_policies, load_scenario
from liangye.scenarios.runner import run_allocation

EXAMPLES = PACKAGE_DIR / "examples"


def run_example(policy_id: str, *overrides: str):
    scenario, base = load_scenario(
        EXAMPLES / f"{policy_id}.toml", ["allocation.time_limit=3", *overrides]
    )
    assert scenario.policy == policy_id
    result = run_allocation(scenario, base)
    assert result.status in ("optimal", "time_limit"), result.diagnosis
    assert len(result.chosen) > 0
    assert plan_violations(result.problem, result.chosen) == []
    return result


def counts(result) -> Counter:
    return Counter(result.selected["programme"])


def test_one_example_per_bundled_policy():
    assert sorted(p.stem for p in EXAMPLES.glob("*.toml")) == sorted(bundled_policies())


def test_jiaxing_example_runs_every_programme_kind():
    result = run_example("jiaxing-2024-2026")
    problem = result.problem
    assert problem.notes == []  # with the extended pool every programme takes part
    taking_part = set(problem.options["programme"])
    assert {"digital_workshop", "green_factory_park", "service_spin_off", "testing_service"} <= (
        taking_part
    )
    plan = result.selected
    for year in (2024, 2025, 2026):  # 三（一）1: 每年…10家以上
        in_year = plan[(plan["programme"] == "cultivate_design_marketing") & (plan["year"] == year)]
        assert len(in_year) >= 10
    # 二: 累计培育国家级…服务型制造示范企业18家以上、工业设计中心6个以上 (held titles count)
    held = problem.candidates["held"].fillna("")
    for programme, target in (("service_manufacturing_demo", 18), ("industrial_design_centre", 6)):
        national = plan[(plan["programme"] == programme) & (plan["level"] == "national")]
        already = held.str.contains(f"{programme}:national").sum()
        assert len(national) + already >= target
    # 主辅分离: each spin-off is paid by its revenue band
    spin = plan[plan["programme"] == "service_spin_off"]
    assert set(spin["amount"]) <= {10, 20, 50}
    assert not problem.later_payments.empty


@pytest.fixture(scope="module")
def default_plan():
    scenario, base = load_scenario(None, [])
    return scenario, run_allocation(scenario, base)


def test_the_default_scenario_exercises_the_whole_jiaxing_policy(default_plan):
    """Every programme takes part, every entitlement is paid, the city designates municipal
    firms of its own, the yearly cultivation quotas of 三 are met, and no year overruns its
    budget with a chance above the scenario's bound."""
    scenario, result = default_plan
    problem = result.problem
    assert problem.notes == []
    options = problem.options
    # Every clause of 四 and 三 has candidates (a rare title may draw none in a pool of 500).
    having = set(options["programme"])
    assert len(having) >= len(problem.policy.programme_ids) - 2
    assert {
        "service_manufacturing_demo",  # 四（一）3, the city's own and its nominations
        "design_award",  # 四（一）3 prizes
        "smart_factory",  # 四（一）1
        "green_factory_park",  # 四（一）2
        "service_spin_off",  # 四（二）1
        "cross_border_platform",  # 四（三）4
        "industrial_internet_platform",  # 三（二）1, a nomination
        "testing_service",  # 三（二）5
    } <= having
    assert set(options["decision"]) == {"discretionary", "nomination", "entitlement"}
    chosen = set(result.chosen.tolist())
    # An obligation is in the plan itself, or as the first step of a chosen upgrade chain.
    chains = options[options["from_option"] >= 0]
    started = set(chains.loc[chains.index.isin(chosen), "from_option"])
    for o in options.index[options["forced"]]:
        assert o in chosen or o in started
    plan = result.selected
    municipal = plan[
        plan["programme"].isin(["service_manufacturing_demo", "industrial_design_centre"])
        & (plan["level"] == "municipal")
    ]
    assert len(municipal) > 0
    yearly = [q for q in problem.policy.quotas if q.per == "year" and q.min]
    assert len(yearly) == 10
    for quota in yearly:
        mine = plan[plan["programme"].isin(quota.programmes)]
        for year in (2024, 2025, 2026):
            assert (mine["year"] == year).sum() >= quota.min, (quota.name, year)
    alpha = scenario.allocation.overrun_risk
    assert alpha == 0.05
    for year in ("2024", "2025", "2026"):
        assert result.risk.overrun[year] <= alpha


def test_wuhan_example_meets_its_2023_targets():
    result = run_example("wuhan-service-manufacturing")
    plan = result.selected
    by_2023 = plan[plan["year"] <= 2023]
    national_demo = by_2023[
        (by_2023["programme"] == "service_manufacturing_demo") & (by_2023["level"] == "national")
    ]
    assert len(national_demo) >= 18
    provincial_centres = by_2023[
        (by_2023["programme"] == "industrial_design_centre") & (by_2023["level"] == "provincial")
    ]
    assert len(provincial_centres) >= 51  # 超过50个
    assert (
        (plan["programme"] == "industrial_design_institute") & (plan["level"] == "national")
    ).sum() >= 1


def test_zhongshan_example_batches_and_reserve():
    result = run_example("zhongshan-pilots-2021-2023")
    c = counts(result)
    assert 18 <= c["pilot_manufacturer"] + c["pilot_service_firm"] <= 22
    assert 2 <= c["pilot_manufacturing_park"] + c["pilot_service_cluster"] <= 3
    plan = result.selected
    firms = plan[plan["programme"].isin(["pilot_manufacturer", "pilot_service_firm"])]
    assert set(firms["year"]) == {2021, 2022, 2023}  # a batch every year
    pool = reserve_pool(result.problem, result.chosen)
    assert set(pool["year"]) == {2021, 2022, 2023}
    for year, members in pool.groupby("year"):
        pilots_by_then = set(firms[firms["year"] <= year]["candidate_id"])
        assert not pilots_by_then & set(members["candidate_id"])
        assert list(members["merit"]) == sorted(members["merit"], reverse=True)


def test_jiangsu_example_applies_the_alternative_threshold():
    result = run_example("jiangsu-pilots-batch3")
    problem = result.problem
    candidates = problem.candidates.set_index("id")
    leaders = result.selected[result.selected["programme"] == "leading_enterprise_pilot"]
    assert len(leaders) > 0
    firms = candidates.loc[leaders["candidate_id"]]
    assert ((firms["revenue"] >= 80000) | (firms["market_share_rank"] <= 5)).all()
    assert (firms["service_input_share"] >= 0.2).all()
    assert (firms["revenue"] < 80000).any()  # some qualify only by their market-share rank
    assert sum("not enforced" in note.en for note in problem.notes) == 2  # 产业代表性、空间布局


def test_zhejiang_example_meets_the_2022_targets():
    result = run_example("zhejiang-integration")
    c = counts(result)
    assert c["pilot_region"] >= 50 and c["pilot_enterprise"] >= 100


@pytest.mark.parametrize("policy_id", sorted(bundled_policies()))
def test_examples_validate(policy_id):
    from liangye.scenarios.validate import validate_file

    kind, problems = validate_file(EXAMPLES / f"{policy_id}.toml")
    assert (kind, problems) == ("scenario", [])
