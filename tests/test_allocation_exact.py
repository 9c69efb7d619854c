"""Random instances of 50 to 2,000 candidates: every plan is feasible by an independent check,
and optimal plans match an independent exact formulation solved by scipy.optimize.milp."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from conftest import make_candidates, make_policy, solve

LEVELS = {"national": 150, "provincial": 50, "municipal": 20}
WEIGHTS = {"national": 3.0, "provincial": 2.0, "municipal": 1.0}
YEARS = [2024, 2025]


def random_instance(seed: int, n: int, continuous: bool) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    scores = rng.uniform(50, 100, n) if continuous else rng.integers(50, 100, n).astype(float)
    candidates = make_candidates(
        [
            {
                "id": f"C{i:04d}",
                "score": float(scores[i]),
                "revenue": float(rng.lognormal(np.log(3000), 1.0)),
                "service_revenue_share": float(rng.beta(2, 8)),
                "district": f"D{rng.integers(0, 4)}",
            }
            for i in range(n)
        ]
    )
    spec = {
        "budget": {t: float(rng.integers(n // 2, n) * 10) for t in YEARS},
        "quota_min": int(rng.integers(1, max(2, n // 20))),
        "quota_max": int(rng.integers(n // 10 + 2, n // 4 + 3)),
        "share": 0.45,
    }
    return candidates, spec


def eligible(row: pd.Series, programme: str) -> bool:
    """The rules below, re-implemented without liangye's expression language."""
    if programme == "SM":
        return row["revenue"] >= 2000 and row["service_revenue_share"] >= 0.15
    return row["revenue"] >= 1000  # "ID"


def liangye_policy(spec: dict):
    levels = [{"level": lv, "amount": a, "conferred_by": "municipal"} for lv, a in LEVELS.items()]
    return make_policy(
        [
            {
                "id": "SM",
                "name": "SM",
                "reference": "t",
                "levels": levels,
                "eligibility": ["revenue >= 2000", "service_revenue_share >= 0.15"],
            },
            {
                "id": "ID",
                "name": "ID",
                "reference": "t",
                "levels": levels,
                "eligibility": ["revenue >= 1000"],
            },
        ],
        years=[YEARS[0], YEARS[-1]],
        quotas=[
            {
                "programmes": ["SM"],
                "levels": ["municipal"],
                "per": "horizon",
                "min": spec["quota_min"],
            },
            {"programmes": ["ID"], "per": "year", "max": spec["quota_max"]},
        ],
        balance=[{"by": "district", "max_share": spec["share"], "per": "horizon"}],
    )


def reference_optimum(candidates: pd.DataFrame, spec: dict) -> float:
    """The same rules as an explicit 0-1 programme over (candidate, programme, level, year),
    built row by row from the raw table (sparse, so that 2,000 candidates fit)."""
    keys = [
        (i, p, lv, t)
        for i, row in candidates.iterrows()
        for p in ("SM", "ID")
        if eligible(row, p)
        for lv in LEVELS
        for t in YEARS
    ]
    n = len(keys)
    value = np.array([WEIGHTS[lv] * candidates.at[i, "score"] for i, _, lv, _ in keys])
    entries: list[tuple[int, int, float]] = []  # (row, column, coefficient)
    lower: list[float] = []
    upper: list[float] = []

    def add(coefs: dict[int, float], lo: float, hi: float) -> None:
        row = len(lower)
        entries.extend((row, k, c) for k, c in coefs.items() if c != 0)
        lower.append(lo)
        upper.append(hi)

    by_candidate_programme: dict[tuple, list[int]] = {}
    for k, (i, p, _, _) in enumerate(keys):
        by_candidate_programme.setdefault((i, p), []).append(k)
    for members in by_candidate_programme.values():
        add(dict.fromkeys(members, 1), 0, 1)
    for t in YEARS:
        add({k: LEVELS[key[2]] for k, key in enumerate(keys) if key[3] == t}, 0, spec["budget"][t])
        add(
            {k: 1 for k, key in enumerate(keys) if key[1] == "ID" and key[3] == t},
            0,
            spec["quota_max"],
        )
    add(
        {k: 1 for k, key in enumerate(keys) if key[1] == "SM" and key[2] == "municipal"},
        spec["quota_min"],
        np.inf,
    )
    district = candidates["district"].to_numpy()
    for d in sorted(set(district)):
        coefs = {
            k: (1.0 if district[key[0]] == d else 0.0) - spec["share"] for k, key in enumerate(keys)
        }
        add(coefs, -np.inf, 0)
    rows, columns, coefficients = zip(*entries, strict=True)
    matrix = csr_matrix((coefficients, (rows, columns)), shape=(len(lower), n))
    result = milp(
        -value,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 1e-9, "time_limit": 300, "disp": False},
    )
    assert result.success, result.message
    return -result.fun


def independent_violations(candidates: pd.DataFrame, spec: dict, plan: pd.DataFrame) -> list[str]:
    """Every rule re-checked from the raw inputs and the plan table alone."""
    problems = []
    by_id = candidates.set_index("id")
    for r in plan.itertuples():
        row = by_id.loc[r.candidate_id]
        if not eligible(row, r.programme):
            problems.append(f"{r.candidate_id} not eligible for {r.programme}")
        if float(r.amount) != LEVELS[r.level]:
            problems.append(f"{r.candidate_id} paid {r.amount} for {r.level}")
    if plan.groupby(["candidate_id", "programme"]).size().max() > 1:
        problems.append("stacking")
    for t in YEARS:
        if plan.loc[plan["year"] == t, "amount"].astype(float).sum() > spec["budget"][t] + 1e-6:
            problems.append(f"budget {t}")
        if ((plan["programme"] == "ID") & (plan["year"] == t)).sum() > spec["quota_max"]:
            problems.append(f"quota max {t}")
    if ((plan["programme"] == "SM") & (plan["level"] == "municipal")).sum() < spec["quota_min"]:
        problems.append("quota min")
    if len(plan) and plan["district"].value_counts().max() > spec["share"] * len(plan) + 1e-9:
        problems.append("balance")
    return problems


@pytest.mark.parametrize(
    ("seed", "n", "continuous"),
    [
        (1, 50, False),
        (2, 50, True),
        (3, 120, False),
        (4, 200, True),
        (5, 300, False),
        (6, 1000, True),
        (7, 2000, False),
    ],
)
def test_plans_are_feasible_and_optimal(seed, n, continuous):
    candidates, spec = random_instance(seed, n, continuous)
    result = solve(
        liangye_policy(spec),
        candidates,
        spec["budget"],
        level_weights=WEIGHTS,
        mip_gap=1e-6,
        time_limit=60,
    )
    assert result.status == "optimal"
    assert independent_violations(candidates, spec, result.selected) == []
    reference = reference_optimum(candidates, spec)
    assert result.objective == pytest.approx(reference, rel=1e-6)
    assert result.bound >= result.objective - 1e-6
    # The greedy plan is never better than the optimum.
    assert result.greedy.objective <= result.objective + 1e-6
