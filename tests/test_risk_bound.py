"""Plans with a bounded risk of overrun, against an independent exact formulation: every plan
of a small instance enumerated, each year's overrun chance computed from the conferral
outcomes themselves, and the best plan within the bound compared with liangye's.

Instances: 3-5 firms, one programme paying 150/50/20 (national and provincial nominations
with their chances, municipal the city's own), an entitlement conferred by the province
for some firms, two years with yearly budgets, and an overrun bound ALPHA. With upgrades
(top_up) a firm designated municipal in 2024 may be nominated higher in 2025, paying the
difference on conferral. Some instances add a second instalment of 30 a year after a
national conferral (one conferral pays in two years; after 2025 it is a commitment).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from conftest import make_candidates, make_policy, solve

YEARS = (2024, 2025)
AMOUNT = {"national": 150, "provincial": 50, "municipal": 20}
WEIGHT = {"national": 3, "provincial": 2, "municipal": 1}
ENTITLEMENT = 40  # 万元, conferred by the province
INSTALMENT = 30  # 万元 paid the year after a national conferral, in some instances


def overrun_chance(payments: list[tuple[float, float]], budget: float) -> float:
    """P(Σ amount·Bernoulli(chance) > budget), by walking every conferral outcome's sum."""
    law = {0.0: 1.0}
    for amount, chance in payments:
        step: dict[float, float] = {}
        for total, p in law.items():
            if chance < 1:
                step[total] = step.get(total, 0.0) + p * (1 - chance)
            if chance > 0:
                key = round(total + amount, 6)
                step[key] = step.get(key, 0.0) + p * chance
        law = step
    return sum(p for total, p in law.items() if total > budget + 1e-9)


def instance(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    rows = [
        {
            "id": f"F{i}",
            "score": int(rng.integers(50, 100)),
            "entitled": bool(rng.random() < 0.3),
        }
        for i in range(n)
    ]
    chances = {"national": float(rng.choice([0.2, 0.3, 0.45])), "provincial": 0.5}
    budget = {t: int(rng.integers(4, 16)) * 10 for t in YEARS}
    alpha = float(rng.choice([0.07, 0.13, 0.23, 0.31]))
    upgrade = "top_up" if seed % 2 else "none"
    instalment = seed % 4 >= 2
    return rows, chances, budget, alpha, upgrade, instalment


def policy_for(upgrade: str, instalment: bool = False, national_2025: int = 0):
    national = {"level": "national", "amount": 150, "conferred_by": "national"}
    if instalment:
        national["payouts"] = [{"years_after": [1], "amount": INSTALMENT}]
    levels = [
        national,
        {"level": "provincial", "amount": 50, "conferred_by": "provincial"},
        {"level": "municipal", "amount": 20},
    ]
    entitlement = {
        "id": "E",
        "name": "E",
        "reference": "t",
        "decision": "entitlement",
        "applicants": "entitled",
        "levels": [{"level": "provincial", "amount": ENTITLEMENT, "conferred_by": "provincial"}],
    }
    quotas = []
    if national_2025:
        quotas = [
            {"programmes": ["P"], "levels": ["national"], "years": [YEARS[1]], "min": national_2025}
        ]
    return make_policy(
        [{"id": "P", "name": "P", "reference": "t", "levels": levels}, entitlement],
        years=list(YEARS),
        upgrade=upgrade,
        quotas=quotas,
    )


def reference(
    rows, chances, budget, alpha, upgrade, instalment, national_2025: int = 0
) -> tuple[float, list[tuple]]:
    """The best merit over every plan meeting the expected budgets and the overrun bound in
    each year (and, if given, at least ``national_2025`` national designations in 2025),
    written from the instance alone. A firm's choices in P: nothing, one
    designation (level, year), or (top_up) municipal in 2024 then a nomination in 2025.
    With instalments a national conferral also pays 30 the next year (the same draw: its
    marginal in that year is what the year's overrun chance needs)."""
    chance = {
        "national": chances["national"],
        "provincial": chances["provincial"],
        "municipal": 1.0,
    }
    options: list[tuple[tuple[str, int, float, float], ...]] = [()]  # (level, year, pay, chance)
    for level, year in itertools.product(AMOUNT, YEARS):
        options.append(((level, year, AMOUNT[level], chance[level]),))
    if upgrade == "top_up":
        for level in ("national", "provincial"):
            step = (level, YEARS[1], AMOUNT[level] - AMOUNT["municipal"], chance[level])
            options.append((("municipal", YEARS[0], AMOUNT["municipal"], 1.0), step))
    best, best_plan = -1.0, []
    for plan in itertools.product(options, repeat=len(rows)):
        payments = {t: [] for t in YEARS}
        merit = 0.0
        for row, choice in zip(rows, plan, strict=True):
            for level, year, pay, p in choice:
                payments[year].append((pay, p))
                if instalment and level == "national" and year + 1 in payments:
                    payments[year + 1].append((INSTALMENT, p))
            if len(choice) == 1:  # a designation is worth its merit times its chance
                level, _, _, p = choice[0]
                merit += p * WEIGHT[level] * row["score"]
            elif choice:  # a chain: where it ends if conferred, where it starts if not
                (start, *_), (end, _, _, p) = choice
                merit += row["score"] * (p * WEIGHT[end] + (1 - p) * WEIGHT[start])
            if row["entitled"]:
                payments[YEARS[0]].append((ENTITLEMENT, chances["provincial"]))
        nationals = sum(
            1
            for choice in plan
            for level, year, *_ in choice[-1:]
            if (level, year) == ("national", YEARS[1])
        )
        feasible = nationals >= national_2025 and all(
            sum(a * p for a, p in payments[t]) <= budget[t] + 1e-9
            and overrun_chance(payments[t], budget[t]) <= alpha
            for t in YEARS
        )
        if feasible and merit > best:
            best, best_plan = merit, plan
    return best, best_plan


def solve_instance(rows, chances, budget, alpha, policy):
    """liangye's plan of an instance within the overrun bound ``alpha``, proven to 1e-9."""
    return solve(
        policy,
        make_candidates(rows),
        budget,
        level_weights=WEIGHT,
        success_probability=chances,
        overrun_risk=alpha,
        mip_gap=1e-9,
    )


@pytest.mark.parametrize("seed", range(32))
def test_the_bounded_plan_is_the_best_within_the_bound(seed):
    rows, chances, budget, alpha, upgrade, instalment = instance(seed)
    best, _ = reference(rows, chances, budget, alpha, upgrade, instalment)
    result = solve_instance(rows, chances, budget, alpha, policy_for(upgrade, instalment))
    if best < 0:  # no plan meets the bound (the obligations alone are too risky)
        assert result.status == "infeasible"
        return
    assert result.status == "optimal", result.diagnosis
    assert result.objective == pytest.approx(best, abs=1e-6)
    answer = json.loads(json.dumps(result.to_dict()))
    # Every qualifying entitlement is in the plan.
    entitled = {r["id"] for r in rows if r["entitled"]}
    paid = {s["candidate_id"] for s in answer["selected"] if s["programme"] == "E"}
    assert paid == entitled
    # The overrun chance recomputed from the plan's selected rows alone (what each pays in
    # each year, with its chance) matches, and is within ALPHA.
    for year in YEARS:
        payments = [
            (s["payments"][str(year)], s["probability"])
            for s in answer["selected"]
            if str(year) in s["payments"]
        ]
        recomputed = overrun_chance(payments, budget[year])
        assert answer["overrun_probability"][str(year)] == pytest.approx(recomputed, abs=1e-9)
        assert recomputed <= alpha
    # Commitments after the horizon add up: the second instalments of 2025's conferrals.
    later = sum(s["payments"].get("2026", 0.0) * s["probability"] for s in answer["selected"])
    assert sum(answer["commitments"].values()) == pytest.approx(later)
    if instalment:
        nationals_2025 = [
            s for s in answer["selected"] if s["level"] == "national" and s["year"] == 2025
        ]
        assert later == pytest.approx(sum(INSTALMENT * s["probability"] for s in nationals_2025))
    # The expected-cost optimum bounds the bounded plan from above: the price of safety.
    assert answer["expected_cost_objective"] is None or (
        answer["expected_cost_objective"] >= answer["objective"] - 1e-6
    )


@pytest.mark.parametrize("seed", range(16))
def test_minimum_nominations_are_met_within_the_bound_or_proven_impossible(seed):
    """A minimum of national nominations in 2025 (1-3) can force conferrals that overrun
    too often by themselves: then no plan meets the bound and the answer must say so
    (infeasible, found by the least-spending search with exact cuts); otherwise the best
    plan within the bound that meets the minimum, as the enumeration finds it."""
    rows, chances, budget, alpha, upgrade, instalment = instance(seed)
    minimum = 1 + seed % 3
    best, _ = reference(rows, chances, budget, alpha, upgrade, instalment, minimum)
    result = solve_instance(rows, chances, budget, alpha, policy_for(upgrade, instalment, minimum))
    if best < 0:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal", result.diagnosis
    assert result.objective == pytest.approx(best, abs=1e-6)


def test_minimum_nominations_impossible_within_the_bound_some_instances():
    """The instances above include both answers (else the test would not test the search)."""
    answers = set()
    for seed in range(16):
        rows, chances, budget, alpha, upgrade, instalment = instance(seed)
        best, _ = reference(rows, chances, budget, alpha, upgrade, instalment, 1 + seed % 3)
        answers.add(best < 0)
    assert answers == {True, False}


def test_obligations_too_risky_for_the_bound_exit_with_their_risk():
    """Two firms entitled to 40 each with chance 0.5, budget 50 in 2024: the obligations
    alone overrun when both are conferred, a chance of 0.25 — above a bound of 0.1, so no
    plan can meet it, and the diagnosis gives that chance."""
    rows = [{"id": "A", "score": 60, "entitled": True}, {"id": "B", "score": 70, "entitled": True}]
    result = solve(
        policy_for("none"),
        make_candidates(rows),
        {2024: 50, 2025: 50},
        level_weights=WEIGHT,
        success_probability={"national": 0.3, "provincial": 0.5},
        overrun_risk=0.1,
    )
    assert result.status == "infeasible"
    (line,) = result.diagnosis
    assert "2024" in line and "25.0000%" in line and "0.1" in line


@pytest.mark.parametrize("seed", range(8))
def test_adding_one_option_is_judged_as_the_whole_plan_would_be(seed):
    """RiskCuts.admits (row by row, only where the option pays, each count vector's need
    remembered) says exactly what RiskCuts.violated says of the plan with the option added,
    on random plans within the bound of random instances: it is what fills a loaded plan's
    room."""
    from liangye.model.options import build_problem
    from liangye.model.programme import build_model
    from liangye.model.risk_cuts import RiskCuts
    from liangye.model.settings import AllocationSettings, Budget
    from liangye.model.solve import HighsProgramme

    rows, chances, budget, alpha, upgrade, instalment = instance(seed)
    more = [dict(r, id=f"{r['id']}b") for r in rows]  # a larger pool: more classes filled
    problem = build_problem(
        policy_for(upgrade, instalment),
        make_candidates(rows + more),
        Budget(per_year={t: v for t, v in budget.items()}),
        AllocationSettings(level_weights=WEIGHT, success_probability=chances, overrun_risk=alpha),
    )
    cuts = RiskCuts(HighsProgramme(build_model(problem), problem.settings), problem, alpha)
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(300):
        chosen = np.flatnonzero(rng.random(problem.size) < rng.uniform(0.0, 0.2))
        if cuts.violated(chosen):
            continue  # filling starts from a plan within the bound, and keeps it there
        states = cuts.row_states(chosen)
        for option in rng.choice(problem.size, size=min(5, problem.size), replace=False):
            if option in chosen:
                continue
            whole = not cuts.violated(np.append(chosen, option))
            assert cuts.admits(states, int(option)) == whole
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("seed", range(12))
def test_the_bounded_frontier_is_the_best_within_the_bound_at_every_budget(seed):
    """The frontier re-uses one model across budgets and drops each point's exact cuts
    before the next (they hold only at their own budget): every point equals the
    enumerated best at its budget, so no cut made at a smaller budget cuts into a larger."""
    from decimal import Decimal

    from liangye.model.frontier import budget_frontier
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    rows, chances, budget, alpha, upgrade, instalment = instance(seed)
    settings = AllocationSettings(
        level_weights=WEIGHT, success_probability=chances, overrun_risk=alpha, mip_gap=1e-9
    )
    policy = policy_for(upgrade, instalment)
    per_year = {t: Decimal(v) for t, v in budget.items()}
    problem = build_problem(policy, make_candidates(rows), Budget(per_year=per_year), settings)
    scales = [0.5, 1.0, 1.6, 2.5]
    frontier = budget_frontier(problem, scales)
    for scale, point in zip(scales, frontier.itertuples(), strict=True):
        at = {t: b * scale for t, b in budget.items()}
        best, _ = reference(rows, chances, at, alpha, upgrade, instalment)
        if best < 0:
            assert point.status == "infeasible"
        else:
            assert point.status == "optimal", point.method
            assert point.objective == pytest.approx(best, abs=1e-6)
            assert point.overrun_any_year is not None


def test_the_bounded_frontier_drops_the_cuts_of_each_point():
    """On an instance whose points prove their plans with cut rounds (seed 3: every point
    after the first), the cuts one point appends are gone before the next: the counted
    instance is back to its rows and columns as built."""
    from decimal import Decimal

    from liangye.model import frontier as frontier_module
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    appended: list[tuple[int, int]] = []  # (rows appended before dropping, after)
    original = frontier_module.HighsProgramme

    class Watched(original):
        def drop_appended(self) -> None:
            counted = self._counted
            before = counted.highs.getNumRow() - counted.built_rows
            super().drop_appended()
            after = counted.highs.getNumRow() - counted.built_rows
            assert counted.n_columns == counted.built_columns and not counted.extensions
            appended.append((before, after))

    rows, chances, budget, alpha, upgrade, instalment = instance(3)
    settings = AllocationSettings(
        level_weights=WEIGHT, success_probability=chances, overrun_risk=alpha, mip_gap=1e-9
    )
    per_year = {t: Decimal(v) for t, v in budget.items()}
    problem = build_problem(
        policy_for(upgrade, instalment), make_candidates(rows), Budget(per_year=per_year), settings
    )
    try:
        frontier_module.HighsProgramme = Watched
        table = frontier_module.budget_frontier(problem, [0.5, 1.0, 1.6, 2.5])
    finally:
        frontier_module.HighsProgramme = original
    assert sum("cut rounds" in method for method in table["method"]) >= 2
    assert sum(before > 0 for before, _ in appended) >= 2
    assert all(after == 0 for _, after in appended)


def test_filling_takes_every_cost_free_designation_whatever_its_limit_of_tries():
    """``risk_loads.filled`` bounds the tries the overrun bound may refuse, not the options
    that pay nothing: the default scenario at α = 1e-6 kept 646 of its 1,209 cost-free
    titles when they counted against the 400 tries (a plan strictly worse than one with
    all of them, at the same risk)."""
    from liangye.model.options import build_problem
    from liangye.model.programme import build_model
    from liangye.model.risk_cuts import RiskCuts
    from liangye.model.risk_loads import filled
    from liangye.model.settings import AllocationSettings, Budget
    from liangye.model.solve import HighsProgramme

    paid = {
        "id": "P",
        "name": "P",
        "reference": "t",
        "levels": [{"level": "national", "amount": 150, "conferred_by": "national"}],
    }
    title = {
        "id": "T",
        "name": "T",
        "reference": "t",
        "levels": [{"level": "municipal", "amount": 0}],
    }
    policy = make_policy([paid, title], years=[2024, 2024])
    rows = [{"id": f"F{i}", "score": 60 + i} for i in range(9)]
    problem = build_problem(
        policy,
        make_candidates(rows),
        Budget(per_year={2024: 300}),
        AllocationSettings(success_probability={"national": 0.3}, overrun_risk=0.05),
    )
    programme = HighsProgramme(build_model(problem), problem.settings)
    cuts = RiskCuts(programme, problem, 0.05)
    plan = filled(programme, cuts, np.zeros(programme.n_model), limit=2)
    chosen = problem.options.iloc[np.flatnonzero(plan[: programme.n_options] > 0.5)]
    assert (chosen["programme"] == "T").sum() == len(rows)  # every title that costs nothing
    assert 0 < (chosen["programme"] == "P").sum() <= 2  # the tries: at most the limit
    assert not cuts.violated(np.flatnonzero(plan[: programme.n_options] > 0.5))
