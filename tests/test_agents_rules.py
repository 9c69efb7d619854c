"""Each behaviour rule inside the model: a handful of firms, one quarter, the next state by hand.

Firms start at their long-run share (base = share − 0.05 × modes); noise and revenue growth
are switched off so that the only randomness is the uniforms set by each test.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from liangye.agents.agents import GovernmentSetup, Holding
from liangye.agents.model import ServitizationModel
from liangye.agents.params import SERVICE_MODES, SimulationParameters
from liangye.model.policy import policy_from_dict
from liangye.model.settings import AllocationSettings, Budget

QUIET = {"share_noise": 0.0, "revenue_volatility": 0.0, "revenue_growth": 0.0}


def firms(rows: list[dict]) -> pd.DataFrame:
    """A population table; ``n_modes`` becomes the first n modes in SERVICE_MODES order."""
    defaults = {
        "kind": "enterprise",
        "role": "manufacturer",
        "district": "A",
        "sector": "S",
        "park": None,
        "revenue": 10000.0,
        "margin": 0.05,
        "design_prize": False,
        "market_share_rank": np.nan,
        "held": None,
    }
    table = []
    for row in rows:
        row = {**defaults, **row}
        row["modes"] = ";".join(SERVICE_MODES[: row.pop("n_modes", 0)])
        row.setdefault("name", row["id"])
        row.setdefault("service_input_share", row["service_revenue_share"] + 0.1)
        table.append(row)
    return pd.DataFrame(table)


def set_draws(model: ServitizationModel, uniforms: list[tuple[float, float]]) -> None:
    """Set the first quarter's (adopt, which mode) uniforms of each firm, in firm order."""
    model.uniforms[0] = np.array(uniforms)


def annual_rate(probability: np.ndarray) -> np.ndarray:
    """Invert P = 1 − exp(−rate/4)."""
    return -4 * np.log1p(-np.asarray(probability))


def test_own_initiative_and_imitation_decide_who_adds_a_mode():
    """Three manufacturers of sector S, no parks, payoff switched off (sensitivity 0).
    Adopters (share ≥ 20%): F2 only.
      F1: 10%, 2 modes, peers {F2, F3} → F = ½: rate (0.03 + 0.38·½)(1 − 2/9) = 0.171111,
          P = 1 − e^(−0.171111/4) = 0.041876; its uniform 0.04 < P: adds a mode, the first
          it lacks (u_mode = 0): shared_manufacturing. Long-run share 0 + 3·0.05 = 0.15, so
          next share 0.10 + 0.25·(0.15 − 0.10) = 0.1125.
      F2: 30%, 6 modes, peers {F1, F3} → F = 0: rate 0.03·(1 − 6/9) = 0.01, P = 0.0024969;
          uniform 0.003 > P: no mode, share stays 0.30.
      F3: 5%, 1 mode, peers {F1, F2} → F = ½: rate 0.22·(8/9) = 0.195556, P = 0.047713;
          uniform 0.0478 > P: no mode, share stays 0.05.
    """
    params = SimulationParameters(payoff_sensitivity=0.0, awards_enabled=False, **QUIET)
    table = firms(
        [
            {"id": "F1", "service_revenue_share": 0.10, "n_modes": 2},
            {"id": "F2", "service_revenue_share": 0.30, "n_modes": 6},
            {"id": "F3", "service_revenue_share": 0.05, "n_modes": 1},
        ]
    )
    model = ServitizationModel(table, params, seed=0)
    set_draws(model, [(0.04, 0.0), (0.003, 0.5), (0.0478, 0.5)])
    model.step()
    np.testing.assert_allclose(model.hazard, [0.041876, 0.0024969, 0.047713], rtol=1e-4)
    f1, f2, f3 = model.firm_agents
    assert SERVICE_MODES[f1.adopted] == "shared_manufacturing" and f1.n_modes == 3
    assert f2.adopted is None and f3.adopted is None
    assert [f1.share, f2.share, f3.share] == pytest.approx([0.1125, 0.30, 0.05])


def test_j_curve_slows_firms_below_the_inflection_and_speeds_those_above():
    """No imitation (q = 0), sensitivity 1, R = 10000, margin 5%, no award money.
      Low:  10%, 2 modes: v = −0.5 → rate 0.03·(7/9)·e^−0.5 = 0.0141529
      High: 30%, 6 modes: v = +0.4 → rate 0.03·(3/9)·e^0.4 = 0.0149182
    (values of v worked out in test_value_of_the_next_mode_in_years_of_profit)."""
    params = SimulationParameters(imitation_q=0.0, awards_enabled=False, **QUIET)
    table = firms(
        [
            {"id": "LOW", "service_revenue_share": 0.10, "n_modes": 2, "sector": "X"},
            {"id": "HIGH", "service_revenue_share": 0.30, "n_modes": 6, "sector": "Y"},
        ]
    )
    model = ServitizationModel(table, params, seed=0)
    model.step()
    expected = [0.03 * 7 / 9 * math.exp(-0.5), 0.03 * 3 / 9 * math.exp(0.4)]
    np.testing.assert_allclose(annual_rate(model.hazard), expected, rtol=1e-9)


def one_programme_policy(**extra: object):
    municipal = {"level": "municipal", "amount": 20, "conferred_by": "municipal"}
    levels = extra.pop("levels", [municipal])
    revocation = extra.pop("revocation", None)
    demo = {"id": "demo", "name": "示范", "reference": "t", "levels": levels}
    if revocation:
        demo["revocation"] = revocation
    return policy_from_dict(
        {"id": "mini", "title": "测试", "years": [2024, 2025], "programmes": [demo], **extra}
    )


def test_expected_award_weighed_against_profit_and_the_pull_of_the_threshold():
    """One programme paying 20万元, applied to by firms with ≥ 20% service share (a rule
    the scenario adds, ``application_rules``); firms believe half of
    applicants get it: E[award] = ½ × 20 = 10. No imitation, payoff off, response 5, pull 2.
      SMALL: 25%, R 2000, Π 100 → × (1 + 5·10/100) = 1.5
      LARGE: 25%, R 40000, Π 2000 → × (1 + 5·10/2000) = 1.025
      SHORT: 16%, R 2000, one mode short (16% + 5% ≥ 20%) → × (1 + 5·0.1·3) = 2.5
      FAR:    5%, R 2000, still short after a mode → × 1
    Each multiplies the yearly rate the firm has without the government."""
    params = SimulationParameters(
        imitation_q=0.0,
        payoff_sensitivity=0.0,
        application_rules={"*": ["service_revenue_share >= 0.2"]},
        **QUIET,
    )
    shares = {
        "SMALL": (0.25, 2000.0),
        "LARGE": (0.25, 40000.0),
        "SHORT": (0.16, 2000.0),
        "FAR": (0.05, 2000.0),
    }
    table = firms(
        [
            {"id": k, "service_revenue_share": s, "revenue": r, "n_modes": 1}
            for k, (s, r) in shares.items()
        ]
    )
    setup = GovernmentSetup(one_programme_policy(), Budget(), AllocationSettings())
    award = ServitizationModel(table, params, [setup], seed=0)
    government = next(iter(award.governments))
    government.beliefs_ready = True
    government.rates[("demo", "municipal")] = 0.5
    twin = ServitizationModel(table, params.model_copy(update={"awards_enabled": False}), seed=0)
    award.step()
    twin.step()
    ratio = annual_rate(award.hazard) / annual_rate(twin.hazard)
    np.testing.assert_allclose(ratio, [1.5, 1.025, 2.5, 1.0])
    assert award.reach.tolist() == [False, False, True, False]


@pytest.mark.parametrize("with_rule", [True, False])
def test_round_nominates_pays_in_instalments_and_revokes_where_the_policy_says(with_rule):
    """Policy 2024-2025: "demo" pays 50万元 at provincial level (a nomination the city makes,
    conferred with probability 1) or 20 at municipal; merit weights 2/1 make the city nominate
    everyone provincially; everybody applies who has ≥ 20% (the scenario's application rule).
    Payout 50/50 over two years.
      2024Q4: A and B (25%) designated provincial, 25 each paid; C (10%) does not apply.
      2025Q4: A, pushed to 10% before the round: where the policy's revocation rule says so
              (service share below 20%), A loses its designation and the 25 still owed
              (cancelled, not paid); without the rule A keeps it and is paid.
    """
    levels = [
        {"level": "provincial", "amount": 50, "conferred_by": "provincial"},
        {"level": "municipal", "amount": 20, "conferred_by": "municipal"},
    ]
    params = SimulationParameters(
        quarters=8,
        application_rate=1.0,
        payout_schedule={"demo": [0.5, 0.5]},
        application_rules={"*": ["service_revenue_share >= 0.2"]},
        innovation_p=0.0,
        imitation_q=0.0,
        **QUIET,
    )
    revocation = {"when": "below the bar", "rule": "service_revenue_share < 0.2", "reference": "t"}
    extra = {"revocation": revocation} if with_rule else {}
    settings = AllocationSettings(
        level_weights={"provincial": 2, "municipal": 1}, success_probability={"provincial": 1.0}
    )
    table = firms(
        [
            {"id": "A", "service_revenue_share": 0.25, "n_modes": 1},
            {"id": "B", "service_revenue_share": 0.25, "n_modes": 1},
            {"id": "C", "service_revenue_share": 0.10, "n_modes": 1},
        ]
    )
    budget = Budget(per_year={2024: Decimal(1000), 2025: Decimal(1000)})
    model = ServitizationModel(
        table,
        params,
        [GovernmentSetup(one_programme_policy(levels=levels, **extra), budget, settings)],
        seed=0,
    )
    for _ in range(4):
        model.step()
    a, b, c = model.firm_agents
    assert a.held[("mini", "demo")].level == "provincial" and c.held == {}
    assert b.held[("mini", "demo")] == Holding("provincial", 50.0, 2024)
    assert [a.received, b.received, c.received] == [25.0, 25.0, 0.0]
    a.share = a.base_share = 0.10 - 0.05  # a shock takes A below the bar before 2025's round
    for _ in range(4):
        model.step()
    result = model.results()
    assert b.held[("mini", "demo")].level == "provincial"
    revoked = result.revocations[["year", "firm_id", "level", "reason", "cancelled"]]
    if with_rule:
        assert a.held == {} and [a.received, b.received] == [25.0, 50.0]
        assert revoked.values.tolist() == [[2025, "A", "provincial", "below the bar", 25.0]]
        assert result.payments.groupby("year")["paid"].sum().to_dict() == {2024: 50.0, 2025: 25.0}
        assert result.cancelled == 25.0 and result.owed == 0.0
    else:
        assert a.held[("mini", "demo")].level == "provincial"
        assert [a.received, b.received] == [50.0, 50.0] and revoked.empty
        assert result.cancelled == 0.0


def test_what_the_city_would_pay_follows_every_change_of_holdings():
    """Holdings are read once per change (FirmState.hold / release move held_version), not
    every quarter: a firm designated municipal (20) is offered provincial at the top-up 30
    and municipal not at all (no upgrade to what it holds); released, both at full price."""
    levels = [
        {"level": "provincial", "amount": 50, "conferred_by": "municipal"},
        {"level": "municipal", "amount": 20, "conferred_by": "municipal"},
    ]
    table = firms([{"id": "A", "service_revenue_share": 0.25, "n_modes": 1}])
    budget = Budget(per_year={2024: Decimal(1000), 2025: Decimal(1000)})
    model = ServitizationModel(
        table,
        SimulationParameters(**QUIET),
        [
            GovernmentSetup(
                one_programme_policy(levels=levels, upgrade="top_up"), budget, AllocationSettings()
            )
        ],
        seed=0,
    )
    (government,) = model.governments
    tiers = government.tiers(model.state_table())

    def offered() -> dict[str, float]:
        return {lv: float(v[0]) for (_, lv), v in government.payables(tiers).items()}

    assert offered() == {"provincial": 50.0, "municipal": 20.0}
    model.firms.hold(0, ("mini", "demo"), Holding("municipal", 20.0, 2024))
    held = offered()
    assert held["provincial"] == 30.0 and math.isnan(held["municipal"])
    model.firms.release(0, ("mini", "demo"))
    assert offered() == {"provincial": 50.0, "municipal": 20.0}


def test_failed_nominations_are_not_paid():
    """Same set-up with a national-only programme conferred with probability 0: the city
    nominates, nothing is conferred, nothing paid, nobody holds it."""
    levels = [{"level": "national", "amount": 150, "conferred_by": "national"}]
    params = SimulationParameters(quarters=4, application_rate=1.0, **QUIET)
    settings = AllocationSettings(success_probability={"national": 0.0})
    table = firms([{"id": "A", "service_revenue_share": 0.25, "n_modes": 1}])
    budget = Budget(per_year={2024: Decimal(1000), 2025: Decimal(1000)})
    model = ServitizationModel(
        table,
        params,
        [GovernmentSetup(one_programme_policy(levels=levels), budget, settings)],
        seed=0,
    )
    result = model.run()
    assert result.awards[["firm_id", "nomination", "conferred"]].values.tolist() == [
        ["A", True, False]
    ]
    assert result.payments.empty and model.firm_agents[0].held == {}


def test_a_policy_paying_firms_nothing_leaves_the_twin_unchanged():
    """A policy whose only programme states no amount: nothing to simulate, no incentive, the
    award world runs exactly as its twin."""
    params = SimulationParameters(quarters=4)
    table = firms(
        [{"id": f"F{i}", "service_revenue_share": 0.05 * i, "n_modes": i} for i in range(6)]
    )
    policy = one_programme_policy(levels=[{"level": "municipal", "conferred_by": "municipal"}])
    setup = GovernmentSetup(policy, Budget(), AllocationSettings())
    award = ServitizationModel(table, params, [setup], seed=3).run()
    twin = ServitizationModel(
        table, params.model_copy(update={"awards_enabled": False}), seed=3
    ).run()
    pd.testing.assert_frame_equal(award.trajectory, twin.trajectory)
    assert award.awards.empty
