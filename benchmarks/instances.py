"""Seeded allocation instances for benchmarks: 8 programmes × 3 levels × 3 years.

Budget families: ``tight`` (3万元 per candidate and year: about one award in six firms)
and ``generous`` (12万元: the budget reaches deep into the pool, so many options compete at
the margin; this is the family on which the plain model needs ~16 s at 1,000 candidates, as
measured when the speed issue was filed). ``applied-tight`` and ``applied-generous`` add
an applications table: each candidate applies to one to three programmes at one level each,
with a score of one decimal (as a bureau's application list looks); ``default`` is the
bundled default scenario.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from liangye.model.options import AllocationProblem, build_problem
from liangye.model.policy import policy_from_dict
from liangye.model.settings import AllocationSettings, Budget

PROGRAMMES = 8
YEARS = [2024, 2025, 2026]
AMOUNTS = {"national": 150, "provincial": 50, "municipal": 20}


def benchmark_policy(n: int, programmes: int = PROGRAMMES):
    """Eight programmes in six matters (the last three share one matter), tiers 150/50/20 paid
    by the city, open to two sectors each above a threshold, with a minimum and maximum count
    of municipal designations per programme and year."""
    # Each threshold passes about half the pool (near the generator's medians).
    thresholds = [
        "revenue >= 3000",
        "service_revenue_share >= 0.08",
        "service_input_share >= 0.18",
        "revenue >= 2500",
    ]
    data = {
        "id": "benchmark",
        "title": "benchmark",
        "years": [YEARS[0], YEARS[-1]],
        "programmes": [
            {
                "id": f"P{p}",
                "name": f"programme {p}",
                "matter": f"M{min(p, programmes - 3) if p >= programmes - 2 else p}",
                "reference": "benchmark",
                # Two sectors per programme and a threshold: about nine options per firm,
                # as in the measurements (~9,000 binaries per 1,000 candidates).
                "eligibility": [
                    f"sector in ['S{p}', 'S{(p + 1) % programmes}']",
                    thresholds[p % len(thresholds)],
                ],
                "levels": [
                    {"level": lv, "amount": a, "conferred_by": "municipal"}
                    for lv, a in AMOUNTS.items()
                ],
            }
            for p in range(programmes)
        ],
        "quotas": [
            {
                "programmes": [f"P{p}"],
                "levels": ["municipal"],
                "per": "year",
                "min": min(2, max(1, n // 200)),
                "max": max(4, n // 25),
            }
            for p in range(programmes)
        ],
    }
    return policy_from_dict(data, "benchmark")


def benchmark_candidates(n: int, seed: int, continuous: bool) -> pd.DataFrame:
    """n enterprises; expert scores integer 50-99 (as panels give them) or continuous."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(50, 100, n) if continuous else rng.integers(50, 100, n).astype(float)
    frame = pd.DataFrame(
        {
            "id": [f"C{i:06d}" for i in range(n)],
            "name": [f"企业{i}" for i in range(n)],
            "kind": "enterprise",
            "district": rng.choice([f"D{d}" for d in range(7)], n),
            "sector": rng.choice([f"S{s}" for s in range(8)], n),
            "revenue": np.round(np.exp(rng.normal(np.log(3000), 1.0, n)), 1),
            "service_input_share": np.round(rng.beta(2, 8, n), 4),
            "service_revenue_share": np.round(rng.beta(1.2, 10, n), 4),
            "score": score,
        }
    )
    frame["row"] = [f"row {i + 2}" for i in range(n)]
    frame.attrs["source"] = f"benchmark pool n={n} seed={seed}"
    return frame


BUDGET_PER_CANDIDATE = {"tight": 3, "generous": 12}


def benchmark_applications(n: int, seed: int, programmes: int = PROGRAMMES) -> pd.DataFrame:
    """Each of n candidates applies to 1-3 distinct programmes, one level each, undated,
    with a score of one decimal in [50, 100)."""
    rng = np.random.default_rng([seed, 3])
    count = rng.integers(1, 4, n)
    rows = []
    for i in range(n):
        for g in rng.choice(programmes, count[i], replace=False):
            rows.append(
                {
                    "candidate_id": f"C{i:06d}",
                    "programme": f"P{g}",
                    "level": str(rng.choice(list(AMOUNTS))),
                    "score": round(float(rng.uniform(50, 100)), 1),
                }
            )
    table = pd.DataFrame(rows)
    table["row"] = [f"row {i + 2}" for i in range(len(table))]
    table.attrs["source"] = f"benchmark applications n={n} seed={seed}"
    return table


def benchmark_problem(
    n: int, seed: int = 0, continuous: bool = True, family: str = "tight", **settings: object
) -> AllocationProblem:
    """The instance as liangye sees it (``family`` sets the yearly budget, see above)."""
    if family == "default":
        return default_problem(**settings)
    applied = family.startswith("applied-")
    per_candidate = BUDGET_PER_CANDIDATE[family.removeprefix("applied-")]
    budget = Budget(per_year={t: Decimal(int(n * per_candidate)) for t in YEARS})
    weights = {"national": 3.0, "provincial": 2.0, "municipal": 1.0}
    return build_problem(
        benchmark_policy(n),
        benchmark_candidates(n, seed, continuous),
        budget,
        AllocationSettings(level_weights=weights, **settings),
        applications=benchmark_applications(n, seed) if applied else None,
    )


def default_problem(**settings: object) -> AllocationProblem:
    """The bundled default scenario's allocation (Jiaxing, 512 synthetic candidates)."""
    from liangye.scenarios.loader import load_scenario
    from liangye.scenarios.runner import scenario_problem

    scenario, base = load_scenario(None, [])
    if settings:
        scenario = scenario.model_copy(
            update={"allocation": scenario.allocation.model_copy(update=settings)}
        )
    return scenario_problem(scenario, base)
