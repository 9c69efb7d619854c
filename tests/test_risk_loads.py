"""The loaded budget rows of the overrun bound (model/risk_loads.py): a row the plan overruns
is loaded, even when shrinking its counts leaves no conferral to take the tangent at."""

from __future__ import annotations

from decimal import Decimal

from conftest import make_candidates, make_policy


def one_nomination_problem():
    """One year, 100万元. N: a national nomination of 100万元 conferred with chance 0.3, at
    most one; M: the city's own 35万元 designations. The expected-cost optimum spends it all
    (two M, 70 for sure, and one N, 30 expected), and its single nomination alone overruns
    the budget with chance 0.3: shrinking its counts to meet α leaves none."""
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    policy = make_policy(
        [
            {
                "id": "N",
                "name": "N",
                "reference": "t",
                "levels": [{"level": "national", "amount": 100, "conferred_by": "national"}],
            },
            {
                "id": "M",
                "name": "M",
                "reference": "t",
                "levels": [{"level": "municipal", "amount": 35}],
            },
        ],
        quotas=[{"programmes": ["N"], "levels": ["national"], "max": 1}],
    )
    rows = [{"id": f"F{i}", "score": 90 - i} for i in range(5)]
    return build_problem(
        policy,
        make_candidates(rows),
        Budget(per_year={2024: Decimal(100)}),
        AllocationSettings(success_probability={"national": 0.3}, overrun_risk=0.05),
    )


def test_a_row_whose_only_conferral_overruns_it_is_loaded_and_the_loop_finds_a_plan():
    """Before: the tangent was taken at the shrunk counts, which had no spread, so the row
    kept no load and every loaded solve returned the same plan over the bound (six solves
    and no plan; Wuhan's 10,000 candidates then ended with 85% of the money unspent)."""
    from liangye.model.programme import build_model
    from liangye.model.risk_cuts import RiskCuts
    from liangye.model.risk_loads import LOAD_ROUNDS, loaded_plans
    from liangye.model.solve import HighsProgramme

    problem = one_nomination_problem()
    programme = HighsProgramme(build_model(problem), problem.settings)
    cuts = RiskCuts(programme, problem, 0.05)
    first = programme.solve()
    levels = problem.options["level"].to_numpy()[first.chosen]
    assert sorted(levels) == ["municipal", "municipal", "national"]
    assert cuts.violated(first.chosen)
    plan, solves = loaded_plans(programme, cuts, first.chosen)
    assert plan is not None
    assert solves < LOAD_ROUNDS
    chosen = [j for j in range(problem.size) if plan[j] > 0.5]
    assert not cuts.violated(chosen)
    # the best within α (equal level weights): two M (179) over the nomination alone (90)
    assert list(problem.options["level"].to_numpy()[chosen]) == ["municipal", "municipal"]
