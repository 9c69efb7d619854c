"""Plans with a bounded risk of overrun: their time against the expected-cost plan's.

Usage:  python benchmarks/risk.py [--alphas 0.05 0.1] [--repeats 3] [--out FILE]

For each instance the whole ``allocate`` (build, solve, checks, greedy; no explanations)
runs without an overrun bound and with each ALPHA, ``--repeats`` times; the median seconds,
their ratio to the unbounded plan's, and what each plan is (status, how the solve ended,
objective, gap, the largest overrun chance of a year, the price of safety) are printed and
written to ``benchmarks/out/risk.json`` (git-ignored) unless ``--out`` says otherwise.

Instances: the bundled default scenario (Jiaxing, its synthetic pool) as it is and with a
smaller and a larger budget, with carry-over, and with another pool seed; and a family
unlike it: the allocation benchmark's eight programmes with their national and provincial
tiers made nominations (chances 0.3 and 0.5), at 300 and 1,000 candidates. The issue's
target: the default scenario's bounded plan within 2× the time of the unbounded one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from instances import YEARS, benchmark_candidates, benchmark_policy  # noqa: E402

from liangye.model.allocation import allocate  # noqa: E402
from liangye.model.options import build_problem  # noqa: E402
from liangye.model.settings import AllocationSettings, Budget  # noqa: E402


def default_variant(overrides: list[str], alpha: float | None):
    from liangye.scenarios.loader import load_scenario
    from liangye.scenarios.runner import scenario_problem

    risk = [f"allocation.overrun_risk={alpha}"] if alpha is not None else []
    scenario, base = load_scenario(None, [*overrides, *risk])
    if alpha is None:
        scenario = scenario.model_copy(
            update={"allocation": scenario.allocation.model_copy(update={"overrun_risk": None})}
        )
    return scenario_problem(scenario, base)


def nominations_problem(n: int, alpha: float | None, family: str):
    """The allocation benchmark's policy with national and provincial tiers conferred above."""
    policy = benchmark_policy(n)
    programmes = []
    for programme in policy.programmes:
        levels = [
            award.model_copy(update={"conferred_by": award.level})
            if award.level.value != "municipal"
            else award
            for award in programme.levels
        ]
        programmes.append(programme.model_copy(update={"levels": levels}))
    policy = policy.model_copy(update={"programmes": programmes})
    per_candidate = {"tight": 3, "generous": 12}[family]
    budget = Budget(per_year={t: Decimal(n * per_candidate) for t in YEARS})
    settings = AllocationSettings(
        level_weights={"national": 3, "provincial": 2, "municipal": 1},
        success_probability={"national": 0.3, "provincial": 0.5},
        overrun_risk=alpha,
    )
    return build_problem(policy, benchmark_candidates(n, 1, True), budget, settings)


INSTANCES = {
    "default scenario": lambda a: default_variant([], a),
    "default, budget 2,000": lambda a: default_variant(
        ["budget.2024=2000", "budget.2025=2000", "budget.2026=2000"], a
    ),
    "default, budget 4,500": lambda a: default_variant(
        ["budget.2024=4500", "budget.2025=4500", "budget.2026=4500"], a
    ),
    "default, carry-over": lambda a: default_variant(["budget.carry_over=true"], a),
    "default, pool seed 3": lambda a: default_variant(["candidates.synthetic.seed=3"], a),
    "nominations 300, tight": lambda a: nominations_problem(300, a, "tight"),
    "nominations 1,000, generous": lambda a: nominations_problem(1000, a, "generous"),
}


def measure(name: str, alpha: float | None, repeats: int) -> dict:
    seconds = []
    result = None
    for _ in range(repeats):
        problem = INSTANCES[name](alpha)
        started = time.perf_counter()
        result = allocate(problem, explain=False)
        seconds.append(time.perf_counter() - started)
    overrun = result.overrun or {}
    years = [v for k, v in overrun.items() if k != "any_year"]
    answer = result.to_dict()
    return {
        "instance": name,
        "alpha": alpha,
        "seconds": statistics.median(seconds),
        "status": result.status,
        "method": result.method,
        "objective": result.objective,
        "gap": result.gap,
        "max_overrun": max(years) if years else None,
        "price_of_safety": answer["price_of_safety"],
        "options": result.problem.size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.05, 0.1])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--instances", nargs="+", default=list(INSTANCES), choices=INSTANCES)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "risk.json")
    args = parser.parse_args()
    rows = []
    header = f"{'instance':30} {'alpha':>6} {'s':>7} {'×':>5} {'status':>10} {'gap':>8} {'max P':>7} {'price':>9}"
    print(header)
    for name in args.instances:
        base = measure(name, None, args.repeats)
        rows.append(base)
        for alpha in [None, *args.alphas]:
            row = base if alpha is None else measure(name, alpha, args.repeats)
            if alpha is not None:
                rows.append(row)
            ratio = row["seconds"] / base["seconds"]
            print(
                f"{name:30} {alpha if alpha is not None else '—':>6} {row['seconds']:7.2f} "
                f"{ratio:5.2f} {row['status']:>10} "
                f"{row['gap'] if row['gap'] is not None else float('nan'):8.1e} "
                f"{row['max_overrun'] if row['max_overrun'] is not None else float('nan'):7.3f} "
                f"{row['price_of_safety'] if row['price_of_safety'] is not None else float('nan'):9.1f}",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
