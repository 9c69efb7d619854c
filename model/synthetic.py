"""A seeded synthetic candidate pool: enterprises and parks in Jiaxing's county-level districts.

The numbers are stylised, not data: a log-normal revenue around 1亿元 for 规上 firms, a
service revenue share averaging about one tenth (Crozet & Milet 2014: 11.4% of French
manufacturing sales were services), and integer expert scores that rise with service share
and size plus panel noise. Same seed, same pool.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def synthetic_candidates(
    enterprises: int = 500,
    parks: int = 12,
    seed: int = 0,
    districts: list[str] | None = None,
    sectors: list[str] | None = None,
    held_share: float = 0.05,
) -> pd.DataFrame:
    """A candidate table in the canonical columns (as ``parse_candidates`` returns).

    Columns: id, name, kind, district, sector, revenue (万元), service_input_share,
    service_revenue_share, score (integer 50-99), market_share_rank, design_prize,
    manufacturing_va_share and has_service_platform (parks), held, row.
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
    score = np.clip(
        np.round(55 + 4 * (quality - quality.mean()) / quality.std() + rng.normal(12, 8, n)), 50, 99
    )
    firms = pd.DataFrame(
        {
            "id": [f"E{i:05d}" for i in range(1, n + 1)],
            "name": [f"嘉兴合成企业{i:04d}有限公司" for i in range(1, n + 1)],
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
            "name": [f"嘉兴合成产业园{i:02d}" for i in range(1, k + 1)],
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
    table = pd.concat([firms, park_table], ignore_index=True)
    table["row"] = [f"row {i + 2}" for i in range(len(table))]
    table.attrs["source"] = f"synthetic pool (seed {seed})"
    return table
