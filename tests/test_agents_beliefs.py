"""What firms expect of an award: the chance the city designates or nominates them, times the
chance a nomination is conferred (counted once), times what the city would pay."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from liangye.agents.agents import GovernmentSetup
from liangye.agents.model import ServitizationModel
from liangye.agents.params import SimulationParameters
from liangye.model.policy import policy_from_dict
from liangye.model.settings import AllocationSettings, Budget


def national_only() -> GovernmentSetup:
    """A national tier of 150万元 the city nominates for; conferred with chance 0.3, so a
    nomination costs 45 in expectation. 100 a year."""
    policy = policy_from_dict(
        {
            "id": "mini",
            "title": "测试",
            "years": [2024, 2025],
            "programmes": [
                {
                    "id": "demo",
                    "name": "示范",
                    "reference": "t",
                    "levels": [{"level": "national", "amount": 150, "conferred_by": "national"}],
                }
            ],
        }
    )
    budget = Budget(per_year={2024: Decimal(100), 2025: Decimal(100)})
    return GovernmentSetup(
        policy, budget, AllocationSettings(success_probability={"national": 0.3})
    )


def four_firms() -> pd.DataFrame:
    """Four manufacturers at 25% service share (all may apply), revenue 1000 to 4000."""
    return pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "name": ["A", "B", "C", "D"],
            "kind": "enterprise",
            "role": "manufacturer",
            "district": "X",
            "sector": "S",
            "park": None,
            "revenue": [1000.0, 2000.0, 3000.0, 4000.0],
            "margin": 0.05,
            "service_revenue_share": 0.25,
            "service_input_share": 0.35,
            "modes": "industrial_design",
            "design_prize": False,
            "market_share_rank": np.nan,
            "held": None,
        }
    )


def government_of(model: ServitizationModel):
    return next(iter(model.governments))


def expected(model: ServitizationModel) -> np.ndarray:
    value, _ = government_of(model).incentives(model.state_table(), model.state_table(after=True))
    return value


def test_prior_beliefs_count_the_bureau_rule_and_conferral_once():
    """Before any round: rank by score until the money runs out. Each nomination costs 45
    expected; 45 + 45 = 90 fits 100, a third would not: two of four are nominated, a
    chance of ½. E[award] = ½ × 0.3 × 150 = 22.5 for every firm (not ½·0.3 × 0.3 × 150 =
    6.75, which counts the conferral twice)."""
    model = ServitizationModel(four_firms(), SimulationParameters(quarters=4), [national_only()])
    np.testing.assert_allclose(expected(model), [22.5] * 4)
    assert government_of(model).rates == {("demo", "national"): 0.5}


def test_beliefs_after_a_round_are_decisions_over_applicants():
    """Last round: four applied, the city nominated two, one was conferred. Chance of a
    nomination 2/4 = ½; E[award] = ½ × 0.3 × 150 = 22.5. (A belief of conferred over
    applicants, ¼, already holds the conferral; multiplied by 0.3 again it gave 11.25.)"""
    model = ServitizationModel(four_firms(), SimulationParameters(quarters=4), [national_only()])
    government = government_of(model)
    government.beliefs_ready = True
    decided = pd.DataFrame(
        {
            "programme": ["demo", "demo"],
            "level": ["national", "national"],
            "conferred": [True, False],
        }
    )
    government.update_beliefs(decided, {("demo", "national"): np.ones(4, dtype=bool)})
    assert government.rates == {("demo", "national"): 0.5}
    np.testing.assert_allclose(expected(model), [22.5] * 4)


def test_a_programme_nobody_applied_to_keeps_its_beliefs():
    model = ServitizationModel(four_firms(), SimulationParameters(quarters=4), [national_only()])
    government = government_of(model)
    government.rates[("demo", "national")] = 0.25
    government.update_beliefs(
        pd.DataFrame(columns=["programme", "level"]), {("demo", "national"): np.zeros(4, bool)}
    )
    assert government.rates == pytest.approx({("demo", "national"): 0.25})
