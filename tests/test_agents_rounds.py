"""The government's round helpers: which programmes are simulated, what firms would be paid,
quotas paced over the years, merit and revocation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liangye.agents import behaviour
from liangye.agents.params import SimulationParameters
from liangye.agents.rounds import (
    open_tiers,
    paced_policy,
    payable,
    revocation_reasons,
    round_settings,
    simulated_policy,
)
from liangye.model.errors import InputError
from liangye.model.policy import policy_from_dict
from liangye.model.settings import AllocationSettings

from conftest import liangye

TIERS = [
    {"level": "national", "amount": 150, "conferred_by": "national"},
    {"level": "provincial", "amount": 50, "conferred_by": "provincial"},
    {"level": "municipal", "amount": 20, "conferred_by": "municipal"},
]


def policy(**extra):
    def programme(pid: str, levels=TIERS, **more):
        return {"id": pid, "name": pid, "reference": "t", "levels": levels, **more}

    return policy_from_dict(
        {
            "id": "p",
            "title": "测试",
            "years": [2024, 2026],
            "programmes": [
                programme("paid"),
                programme("unpaid", [{"level": "municipal"}]),
                programme("parks", kinds=["park"]),
                programme("needs_column", eligibility=["exports > 0"]),
            ],
            "quotas": [
                {"programmes": ["paid"], "per": "horizon", "min": 18},
                {"programmes": ["unpaid"], "per": "year", "min": 10},
            ],
            **extra,
        }
    )


COLUMNS = {"revenue", "service_revenue_share", "sector", "role", "kind"}


def test_only_programmes_firms_can_hold_and_that_pay_are_simulated():
    """ "unpaid" has no amount, "parks" is for parks, "needs_column" reads a column firms lack;
    the quota over "unpaid" goes with it. Naming an amount for "unpaid" brings it in."""
    simulated, reasons, _ = simulated_policy(
        policy(), AllocationSettings(), SimulationParameters(), COLUMNS
    )
    assert simulated.programme_ids == ["paid"]
    assert [q.programmes for q in simulated.quotas] == [["paid"]]
    assert len(reasons) == 3 and any("exports" in en and "exports" in zh for en, zh in reasons)
    named = AllocationSettings(amounts={"unpaid": {"municipal": 5}})
    simulated, _, _ = simulated_policy(policy(), named, SimulationParameters(), COLUMNS)
    assert simulated.programme_ids == ["paid", "unpaid"]


def firms_table(n: int = 2) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(n)],
            "kind": "enterprise",
            "role": "manufacturer",
            "revenue": 1000.0,
            "service_revenue_share": [0.25, 0.15][:n],
            "sector": "S",
        }
    )


def test_award_scale_multiplies_tiers_and_overrides():
    """award_scale 2: 150/50/20 become 300/100/40, an override of 5 becomes 10 (the tiers
    read by the model's one reading of the policy, as the allocation reads them)."""
    params = SimulationParameters(award_scale=2)
    named = AllocationSettings(
        amounts={"unpaid": {"municipal": 5}},
        success_probability={"national": 0.3, "provincial": 0.5},
    )
    simulated, _, _ = simulated_policy(policy(), named, params, COLUMNS)
    settings = round_settings(named, simulated, params)
    tiers = {
        (t.programme.id, t.level): t for t in open_tiers(simulated, settings, firms_table(), params)
    }
    assert [tiers[("paid", lv)].amounts()[0] for lv in ("national", "provincial", "municipal")] == [
        300,
        100,
        40,
    ]
    assert tiers[("unpaid", "municipal")].amounts()[0] == 10
    assert tiers[("paid", "national")].decision == "nomination"
    assert tiers[("paid", "national")].chance == 0.3


def test_firms_apply_where_the_policy_admits_them_unless_the_scenario_adds_a_rule():
    """No bar of the simulation's own: both firms (25% and 15% service share) may apply to
    "paid"; a scenario's application rule of 20% leaves the second out."""
    settings = AllocationSettings()
    simulated, _, _ = simulated_policy(policy(), settings, SimulationParameters(), COLUMNS)
    (tier, *_) = open_tiers(simulated, settings, firms_table(), SimulationParameters())
    assert tier.eligible.tolist() == [True, True]
    barred = SimulationParameters(application_rules={"*": ["service_revenue_share >= 0.2"]})
    (tier, *_) = open_tiers(simulated, settings, firms_table(), barred)
    assert tier.eligible.tolist() == [True, False]


def test_application_rules_must_name_programmes_of_the_policy():
    """Bad input (exit 2, in Chinese too), not an internal error."""
    params = SimulationParameters(application_rules={"no_such": ["revenue > 1"]})
    with pytest.raises(InputError, match="no_such") as raised:
        simulated_policy(policy(), AllocationSettings(), params, COLUMNS)
    assert "“no_such”不是政策" in raised.value.problems[0].zh


def test_an_application_rule_reading_a_column_firms_lack_is_refused_before_the_run():
    """A rule the scenario adds reads the firm table; a column it lacks is said when the
    policy is set up (it used to surface as an internal error in the first quarter)."""
    params = SimulationParameters(application_rules={"*": ["no_such_column > 1"]})
    with pytest.raises(InputError, match="no_such_column") as raised:
        simulated_policy(policy(), AllocationSettings(), params, COLUMNS)
    problem = raised.value.problems[0]
    assert problem.where == "simulation.application_rules.*"
    assert "企业表中不存在" in problem.zh


def validated_with_rule(tmp_path, rule: str) -> tuple[int, str]:
    """``liangye validate`` of the default scenario with one simulation application rule for
    the design award: (exit code, what it said with its line wrapping undone)."""
    scenario = tmp_path / "s.toml"
    text = (Path(__file__).parents[1] / "scenarios" / "default.toml").read_text(encoding="utf-8")
    scenario.write_text(
        text + f'\n[simulation.application_rules]\ndesign_award = ["{rule}"]\n',
        encoding="utf-8",
    )
    done = liangye("validate", str(scenario))
    return done.returncode, "".join((done.stdout + done.stderr).split())


def test_an_application_rule_that_does_not_read_is_refused_with_the_scenario(tmp_path):
    """A rule with a syntax error is refused when the scenario is read (liangye validate
    says so; the run stopped halfway with exit 1 and an English message naming no key)."""
    code, said = validated_with_rule(tmp_path, "revenue >")
    assert code == 2 and "Traceback" not in said
    assert (
        "simulation.application_rules" in said and "“design_award”的条件“revenue>”无法解读" in said
    )


def test_validate_refuses_an_application_rule_reading_a_column_the_firms_lack(tmp_path):
    """The simulation refuses it before its first quarter; validate said nothing of it, and
    a run stopped after writing its allocation."""
    code, said = validated_with_rule(tmp_path, "no_such_column > 1")
    assert code == 2 and "Traceback" not in said
    assert "simulation.application_rules.design_award" in said and "no_such_column" in said


@pytest.mark.parametrize(
    ("upgrade", "expected"),
    [("top_up", [130, 30, np.nan]), ("full", [150, 50, np.nan]), ("none", [np.nan] * 3)],
)
def test_what_the_city_would_pay_a_holder(upgrade, expected):
    """就高不重复: a firm paid 20 in the matter would get, under top-up, 130 for national, 30
    for provincial and nothing (not open: NaN) for municipal again; the full amounts under
    full; nothing under none. A firm holding nothing gets the tiers. The pricing is the
    allocation's (``model.decisions.upgrade_prices``)."""
    settings = AllocationSettings()
    params = SimulationParameters()
    shaped, _, _ = simulated_policy(policy(upgrade=upgrade), settings, params, COLUMNS)
    tiers = open_tiers(shaped, settings, firms_table(), params)[:3]
    paid, holds, title = np.array([20.0, 0.0]), np.array([True, False]), np.zeros(2, bool)
    pays = np.array([payable(t, paid, holds, title, shaped) for t in tiers]).T
    np.testing.assert_allclose(pays[0], expected)
    np.testing.assert_allclose(pays[1], [150, 50, 20])


def test_horizon_quota_is_paced_over_the_years_left():
    """min 18 over 2024-2026: 6 asked in 2024; with 7 made by 2025, ⌈11/2⌉ = 6; with 17 made
    by 2026, 1. The yearly quota is untouched."""
    made = pd.DataFrame({"programme": ["paid"] * 7, "level": "municipal", "year": 2024})
    assert paced_policy(policy(), 2024, made.iloc[:0]).quotas[0].min == 6
    assert paced_policy(policy(), 2025, made).quotas[0].min == 6
    later = pd.concat([made] * 3).iloc[:17]
    assert paced_policy(policy(), 2026, later).quotas[0].min == 1
    assert paced_policy(policy(), 2026, later).quotas[1].min == 10


def test_a_stock_target_counts_holdings_once_over_the_whole_population():
    """A stock target (counts_held) of min 18 over 2024-2026, in 2025: 4 made in 2024 and 5
    held before the simulation (by any firm, applicant or not) leave 9, so ⌈9/2⌉ = 5 this
    year; the paced quota no longer asks the allocation to subtract holdings again."""
    stock = policy().model_copy(
        update={"quotas": [policy().quotas[0].model_copy(update={"counts_held": True})]}
    )
    made = pd.DataFrame({"programme": ["paid"] * 4, "level": "municipal", "year": 2024})
    before = pd.DataFrame({"programme": ["paid"] * 5, "level": "municipal"})
    (paced,) = paced_policy(stock, 2025, made, before).quotas
    assert paced.min == 5 and not paced.counts_held
    # Without holdings before, only what was made counts: ⌈14/2⌉ = 7.
    assert paced_policy(stock, 2025, made).quotas[0].min == 7


def test_true_merit_weighs_size_and_service_share():
    """log revenue 0 and 2, shares 0.1 and 0.3: both standardise to (−1, 1); half and half
    gives (−1, 1); opposite rankings cancel to (0, 0)."""
    revenue = np.exp([0.0, 2.0])
    np.testing.assert_allclose(behaviour.true_merit(revenue, np.array([0.1, 0.3]), 0.5), [-1, 1])
    np.testing.assert_allclose(
        behaviour.true_merit(revenue, np.array([0.3, 0.1]), 0.5), [0, 0], atol=1e-12
    )


def test_only_a_policy_rule_or_a_term_withdraws_a_designation():
    """No revocation of the simulation's own: a holder below 20% keeps its designation
    unless the policy states a revocation rule (then the rule's words are the reason); a
    term of two years lapses a 2023 designation in 2025."""
    holders = pd.DataFrame({"service_revenue_share": [0.25, 0.15]})
    plain = policy().programmes[0]
    assert revocation_reasons(plain, holders, [2024, 2024], 2025) == [None, None]
    revoked = policy_from_dict(
        {
            "id": "p",
            "title": "t",
            "years": [2024, 2026],
            "programmes": [
                {
                    **plain.model_dump(mode="json", exclude_none=True),
                    "revocation": {
                        "when": "评估不合格",
                        "rule": "service_revenue_share < 0.2",
                        "reference": "t",
                    },
                    "term": {"years": 2, "reference": "t"},
                }
            ],
        }
    ).programmes[0]
    assert revocation_reasons(revoked, holders, [2024, 2024], 2025) == [None, "评估不合格"]
    assert revocation_reasons(revoked, holders, [2023, 2024], 2025) == ["term ended", "评估不合格"]


def test_payout_schedule_must_name_programmes_of_the_policy():
    """A schedule for a programme the policy does not have is an error naming it (it would
    otherwise be ignored and every award paid at once)."""
    params = SimulationParameters(payout_schedule={"paid": [0.5, 0.5], "piad": [1.0]})
    with pytest.raises(InputError, match="payout_schedule: names piad"):
        simulated_policy(policy(), AllocationSettings(), params, COLUMNS)


def test_yearly_quotas_bind_the_round_year_only():
    """A round's solve spans the later years for their budgets; a yearly minimum of 10 must
    not ask for 10 designations in years the round does not decide: it is kept for the round
    year alone. A yearly quota limited to 2025 is dropped in 2024's round."""
    paced = paced_policy(policy(), 2024, pd.DataFrame(columns=["programme", "level", "year"]))
    assert paced.quotas[1].per == "year" and paced.quotas[1].years == [2024]
    only_2025 = policy(quotas=[{"programmes": ["paid"], "per": "year", "years": [2025], "min": 3}])
    assert paced_policy(only_2025, 2024, pd.DataFrame()).quotas == []
    assert paced_policy(only_2025, 2025, pd.DataFrame()).quotas[0].years == [2025]
