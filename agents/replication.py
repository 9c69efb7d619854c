"""One replication as a function of its inputs: the award world, its twin, and the outcomes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .agents import GovernmentSetup
from .draws import POPULATION_STREAM, as_seed_sequence, stream
from .model import WorldResult, run_world
from .outcomes import compare_worlds
from .params import SimulationParameters
from .population import firm_population


@dataclass
class Replication:
    """Both worlds of one replication and its named outcomes."""

    seed: np.random.SeedSequence
    population: pd.DataFrame
    award: WorldResult
    twin: WorldResult
    outcomes: dict[str, object]
    # seconds by world and, within the award world, by stage (eligibility, beliefs,
    # problem, allocate), wall-clock and as "<name>_cpu" this process's CPU: for
    # benchmarks, kept out of the outcomes
    seconds: dict[str, float] = field(default_factory=dict)


def run_replication(
    params: SimulationParameters,
    governments: Sequence[GovernmentSetup],
    start_year: int,
    seed: int | np.random.SeedSequence,
    population: pd.DataFrame | None = None,
    base: Path | None = None,
    on_step: Callable[[], None] | None = None,
) -> Replication:
    """Simulate the award world and its no-award twin from the same seed and population.

    Both models are built from the same SeedSequence, so every firm draws the same
    behavioural numbers in both; the twin has awards switched off and nothing else changed.
    ``population`` defaults to the scenario's (synthetic from this seed, or the firm file);
    ``on_step`` is called after every quarter of either world (for progress bars).
    """
    root = as_seed_sequence(seed)
    firms = (
        population
        if population is not None
        else firm_population(params, stream(root, POPULATION_STREAM), base)
    )
    started, used = time.perf_counter(), time.process_time()
    award = run_world(firms, params, governments, start_year, root, on_step)
    middle, middle_used = time.perf_counter(), time.process_time()
    twin_params = params.model_copy(update={"awards_enabled": False})
    twin = run_world(firms, twin_params, (), start_year, root, on_step)
    seconds = {
        "award_world": middle - started,
        "twin_world": time.perf_counter() - middle,
        "award_world_cpu": middle_used - used,
        "twin_world_cpu": time.process_time() - middle_used,
    }
    for stage, spent in award.seconds.items():  # the twin holds no rounds
        seconds[stage] = spent
    outcomes = compare_worlds(award, twin, params)
    return Replication(root, firms, award, twin, outcomes, seconds)
