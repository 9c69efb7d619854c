"""Budget frontier speed: N budgets against one solve of the same scenario.

Usage:  python benchmarks/frontier.py [--points 10] [--low 0.7] [--high 1.6]
            [--scenario FILE ...] [--unbounded-default] [--out FILE]

For each scenario (the bundled default with its overrun bound, the example scenarios that
have a budget, and with ``--unbounded-default`` the default without its bound; or the files
``--scenario`` names) this measures one whole
``allocate`` at the scenario's own budget (build, compile and solve, no explanations: what a
frontier point replaces) and then the frontier of ``--points`` budgets evenly spaced from
``--low`` to ``--high`` times the budget (``model.frontier.budget_frontier``: one model,
re-used in place), and the same budgets each solved afresh by a whole ``allocate``.
Wall-clock and CPU seconds of this process; the ratios (frontier / one solve, frontier /
the budgets afresh) are measured in the same run. The scenario's own budget is not always
a typical one: a budget at which the rounded relaxation is already proven (Wuhan's) solves
in a tenth of the time of its neighbours, so both ratios are shown. Each frontier point's status and method are kept, so a
point that had to prove a budget infeasible (the costliest kind) shows as such.

Target (issue 10): a frontier of 10 budgets ≤ 3× one solve.
Written to ``benchmarks/out/frontier.json`` (git-ignored) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import platform
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_RATIO = 3.0


def timed(call):
    """(result, wall seconds, CPU seconds) of ``call()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def measure(path: Path | None, unbounded: bool, scales: list[float]) -> dict | None:
    """One solve and the frontier of one scenario (``path`` None: the bundled default);
    ``unbounded`` drops its overrun bound. None for a scenario without a budget."""
    from liangye.model.allocation import allocate
    from liangye.model.frontier import budget_frontier, scaled
    from liangye.scenarios.loader import load_scenario
    from liangye.scenarios.runner import scenario_problem

    scenario, base = load_scenario(path, [])
    problem = scenario_problem(scenario, base)
    if problem.budget.unlimited:
        return None
    if unbounded:
        settings = problem.settings.model_copy(update={"overrun_risk": None})
        problem = dataclasses.replace(problem, settings=settings)
    one, one_wall, one_cpu = timed(lambda: allocate(problem, explain=False))
    table, wall, cpu = timed(lambda: budget_frontier(problem, scales))
    # The same budgets solved afresh, each a whole allocate: what N solves would cost.
    fresh_wall = fresh_cpu = 0.0
    for scale in scales:
        _, point_wall, point_cpu = timed(
            lambda scale=scale: allocate(scaled(problem, scale), explain=False, diagnose=False)
        )
        fresh_wall, fresh_cpu = fresh_wall + point_wall, fresh_cpu + point_cpu
    return {
        "scenario": scenario.id + (" (no overrun bound)" if unbounded else ""),
        "options": problem.size,
        "overrun_risk": problem.settings.overrun_risk,
        "one_solve": {"status": str(one.status), "wall": one_wall, "cpu": one_cpu},
        "frontier": {"points": len(scales), "wall": wall, "cpu": cpu},
        "afresh": {"wall": fresh_wall, "cpu": fresh_cpu},
        "ratio_wall": wall / one_wall,
        "ratio_to_afresh": wall / fresh_wall,
        "ratio_cpu": cpu / max(one_cpu, 1e-9),
        "points": [
            {
                "scale": float(row.scale),
                "status": str(row.status),
                "seconds": float(row.seconds),
                "method": str(row.method),
            }
            for row in table.itertuples()
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=10)
    parser.add_argument("--low", type=float, default=0.7)
    parser.add_argument("--high", type=float, default=1.6)
    parser.add_argument("--scenario", type=Path, nargs="*", default=None)
    parser.add_argument(
        "--unbounded-default",
        action="store_true",
        help="also the default scenario without its overrun bound (its larger budgets take "
        "40-50 s each to prove, afresh and on the frontier alike: about 8 minutes)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "out" / "frontier.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    scales = [round(float(s), 4) for s in np.linspace(args.low, args.high, args.points)]
    cases: list[tuple[Path | None, bool]]
    if args.scenario:
        cases = [(path, False) for path in args.scenario]
    else:
        examples = sorted((ROOT / "scenarios" / "examples").glob("*.toml"))
        cases = [(None, False)] + [(path, False) for path in examples]
        if args.unbounded_default:
            cases.insert(1, (None, True))
    results = []
    print(
        f"{'scenario':40} {'options':>7} {'one solve':>10} {'frontier':>9} {'ratio':>6}"
        f" {'afresh':>8} {'ratio':>6}"
    )
    for path, unbounded in cases:
        figures = measure(path, unbounded, scales)
        if figures is None:
            print(f"{path.name if path else path!s:40} no budget to scale: left out")
            continue
        results.append(figures)
        print(
            f"{figures['scenario'][:40]:40} {figures['options']:7d} "
            f"{figures['one_solve']['wall']:9.2f}s {figures['frontier']['wall']:8.2f}s "
            f"{figures['ratio_wall']:5.1f}× {figures['afresh']['wall']:7.2f}s "
            f"{figures['ratio_to_afresh']:5.2f}×"
        )
        slow = [p for p in figures["points"] if p["seconds"] > figures["one_solve"]["wall"]]
        for point in slow:
            print(f"    × {point['scale']}: {point['status']} in {point['seconds']:.2f}s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "scales": scales,
                "target_ratio": TARGET_RATIO,
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
