"""Named sweep models besides the scenario simulation: a sweep file says ``model = "NAME"``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# A model: parameters (key → value) and a seed in, named outcomes out (None: undefined).
ModelFunction = Callable[[Mapping[str, object], int], Mapping[str, float | None]]

# The simulation of the sweep's base scenario (sweep.ScenarioModel): the default model.
SCENARIO_MODEL = "scenario"


@dataclass(frozen=True)
class NamedModel:
    """A model a sweep file can name: the function, the parameters it reads (with the value
    it takes when a sweep sets none) and the outcomes it returns."""

    function: ModelFunction
    defaults: Mapping[str, float]
    outcomes: frozenset[str]
    description: str


@dataclass(frozen=True)
class BoundModel:
    """A named model with the sweep's fixed parameters (``set``) filled in: picklable, so
    process pools and Dask workers can run it."""

    function: ModelFunction
    fixed: tuple[tuple[str, object], ...] = ()

    def __call__(self, parameters: Mapping[str, object], seed: int) -> Mapping[str, float | None]:
        return self.function({**dict(self.fixed), **parameters}, seed)


def ishigami(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """The Ishigami function ``y = sin x1 + a sin² x2 + b x3⁴ sin x1`` (Ishigami & Homma
    1990), the usual check of Sobol indices: with x1, x2, x3 uniform on [-π, π], a = 7 and
    b = 0.1, S1 ≈ 0.314, 0.442, 0 and ST ≈ 0.558, 0.442, 0.244 (``ishigami_indices``).

    ``delay`` (seconds, default 0) sleeps that long per run, to stand in for a costly model
    in benchmarks and interruption tests, and a negative one makes the run fail; the seed is
    not used (the function is deterministic).
    """
    p = {**ISHIGAMI_DEFAULTS, **parameters}
    x1, x2, x3, a, b = (float(p[k]) for k in ("x1", "x2", "x3", "a", "b"))  # type: ignore[arg-type]
    delay = float(p["delay"])  # type: ignore[arg-type]
    if delay < 0:
        # Refused by the model as it runs, not by the sweep file's checks: the way to see a
        # failed run stored with its message while the sweep goes on (docs/sweeps.md).
        raise ValueError(f"delay must be 0 or more seconds, not {delay:g}")
    if delay > 0:
        time.sleep(delay)
    return {"y": math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)}


ISHIGAMI_DEFAULTS: dict[str, float] = {
    "x1": 0.0,
    "x2": 0.0,
    "x3": 0.0,
    "a": 7.0,
    "b": 0.1,
    "delay": 0.0,
}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, tuple[float, float, float]]:
    """The Ishigami function's analytic first-order (S1) and total (ST) Sobol indices of x1,
    x2, x3 uniform on [-π, π] (Sobol' & Levitan 1999; SALib's test_functions.Ishigami)."""
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return {
        "S1": (v1 / total, v2 / total, 0.0),
        "ST": ((v1 + v13) / total, v2 / total, v13 / total),
    }


MODELS: dict[str, NamedModel] = {
    "ishigami": NamedModel(
        ishigami,
        ISHIGAMI_DEFAULTS,
        frozenset({"y"}),
        "Ishigami 函数（Sobol 指数的标准检验）",
    ),
}
