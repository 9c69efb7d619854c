"""Every way the solve can conclude gives the true optimum, on small random instances.

The solve (``model/solve.py``) stops at the relaxation when it is integral, at a rounded
relaxation when that is within the gap, after a MIP over payment-class counts only, or after
the full MIP when designations stay fractional, or, on a small model, at the full MIP at
once; every instance is solved three ways (as built; with the counts MIP forced by setting
``FULL_MIP_BINARIES`` to zero, as a larger model would be; and with that counts MIP
stopped before its first node, so that the full MIP takes over from its plan, as when a larger
model's counts MIP stalls). These instances (two programmes in one
matter, nominations at expected cost, yearly budgets, a balance share by district, and on
odd seeds a cap of one designation per candidate and year) reach every one of those ends;
each answer is compared with an exact 0-1 programme written here from the raw data, and
checked against the rules by hand.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from liangye.model import solve, solve_mip
from liangye.model.allocation import allocate
from liangye.model.options import build_problem
from liangye.model.programme import build_model
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.solve import HighsProgramme

from conftest import make_candidates, make_policy, programme

YEARS = (2024, 2025)
AMOUNTS = {
    "P": {"national": 150, "provincial": 50, "municipal": 20},
    "Q": {"provincial": 50, "municipal": 20},
}
WEIGHTS = {"national": 3, "provincial": 2, "municipal": 1}
CONFERRED = {"national": 0.3, "provincial": 1.0, "municipal": 1.0}  # P/Q national: nominations
SHARE = 0.5


def instance(seed: int) -> tuple[pd.DataFrame, dict[int, int], bool]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 12))
    candidates = make_candidates(
        [
            {"id": f"C{i}", "score": int(rng.integers(50, 100)), "district": f"D{rng.integers(3)}"}
            for i in range(n)
        ]
    )
    budget = {t: int(rng.integers(40, 200)) for t in YEARS}
    return candidates, budget, seed % 2 == 1


def liangye_problem(candidates: pd.DataFrame, budget: dict[int, int], capped: bool):
    national = {"level": "national", "amount": 150, "conferred_by": "national"}
    p = programme("P", {"provincial": 50, "municipal": 20}, matter="M")
    p["levels"].insert(0, national)
    # No upgrades inside the horizon: the reference below pays one award per candidate and
    # matter (upgrades have their exact test in test_allocation_exact.py).
    policy = make_policy(
        [p, programme("Q", AMOUNTS["Q"], matter="M")],
        years=[YEARS[0], YEARS[-1]],
        upgrade="none",
        balance=[{"by": "district", "max_share": SHARE, "per": "horizon"}],
    )
    settings = AllocationSettings(
        level_weights=WEIGHTS,
        success_probability={"national": CONFERRED["national"]},
        cap_per_candidate_per_year=1 if capped else None,
        mip_gap=1e-9,
    )
    budget_obj = Budget(per_year={t: Decimal(v) for t, v in budget.items()})
    return build_problem(policy, candidates, budget_obj, settings)


def reference(candidates: pd.DataFrame, budget: dict[int, int], capped: bool) -> float:
    """max Σ p_l·w_l·score_c·x  s.t. one award per candidate over the horizon (P and Q are one
    matter), Σ amount·chance·x ≤ B_t, a district holds at most half of all awards, and with a
    cap at most one award per candidate and year."""
    keys = [
        (c, p, lv, t)
        for c in range(len(candidates))
        for p, levels in AMOUNTS.items()
        for lv in levels
        for t in YEARS
    ]
    rows: list[tuple[dict[int, float], float, float]] = []
    for c in range(len(candidates)):
        rows.append(({k: 1 for k, key in enumerate(keys) if key[0] == c}, 0, 1))
        if capped:
            for t in YEARS:
                members = {k: 1 for k, key in enumerate(keys) if key[0] == c and key[3] == t}
                rows.append((members, 0, 1))
    for t in YEARS:
        spend = {
            k: AMOUNTS[p][lv] * CONFERRED[lv]
            for k, (_, p, lv, year) in enumerate(keys)
            if year == t
        }
        rows.append((spend, 0, budget[t]))
    district = candidates["district"].to_numpy()
    for d in sorted(set(district)):
        share = {k: (1.0 if district[key[0]] == d else 0.0) - SHARE for k, key in enumerate(keys)}
        rows.append((share, -np.inf, 0))
    matrix = lil_matrix((len(rows), len(keys)))
    for i, (coefs, _, _) in enumerate(rows):
        for k, v in coefs.items():
            matrix[i, k] = v
    score = candidates["score"].to_numpy(dtype=float)
    # A nomination is worth its merit times its chance (expected merit).
    value = np.array([CONFERRED[lv] * WEIGHTS[lv] * score[c] for c, _, lv, _ in keys])
    result = milp(
        -value,
        constraints=LinearConstraint(matrix.tocsr(), [r[1] for r in rows], [r[2] for r in rows]),
        integrality=np.ones(len(keys)),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 1e-12},
    )
    assert result.success, result.message
    return -result.fun


def broken_rules(
    candidates: pd.DataFrame, budget: dict[int, int], capped: bool, plan: pd.DataFrame
) -> list[str]:
    problems = []
    if plan["candidate_id"].duplicated().any():
        problems.append("two awards in one matter")
    if capped and plan[["candidate_id", "year"]].duplicated().any():
        problems.append("cap per candidate and year")
    for t in YEARS:
        in_year = plan[plan["year"] == t]
        spend = sum(
            AMOUNTS[p][lv] * CONFERRED[lv]
            for p, lv in zip(in_year["programme"], in_year["level"], strict=True)
        )
        if spend > budget[t] + 1e-6:
            problems.append(f"budget {t}: {spend} > {budget[t]}")
    if len(plan) and plan["district"].value_counts().max() > SHARE * len(plan) + 1e-9:
        problems.append("balance")
    return problems


SEEDS = range(40)


PATHS = ("small model", "counts MIP forced", "counts MIP stalls")


@pytest.fixture(scope="module", params=PATHS)
def answers(request) -> dict[int, tuple]:
    found = {}
    with pytest.MonkeyPatch.context() as patch:
        if request.param != "small model":
            patch.setattr(solve, "FULL_MIP_BINARIES", 0)
        if request.param == "counts MIP stalls":
            patch.setattr(solve_mip, "COUNTS_NODES", 0)
        for seed in SEEDS:
            candidates, budget, capped = instance(seed)
            found[seed] = (
                candidates,
                budget,
                capped,
                # The plan, status, gap and method are what these tests read: no
                # explanations, which settle thresholds by re-solving on instances this small.
                allocate(liangye_problem(candidates, budget, capped), explain=False),
            )
    return found


@pytest.mark.parametrize("seed", SEEDS)
def test_every_path_finds_the_optimum(answers, seed):
    candidates, budget, capped, result = answers[seed]
    assert result.status == "optimal"
    assert result.gap <= result.problem.settings.mip_gap  # optimal only within the gap
    assert broken_rules(candidates, budget, capped, result.selected) == []
    assert result.objective == pytest.approx(reference(candidates, budget, capped), abs=1e-6)


def test_the_instances_reach_every_end_of_the_solve(answers, request):
    """Otherwise the test above would not test the counts phase or the full-MIP fallback;
    as built, these small models never take the counts MIP."""
    ends = Counter(result.method.removesuffix("+fixing") for *_, result in answers.values())
    path = request.node.callspec.params["answers"]
    if path == "counts MIP forced":
        assert {"lp", "counts", "mip"} <= set(ends), ends
    elif path == "counts MIP stalls":
        assert {"lp", "counts, then mip"} <= set(ends), ends
    else:
        assert {"lp", "mip"} <= set(ends) and "counts" not in ends, ends


def test_payment_classes_count_what_the_budget_sees():
    """Options paying the same in the same year form one class: P national is a nomination
    (150 × 0.3 = 45), P and Q provincial both pay 50, municipal 20; two years, so classes are
    {45, 50, 20} × {2024, 2025} = 6. The counted budget rows hold only the class counts."""
    candidates, budget, _ = instance(0)
    problem = liangye_problem(candidates, budget, False)
    programme_ = HighsProgramme(build_model(problem), problem.settings)
    counted = programme_.counted
    assert counted.n_classes == 6
    matrix = counted.highs.getLp().a_matrix_
    starts, index = np.asarray(matrix.start_), np.asarray(matrix.index_)
    budget_rows = set(programme_.budget_rows)
    for column in range(counted.n_columns):
        rows = set(index[starts[column] : starts[column + 1]].tolist())
        is_count = column >= programme_.n_model
        assert bool(rows & budget_rows) == is_count, column
    # Lifting a plan gives each class its number of designations.
    x = np.zeros(programme_.n_model)
    x[[0, 1]] = 1
    lifted = counted.lift(x)
    assert lifted[programme_.n_model :].sum() == 2


def test_a_problem_without_budget_needs_no_counts():
    """No budget rows: nothing to count, and the relaxation alone decides (it is integral)."""
    policy = make_policy([programme("P", {"municipal": 20, "provincial": 50})])
    candidates = make_candidates([{"id": f"C{i}", "score": 60 + i} for i in range(4)])
    problem = build_problem(policy, candidates, Budget(), AllocationSettings())
    programme_ = HighsProgramme(build_model(problem), problem.settings)
    assert programme_.counted.n_classes == 0
    outcome = programme_.solve()
    assert outcome.status == "optimal" and len(outcome.chosen) == 4
