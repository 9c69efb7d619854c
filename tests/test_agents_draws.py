"""Common random numbers: a firm's draws depend on the seed, their purpose and the firm's
position, not on how many firms are simulated nor on how many quarters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liangye.agents import draws
from liangye.agents.model import ServitizationModel
from liangye.agents.params import PopulationParameters, SimulationParameters
from liangye.agents.population import synthetic_population
from liangye.scenarios.loader import load_scenario
from liangye.scenarios.simulate import simulate_scenario

ROOT = np.random.SeedSequence(42)


def test_a_firms_numbers_are_the_same_however_many_firms_draw():
    key = (draws.BEHAVIOUR_STREAM, 3, draws.ADOPTION)
    few, many = draws.uniforms(ROOT, key, 5, 2), draws.uniforms(ROOT, key, 1000, 2)
    np.testing.assert_array_equal(few, many[:5])
    np.testing.assert_array_equal(
        draws.normals(ROOT, key, 7, 2), draws.normals(ROOT, key, 700, 2)[:7]
    )
    # Another purpose, quarter or seed is another stream.
    assert not np.allclose(few, draws.uniforms(ROOT, (draws.BEHAVIOUR_STREAM, 3, 1), 5, 2))
    assert not np.allclose(few, draws.uniforms(ROOT, (draws.BEHAVIOUR_STREAM, 4, 0), 5, 2))
    other = np.random.SeedSequence(43)
    assert not np.allclose(few, draws.uniforms(other, key, 5, 2))


def test_a_larger_synthetic_population_starts_with_the_same_firms():
    def population(firms: int) -> pd.DataFrame:
        params = SimulationParameters(population=PopulationParameters(firms=firms))
        return synthetic_population(params, np.random.SeedSequence(5))

    small, large = population(500), population(1000)
    pd.testing.assert_frame_equal(small, large.head(500))
    assert not large.iloc[500:]["revenue"].isin(small["revenue"]).all()


def firm_paths(table: pd.DataFrame, params: SimulationParameters) -> dict[str, np.ndarray]:
    """(quarters + 1) × firms: each firm's share, revenue and mode count, quarter by quarter."""
    model = ServitizationModel(table, params, seed=np.random.SeedSequence(9))
    paths: dict[str, list[np.ndarray]] = {"share": [], "revenue": [], "modes": []}

    def keep() -> None:
        paths["share"].append(model.firms.share.copy())
        paths["revenue"].append(model.firms.revenue.copy())
        paths["modes"].append(model.firms.mode_count.copy())

    keep()
    model.run(keep)
    return {name: np.array(values) for name, values in paths.items()}


def test_firm_k_moves_alike_among_500_or_1000_firms_when_nothing_couples_them():
    """No awards (the twin) and no imitation (peers would couple firms): each of the first
    500 firms of a 1,000-firm population follows the same path, quarter by quarter, as in a
    run of those 500 alone; and the run does move (modes are added, shares change)."""
    params = SimulationParameters(
        awards_enabled=False, imitation_q=0.0, population=PopulationParameters(firms=1000)
    )
    table = synthetic_population(params, np.random.SeedSequence(1))
    alone, among = firm_paths(table.head(500), params), firm_paths(table, params)
    for name in ("share", "revenue", "modes"):
        np.testing.assert_array_equal(alone[name], among[name][:, :500], err_msg=name)
    assert (among["modes"][-1] > among["modes"][0]).sum() > 20
    assert not np.allclose(among["share"][-1], among["share"][0])


def test_the_first_quarters_are_the_same_over_a_shorter_horizon():
    """The default scenario (300 firms) over 8 quarters and over 12 from the same seed: both
    worlds, every firm's draws, both rounds, what they decide and pay agree for the 8
    quarters they share. Design prizes included: the year a prize is won was drawn over the
    horizon, and moved with it (so this test once turned them off)."""
    common = ["simulation.population.firms=300"]
    runs = {
        quarters: simulate_scenario(
            *load_scenario(None, [*common, f"simulation.quarters={quarters}"]),
            seed=6,
            replications=1,
        )
        for quarters in (8, 12)
    }
    short, long = runs[8], runs[12]
    pd.testing.assert_frame_equal(
        short.trajectories, long.trajectories[long.trajectories["t"] <= 8].reset_index(drop=True)
    )
    for table in ("awards", "payments"):
        first, later = getattr(short, table), getattr(long, table)
        pd.testing.assert_frame_equal(first, later[later["year"] <= 2025].reset_index(drop=True))
    assert set(short.awards["year"]) == {2024, 2025} and short.awards["conferred"].sum() > 0
