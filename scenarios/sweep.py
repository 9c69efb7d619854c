"""A sweep's design (levers × uncertainty samples × replications), its model, and running it."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liangye.model.errors import InputError, Problem
from liangye.model.policy import read_toml

from .loader import PACKAGE_DIR, apply_overrides
from .sweep_schema import BUDGET_SCALE, Discrete, Factor, Normal, Range, Sweep, column_name

log = logging.getLogger(__name__)

# A model: parameters (key → value) and a seed in, named outcomes out (None: undefined).
Model = Callable[[Mapping[str, object], int], Mapping[str, float | None]]

SWEEP_DIR = PACKAGE_DIR / "sweeps"
_EDGE = 1e-12  # unit samples are kept inside (0, 1) so that a normal's quantile stays finite


@dataclass(frozen=True)
class RunSpec:
    """One run of the design: where it stands, its parameters and its seed."""

    run_id: str
    position: int
    point: int
    replication: int
    seed: int
    levers: dict[str, object]
    uncertainties: dict[str, object]

    @property
    def parameters(self) -> dict[str, object]:
        return {**self.levers, **self.uncertainties}


@dataclass
class Design:
    """Every run of a sweep in a fixed order, with the unit samples it came from."""

    runs: list[RunSpec]
    lever_settings: int
    points: int
    unit_samples: np.ndarray | None = None  # the sampler's points in [0, 1)^d, for analysis
    sampled: list[str] = field(default_factory=list)  # the keys of the sampled dimensions
    # Cells of the design whose parameters and seed equal an earlier run's (a Sobol design
    # over listed values, integer ranges): they share that run's id and position, and are
    # written to the design beside the runs so that the analysis sees every cell.
    aliases: list[RunSpec] = field(default_factory=list)

    @property
    def cells(self) -> list[RunSpec]:
        """Every cell of the design: each run, then each cell that shares an earlier run."""
        return [*self.runs, *self.aliases]


# --- finding and checking a sweep file ----------------------------------------------


def resolve_sweep(reference: str | Path) -> Path:
    """A sweep given as a path or a bundled name (``tier-budget``) as a path."""
    path = Path(reference)
    for candidate in (path, SWEEP_DIR / path, SWEEP_DIR / f"{path}.toml"):
        if candidate.is_file():
            return candidate
    bundled = ", ".join(p.stem for p in sorted(SWEEP_DIR.glob("*.toml"))) or "none"
    raise InputError(
        [
            Problem(
                str(reference),
                "",
                f"is neither a file nor a bundled sweep (bundled: {bundled})",
                f"既不是文件，也不是内置的批量情景（内置有：{bundled.replace(', ', '、')}）",
            )
        ]
    )


def scenario_path(sweep: Sweep, sweep_file: Path) -> Path:
    """The base scenario: a path relative to the sweep file, or a bundled scenario name."""
    for candidate in (
        sweep_file.parent / sweep.scenario,
        Path(sweep.scenario),
        PACKAGE_DIR / sweep.scenario,
        PACKAGE_DIR / f"{sweep.scenario}.toml",
        PACKAGE_DIR / "examples" / f"{sweep.scenario}.toml",
    ):
        if candidate.is_file():
            return candidate
    raise InputError(
        [
            Problem(
                sweep_file.name,
                "scenario",
                f"{sweep.scenario!r} is no scenario file or name",
                f"“{sweep.scenario}”既不是情景文件，也不是内置情景的名称",
            )
        ]
    )


def toml_value(value: object) -> str:
    """``value`` as a TOML literal for a ``key=value`` override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as a TOML value")


def overrides_for(parameters: Mapping[str, object], base: dict[str, Any]) -> list[str]:
    """``key=value`` overrides for one run; ``budget_scale`` multiplies every budget of the
    base scenario data ``base``."""
    items = []
    for key, value in parameters.items():
        if key == BUDGET_SCALE:
            budget = base.get("budget", {})
            scale = float(value)  # type: ignore[arg-type]
            for year, amount in budget.get("per_year", {}).items():
                items.append(f"budget.per_year.{year}={toml_value(float(amount) * scale)}")
            if budget.get("total") is not None:
                items.append(f"budget.total={toml_value(float(budget['total']) * scale)}")
        else:
            items.append(f"{key}={toml_value(value)}")
    return items


# --- the design ------------------------------------------------------------------------


def rounded(factor: Range, value: float) -> float | int:
    """A range's value as the run gets it: a whole number when the range says integer."""
    return round(value) if factor.integer else value


def grid_values(factor: Factor) -> list[object]:
    """The values a grid crosses: the listed ones, or ``points`` evenly spaced (log-spaced
    for a log-uniform range), ends included."""
    if isinstance(factor, Discrete):
        return list(factor.values)
    assert isinstance(factor, Range) and factor.points is not None
    return list(factor.grid())


def from_unit(factor: Factor, u: float) -> object:
    """The factor's value at quantile ``u`` of its law (a listed value by equal shares)."""
    u = min(max(float(u), _EDGE), 1 - _EDGE)
    if isinstance(factor, Discrete):
        return factor.values[min(int(u * len(factor.values)), len(factor.values) - 1)]
    if isinstance(factor, Range):
        if factor.dist == "loguniform":
            value = math.exp(math.log(factor.low) + u * math.log(factor.high / factor.low))
            if factor.integer:  # rounded, but never outside the range (2.2-2.4 gave 2)
                first, last = factor.whole_numbers()
                return min(max(round(value), first), last)
        elif factor.integer:
            # Each whole number of the range an equal share (rounding a uniform draw gave the
            # two ends half the share of the others: 1..3 drew 2 half the time).
            first, last = factor.whole_numbers()
            return first + min(int(u * (last - first + 1)), last - first)
        else:
            value = factor.low + u * (factor.high - factor.low)
        return rounded(factor, value)
    assert isinstance(factor, Normal)
    from scipy.stats import norm

    # Truncated, not clipped: the quantile u of the normal law within [low, high] (clipping
    # piled the tails' mass onto the bounds: 3 of 50 points exactly at one).
    low = 0.0 if factor.low is None else float(norm.cdf(factor.low, factor.mean, factor.sd))
    high = 1.0 if factor.high is None else float(norm.cdf(factor.high, factor.mean, factor.sd))
    value = float(norm.ppf(low + u * (high - low), loc=factor.mean, scale=factor.sd))
    lowest = -math.inf if factor.low is None else factor.low
    highest = math.inf if factor.high is None else factor.high
    return min(max(value, lowest), highest)  # the float rounding of ppf, at the very ends


def unit_samples(sweep: Sweep, dimensions: int) -> np.ndarray:
    """The sampler's points in the unit cube: Latin hypercube (scipy.stats.qmc) or SALib's
    Saltelli scheme for Sobol indices (N·(d+2) rows, N·(2d+2) with second order)."""
    seed = sweep.root_seed if sweep.sampler.seed is None else sweep.sampler.seed
    n = sweep.sampler.samples
    assert n is not None
    if sweep.sampler.kind == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=dimensions, seed=np.random.default_rng(seed)).random(n)
    from SALib.sample import sobol

    problem = {
        "num_vars": dimensions,
        "names": [f"x{i}" for i in range(dimensions)],
        "bounds": [[0.0, 1.0]] * dimensions,
    }
    return sobol.sample(
        problem, n, calc_second_order=sweep.sampler.second_order, scramble=True, seed=seed
    )


def replication_seeds(root: int, replications: int) -> list[int]:
    """One seed per replication from ``SeedSequence(root).spawn(replications)``; the same for
    every lever setting and sample (common random numbers)."""
    children = np.random.SeedSequence(root).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def run_id(parameters: Mapping[str, object], seed: int) -> str:
    """A run's id: a hash of its parameters and seed (the same run, the same id)."""
    text = json.dumps({"parameters": parameters, "seed": seed}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def build_design(sweep: Sweep) -> Design:
    """Every run in a fixed order: lever setting, then sample point, then replication.

    ``cross``: the levers' grid × the uncertainties' samples (or grid), so every setting sees
    the same worlds; ``joint``: levers sampled with the uncertainties. Runs with the same
    parameters and seed (an integer range rounding two points alike, a Sobol design over
    listed values) are run once: the later cells are ``aliases`` sharing the first's id."""
    seeds = replication_seeds(sweep.root_seed, sweep.replications)
    levers, uncertain = sweep.levers, sweep.uncertainties
    units: np.ndarray | None = None
    sampled: list[str] = []
    if sweep.sampler.kind == "grid":
        lever_rows = _grid(levers)
        points = _grid(uncertain)
        combos = [(lv, pt, j) for lv in lever_rows for j, pt in enumerate(points)]
    elif sweep.sampler.combine == "cross":
        lever_rows = _grid(levers)
        sampled = list(uncertain)
        units = unit_samples(sweep, len(sampled))
        points = [
            {k: from_unit(uncertain[k], u) for k, u in zip(sampled, row, strict=True)}
            for row in units
        ]
        combos = [(lv, pt, j) for lv in lever_rows for j, pt in enumerate(points)]
    else:
        sampled = [*levers, *uncertain]
        factors = {**levers, **uncertain}
        units = unit_samples(sweep, len(sampled))
        combos = []
        for j, row in enumerate(units):
            values = {k: from_unit(factors[k], u) for k, u in zip(sampled, row, strict=True)}
            combos.append(({k: values[k] for k in levers}, {k: values[k] for k in uncertain}, j))
        lever_rows = [{}]  # levers vary with the sample: one "setting" per point
        points = [{}] * len(units)
    runs: list[RunSpec] = []
    aliases: list[RunSpec] = []
    seen: dict[str, int] = {}
    for lever_values, point_values, j in combos:
        for k, seed in enumerate(seeds):
            rid = run_id({**lever_values, **point_values}, seed)
            if rid in seen:
                aliases.append(RunSpec(rid, seen[rid], j, k, seed, lever_values, point_values))
                continue
            seen[rid] = len(runs)
            runs.append(RunSpec(rid, len(runs), j, k, seed, lever_values, point_values))
    return Design(runs, len(lever_rows), len(points), units, sampled, aliases)


def _grid(factors: Mapping[str, Factor]) -> list[dict[str, object]]:
    keys = list(factors)
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid_values(factors[k]) for k in keys))
    ]


# --- the model and running batches -------------------------------------------------------


SWEEP_THREADS = "allocation.threads=1"


@dataclass(frozen=True)
class ScenarioModel:
    """The scenario runner as a sweep model: the base scenario with the sweep's fixed
    overrides and one run's parameters, one replication from ``seed`` (``simulate_scenario``),
    its outcomes flattened as the simulation's summary names them
    (``additionality.20.net_additional``)."""

    scenario: Path
    fixed: tuple[str, ...] = ()
    quiet: bool = True  # the yearly rounds' warnings (a quota relaxed) are noise over a sweep

    def __call__(self, parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
        with _quietened(self.quiet):
            return self._run(parameters, seed)

    def _run(self, parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
        from liangye.agents.outcomes import summarise

        from .loader import load_scenario
        from .simulate import simulate_scenario

        base = apply_overrides(read_toml(self.scenario), list(self.fixed))
        # One HiGHS thread in every run, whatever the executor: the workers are the sweep's
        # parallelism (two workers with two solver threads each oversubscribe two cores), and
        # every run then solves alike in-process, on a pool or on Dask. A sweep file's own
        # allocation.threads still wins (it comes after).
        overrides = [SWEEP_THREADS, *self.fixed, *overrides_for(parameters, base)]
        try:
            scenario, folder = load_scenario(self.scenario, overrides)
        except InputError as error:  # the sweep set these values, not the user's --set
            raise InputError(
                [
                    dataclasses.replace(p, source="sweep value") if p.source == "--set" else p
                    for p in error.problems
                ]
            ) from None
        run = simulate_scenario(scenario, folder, seed=seed, replications=1)
        return {key: entry["mean"] for key, entry in summarise(run.outcomes).items()}


# What a quiet run keeps out of the terminal: the yearly rounds' warnings (a quota relaxed)
# and the setup's (no round held at a start year), said once before the first run
# (``sweep_checks.setting_warnings``) where they would repeat for every run.
QUIET_LOGGERS = ("liangye.agents", "liangye.scenarios.simulate")


_QUIET_LOCK = threading.Lock()
_quiet_runs = 0  # quiet runs under way in this process (a Dask worker may run several)
_saved_levels: list[int] = []


@contextmanager
def _quietened(quiet: bool) -> Iterator[None]:
    """Within, when ``quiet``, those loggers say errors only; their levels are put back when
    the last quiet run of the process ends (a process that ran a sweep in-process went on
    silenced; a worker's threads, each saving and restoring in turn, could leave it so)."""
    global _quiet_runs
    if not quiet:
        yield
        return
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    with _QUIET_LOCK:
        if _quiet_runs == 0:
            _saved_levels[:] = [logger.level for logger in loggers]
            for logger in loggers:
                logger.setLevel(logging.ERROR)
        _quiet_runs += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_runs -= 1
            if _quiet_runs == 0:
                for logger, level in zip(loggers, _saved_levels, strict=True):
                    logger.setLevel(level)


def run_row(spec: RunSpec) -> dict[str, object]:
    """A run's identity and parameters as store columns (outcomes and status not yet set)."""
    return {
        "run_id": spec.run_id,
        "position": spec.position,
        "point": spec.point,
        "replication": spec.replication,
        "seed": spec.seed,
        **{column_name(k): v for k, v in spec.parameters.items()},
    }


def run_batch(model: Model, runs: list[RunSpec], outcomes: list[str]) -> list[dict[str, object]]:
    """Run each run of a batch; a run that raises is returned as failed with its error, and
    the others still run. Rows carry the store's columns."""
    rows = []
    for spec in runs:
        started = time.perf_counter()
        row = run_row(spec)
        try:
            result = model(spec.parameters, spec.seed)
            row.update({column_name(k): _number(result.get(k)) for k in outcomes})
            row.update(status="ok", error=None)
        except Exception as error:  # a failed run is data: the sweep goes on
            row.update(status="failed", error=error_text(error))
            log.debug("run %s failed:\n%s", spec.run_id, traceback.format_exc())
        row["seconds"] = time.perf_counter() - started
        rows.append(row)
    return rows


def error_text(error: Exception) -> str:
    """A failed run's error as stored: its type and message, and for an input problem the
    Chinese beside each English line (the store is read by people who read Chinese)."""
    if isinstance(error, InputError):
        lines = [f"{p}（{p.zh}）" if p.zh else str(p) for p in error.problems]
        return "InputError: " + "\n".join(lines)
    return f"{type(error).__name__}: {error}"


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number


def batches(runs: list[RunSpec], size: int) -> Iterable[list[RunSpec]]:
    """Consecutive batches of at most ``size`` runs, in design order."""
    for start in range(0, len(runs), size):
        yield runs[start : start + size]
