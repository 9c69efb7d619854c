"""The behaviour rules as pure functions, each against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liangye.agents import behaviour
from liangye.agents.params import SimulationParameters

DEFAULTS = SimulationParameters()


def test_yearly_rate_becomes_a_quarterly_probability():
    """p = 0.03/year is a hazard: P(quarter) = 1 − e^(−0.03/4) = 0.0074719, not 0.0075."""
    assert behaviour.quarterly_probability(0.03) == pytest.approx(1 - math.exp(-0.0075))
    assert behaviour.quarterly_probability(0.03) < 0.0075
    # Four quarters at the quarterly probability make the yearly 1 − e^(−0.03).
    q = behaviour.quarterly_probability(0.03)
    assert 1 - (1 - q) ** 4 == pytest.approx(1 - math.exp(-0.03))


def test_bass_rate_adds_imitation_of_adopting_peers():
    """p + q·F: with half the peers adopting, 0.03 + 0.38 × 0.5 = 0.22 a year."""
    assert behaviour.bass_rate(0.03, 0.38, 0.5) == pytest.approx(0.22)
    assert behaviour.bass_rate(0.03, 0.38, 0.0) == pytest.approx(0.03)


def test_pull_diminishes_as_a_firm_runs_more_modes():
    """1 − n/9: a firm with 0, 3 and 9 of the nine modes keeps 1, 2/3 and 0 of the pull."""
    np.testing.assert_allclose(behaviour.remaining_potential([0, 3, 9], 9), [1, 2 / 3, 0])


def test_peer_adoption_mixes_park_and_sector_and_leaves_the_firm_out():
    """A, B in park P and sector S; C in sector S outside parks; D alone in sector T.
    Adopters: A and C. With park weight 0.5:
      A: park others {B} → 0;  sector others {B, C} → ½;  F = ½·0 + ½·½ = 0.25
      B: park others {A} → 1;  sector others {A, C} → 1;  F = 1
      C: no park: sector others {A, B} → ½
      D: no peer at all → 0
    """
    peers = behaviour.peer_adoption(
        np.array([True, False, True, False]),
        np.array(["P", "P", None, None], dtype=object),
        np.array(["S", "S", "S", "T"], dtype=object),
        0.5,
    )
    np.testing.assert_allclose(peers, [0.25, 1.0, 0.5, 0.0])


def test_j_curve_costs_first_then_pays_above_the_inflection():
    """J(s) = −0.1·s + 0.3·max(0, s − 0.25): J(0.1) = −0.01, J(0.25) = −0.025 (lowest),
    J(0.35) = −0.035 + 0.03 = −0.005, J(0.375) = 0 (break-even), J(0.5) = +0.025."""
    values = behaviour.servitization_payoff(np.array([0.1, 0.25, 0.35, 0.375, 0.5]), DEFAULTS)
    np.testing.assert_allclose(values, [-0.01, -0.025, -0.005, 0.0, 0.025], atol=1e-12)


def test_value_of_the_next_mode_in_years_of_profit():
    """R = 10000, margin 5% (Π = 500), δ = 0.05, H = 3, cost 1% of R = 100:
    heading for 10%: ΔJ = J(0.15) − J(0.10) = −0.005 → (3·10000·(−0.005) − 100)/500 = −0.5;
    with 100 of award money in hand the cost is covered: −150/500 = −0.3;
    heading for 30%: ΔJ = J(0.35) − J(0.30) = −0.005 − (−0.015) = 0.01 → (300 − 100)/500 = 0.4.
    """
    value = behaviour.next_mode_value(
        np.array([10000.0, 10000.0, 10000.0]),
        0.05,
        np.array([0.10, 0.10, 0.30]),
        np.array([0.0, 100.0, 0.0]),
        DEFAULTS,
    )
    np.testing.assert_allclose(value, [-0.5, -0.3, 0.4])
    np.testing.assert_allclose(
        behaviour.payoff_multiplier(value, 1.0, 5.0), np.exp([-0.5, -0.3, 0.4])
    )


def test_award_weighed_against_profit_and_the_threshold_pull():
    """E[award] 10万元, response 5, pull 2:
    profit 100 → 1 + 5·0.1 = 1.5; profit 2000 → 1 + 5·0.005 = 1.025 (small award, large firm);
    one mode short of eligibility, profit 100 → 1 + 5·0.1·(1 + 2) = 2.5; no award → 1."""
    result = behaviour.award_multiplier(
        np.array([10.0, 10.0, 10.0, 0.0]),
        np.array([100.0, 2000.0, 100.0, 100.0]),
        np.array([False, False, True, False]),
        response=5.0,
        pull=2.0,
    )
    np.testing.assert_allclose(result, [1.5, 1.025, 2.5, 1.0])


def test_profit_base_floors_loss_makers():
    """Π = max(R·m, 1%·R): 1000 at 5% → 50; at −3% → 10."""
    np.testing.assert_allclose(
        behaviour.profit_base([1000.0, 1000.0], [0.05, -0.03], 0.01), [50, 10]
    )


def test_service_share_ramps_towards_its_long_run_level():
    """s' = s + a(s⁺ − s) + σz: 0.10 + 0.25·(0.20 − 0.10) + 0.01·1 = 0.135; never below 0."""
    assert behaviour.share_step(0.10, 0.20, 0.25, 0.01, 1.0) == pytest.approx(0.135)
    assert behaviour.share_step(0.0, 0.0, 0.25, 0.01, -3.0) == 0.0
    assert behaviour.long_run_share(0.02, 3, 0.05, 0.9) == pytest.approx(0.17)
    assert behaviour.long_run_share(0.5, 9, 0.05, 0.9) == pytest.approx(0.9)


def test_revenue_walk():
    """R' = R·exp(g/4 + σ/2·z): 1000 at g = 5%, z = 0 → 1000·e^0.0125; z = 1, σ = 0.1 → e^0.0625."""
    assert behaviour.revenue_step(1000.0, 0.05, 0.1, 0.0) == pytest.approx(1000 * math.exp(0.0125))
    assert behaviour.revenue_step(1000.0, 0.05, 0.1, 1.0) == pytest.approx(1000 * math.exp(0.0625))


def test_two_panels_agree_as_weakly_as_kappa():
    """Scores of the same firms by two independent panels correlate κ (here 0.23), and a
    panel without noise (κ = 1) ranks firms exactly by quality."""
    rng = np.random.default_rng(0)
    quality = rng.normal(size=20000)
    first = behaviour.panel_scores(quality, 0.23, rng.normal(size=20000), 70.0, 10.0)
    second = behaviour.panel_scores(quality, 0.23, rng.normal(size=20000), 70.0, 10.0)
    assert np.corrcoef(first, second)[0, 1] == pytest.approx(0.23, abs=0.03)
    exact = behaviour.panel_scores(quality[:50], 1.0, np.zeros(50), 70.0, 10.0)
    assert np.all(np.diff(exact[np.argsort(quality[:50])]) >= 0)


def test_payoff_multiplier_is_bounded_by_payoff_clip():
    """exp(β·v) with |β·v| ≤ clip: v = 10 and −10 years of profit at clip 2 give e^±2;
    v = 0.5 is inside the bound: e^0.5."""
    np.testing.assert_allclose(
        behaviour.payoff_multiplier(np.array([10.0, -10.0, 0.5]), 1.0, 2.0),
        np.exp([2.0, -2.0, 0.5]),
    )


def test_panel_scores_use_the_named_score_scale():
    """Quality 0, 1, 2 standardises to −1.2247, 0, 1.2247; a noiseless panel (κ = 1) with
    mean 60 and spread 5 scores 60 ∓ 6.12 → 53.9, 60.0, 66.1 (rounded to 0.1); a score
    scale pushing past 100 is clipped to it."""
    scores = behaviour.panel_scores(np.array([0.0, 1.0, 2.0]), 1.0, np.zeros(3), 60.0, 5.0)
    np.testing.assert_allclose(scores, [53.9, 60.0, 66.1])
    high = behaviour.panel_scores(np.array([0.0, 1.0, 2.0]), 1.0, np.zeros(3), 95.0, 10.0)
    np.testing.assert_allclose(high, [82.8, 95.0, 100.0])
