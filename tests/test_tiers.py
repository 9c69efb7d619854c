"""Tier designs for the service-manufacturing award: the library, and a scenario choosing one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from liangye.model.errors import InputError
from liangye.model.settings import AllocationSettings
from liangye.model.units import Level
from liangye.scenarios.loader import load_policy_reference, load_scenario
from liangye.scenarios.runner import run_allocation
from liangye.scenarios.tiers import design_amounts, load_tier_library, with_tier_design

N, P, M = Level.national, Level.provincial, Level.municipal

# The two documents' ladders (万元), copied from the clauses:
# 嘉兴 四（一）3: 分别给予150万元、50万元、20万元奖励; 武汉 4（六）: 分别给予100万元、50万元、20万元
DOCUMENT_DESIGNS = {"jiaxing": (150, 50, 20), "wuhan": (100, 50, 20)}


def ladder(name: str) -> tuple[int, int, int]:
    amounts = load_tier_library().designs[name].amounts
    return tuple(int(amounts[lv]) for lv in (N, P, M))


def test_library_has_the_document_designs_with_references():
    library = load_tier_library()
    assert library.programme == "service_manufacturing_demo"
    assert set(library.designs) == {"jiaxing", "wuhan", "flat", "steep"}
    for name, amounts in DOCUMENT_DESIGNS.items():
        assert ladder(name) == amounts
        assert not library.designs[name].illustrative and library.designs[name].reference


def test_flat_and_steep_are_illustrative_and_shaped_as_documented():
    library = load_tier_library()
    flat, steep = ladder("flat"), ladder("steep")
    assert len(set(flat)) == 1  # flat: every level pays the same
    jiaxing = ladder("jiaxing")
    assert steep[0] / steep[2] > jiaxing[0] / jiaxing[2]  # steeper than either city
    assert steep[0] > jiaxing[0] and steep[2] < jiaxing[2]
    assert library.designs["flat"].illustrative and library.designs["steep"].illustrative


def test_designs_match_the_policy_files():
    """The document designs are the amounts in the two cities' policy files."""
    for name, policy_id in (
        ("jiaxing", "jiaxing-2024-2026"),
        ("wuhan", "wuhan-service-manufacturing"),
    ):
        programme = load_policy_reference(policy_id).programme("service_manufacturing_demo")
        assert tuple(int(lv.amount) for lv in programme.levels) == ladder(name)


def test_unknown_design_lists_the_known_ones():
    policy = load_policy_reference("jiaxing-2024-2026")
    with pytest.raises(InputError) as caught:
        design_amounts("gentle", policy)
    message = str(caught.value)
    assert "'gentle' is not a tier design" in message
    assert all(name in message for name in ("jiaxing", "wuhan", "flat", "steep"))


def test_policy_without_the_programme_is_refused():
    with pytest.raises(InputError, match="has no programme 'service_manufacturing_demo'"):
        design_amounts("flat", load_policy_reference("zhongshan-pilots-2021-2023"))


def test_explicit_amounts_win_over_the_design():
    policy = load_policy_reference("jiaxing-2024-2026")
    settings = AllocationSettings(amounts={"service_manufacturing_demo": {"municipal": 25}})
    merged = with_tier_design(settings, policy, "wuhan").amounts["service_manufacturing_demo"]
    assert merged == {N: Decimal(100), P: Decimal(50), M: Decimal(25)}
    assert with_tier_design(settings, policy, None) is settings


def test_scenario_tier_design_changes_what_the_plan_pays():
    """The default (Jiaxing) scenario priced with the steep design."""
    quick = ["allocation.time_limit=2", "candidates.synthetic.enterprises=100"]
    scenario, base = load_scenario(None, [*quick, "tier_design=steep"])
    assert scenario.tier_design == "steep"
    result = run_allocation(scenario, base)
    paid = result.problem.options.groupby(["programme", "level"])["amount"].first()
    assert paid[("service_manufacturing_demo", "national")] == Decimal(300)
    assert paid[("service_manufacturing_demo", "municipal")] == Decimal(10)
    assert paid[("industrial_design_centre", "national")] == Decimal(150)  # others keep theirs
    plan = result.selected
    demo = plan[plan["programme"] == "service_manufacturing_demo"]
    assert set(demo["amount"]) <= {Decimal(300), Decimal(50), Decimal(10)}
    # refused as the scenario is read, naming the override, not first when the plan is priced
    with pytest.raises(InputError, match="--set tier_design: 'nonesuch' is not a tier design"):
        load_scenario(None, [*quick, "tier_design=nonesuch"])
