"""Simulation speed: seconds per replication of the default scenario, and peak memory.

Usage:  python benchmarks/simulation.py [--replications 3] [--seed 0] [--firms 2000] [--set KEY=VALUE ...] [--out FILE]

A replication is the award world (about 2,000 firms, 12 quarters, three yearly allocation
rounds solved with HiGHS) and its no-award twin. The first replication also pays for imports
and the first solver start, so it is reported apart. Printed as a table; written to
``benchmarks/out/simulation.json`` (git-ignored) unless ``--out`` says otherwise. The target
is seconds, not minutes; this script measures, the unit tests do not.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(replications: int, seed: int, firms: int, overrides: list[str]) -> dict:
    """Simulate the default scenario and return the figures (seconds, memory, size, rounds)."""
    started = time.perf_counter()
    from liangye.scenarios.loader import load_scenario
    from liangye.scenarios.simulate import simulate_scenario

    scenario, base = load_scenario(None, [f"simulation.population.firms={firms}", *overrides])
    imports = time.perf_counter() - started
    run = simulate_scenario(scenario, base, seed=seed, replications=replications)
    rounds = run.awards.groupby("replication")["year"].nunique().tolist()
    conferred = [o["designations"]["conferred"] for o in run.outcomes]
    steady = run.seconds[1:] or run.seconds
    return {
        "scenario": scenario.id,
        "firms": firms,
        "quarters": run.params.quarters,
        "replications": replications,
        "seed": seed,
        "overrides": overrides,
        "import_seconds": round(imports, 3),
        "seconds_per_replication": [round(s, 3) for s in run.seconds],
        "first_replication_seconds": round(run.seconds[0], 3),
        "median_seconds_after_first": round(statistics.median(steady), 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "allocation_rounds_per_replication": rounds,
        "conferred_per_replication": conferred,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", type=Path, default=HERE / "out" / "simulation.json")
    args = parser.parse_args()
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    figures = measure(args.replications, args.seed, args.firms, args.overrides)
    print(
        f"default scenario, {figures['firms']} firms, {figures['quarters']} quarters, "
        f"{figures['replications']} replication(s), seed {figures['seed']}"
    )
    print(f"  seconds per replication   {figures['seconds_per_replication']}")
    print(f"  first (with solver start) {figures['first_replication_seconds']:.2f} s")
    print(f"  median after the first    {figures['median_seconds_after_first']:.2f} s")
    print(f"  peak memory               {figures['peak_rss_mb']:.0f} MB")
    print(f"  allocation rounds         {figures['allocation_rounds_per_replication']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
