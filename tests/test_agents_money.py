"""A government's money in the simulation: what a round may still commit, instalments owed,
cancelled on withdrawal and charged to the years they fall in, all worked out by hand.

The model tests use firms whose state never moves (no adoption, no noise) at a 25% service
share, and a one-programme policy paying a municipal tier.
Everybody applies, so who is chosen depends only on noisy scores; the money does not.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from liangye.agents.agents import GovernmentSetup
from liangye.agents.ledger import (
    Instalment,
    Ledger,
    budget_horizon,
    option_dues,
    round_budget,
    with_payout_schedule,
)
from liangye.agents.model import ServitizationModel
from liangye.agents.params import SimulationParameters
from liangye.model.errors import InputError
from liangye.model.options import build_problem
from liangye.model.policy import policy_from_dict
from liangye.model.settings import AllocationSettings, Budget

STILL = {
    "share_noise": 0.0,
    "revenue_volatility": 0.0,
    "revenue_growth": 0.0,
    "innovation_p": 0.0,
    "imitation_q": 0.0,
    "application_rate": 1.0,
}


def money(per_year: dict[int, float] | None = None, **extra: object) -> Budget:
    return Budget(per_year={t: Decimal(str(v)) for t, v in (per_year or {}).items()}, **extra)


def as_floats(budget: Budget) -> dict[int, float]:
    return {t: float(v) for t, v in budget.per_year.items()}


def demo_policy(last_year: int, amount: float = 20, **level: object):
    """One municipal tier; withdrawn (撤销) from holders whose service share falls below 20%."""
    return policy_from_dict(
        {
            "id": "mini",
            "title": "测试",
            "years": [2024, last_year],
            "programmes": [
                {
                    "id": "demo",
                    "name": "示范",
                    "reference": "t",
                    "revocation": {
                        "when": "below the bar",
                        "rule": "service_revenue_share < 0.2",
                        "reference": "t",
                    },
                    "levels": [
                        {
                            "level": "municipal",
                            "amount": amount,
                            "conferred_by": "municipal",
                            **level,
                        }
                    ],
                }
            ],
        }
    )


def firm_table(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(1, n + 1)],
            "name": [f"F{i}" for i in range(1, n + 1)],
            "kind": "enterprise",
            "role": "manufacturer",
            "district": "A",
            "sector": "S",
            "park": None,
            "revenue": 10000.0,
            "margin": 0.05,
            "service_revenue_share": 0.25,
            "service_input_share": 0.35,
            "modes": "industrial_design",
            "design_prize": False,
            "market_share_rank": np.nan,
            "held": None,
        }
    )


def simulate(n: int, policy, budget: Budget, years: int, **params: object):
    model = ServitizationModel(
        firm_table(n),
        SimulationParameters(quarters=4 * years, **STILL, **params),
        [GovernmentSetup(policy, budget, AllocationSettings())],
        seed=0,
    )
    return model, model.run()


def mini_policy(programmes: list[dict], last_year: int = 2025):
    """A policy "mini" of ``programmes`` from 2024 to ``last_year``."""
    return policy_from_dict(
        {"id": "mini", "title": "测试", "years": [2024, last_year], "programmes": programmes}
    )


def world(policy, firms: pd.DataFrame, budget: Budget, quarters: int = 8):
    """A model of ``firms`` with one government of ``policy`` under ``budget``."""
    return ServitizationModel(
        firms,
        SimulationParameters(quarters=quarters, **STILL),
        [GovernmentSetup(policy, budget, AllocationSettings())],
        seed=0,
    )


def paid_by_year(result) -> dict[int, float]:
    return result.payments.groupby("year")["paid"].sum().to_dict()


# --- what a round may still commit ---


def test_round_budget_takes_off_what_earlier_rounds_owe():
    """B = 100 a year 2024-2026; the 2025 round, with 30 owed in 2025 and 120 in 2026:
    2025: 100 − 30 = 70; 2026: 100 − 120 < 0 → 0. 2024 is past and not in the round."""
    budget = money({2024: 100, 2025: 100, 2026: 100})
    left = round_budget(budget, [2024, 2025, 2026], 2025, {2024: 90.0}, {2025: 30.0, 2026: 120.0})
    assert as_floats(left) == {2025: 70.0, 2026: 0.0} and left.total is None


def test_round_budget_carries_unspent_money_over():
    """Carry-over, B = 100 a year, 90 paid in 2024 (10 carried):
    owed 30 in 2025 and 20 in 2026: C_2025 = 10 + 70 = 80, C_2026 = 80 + 80 = 160, so the
    round may spend 80 by 2025 and 80 more in 2026;
    owed 30 and 150: C_2026 = 80 − 50 = 30 binds 2025 as well (whatever 2025 spends still
    counts by 2026): L = (30, 30), so 30 in 2025 and nothing more in 2026."""
    budget = money({2024: 100, 2025: 100, 2026: 100}, carry_over=True)
    horizon, paid = [2024, 2025, 2026], {2024: 90.0}
    left = round_budget(budget, horizon, 2025, paid, {2025: 30.0, 2026: 20.0})
    assert as_floats(left) == {2025: 80.0, 2026: 80.0} and left.carry_over
    left = round_budget(budget, horizon, 2025, paid, {2025: 30.0, 2026: 150.0})
    assert as_floats(left) == {2025: 30.0, 2026: 0.0}


def test_round_budget_keeps_to_what_is_left_of_the_horizon_total():
    """Total 300 over 2024-2026, no yearly lines: 120 paid in 2024, 50 owed in 2025 and 40
    in 2026 leave 300 − 120 − 90 = 90; a total already spent leaves 0, not less."""
    budget = money(total=Decimal(300))
    left = round_budget(budget, [2024, 2025, 2026], 2025, {2024: 120.0}, {2025: 50.0, 2026: 40.0})
    assert left.per_year == {} and left.total == Decimal(90)
    spent = round_budget(budget, [2024, 2025, 2026], 2025, {2024: 350.0}, {})
    assert spent.total == Decimal(0)


def test_budget_horizon_is_the_policy_years_with_a_yearly_line():
    assert budget_horizon(money(), [2024, 2025, 2026]) == [2024, 2025, 2026]
    assert budget_horizon(money({2024: 1, 2025: 1}), [2024, 2025, 2026]) == [2024, 2025]


def test_ledger_pays_what_falls_due_and_cancels_what_a_withdrawn_designation_owes():
    """Firm 0 is owed 25 in 2024 and 2025 for demo and 10 in 2025 for another programme;
    firm 1 25 in 2025. 2024: 25 paid. Cancelling firm 0's demo frees its 2025 instalment
    (25) only: owed in 2025 drops from 60 to 35."""
    ledger = Ledger()
    ledger.owe(
        [
            Instalment(2024, 0, "demo", "provincial", 25.0),
            Instalment(2025, 0, "demo", "provincial", 25.0),
            Instalment(2025, 0, "other", "municipal", 10.0),
            Instalment(2025, 1, "demo", "provincial", 25.0),
        ]
    )
    assert [p.amount for p in ledger.fall_due(2024)] == [25.0] and ledger.paid == {2024: 25.0}
    assert ledger.owed_by_year() == {2025: 60.0}
    assert ledger.cancel(0, "demo") == 25.0
    assert ledger.owed_by_year() == {2025: 35.0} and ledger.cancelled == 25.0
    assert ledger.owed() == 35.0


def test_payout_schedule_splits_an_option_over_its_years():
    """Amount 40 paid 50/30/20 from the designation year 2024: the option costs 20 in 2024,
    and later payments of 12 in 2025 and 8 in 2026 (beside the policy's own later payout of
    5 in 2025: 17 then); its full cost stays 40."""
    policy = demo_policy(2026, 40, payouts=[{"amount": 5, "years_after": [1]}])
    table = firm_table(1).assign(row="row 2")
    apps = pd.DataFrame(
        [{"candidate_id": "F1", "programme": "demo", "level": "municipal", "year": 2024}]
    ).assign(score=70.0, row="-")
    problem = build_problem(policy, table, money(), AllocationSettings(), [2024, 2025, 2026], apps)
    split, full = with_payout_schedule(problem, {"demo": [0.5, 0.3, 0.2]})
    assert float(full[0]) == 40.0 and split.options["expected_cost"].tolist() == [20.0]
    assert option_dues(split, 0) == [(2024, 20.0), (2025, 17.0), (2026, 8.0)]
    assert option_dues(problem, 0) == [(2024, 40.0), (2025, 5.0)]


# --- the rounds in the model ---


def test_a_horizon_total_limits_the_rounds_and_is_paced_over_them():
    """Total 60 over 2024-2026 and four firms asking 20 each: each round may take what is
    left over the rounds to come (60/3, then 40/2, then 20), one award a year, and the
    fourth firm is left out. (Before the total was kept, the rounds had no limit and 2024
    paid 80; before it was paced, 2024 took all 60 and the later rounds had nothing.)"""
    _, result = simulate(4, demo_policy(2026), money(total=Decimal(60)), years=3)
    assert paid_by_year(result) == {2024: 20.0, 2025: 20.0, 2026: 20.0}
    assert result.awards["year"].tolist() == [2024, 2025, 2026]


def test_carry_over_moves_unspent_money_to_the_next_round():
    """30 a year with carry-over, three firms asking 20: 2024 designates one (10 unspent),
    2025 has 30 + 10 = 40 and designates the other two."""
    budget = money({2024: 30, 2025: 30}, carry_over=True)
    _, result = simulate(3, demo_policy(2025), budget, years=2)
    assert paid_by_year(result) == {2024: 20.0, 2025: 40.0}


def test_later_payouts_are_charged_to_the_years_they_fall_in():
    """The tier pays 20 on designation and 20 the year after; 40 a year, four firms.
    2024's round sees both years, and 2025's money shared with 2025's round (20 of it):
    one designation (20 in 2024, 20 owed in 2025). 2025's round has 40 − 20 = 20 left: one
    designation (20 now, 20 in 2026, after the horizon). 2025 pays 40, never more."""
    policy = demo_policy(2025, 20, payouts=[{"amount": 20, "years_after": [1]}])
    _, result = simulate(4, policy, money({2024: 40, 2025: 40}), years=2)
    assert paid_by_year(result) == {2024: 20.0, 2025: 40.0}
    assert result.awards["year"].tolist() == [2024, 2025]
    assert result.awards["committed"].tolist() == [40.0, 40.0]


def test_instalments_of_a_payout_schedule_are_charged_to_their_years():
    """Tier 40 paid half now, half next year; 40 a year, four firms. 2024 may book half of
    2025's money (20, the rest is 2025's round's): one designation (20 now, 20 owed in
    2025); 2025 has 40 − 20 = 20 left: one more (20 now, 20 in 2026). Paid 20 and 40, each
    award costing 40 in all."""
    params = {"payout_schedule": {"demo": [0.5, 0.5]}}
    _, result = simulate(4, demo_policy(2025, 40), money({2024: 40, 2025: 40}), 2, **params)
    assert paid_by_year(result) == {2024: 20.0, 2025: 40.0}
    assert result.awards[["year", "cost", "committed"]].values.tolist() == [
        [2024, 40, 40],
        [2025, 40, 40],
    ]


def test_a_round_leaves_later_years_to_their_own_rounds():
    """Unpaced, the first round of a scenario paying in instalments booked 92% of the next
    year's budget, and that year overran in every replication with its round left to pay
    obligations only (review 22). Each later year's money left is shared by the rounds that
    can still commit it; the round's own year and a year past the rounds are its own."""
    budget = money({2024: 100, 2025: 100, 2026: 100})
    horizon = [2024, 2025, 2026]
    paced = round_budget(budget, horizon, 2024, {}, {2025: 40.0}, rounds=horizon)
    assert as_floats(paced) == {2024: 100.0, 2025: 30.0, 2026: 33.3333}  # to the yuan
    assert as_floats(round_budget(budget, horizon, 2024, {}, {2025: 40.0})) == {
        2024: 100.0,
        2025: 60.0,
        2026: 100.0,
    }
    # rounds held in 2024 and 2025 only: 2026 is shared by those two
    two = round_budget(budget, horizon, 2024, {}, {}, rounds=[2024, 2025])
    assert as_floats(two) == {2024: 100.0, 2025: 50.0, 2026: 50.0}
    last = round_budget(budget, horizon, 2026, {2024: 100.0, 2025: 100.0}, {}, rounds=horizon)
    assert as_floats(last) == {2026: 100.0}
    total = round_budget(money(total=Decimal(300)), horizon, 2025, {2024: 90.0}, {}, horizon)
    assert total.total == Decimal(105)
    # the round's own obligations beside its share, never beyond what is left
    owing = round_budget(budget, horizon, 2024, {}, {2025: 40.0}, horizon, {2025: 25.0})
    assert as_floats(owing) == {2024: 100.0, 2025: 55.0, 2026: 33.3333}
    owing = round_budget(budget, horizon, 2024, {}, {2025: 40.0}, horizon, {2025: 50.0})
    assert as_floats(owing)[2025] == 60.0


def test_a_withdrawn_designation_frees_its_instalments_for_the_round():
    """As above, but the 2024 holder falls below the bar before 2025's round, and the
    policy's revocation rule withdraws its designation: its second 20 is cancelled, which
    leaves all 40 of 2025's money for two new designations (20 now each, 20 in 2026, after
    the horizon) where one fitted before. (Applications need 20%, so the withdrawn firm does
    not apply again.)"""
    policy, budget = demo_policy(2025, 40), money({2024: 40, 2025: 40})
    model = ServitizationModel(
        firm_table(4),
        SimulationParameters(
            quarters=8,
            payout_schedule={"demo": [0.5, 0.5]},
            application_rules={"*": ["service_revenue_share >= 0.2"]},
            **STILL,
        ),
        [GovernmentSetup(policy, budget, AllocationSettings())],
        seed=0,
    )
    for _ in range(4):
        model.step()
    holder = next(f for f in model.firm_agents if f.held)
    holder.share = holder.base_share = 0.10
    for _ in range(4):
        model.step()
    result = model.results()
    assert paid_by_year(result) == {2024: 20.0, 2025: 40.0}
    assert holder.received == 20.0 and result.cancelled == 20.0 and result.owed == 40.0
    assert result.awards.groupby("year").size().to_dict() == {2024: 1, 2025: 2}


def test_a_budget_by_year_must_cover_every_round():
    with pytest.raises(InputError, match="no budget for \\[2025\\]"):
        simulate(2, demo_policy(2025), money({2024: 100}), years=2)


def test_a_holder_of_an_award_paid_in_instalments_is_topped_up_to_the_higher_award():
    """就高不重复 in the simulation as in the allocation (review 23): a firm holding the
    municipal title (20 on designation and 10 the year after, 30 in all) counts 30 as paid
    in the matter, so the provincial 60 would pay it 30, not 40."""
    levels = [
        {"level": "provincial", "amount": 60, "conferred_by": "municipal"},
        {
            "level": "municipal",
            "amount": 20,
            "conferred_by": "municipal",
            "payouts": [{"amount": 10, "years_after": [1]}],
        },
    ]
    policy = mini_policy([{"id": "demo", "name": "示范", "reference": "t", "levels": levels}])
    firms = firm_table(2).assign(held=["demo:municipal", None])
    model = world(policy, firms, money({2024: 100, 2025: 100}))
    (government,) = list(model.governments)
    holding = model.firms.held[0][("mini", "demo")]
    assert holding.level == "municipal" and holding.amount == 30.0
    tiers = government.tiers(model.state_table())
    pay = government.payables(tiers)
    assert pay[("demo", "provincial")].tolist() == [30.0, 60.0]
    assert np.isnan(pay[("demo", "municipal")][0]) and pay[("demo", "municipal")][1] == 20.0


def test_a_round_pays_its_own_entitlements_whatever_its_share_of_later_years():
    """Pacing held a round to half of next year's 60 while its two entitlements (20 now and
    20 the year after each) owed 40 there: no plan fitted and the round paid obligations
    only, its discretionary awards lost (review 24). Its own obligations are paid beside its
    share: both firms get their entitlement and the city's 10 besides."""

    def levels(amount: float, **extra: object) -> list[dict]:
        return [{"level": "municipal", "amount": amount, "conferred_by": "municipal", **extra}]

    policy = mini_policy(
        [
            {
                "id": "E",
                "name": "应享",
                "reference": "t",
                "decision": "entitlement",
                "decision_reference": "t",
                "levels": levels(20, payouts=[{"amount": 20, "years_after": [1]}]),
            },
            {"id": "D", "name": "择优", "reference": "t", "levels": levels(10)},
        ],
        last_year=2026,
    )
    model = world(policy, firm_table(2), money({2024: 100, 2025: 60, 2026: 100}), quarters=12)
    result = model.run()
    assert result.rounds[0] == "planned"
    made = result.awards[result.awards["year"] == 2024]
    assert sorted(made["programme"]) == ["D", "D", "E", "E"]
    assert paid_by_year(result)[2025] == 40.0


def test_of_two_titles_of_one_programme_a_firm_holds_the_higher():
    """A firm file's cell "demo:provincial;demo:municipal" kept the last title listed, and
    the firm was designated provincial again with a top-up (review 24): it holds the
    provincial title, and nothing of the programme is open to it."""
    levels = [
        {"level": "provincial", "amount": 60, "conferred_by": "municipal"},
        {"level": "municipal", "amount": 30, "conferred_by": "municipal"},
    ]
    policy = mini_policy([{"id": "demo", "name": "示范", "reference": "t", "levels": levels}])
    firms = firm_table(1).assign(held=["demo:provincial;demo:municipal"])
    model = world(policy, firms, money({2024: 100, 2025: 100}))
    (government,) = list(model.governments)
    assert model.firms.held[0][("mini", "demo")].level == "provincial"
    pay = government.payables(government.tiers(model.state_table()))
    assert all(np.isnan(values[0]) for values in pay.values())
