"""The stylised facts the default model reproduces (docs/calibration.md names these tests)."""

from __future__ import annotations

import numpy as np

from liangye.agents import behaviour
from liangye.agents.calibrate import long_run
from liangye.agents.params import PopulationParameters, SimulationParameters
from liangye.agents.population import MANUFACTURER, synthetic_population


def test_starting_service_share_is_about_one_tenth():
    """At the start manufacturers earn about a tenth of their sales from services on average
    (Crozet & Milet 2014: 11.4%), while the median firm earns less: a skewed distribution."""
    params = SimulationParameters(population=PopulationParameters(firms=5000))
    table = synthetic_population(params, 11)
    shares = table.loc[table["role"] == MANUFACTURER, "service_revenue_share"]
    assert 0.09 <= shares.mean() <= 0.13
    assert shares.median() < shares.mean()


def test_payoff_inflection_lies_between_20_and_30_percent():
    """The margin change J(s) is lowest inside 20-30% (Fang, Palmatier & Steenkamp 2008), so
    one more mode is worth less than nothing below the inflection and more than its cost
    above it, for a typical firm (R 10000, margin 5.8%)."""
    params = SimulationParameters()
    grid = np.linspace(0, 0.6, 601)
    lowest = grid[np.argmin(behaviour.servitization_payoff(grid, params))]
    assert 0.2 <= lowest <= 0.3
    value = behaviour.next_mode_value(10000.0, 0.058, grid[:-50], 0.0, params)
    turns = grid[:-50][np.argmax(value > 0)]
    assert np.all(value[grid[:-50] < 0.2] < 0) and 0.2 <= turns <= 0.3


def test_uptake_is_s_shaped():
    """Without awards, the share of manufacturers at ≥ 20% service share rises slowly, then
    fast, then slowly (Bass diffusion): over 60 years of default behaviour, the gain in the
    middle twenty years beats the first twenty's and the last twenty's, for two seeds."""
    gains = []
    for seed in (0, 1):
        result, _ = long_run(quarters=240, firms=400, seed=seed)
        uptake = result.trajectory["share_above_20"].to_numpy()
        gains.append([uptake[80] - uptake[0], uptake[160] - uptake[80], uptake[240] - uptake[160]])
    first, middle, last = np.mean(gains, axis=0)
    assert middle > first and middle > last
    assert result.trajectory["share_above_20"].iloc[-1] > 0.6  # most firms get there in the end
