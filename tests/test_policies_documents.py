"""Each bundled policy file against its document: the tables below are copied from the
documents (docs/sources/000-004), not from the files, and every number is checked.

Thresholds are checked by behaviour: hand-made candidates just on and just off each bound go
through build_problem, so "不低于" (≥), "超过" (>) and "前5名" (≤ 5) are tested as written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from liangye.model.options import build_problem
from liangye.model.policy import Policy, load_policy
from liangye.model.settings import AllocationSettings, Budget
from liangye.scenarios.loader import bundled_policies


def policy(policy_id: str) -> Policy:
    return load_policy(bundled_policies()[policy_id])


def amounts(p: Policy) -> dict[tuple[str, str], Decimal | None]:
    return {(g.id, lv.level.value): lv.amount for g in p.programmes for lv in g.levels}


def quotas(p: Policy) -> dict[tuple, tuple]:
    """(programmes, levels, per) -> (min, max) for every quota."""
    return {
        (
            tuple(q.programmes or []),
            tuple(lv.value for lv in q.levels or []),
            q.per,
        ): (q.min, q.max)
        for q in p.quotas
    }


def eligible(p: Policy, rows: list[dict], year: int | None = None) -> set[tuple[str, str]]:
    """{(candidate id, programme)} with an option, every blank amount set to 0."""
    return {(c, g) for c, g, _ in eligible_levels(p, rows, year)}


def eligible_levels(
    p: Policy, rows: list[dict], year: int | None = None
) -> set[tuple[str, str, str]]:
    """{(candidate id, programme, level)} with an option, every blank amount set to 0."""
    frame = pd.DataFrame(rows)
    for column, default in {
        "name": None,
        "district": "D",
        "sector": "S",
        "score": 80.0,
    }.items():
        if column not in frame.columns:
            frame[column] = frame["id"] if column == "name" else default
    frame["row"] = [f"row {i + 2}" for i in range(len(frame))]
    blanks = {
        g.id: {lv.level: Decimal(0) for lv in g.levels if lv.amount is None and not lv.bands}
        for g in p.programmes
    }
    # Which options exist does not depend on the conferral chances: any will do.
    chances = {"national": 0.5, "provincial": 0.5, "municipal": 0.5}
    settings = AllocationSettings(
        amounts={k: v for k, v in blanks.items() if v}, success_probability=chances
    )
    year = year or p.years[0]
    problem = build_problem(p, frame, Budget(), settings, [year])
    options = problem.options
    return set(zip(options["candidate_id"], options["programme"], options["level"], strict=True))


# ---------------------------------------------------------------------------------------
# 002 嘉兴市…实施方案（2024-2026年）（征求意见稿）
# ---------------------------------------------------------------------------------------

JIAXING_AMOUNTS = [
    # 四（一）3 服务型制造示范: 分别给予150万元、50万元、20万元奖励
    ("service_manufacturing_demo", "national", 150),
    ("service_manufacturing_demo", "provincial", 50),
    ("service_manufacturing_demo", "municipal", 20),
    # 四（一）3 工业设计企业（中心、研究院）: 150、50、20
    ("industrial_design_centre", "national", 150),
    ("industrial_design_centre", "provincial", 50),
    ("industrial_design_centre", "municipal", 20),
    # 四（一）3 设计奖项: 给予50万元奖励
    ("design_award", "municipal", 50),
    # 四（一）1 智能制造: 300、100、50、30; 国家 200、30
    ("future_factory", "provincial", 300),
    ("future_factory_cultivation", "provincial", 100),
    ("smart_factory", "provincial", 50),
    ("digital_workshop", "provincial", 30),
    ("smart_manufacturing_demo_national", "national", 200),
    ("smart_manufacturing_scenario_national", "national", 30),
    # 四（一）2 绿色制造: 绿色工厂和绿色园区 150、50、20; 国家级三类各150; 节水10; 清洁生产5
    ("green_factory_park", "national", 150),
    ("green_factory_park", "provincial", 50),
    ("green_factory_park", "municipal", 20),
    ("green_supply_chain", "national", 150),
    ("green_design_demo", "national", 150),
    ("efficiency_leader", "national", 150),
    ("water_saving", "provincial", 10),
    ("clean_production", "provincial", 5),
    # No amount stated: 四（三）1 一定比例, 四（三）2 一次性奖励, 四（三）4 **%
    ("outsourcing_capital_award", "municipal", None),
    ("advanced_tech_service_award", "provincial", None),
    ("cross_border_platform", "municipal", None),
]

# 三 重点任务: 每年培育…N家以上 (programme, level, yearly minimum)
JIAXING_YEARLY_QUOTAS = [
    ("cultivate_design_marketing", "municipal", 10),  # 三（一）1 数字化“设计+营销”
    ("cultivate_mass_customisation", "municipal", 10),  # 三（一）2 大规模个性化定制
    ("cultivate_shared_manufacturing", "municipal", 8),  # 三（一）3 共享制造
    ("cultivate_lifecycle", "municipal", 8),  # 三（一）4 全生命周期管理
    ("cultivate_productive_finance", "municipal", 5),  # 三（一）5 生产性金融
    ("industrial_internet_platform", "provincial", 10),  # 三（二）1 省级工业互联网平台
    ("supply_chain_platform", "municipal", 10),  # 三（二）2 供应链管理平台
    ("total_integration_supplier", "municipal", 8),  # 三（二）3 总集成总承包供应商
    ("energy_environment_service", "municipal", 8),  # 三（二）4 节能环保服务机构
    ("testing_service", "municipal", 5),  # 三（二）5 检验检测服务机构
]

# 二 主要目标 (到2026年): value, unit
JIAXING_TARGETS = {
    2: "个",  # 国家级两业融合试点2个以上
    18: "家",  # 服务型制造示范企业18家以上
    6: "个",  # 工业设计中心6个以上
    40_000_000: "万元",  # 规上工业增加值突破4000亿元
    250: "万元/亩",  # 亩均增加值250万元/亩以上
    42: "万元/亩",  # 亩均税收42万元/亩以上
    36: "万元/人",  # 全员劳动生产率36万元/人
    46_000_000: "万元",  # 服务业增加值4600亿元以上
    Decimal("0.55"): "share",  # 生产性服务业增加值占比55%以上
}


def test_jiaxing_header():
    p = policy("jiaxing-2024-2026")
    assert p.issuer == "嘉兴市经济和信息化局"
    assert p.issued == dt.date(2024, 2, 28)  # 2024年2月28日
    assert p.valid_until == dt.date(2026, 12, 31)  # 六: 有效期至2026年12月31日
    assert p.years == (2024, 2026)
    assert p.stacking == "highest"  # 六: 就高不重复


@pytest.mark.parametrize(("programme", "level", "amount"), JIAXING_AMOUNTS)
def test_jiaxing_amounts(programme, level, amount):
    got = amounts(policy("jiaxing-2024-2026"))[(programme, level)]
    assert got == (None if amount is None else Decimal(amount))


def test_jiaxing_has_no_other_tiers():
    """Every tier in the file is in the table above, except the banded 主辅分离 award and
    the cultivation titles (no award stated)."""
    p = policy("jiaxing-2024-2026")
    listed = {(g, lv) for g, lv, _ in JIAXING_AMOUNTS} | {
        (g, lv) for g, lv, _ in JIAXING_YEARLY_QUOTAS
    }
    assert set(amounts(p)) - listed == {("service_spin_off", "municipal")}
    for g, lv, _ in JIAXING_YEARLY_QUOTAS:
        assert amounts(p)[(g, lv)] is None


def test_jiaxing_spin_off_bands_and_rebate():
    """四（二）1: 首次超过1亿元、5000万元和2000万元…（批零贸易类企业须超过20亿元、10亿元和5亿元），
    分别给予50万元、20万元和10万元; 从次年开始，最高给予三年内超基数部分50%的奖励."""
    award = policy("jiaxing-2024-2026").programme("service_spin_off").levels[0]
    assert award.amount is None
    assert [b.amount for b in award.bands] == [Decimal(a) for a in (50, 20, 10, 50, 20, 10)]
    (payout,) = award.payouts
    assert payout.years_after == [1, 2, 3] and payout.share == 0.5

    base = {"kind": "enterprise", "spun_off_service_firm": True, "parent_equity_share": 0.51}
    rows = [
        {"id": "r1亿", "revenue": 10000.0, "wholesale_retail": False},  # 1亿 is not 超过1亿
        {"id": "r1亿+", "revenue": 10000.1, "wholesale_retail": False},
        {"id": "r5000", "revenue": 5000.0, "wholesale_retail": False},  # 10: not 超过5000万
        {"id": "r5000+", "revenue": 5000.1, "wholesale_retail": False},
        {"id": "r2000", "revenue": 2000.0, "wholesale_retail": False},
        {"id": "r2000+", "revenue": 2000.1, "wholesale_retail": False},
        {"id": "w20亿", "revenue": 200000.0, "wholesale_retail": True},
        {"id": "w20亿+", "revenue": 200000.1, "wholesale_retail": True},
        {"id": "w10亿", "revenue": 100000.0, "wholesale_retail": True},  # 10: not 超过10亿
        {"id": "w10亿+", "revenue": 100000.1, "wholesale_retail": True},
        {"id": "w5亿", "revenue": 50000.0, "wholesale_retail": True},
        {"id": "w1亿+", "revenue": 10000.1, "wholesale_retail": True},  # retail needs > 5亿
        {
            "id": "equity",
            "revenue": 20000.0,
            "wholesale_retail": False,
            "parent_equity_share": 0.5099,
        },
    ]
    frame_rows = [{**base, "local_tax_above_base": 10.0, **r} for r in rows]
    jiaxing = policy("jiaxing-2024-2026")
    only = jiaxing.model_copy(
        update={"programmes": [jiaxing.programme("service_spin_off")], "quotas": [], "targets": []}
    )
    frame = pd.DataFrame(frame_rows).assign(
        name=lambda f: f["id"], district="D", sector="S", score=80.0
    )
    frame["row"] = [f"row {i + 2}" for i in range(len(frame))]
    problem = build_problem(only, frame, Budget(), AllocationSettings(), [2024])
    paid = dict(zip(problem.options["candidate_id"], problem.options["amount"], strict=True))
    assert paid == {
        "r1亿": Decimal(20),
        "r1亿+": Decimal(50),
        "r5000": Decimal(10),
        "r5000+": Decimal(20),
        "r2000+": Decimal(10),
        "w10亿": Decimal(10),
        "w10亿+": Decimal(20),
        "w20亿": Decimal(20),
        "w20亿+": Decimal(50),
    }
    # The rebate: 50% of 10万元 a year above the base, in 2025, 2026 and 2027.
    later = problem.later_payments
    assert sorted(later["year"].unique()) == [2025, 2026, 2027]
    assert set(later["cost"]) == {Decimal("5.0")}


def test_jiaxing_cross_border_cap_and_threshold():
    """四（三）4: 当年度服务企业首次达到300家以上…最高不超过60万元 (the rate is blank)."""
    p = policy("jiaxing-2024-2026")
    award = p.programme("cross_border_platform").levels[0]
    assert award.cap == Decimal(60) and award.amount is None
    assert "**%" in award.reference
    firm = {"kind": "enterprise", "revenue": 1.0, "design_prize": False}
    rows = [
        {**firm, "id": "a", "cross_border_platform": True, "firms_served": 300},
        {**firm, "id": "b", "cross_border_platform": True, "firms_served": 299},
        {**firm, "id": "c", "cross_border_platform": False, "firms_served": 900},
    ]
    got = {c for c, g in eligible(p, rows) if g == "cross_border_platform"}
    assert got == {"a"}


def test_jiaxing_quotas():
    q = quotas(policy("jiaxing-2024-2026"))
    for programme, level, minimum in JIAXING_YEARLY_QUOTAS:
        assert q[((programme,), (level,), "year")] == (minimum, None)
    # 二: 累计培育国家级…服务型制造示范企业18家以上、工业设计中心6个以上 (国家级 governs all
    # three; 累计: held titles count)
    assert q[(("service_manufacturing_demo",), ("national",), "horizon")] == (18, None)
    assert q[(("industrial_design_centre",), ("national",), "horizon")] == (6, None)
    assert len(q) == len(JIAXING_YEARLY_QUOTAS) + 2
    stocks = [x for x in policy("jiaxing-2024-2026").quotas if x.counts_held]
    assert [x.programmes for x in stocks] == [
        ["service_manufacturing_demo"],
        ["industrial_design_centre"],
    ]


JIAXING_SMART = {
    "future_factory",
    "future_factory_cultivation",
    "smart_factory",
    "digital_workshop",
    "smart_manufacturing_demo_national",
    "smart_manufacturing_scenario_national",
}

# 四 支持政策: who decides each tier (the reading stated in the file's header).
JIAXING_DECISIONS = {
    ("service_manufacturing_demo", "national"): "nomination",
    ("service_manufacturing_demo", "provincial"): "nomination",
    ("service_manufacturing_demo", "municipal"): "discretionary",
    ("industrial_design_centre", "national"): "nomination",
    ("industrial_design_centre", "provincial"): "nomination",
    ("industrial_design_centre", "municipal"): "discretionary",
    ("design_award", "municipal"): "entitlement",
    ("future_factory", "provincial"): "entitlement",
    ("future_factory_cultivation", "provincial"): "entitlement",
    ("smart_factory", "provincial"): "entitlement",
    ("digital_workshop", "provincial"): "entitlement",
    ("smart_manufacturing_demo_national", "national"): "entitlement",
    ("smart_manufacturing_scenario_national", "national"): "entitlement",
    ("green_factory_park", "national"): "entitlement",
    ("green_factory_park", "provincial"): "entitlement",
    ("green_factory_park", "municipal"): "discretionary",
    ("green_supply_chain", "national"): "entitlement",
    ("green_design_demo", "national"): "entitlement",
    ("efficiency_leader", "national"): "entitlement",
    ("water_saving", "provincial"): "entitlement",
    ("clean_production", "provincial"): "entitlement",
    ("service_spin_off", "municipal"): "entitlement",
    ("outsourcing_capital_award", "municipal"): "entitlement",
    ("advanced_tech_service_award", "provincial"): "entitlement",
    ("cross_border_platform", "municipal"): "entitlement",
    ("industrial_internet_platform", "provincial"): "nomination",
}


def test_jiaxing_decisions_are_declared_with_their_clause():
    p = policy("jiaxing-2024-2026")
    declared = {}
    for g in p.programmes:
        for lv in g.levels:
            assert lv.decision or g.decision, (g.id, lv.level)
            assert lv.decision_reference or g.decision_reference, (g.id, lv.level)
            declared[(g.id, lv.level.value)] = p.decision(g, lv)
    cultivation = {k: v for k, v in declared.items() if k not in JIAXING_DECISIONS}
    assert set(cultivation.values()) == {"discretionary"} and len(cultivation) == 9
    assert {k: declared[k] for k in JIAXING_DECISIONS} == JIAXING_DECISIONS


def test_jiaxing_titles_are_read_from_cells_listing_several():
    """A firm entitled to a smart factory (50) and a digital workshop (30) in one cell is paid
    the smart factory only (就高不重复: one matter); a firm with the workshop alone is paid
    it; a 国家级绿色工厂 is eligible at the national green tier only."""
    firm = {"kind": "enterprise", "revenue": 1.0, "design_prize": False}
    rows = [
        {**firm, "id": "a", "smart_manufacturing": "省级智能工厂；省级数字化车间"},
        {**firm, "id": "b", "green_manufacturing": "国家级绿色工厂"},
        {**firm, "id": "c", "smart_manufacturing": "省级数字化车间"},
    ]
    got = eligible(policy("jiaxing-2024-2026"), rows)
    smart = {(c, g) for c, g in got if g in JIAXING_SMART}
    assert smart == {("a", "smart_factory"), ("c", "digital_workshop")}
    levels = eligible_levels(policy("jiaxing-2024-2026"), rows)
    assert {lv for c, g, lv in levels if c == "b" and g == "green_factory_park"} == {"national"}


def test_jiaxing_targets_and_rules():
    p = policy("jiaxing-2024-2026")
    assert {t.value: t.unit for t in p.targets} == JIAXING_TARGETS
    assert all(t.year == 2026 for t in p.targets)
    assert {t.op for t in p.targets if t.value == 40_000_000} == {">"}  # 突破
    assert p.programme("design_award").no_repeat_by == "product_id"  # 同一产品不重复奖励
    # the same smart-manufacturing matter: 就高不重复 across the six titles
    smart = [g for g in p.programmes if g.matter == "smart_manufacturing"]
    assert len(smart) == 6


# ---------------------------------------------------------------------------------------
# 004 武汉市促进服务型制造高质量发展的实施意见（征求意见稿）
# ---------------------------------------------------------------------------------------

WUHAN_AMOUNTS = {
    # 4（三）: 工业设计中心（企业） 100、50、20
    ("industrial_design_centre", "national"): 100,
    ("industrial_design_centre", "provincial"): 50,
    ("industrial_design_centre", "municipal"): 20,
    # 4（三）: 国家、湖北省工业设计研究院 100、50 (no municipal tier)
    ("industrial_design_institute", "national"): 100,
    ("industrial_design_institute", "provincial"): 50,
    # 4（三）: 市级工业设计集聚区 100
    ("industrial_design_cluster", "municipal"): 100,
    # 4（六）: 服务型制造示范企业（平台、项目） 100、50、20
    ("service_manufacturing_demo", "national"): 100,
    ("service_manufacturing_demo", "provincial"): 50,
    ("service_manufacturing_demo", "municipal"): 20,
}

# 2 主要目标: (programme, level) -> (min, last year of the count)
WUHAN_QUOTAS = {
    ("service_manufacturing_demo", "national"): (18, 2023),  # 力争国家级…达到18个
    ("industrial_design_centre", "national"): (12, 2023),  # 国家级工业设计中心达到12个
    ("service_manufacturing_demo", "provincial"): (50, 2023),  # 省级…示范数达到50个
    ("industrial_design_centre", "provincial"): (51, 2023),  # 省级工业设计中心超过50个
    ("industrial_design_institute", "national"): (1, 2025),  # 培育1家国家工业设计研究院
}


def test_wuhan_amounts_exactly():
    assert amounts(policy("wuhan-service-manufacturing")) == {
        k: Decimal(v) for k, v in WUHAN_AMOUNTS.items()
    }


def test_wuhan_targets_as_quotas():
    p = policy("wuhan-service-manufacturing")
    got = {}
    for q in p.quotas:
        ((programme,), (level,)) = (q.programmes, [lv.value for lv in q.levels])
        got[(programme, level)] = (q.min, max(q.years or p.year_range))
        assert q.per == "horizon"
    assert got == WUHAN_QUOTAS
    stocks = {(q.programmes[0], q.levels[0].value) for q in p.quotas if q.counts_held}
    assert stocks == {k for k, (_, year) in WUHAN_QUOTAS.items() if year == 2023}  # 达到
    assert {(t.value, t.year) for t in p.targets} >= {(Decimal(300), 2023), (Decimal(1), 2025)}
    assert len(p.lists[0].items) == 10  # 3（一）-（十）: the ten modes


# ---------------------------------------------------------------------------------------
# 000 中山市推进先进制造业与现代服务业深度融合试点工作方案
# ---------------------------------------------------------------------------------------


def test_zhongshan_header_and_quotas():
    p = policy("zhongshan-pilots-2021-2023")
    assert p.issued == dt.date(2020, 11, 9) and p.years == (2021, 2023)
    assert all(lv.amount is None for g in p.programmes for lv in g.levels)  # no money stated
    q = quotas(p)
    enterprises = ("pilot_manufacturer", "pilot_service_firm")
    parks = ("pilot_manufacturing_park", "pilot_service_cluster")
    assert q[(enterprises, (), "horizon")] == (18, 22)  # 20家左右, read as ±10%
    assert next(x.about for x in p.quotas if x.about is not None) == 20
    assert q[(parks, (), "horizon")] == (2, 3)  # 评选2-3个试点园区
    assert q[(enterprises, (), "year")] == (1, None)  # 每年遴选一批
    (reserve,) = p.reserves  # 五（二）: 后备企业库
    assert set(reserve.programmes) == set(enterprises) and reserve.per == "year"
    assert {g.selection.method for g in p.programmes} == {"composite_score"}  # 四（二）1


def test_zhongshan_thresholds():
    """三（一）1 ≥ 100亿; 三（一）2 ≥ 10亿 + platform; 三（二）1 ≥ 5亿 and ≥ 20%;
    三（二）2 ≥ 5000万 and ≥ 50%."""
    park = {"kind": "park", "service_input_share": 0.0}
    firm = {"kind": "enterprise", "has_service_platform": False}
    rows = [
        {
            **park,
            "id": "mp",
            "category": "manufacturing_park",
            "revenue": 1_000_000,
            "has_service_platform": False,
        },
        {
            **park,
            "id": "mp-",
            "category": "manufacturing_park",
            "revenue": 999_999.9,
            "has_service_platform": False,
        },
        {
            **park,
            "id": "sc",
            "category": "service_cluster",
            "revenue": 100_000,
            "has_service_platform": True,
        },
        {
            **park,
            "id": "sc-",
            "category": "service_cluster",
            "revenue": 99_999.9,
            "has_service_platform": True,
        },
        {
            **park,
            "id": "sc-p",
            "category": "service_cluster",
            "revenue": 500_000,
            "has_service_platform": False,
        },
        {
            **firm,
            "id": "m",
            "category": "manufacturer",
            "revenue": 50_000,
            "service_input_share": 0.2,
        },
        {
            **firm,
            "id": "m-r",
            "category": "manufacturer",
            "revenue": 49_999.9,
            "service_input_share": 0.5,
        },
        {
            **firm,
            "id": "m-s",
            "category": "manufacturer",
            "revenue": 90_000,
            "service_input_share": 0.1999,
        },
        {
            **firm,
            "id": "s",
            "category": "producer_service",
            "revenue": 5_000,
            "services_to_manufacturing_share": 0.5,
        },
        {
            **firm,
            "id": "s-r",
            "category": "producer_service",
            "revenue": 4_999.9,
            "services_to_manufacturing_share": 0.9,
        },
        {
            **firm,
            "id": "s-s",
            "category": "producer_service",
            "revenue": 9_000,
            "services_to_manufacturing_share": 0.4999,
        },
    ]
    assert eligible(policy("zhongshan-pilots-2021-2023"), rows) == {
        ("mp", "pilot_manufacturing_park"),
        ("sc", "pilot_service_cluster"),
        ("m", "pilot_manufacturer"),
        ("s", "pilot_service_firm"),
    }


# ---------------------------------------------------------------------------------------
# 001 第三批江苏省两业深度融合试点申报指南
# ---------------------------------------------------------------------------------------


def test_jiangsu_thresholds_with_alternative():
    """二1: 制造业增加值占比不低于30%，园区年营业收入不低于100亿元; 二2: 年营业收入不低于8亿元，
    或在细分行业市场占有率全国前5名; 服务业投入占比不低于20%."""
    region = {"kind": "park", "service_input_share": 0.0, "market_share_rank": None}
    firm = {"kind": "enterprise", "manufacturing_va_share": None}
    rows = [
        {**region, "id": "R", "manufacturing_va_share": 0.3, "revenue": 1_000_000},
        {**region, "id": "R-va", "manufacturing_va_share": 0.2999, "revenue": 5_000_000},
        {**region, "id": "R-rev", "manufacturing_va_share": 0.9, "revenue": 999_999.9},
        {
            **firm,
            "id": "E-rev",
            "revenue": 80_000,
            "market_share_rank": 40,
            "service_input_share": 0.2,
        },
        {
            **firm,
            "id": "E-rank",
            "revenue": 100,
            "market_share_rank": 5,
            "service_input_share": 0.2,
        },
        {
            **firm,
            "id": "E-6",
            "revenue": 79_999.9,
            "market_share_rank": 6,
            "service_input_share": 0.9,
        },
        {
            **firm,
            "id": "E-svc",
            "revenue": 900_000,
            "market_share_rank": 1,
            "service_input_share": 0.1999,
        },
    ]
    assert eligible(policy("jiangsu-pilots-batch3"), rows) == {
        ("R", "region_pilot"),
        ("E-rev", "leading_enterprise_pilot"),
        ("E-rank", "leading_enterprise_pilot"),
    }


def test_jiangsu_rules():
    p = policy("jiangsu-pilots-batch3")
    assert not p.quotas  # the guide states no number of pilots
    assert all(lv.amount is None for g in p.programmes for lv in g.levels)
    for g in p.programmes:
        assert g.term.years == 3  # 四（一）: 试点实施期为3年
        assert "撤销认定" in g.revocation.when  # 四（五）3
        assert "空间布局" in g.selection.text and "产业代表性" in g.selection.text
    assert {b.by for b in p.balance} == {"sector", "district"}  # 统筹产业代表性、空间布局
    assert all(not b.quantified for b in p.balance)  # no number stated


# ---------------------------------------------------------------------------------------
# 003 浙江省推动先进制造业和现代服务业深度融合发展的实施意见（征求意见稿）
# ---------------------------------------------------------------------------------------

ZHEJIANG_FIELDS = [  # 二（一）-（十一）: "10+X"
    "石油化工",
    "汽车制造和服务",
    "生命健康",
    "装备制造",
    "消费电子",
    "轻纺工业",
    "农副产品加工",
    "现代物流",
    "电商",
    "研发设计",
]


def test_zhejiang_quotas_and_fields():
    p = policy("zhejiang-integration")
    assert p.years[1] == 2022  # 到2022年
    q = quotas(p)
    assert q[(("pilot_region",), (), "horizon")] == (50, None)  # 50个以上…试点区域
    assert q[(("pilot_enterprise",), (), "horizon")] == (100, None)  # 100家以上…试点企业
    fields = p.named_list("ten_plus_x")
    assert fields.of == "sector" and fields.open  # the X keeps it open
    assert fields.names[:10] == ZHEJIANG_FIELDS and len(fields.names) == 11
    assert {g.sector_list for g in p.programmes} == {"ten_plus_x"}
    assert all(lv.amount is None for g in p.programmes for lv in g.levels)
    assert p.reserves  # 五（二）: 储备一批省级试点


def test_every_number_has_a_reference():
    for policy_id in bundled_policies():
        p = policy(policy_id)
        for g in p.programmes:
            for lv in g.levels:
                assert lv.reference or g.reference
                assert all(b.reference for b in lv.bands)
                assert all(x.reference for x in lv.payouts)
        assert all(q.reference for q in p.quotas)
        assert all(t.reference for t in p.targets)


@pytest.mark.parametrize("policy_id", sorted(bundled_policies()))
def test_every_tier_of_every_bundled_policy_declares_its_decision(policy_id):
    """Who decides is read from each document, with the clause, not left to the default."""
    p = policy(policy_id)
    for g in p.programmes:
        for lv in g.levels:
            assert (lv.decision or g.decision) is not None, (g.id, lv.level)
            assert lv.decision_reference or g.decision_reference, (g.id, lv.level)
            if p.decision(g, lv) == "nomination":
                assert p.confers_above(lv), (g.id, lv.level)  # someone above confers it
