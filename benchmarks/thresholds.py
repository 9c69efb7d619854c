"""What it would have taken, settled by default: its time and how far it gets.

Usage:  python benchmarks/thresholds.py [--repeats 3] [--cli-runs 5] [--out FILE]

For each instance of tests/test_thresholds.py (random instances of 12-40 firms, 1-3
programmes, 1-2 years, budgets tight and loose, with and without quotas, and the two-matter
family of 12-16 firms) the allocation runs without explanations, by default (estimates, then
figures settled by re-solving within ``threshold_settle.AUTO_WORK``), and with no budget of
work (every figure settled); the median seconds, the work spent (option-solves) and how many
candidates were settled are printed and written to ``benchmarks/out/thresholds.json``
(git-ignored) unless ``--out`` says otherwise.

Then the issue's limits, whole processes: ``liangye allocate`` on the 50-candidate Jiaxing
table (synthetic_candidates(50, 0, seed=3), as tests/test_cli.py writes it; at most 1.5 s),
``--cli-runs`` times with and without a budget, past ``threshold_settle.AUTO_LIMIT`` options
so only estimated.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from test_thresholds import CASES, instance, problem_of, random_instance  # noqa: E402

from liangye.model import threshold_settle, threshold_solves  # noqa: E402
from liangye.model.allocation import allocate  # noqa: E402
from liangye.model.synthetic import synthetic_candidates  # noqa: E402

HEADER = "编号,企业名称,类型,所在县区,所属行业,营业收入（万元）,服务投入占比,服务收入占比,评分,design_prize"


def instances() -> list[tuple[str, object]]:
    """(label, problem) of every instance measured."""
    found = []
    for case in CASES:
        seed, firms, programmes, years, tight, quota = case
        label = (
            f"random seed {seed}: {firms} firms, {programmes} programmes, {years} years, "
            f"{'tight' if tight else 'loose'}{', quota' if quota else ''}"
        )
        found.append((label, problem_of(*random_instance(*case))))
    for seed, n in [(1, 12), (1, 14), (2, 14), (3, 16)]:
        found.append((f"two matters seed {seed}: {n} firms", problem_of(*instance(seed, n))))
    return found


def measure(problem, repeats: int, work: float | None) -> dict:
    """Median seconds of ``allocate(problem)`` with the automatic budget ``work`` (None: no
    explanations at all), the work spent and the candidates settled."""
    spent: list[threshold_solves.Work] = []
    original = threshold_solves.Work.__init__

    def counting(self, units: float) -> None:
        original(self, units)
        spent.append(self)

    saved = threshold_settle.AUTO_WORK
    threshold_solves.Work.__init__ = counting
    try:
        if work is not None:
            threshold_settle.AUTO_WORK = work
        seconds = []
        for _ in range(repeats):
            spent.clear()
            started = time.perf_counter()
            result = allocate(problem, explain=work is not None)
            seconds.append(time.perf_counter() - started)
    finally:
        threshold_solves.Work.__init__ = original
        threshold_settle.AUTO_WORK = saved
    record = {"seconds": round(statistics.median(seconds), 3)}
    if work is not None:
        reasons = result.reasons
        owed = reasons[["score_needed", "extra_budget_wan", "score_margin"]].notna().any(axis=1)
        record.update(
            work=round(spent[0].spent) if spent else 0,
            settled=int(reasons["threshold_confirmed"].sum()),
            with_figures=int(owed.sum()),
        )
    return record


def cli_seconds(runs: int, budget: bool) -> list[float]:
    """Whole-process seconds of ``liangye allocate --json`` on the 50-candidate table."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "candidates.csv"
        pool = synthetic_candidates(50, 0, seed=3)
        lines = [
            f"{r.id},{r.name},企业,{r.district},{r.sector},{r.revenue},{r.service_input_share},"
            f"{r.service_revenue_share},{int(r.score)},{'是' if r.design_prize else '否'}"
            for r in pool.itertuples()
        ]
        path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="gb18030")
        command = [
            sys.executable,
            "-c",
            "from liangye.scenarios.cli import main; main()",
            "allocate",
            "--policy",
            "jiaxing-2024-2026",
            "--candidates",
            str(path),
            "--chance",
            "national=0.3",
            "--chance",
            "省级=0.5",
            "--json",
            *(["--budget", "600"] if budget else []),
        ]
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            seconds.append(round(time.perf_counter() - started, 3))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "thresholds.json")
    args = parser.parse_args()
    rows = []
    for label, problem in instances():
        row = {
            "instance": label,
            "options": problem.size,
            "candidates": len(problem.candidates),
            "plan_only": measure(problem, args.repeats, None),
            "default": measure(problem, args.repeats, threshold_settle.AUTO_WORK),
            "everything": measure(problem, 1, float("inf")),
        }
        rows.append(row)
        print(
            f"{label}: {row['options']} options; plan {row['plan_only']['seconds']} s, "
            f"default {row['default']['seconds']} s ({row['default']['settled']}/"
            f"{row['default']['with_figures']} settled, work {row['default']['work']}), "
            f"everything {row['everything']['seconds']} s (work {row['everything']['work']})",
            flush=True,
        )
    cli = {
        "with_budget": cli_seconds(args.cli_runs, True),
        "without_budget": cli_seconds(args.cli_runs, False),
    }
    print(f"liangye allocate, Jiaxing 50 candidates: {cli}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "auto_work": threshold_settle.AUTO_WORK,
                "auto_limit": threshold_settle.AUTO_LIMIT,
                "instances": rows,
                "jiaxing_50_cli_seconds": cli,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
