"""Simulation speed: one replication of the default scenario, and one of 20,000 firms.

Usage:  python benchmarks/simulation.py [--replications 5] [--seed 0] [--firms 2000]
            [--large-firms 20000] [--large-replications 2] [--set KEY=VALUE ...] [--out FILE]

A replication is the award world (12 quarters, three yearly allocation rounds solved with
HiGHS) and its no-award twin. Each size runs in a fresh subprocess, so that its peak memory
is its own; within it the first replication also pays for the first solver start and is
reported apart, and the figure is the median of the others (wall-clock and CPU seconds: the
machine may be shared, CPU time says what the process itself spent). Each replication's
seconds are also split by stage (agents.records.Stopwatch; wall-clock and CPU seconds):
the allocation's ``allocate``, ``build_problem`` for the rounds and the prior beliefs
(``problem``), the prior beliefs' greedy plan (``beliefs``), the policy's eligibility read
every quarter (``eligibility``), everything else in the award world (``simulation``) and
the twin world.

Targets (issue 10): one replication of the default ≤ 0.5 s; 20,000 firms ≤ 3 s and ≤ 500 MB.
Written to ``benchmarks/out/simulation.json`` (git-ignored) unless ``--out`` says otherwise;
this script measures, the unit tests do not.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("allocate", "problem", "beliefs", "eligibility", "simulation", "twin_world")
TARGETS = {"default": (0.5, None), "large": (3.0, 500.0)}  # seconds, MB


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def stage_seconds(seconds: dict[str, float], suffix: str = "") -> dict[str, float]:
    """A replication's seconds by stage, the award world's remainder as ``simulation``:
    wall-clock, or with ``suffix="_cpu"`` this process's CPU seconds."""
    named = ("allocate", "problem", "beliefs", "eligibility")
    stages = {k: seconds.get(k + suffix, 0.0) for k in named}
    stages["simulation"] = seconds.get("award_world" + suffix, 0.0) - sum(stages.values())
    stages["twin_world"] = seconds.get("twin_world" + suffix, 0.0)
    return stages


def measure(replications: int, seed: int, firms: int, overrides: list[str]) -> dict:
    """Simulate the default scenario with ``firms`` firms and return the figures."""
    import psutil

    started = time.perf_counter()
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    logging.getLogger("liangye").setLevel(logging.ERROR)  # rounds that relax a quota, etc.
    from liangye.scenarios.loader import load_scenario
    from liangye.scenarios.simulate import simulate_scenario

    scenario, base = load_scenario(None, [f"simulation.population.firms={firms}", *overrides])
    imports = time.perf_counter() - started
    rss_before = psutil.Process().memory_info().rss / 2**20
    wall, cpu, stages, stages_cpu, conferred = [], [], [], [], []
    for k in range(replications):
        # One replication at a time, each its own spawned seed as simulate_scenario spawns
        # them, so that CPU time is per replication too.
        started, used = time.perf_counter(), time.process_time()
        run = simulate_scenario(scenario, base, seed=seed + k, replications=1)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        stages.append(stage_seconds(run.stages[0]))
        stages_cpu.append(stage_seconds(run.stages[0], "_cpu"))
        conferred.append(run.outcomes[0]["designations"]["conferred"])
    steady = slice(1, None) if replications > 1 else slice(None)
    return {
        "scenario": scenario.id,
        "firms": firms,
        "quarters": run.params.quarters,
        "replications": replications,
        "seeds": [seed + k for k in range(replications)],
        "overrides": overrides,
        "import_seconds": round(imports, 3),
        "seconds_per_replication": [round(s, 3) for s in wall],
        "cpu_seconds_per_replication": [round(s, 3) for s in cpu],
        "first_replication_seconds": round(wall[0], 3),
        "median_seconds": round(statistics.median(wall[steady]), 3),
        "median_cpu_seconds": round(statistics.median(cpu[steady]), 3),
        "median_stage_seconds": {
            s: round(statistics.median(x[s] for x in stages[steady]), 3) for s in STAGES
        },
        "median_stage_cpu_seconds": {
            s: round(statistics.median(x[s] for x in stages_cpu[steady]), 3) for s in STAGES
        },
        "rss_after_imports_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "conferred_per_replication": conferred,
    }


def in_subprocess(replications: int, seed: int, firms: int, overrides: list[str]) -> dict:
    """``measure`` in a fresh Python, so that its peak memory is its own."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--replications",
        str(replications),
        "--seed",
        str(seed),
        "--firms",
        str(firms),
    ]
    for override in overrides:
        command += ["--set", override]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, figures: dict) -> list[str]:
    """Lines for the terminal: the medians, the stages and the target."""
    seconds, memory = TARGETS[name]
    met = figures["median_seconds"] <= seconds and (
        memory is None or figures["peak_rss_mb"] <= memory
    )
    stages = ", ".join(f"{k} {v:.3f}" for k, v in figures["median_stage_seconds"].items())
    stages_cpu = ", ".join(f"{k} {v:.3f}" for k, v in figures["median_stage_cpu_seconds"].items())
    target = f"≤ {seconds} s" + (f" and ≤ {memory:.0f} MB" if memory else "")
    return [
        f"{figures['firms']} firms, {figures['quarters']} quarters, "
        f"{figures['replications']} replication(s), seeds {figures['seeds']}",
        f"  seconds per replication   {figures['seconds_per_replication']}",
        f"  CPU seconds               {figures['cpu_seconds_per_replication']}",
        f"  median after the first    {figures['median_seconds']:.3f} s "
        f"(CPU {figures['median_cpu_seconds']:.3f} s)",
        f"  by stage (median, s)      {stages}",
        f"  by stage (median, CPU s)  {stages_cpu}",
        f"  memory                    {figures['rss_after_imports_mb']:.0f} MB after imports, "
        f"peak {figures['peak_rss_mb']:.0f} MB",
        f"  target                    {target}: {'met' if met else 'NOT met'}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--large-firms", type=int, default=20000)
    parser.add_argument("--large-replications", type=int, default=2)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", type=Path, default=HERE / "out" / "simulation.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.replications, args.seed, args.firms, args.overrides)))
        return
    if args.replications < 1 or args.large_replications < 0:
        parser.error("--replications must be ≥ 1 and --large-replications ≥ 0 (0 skips it)")
    figures = {
        "default": in_subprocess(args.replications, args.seed, args.firms, args.overrides),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.large_replications:  # 0 skips the large size (a quick look at the default)
        figures["large"] = in_subprocess(
            args.large_replications, args.seed, args.large_firms, args.overrides
        )
    for name in ("default", "large"):
        if name in figures:
            print("\n".join(report(name, figures[name])))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
