"""The exact cuts of the overrun bound (model/risk_cuts.py) and the search for the
least-spending plans (model/risk_solve.least_spend), against values at risk enumerated
from the conferrals themselves."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from conftest import make_candidates, make_policy


def value_at_risk(payments: list[tuple[float, float]], alpha: float) -> float:
    """The smallest budget b with P(Σ amount·Bernoulli(chance) > b) ≤ alpha, by enumeration."""
    law = {0.0: 1.0}
    for amount, chance in payments:
        step: dict[float, float] = {}
        for total, p in law.items():
            step[total] = step.get(total, 0.0) + p * (1 - chance)
            step[total + amount] = step.get(total + amount, 0.0) + p * chance
        law = step
    above = 1.0
    for total in sorted(law):
        above -= law[total]
        if above <= alpha + 1e-12:
            return total
    return max(law)


@pytest.mark.parametrize("seed", range(40))
def test_the_chain_cut_never_overstates_what_a_plan_needs(seed):
    """The inequality the cuts rest on (risk_cuts.py): with classes of one chance ordered by
    amount a_1 > … > a_K and cumulative counts M_k (plan m) and U_k (point u),

        V(m) ≥ V(u) − Σ_k (a_k − a_{k+1}) (U_k − min(M_k, U_k)),

    checked on random classes, points and plans against the value at risk enumerated from
    the conferrals themselves; and exact (V(m) ≥ V(u)) whenever m's cumulative counts
    reach u's, though m may have fewer of some class."""
    rng = np.random.default_rng(seed)
    chances = [0.3, 0.5]
    classes = [
        (float(a), chances[int(rng.integers(0, 2))])
        for a in rng.choice(
            [20, 40, 50, 90, 150, 290, 300], size=int(rng.integers(2, 5)), replace=False
        )
    ]
    alpha = float(rng.choice([0.05, 0.1, 0.25]))
    for _ in range(20):
        u = rng.integers(0, 4, size=len(classes))
        m = rng.integers(0, 4, size=len(classes))

        def law(counts):
            return [c for c, n in zip(classes, counts, strict=True) for _ in range(int(n))]

        bound = value_at_risk(law(u), alpha)
        dominated = True
        for chance in chances:
            chain = sorted(
                (j for j, c in enumerate(classes) if c[1] == chance),
                key=lambda j: classes[j][0],
                reverse=True,
            )
            big_u = big_m = 0
            for k, j in enumerate(chain):
                big_u += u[j]
                big_m += m[j]
                below = classes[chain[k + 1]][0] if k + 1 < len(chain) else 0.0
                bound -= (classes[j][0] - below) * (big_u - min(big_m, big_u))
                dominated &= big_m >= big_u
        needed = value_at_risk(law(m), alpha)
        assert needed >= bound - 1e-9
        if dominated:
            assert needed >= value_at_risk(law(u), alpha) - 1e-9


def mixed_policy(minimum: int):
    """Three programmes whose national (300, 290, 280, chance 0.3) and provincial (240, 230,
    220, chance 0.5) nominations all count toward one minimum: mixes of two chances, which
    no chain orders, so only rounds over the mixes can show that none is safe enough."""

    def levels(top: int) -> list[dict]:
        return [
            {"level": "national", "amount": top, "conferred_by": "national"},
            {"level": "provincial", "amount": top - 60, "conferred_by": "provincial"},
            {"level": "municipal", "amount": 10},
        ]

    return make_policy(
        [
            {"id": k, "name": k, "reference": "t", "levels": levels(a)}
            for k, a in zip("ABC", (300, 290, 280), strict=True)
        ],
        years=[2024, 2024],
        quotas=[
            {"programmes": ["A", "B", "C"], "levels": ["national", "provincial"], "min": minimum}
        ],
    )


def mixed_problem(minimum: int, budget: int, rows: list[dict]):
    """``mixed_policy(minimum)`` over ``rows`` with one year's budget and a 5% overrun bound."""
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    return build_problem(
        mixed_policy(minimum),
        make_candidates(rows),
        Budget(per_year={2024: Decimal(budget)}),
        AllocationSettings(
            success_probability={"national": 0.3, "provincial": 0.5}, overrun_risk=0.05
        ),
    )


def scored_rows(seed: int, n: int = 60) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"id": f"F{i}", "score": round(float(rng.uniform(50, 100)), 1)} for i in range(n)]


@pytest.mark.parametrize(("budget", "seed"), [(900, 0), (900, 1), (950, 2)])
def test_a_minimum_no_mix_can_meet_within_the_bound_is_proven_impossible(budget, seed):
    """Six nominations are required; every mix of national and provincial ones overruns a
    budget of 900-950 more often than 5% (enumerated here from the cheapest amounts, 280
    and 220). The answer is "infeasible", proven by the least-spending search within its
    rounds, not a plan, and not the merit rounds running out of work."""
    from liangye.model.allocation import allocate

    for nationals in range(7):
        law = [(280.0, 0.3)] * nationals + [(220.0, 0.5)] * (6 - nationals)
        assert value_at_risk(law, 0.05) > budget  # so no plan can meet the bound
    problem = mixed_problem(6, budget, scored_rows(seed))
    result = allocate(problem, explain=False, prove=False)
    assert result.status == "infeasible"
    assert "least spend" in result.method
    assert result.diagnosis  # and it says why


def test_a_minimum_that_can_be_met_within_the_bound_gets_a_plan():
    """The same programmes with a budget that some mixes fit: a plan meeting the minimum
    whose exact overrun chance is within the bound."""
    from liangye.model.allocation import allocate

    problem = mixed_problem(6, 1100, scored_rows(3))
    result = allocate(problem, explain=False, prove=False)
    assert result.status in ("optimal", "work_limit")
    selected = result.selected
    nominated = selected[selected["level"].isin(["national", "provincial"])]
    assert len(nominated) >= 6
    law = [(float(r.amount), float(r.probability)) for r in nominated.itertuples()]
    certain = float(selected.loc[selected["level"] == "municipal", "amount"].sum())
    assert certain + value_at_risk(law, 0.05) <= 1100 + 1e-9


def test_the_least_spending_search_leaves_the_model_objective_as_it_found_it():
    """CountedModel.minimising_spend swaps the counted instance's objective for the budget
    rows' expected spend (minimised) and puts the model's own objective and sense back on
    leaving, whatever columns were appended meanwhile (the cuts' thresholds) — and if the
    search inside raises."""
    import highspy

    from liangye.model.programme import build_model
    from liangye.model.solve import HighsProgramme

    problem = mixed_problem(2, 900, [{"id": f"F{i}", "score": 60 + i} for i in range(12)])
    programme = HighsProgramme(build_model(problem), problem.settings)
    counted = programme.counted
    highs = counted.highs
    before = np.asarray(highs.getLp().col_cost_).copy()
    assert highs.getObjectiveSense()[1] == highspy.ObjSense.kMaximize
    with pytest.raises(RuntimeError), counted.minimising_spend():
        inside = np.asarray(highs.getLp().col_cost_)
        assert highs.getObjectiveSense()[1] == highspy.ObjSense.kMinimize
        assert np.array_equal(inside[: len(counted.spend)], counted.spend)
        assert counted.spend.max() > 0  # the nominations (their class counts) cost money
        counted.add_columns(np.zeros(2), np.ones(2), np.array([True, False]))
        raise RuntimeError("the search failed")
    after = np.asarray(highs.getLp().col_cost_)
    assert highs.getObjectiveSense()[1] == highspy.ObjSense.kMaximize
    assert np.array_equal(after[: len(before)], before)
    assert np.all(after[len(before) :] == 0)


@pytest.mark.parametrize(("minimum", "budget", "seed"), [(5, 1000, 0), (6, 1050, 2)])
def test_the_least_spending_plan_filled_is_the_incumbent_and_large_models_stop_there(
    minimum, budget, seed, monkeypatch
):
    """When neither the loaded rows nor the repair meet α but the least-spending search
    finds a plan, that plan (filled) is the incumbent at once: on a model too large for
    proof rounds the answer, within α, with no cut rounds (60 candidates at half budget
    spent 19 s in eight rounds that found nothing better); on a small one, the plan the
    rounds must beat, never a worse answer."""
    from liangye.model import risk_solve
    from liangye.model.allocation import allocate

    def nominated_law(result):
        selected = result.selected
        nominated = selected[selected["level"].isin(["national", "provincial"])]
        certain = float(selected.loc[selected["level"] == "municipal", "amount"].sum())
        law = [(float(r.amount), float(r.probability)) for r in nominated.itertuples()]
        return certain, law

    small = allocate(mixed_problem(minimum, budget, scored_rows(seed)), explain=False)
    monkeypatch.setattr(risk_solve, "PROOF_COLUMNS", 0)
    large = allocate(mixed_problem(minimum, budget, scored_rows(seed)), explain=False)
    assert "least spend filled" in large.method and "cut rounds" not in large.method
    for result in (small, large):
        assert result.status in ("optimal", "work_limit")
        certain, law = nominated_law(result)
        assert len(law) >= minimum and certain + value_at_risk(law, 0.05) <= budget + 1e-9
    assert small.objective >= large.objective - 1e-9
