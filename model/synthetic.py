"""A seeded synthetic candidate pool: enterprises and parks in Jiaxing's county-level districts.

The numbers are stylised, not data: a log-normal revenue around 1亿元 for 规上 firms, a
service revenue share averaging about one tenth (Crozet & Milet 2014: 11.4% of French
manufacturing sales were services), and integer expert scores that rise with service share
and size plus panel noise. Same seed, same pool.

``extended=True`` adds, from a separate random stream (so the basic columns stay the same
for a seed), the columns the bundled policies' other programmes read: the applicant
category (Zhongshan), service modes and applicant titles (Jiaxing's smart and green
manufacturing, cultivation quotas, spin-offs, platforms, outsourcing), and product ids.
Their shares are stylised, chosen so that every bundled policy's quotas can be met by a
pool of one or two hundred firms; they are not data. ``synthetic_applications`` dates what
a firm is entitled to (docs/calibration.md, "The synthetic pool").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .decisions import ENTITLEMENT
from .eligibility import read_tiers
from .errors import Problem
from .policy import Policy
from .settings import AllocationSettings
from .wording import SERVICE_MODE_COLUMNS

# 嘉兴市's seven county-level districts (南湖、秀洲 districts; 嘉善、海盐 counties;
# 海宁、平湖、桐乡 county-level cities).
JIAXING_DISTRICTS = ["南湖区", "秀洲区", "嘉善县", "平湖市", "海宁市", "海盐县", "桐乡市"]
# Sectors after the Jiaxing plan's industry clusters ("135N", 三（一）; 服装箱包, 新能源汽车,
# 集成装饰, 机械加工, 紧固件, 装备制造, 智能光伏 are named in 三（一）1-4).
JIAXING_SECTORS = [
    "时尚纺织服装",
    "新能源汽车及零部件",
    "智能光伏",
    "集成电路与数字产业",
    "高端装备",
    "化工新材料",
    "集成装饰",
    "紧固件与机械加工",
]
SECTOR_WEIGHTS = [0.2, 0.15, 0.1, 0.1, 0.15, 0.12, 0.08, 0.1]

# Titles a firm is recognised with over the horizon (Jiaxing 四（一）1 and 四（一）2), with
# stylised shares among the firms that hold any: the commoner provincial titles most often,
# the 300万元 future factory and the national titles rarely. A firm holds one title, or
# with SECOND_TITLE_SHARE two (a smart factory with a digital workshop).
SMART_MANUFACTURING_TITLES = {
    "省级未来工厂企业": 0.03,
    "省级未来工厂培育企业": 0.07,
    "省级智能工厂": 0.3,
    "省级数字化车间": 0.4,
    "国家智能制造示范企业": 0.03,
    "国家智能制造优秀场景企业": 0.17,
}
GREEN_MANUFACTURING_TITLES = {
    "国家级绿色工厂": 0.05,
    "省级绿色工厂": 0.15,
    "市级绿色工厂": 0.3,
    "绿色供应链管理企业": 0.03,
    "绿色设计示范企业": 0.03,
    "能效领跑者企业": 0.04,
    "节水型企业": 0.2,
    "清洁生产企业": 0.2,
}
PARK_GREEN_TITLES = {"国家级绿色园区": 0.1, "省级绿色园区": 0.3, "市级绿色园区": 0.6}
SECOND_TITLE_SHARE = 0.25
# Shares of manufacturers recognised with a smart or a green title, and of producer-service
# firms newly spun off (主辅分离) over the horizon: stylised, chosen so that what the city
# owes by right stays within about 40% of the default budget.
SMART_SHARE, GREEN_SHARE, SPIN_OFF_SHARE = 0.08, 0.08, 0.12


def synthetic_candidates(
    enterprises: int = 500,
    parks: int = 12,
    seed: int = 0,
    districts: list[str] | None = None,
    sectors: list[str] | None = None,
    held_share: float = 0.05,
    extended: bool = False,
) -> pd.DataFrame:
    """A candidate table in the canonical columns (as ``parse_candidates`` returns).

    Columns: id, name, kind, district, sector, revenue (万元), service_input_share,
    service_revenue_share, score (integer 50-99), market_share_rank, design_prize,
    manufacturing_va_share and has_service_platform (parks), held, row; with ``extended``
    also the columns of ``extended_columns``.
    """
    rng = np.random.default_rng(seed)
    districts = districts or JIAXING_DISTRICTS
    sectors = sectors or JIAXING_SECTORS
    weights = SECTOR_WEIGHTS if sectors == JIAXING_SECTORS else None

    n = enterprises
    revenue = np.round(np.exp(rng.normal(np.log(10000), 1.1, n)), 1)  # 万元, median 1亿元
    service_share = np.round(rng.beta(1.2, 10.0, n), 4)  # mean ≈ 0.107
    input_share = np.round(np.clip(service_share + rng.beta(2.0, 12.0, n), 0, 1), 4)
    quality = 3.0 * np.log10(revenue) + 40.0 * service_share
    # One firm (or identical ones) has no spread to standardise by: its quality is average.
    spread = float(quality.std()) if n > 1 and quality.std() > 0 else 1.0
    score = np.clip(
        np.round(55 + 4 * (quality - quality.mean()) / spread + rng.normal(12, 8, n)), 50, 99
    )
    firms = pd.DataFrame(
        {
            "id": [f"E{i:05d}" for i in range(1, n + 1)],
            "name": [f"模拟企业{i:04d}（示例数据）" for i in range(1, n + 1)],
            "kind": "enterprise",
            "district": rng.choice(districts, n),
            "sector": rng.choice(sectors, n, p=weights),
            "revenue": revenue,
            "service_input_share": input_share,
            "service_revenue_share": service_share,
            "score": score,
            "market_share_rank": rng.integers(1, 60, n).astype(float),
            "design_prize": rng.random(n) < 0.03,
            "manufacturing_va_share": np.nan,
            "has_service_platform": False,
            "held": [
                ("service_manufacturing_demo:municipal" if r < held_share else None)
                for r in rng.random(n)
            ],
        }
    )
    k = parks
    park_table = pd.DataFrame(
        {
            "id": [f"P{i:03d}" for i in range(1, k + 1)],
            "name": [f"模拟园区{i:02d}（示例数据）" for i in range(1, k + 1)],
            "kind": "park",
            "district": [districts[i % len(districts)] for i in range(k)],
            "sector": rng.choice(sectors, k, p=weights),
            "revenue": np.round(np.exp(rng.normal(np.log(1_500_000), 0.8, k)), 1),  # median 150亿元
            "service_input_share": np.round(rng.beta(3, 10, k), 4),
            "service_revenue_share": np.round(rng.beta(2, 12, k), 4),
            "score": np.clip(np.round(rng.normal(75, 10, k)), 50, 99),
            "market_share_rank": np.nan,
            "design_prize": False,
            "manufacturing_va_share": np.round(rng.uniform(0.2, 0.6, k), 4),
            "has_service_platform": rng.random(k) < 0.6,
            "held": None,
        }
    )
    if extended:
        firms, park_table = extended_columns(firms, park_table, seed)
    table = pd.concat([firms, park_table], ignore_index=True)
    table["row"] = [f"row {i + 2}" for i in range(len(table))]
    table.attrs["source"] = f"synthetic pool (seed {seed})"
    return table


def extended_columns(
    firms: pd.DataFrame, parks: pd.DataFrame, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The columns beyond the basic ones, drawn from their own stream of ``seed``.

    category: manufacturer / producer_service (firms), manufacturing_park / service_cluster
    (parks); services_to_manufacturing_share (producer-service firms); wholesale_retail,
    spun_off_service_firm, parent_equity_share, local_tax_above_base (万元 a year);
    cross_border_platform and firms_served; offshore_outsourcing_firm,
    advanced_tech_service_firm; smart_manufacturing and green_manufacturing (the titles a
    firm or park is recognised with, or applies for at the municipal level; one or two per
    cell); the mode_* columns; product_id (prize winners; a
    quarter share the product of another winner, as a jointly designed product would).
    """
    rng = np.random.default_rng([seed, 1])
    n, k = len(firms), len(parks)
    service = rng.random(n) < 0.25
    firms = firms.assign(
        category=np.where(service, "producer_service", "manufacturer"),
        services_to_manufacturing_share=np.where(
            service, np.round(rng.beta(5.0, 4.0, n), 4), np.nan
        ),
    )
    spun_off = service & (rng.random(n) < SPIN_OFF_SHARE)
    platform = service & (rng.random(n) < 0.12)
    firms = firms.assign(
        wholesale_retail=service & (rng.random(n) < 0.3),
        spun_off_service_firm=spun_off,
        parent_equity_share=np.where(spun_off, np.round(rng.uniform(0.3, 1.0, n), 4), np.nan),
        local_tax_above_base=np.where(
            spun_off, np.round(np.exp(rng.normal(np.log(15.0), 0.8, n)), 1), np.nan
        ),
        cross_border_platform=platform,
        firms_served=np.where(platform, np.round(np.exp(rng.normal(np.log(320), 0.5, n))), np.nan),
        offshore_outsourcing_firm=service & (rng.random(n) < 0.1),
        advanced_tech_service_firm=service & (rng.random(n) < 0.1),
        smart_manufacturing=_titles(
            rng, ~service & (rng.random(n) < SMART_SHARE), SMART_MANUFACTURING_TITLES
        ),
        green_manufacturing=_titles(
            rng, ~service & (rng.random(n) < GREEN_SHARE), GREEN_MANUFACTURING_TITLES
        ),
        **{column: rng.random(n) < 0.25 for column in SERVICE_MODE_COLUMNS},
    )
    winners = np.flatnonzero(firms["design_prize"].to_numpy(dtype=bool))
    product = np.full(n, None, dtype=object)
    for i, w in enumerate(winners):
        shares = i > 0 and rng.random() < 0.25
        product[w] = product[winners[i - 1]] if shares else f"PRD{w + 1:05d}"
    firms["product_id"] = product
    parks = parks.assign(
        category=np.where(rng.random(k) < 0.7, "manufacturing_park", "service_cluster"),
        green_manufacturing=_titles(rng, rng.random(k) < 0.3, PARK_GREEN_TITLES, second=0.0),
        **{c: False for c in firms.columns if c not in parks.columns and firms[c].dtype == bool},
    )
    return firms, parks


def _titles(
    rng: np.random.Generator,
    running: np.ndarray,
    shares: dict[str, float],
    second: float = SECOND_TITLE_SHARE,
) -> np.ndarray:
    """Each running firm's titles as one cell ("a；b" when it holds two; None elsewhere)."""
    names = list(shares)
    weights = np.array(list(shares.values()))
    weights = weights / weights.sum()
    first = rng.choice(len(names), len(running), p=weights)
    other = rng.choice(len(names), len(running), p=weights)
    two = (rng.random(len(running)) < second) & (other != first)
    cells = [
        "；".join(names[j] for j in sorted({a, b} if pair else {a}))
        for a, b, pair in zip(first, other, two, strict=True)
    ]
    return np.where(running, np.array(cells, dtype=object), None)


def synthetic_applications(
    candidates: pd.DataFrame,
    policy: Policy,
    settings: AllocationSettings,
    years: list[int],
    seed: int = 0,
) -> pd.DataFrame:
    """An applications table for a synthetic pool: who applies to what, and when.

    Every candidate applies to every tier it is eligible for, with its own score. An
    entitlement is dated: the year the firm qualifies (is recognised, crosses a band, wins
    a prize) is drawn uniformly over ``years``, so what the city owes by right falls across
    the horizon rather than all in its first year. Other applications are undated (open in
    every year). Same pool, policy and seed, same table.
    """
    problems: list[Problem] = []
    tiers, _ = read_tiers(policy, settings, candidates, problems, [])
    rng = np.random.default_rng([seed, 2])
    parts = []
    for tier in tiers:
        rows = np.flatnonzero(tier.eligible)
        if len(rows) == 0:
            continue
        dated = tier.decision == ENTITLEMENT
        part = pd.DataFrame(
            {
                "candidate_id": candidates["id"].to_numpy()[rows],
                "programme": tier.programme.id,
                "level": tier.level,
                "year": rng.choice(years, len(rows)).astype(float) if dated else np.nan,
                "score": candidates["score"].to_numpy(dtype=float)[rows],
            }
        )
        parts.append(part)
    columns = ["candidate_id", "programme", "level", "year", "score"]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    table["row"] = [f"row {i + 2}" for i in range(len(table))]
    table.attrs["source"] = f"synthetic applications (seed {seed})"
    return table
