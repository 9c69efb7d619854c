"""Sweep throughput: a plain loop against the in-process, pool and Dask executors (runs/min), and
the seconds `liangye analyse` takes on the stored runs.

Usage:  python benchmarks/sweep.py SWEEP [--runs 16] [--workers 1 2 4] [--replications R]
            [--executors plain in-process pool dask] [--out FILE]

``--replications R`` replaces the sweep file's replications, so the design grows to its
settings × R runs: ``tier-budget --replications 84 --runs 1000 --workers 2 --executors dask``
is the issue's 1,000-run sweep of the default scenario on two workers. Run it on a quiet
machine: the ratios between executors mean nothing while something else takes a core.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from liangye.scenarios.sweep import build_design
from liangye.scenarios.sweep_executors import DaskExecutor, InProcessExecutor, PoolExecutor
from liangye.scenarios.sweep_run import execute, fingerprint, open_store, prepare

log = logging.getLogger(__name__)

EXECUTORS = ("plain", "in-process", "pool", "dask")


def main() -> None:
    """Run the first ``--runs`` runs of a sweep file with each executor; print runs/min, and
    the seconds the analysis of the in-process store takes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sweep", help="a sweep file or bundled name")
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--executors", nargs="*", default=list(EXECUTORS), choices=list(EXECUTORS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "sweep.json")
    args = parser.parse_args()
    prepared = prepare(Path(args.sweep))
    sweep = prepared.sweep
    if args.replications is not None:
        sweep = sweep.model_copy(update={"replications": args.replications})
    runs = build_design(sweep).runs[: args.runs]
    print(f"{len(runs)} runs of {args.sweep}", flush=True)
    figures: dict[str, float] = {}
    if "plain" in args.executors:
        started = time.perf_counter()
        for spec in runs:
            prepared.model(spec.parameters, spec.seed)
        figures["plain loop"] = len(runs) / (time.perf_counter() - started) * 60
        print(f"plain loop: {figures['plain loop']:.1f} runs/min", flush=True)
    executors = [("in-process", InProcessExecutor, 1)] if "in-process" in args.executors else []
    for n in args.workers:
        if "pool" in args.executors:
            executors += [(f"pool {n}", lambda n=n: PoolExecutor(n), n)]
        if "dask" in args.executors:
            executors += [(f"dask {n}", lambda n=n: DaskExecutor(workers=n), n)]
    for name, make, workers in executors:
        with tempfile.TemporaryDirectory() as folder:
            design = build_design(sweep)
            design.runs = runs
            store = open_store(
                Path(folder) / "s",
                sweep,
                design,
                fingerprint(sweep, prepared.scenario_hash),
                False,
                {},
            )
            executor = make()
            try:
                report = execute(
                    store,
                    design,
                    prepared.model,
                    sweep.outcomes,
                    executor,
                    workers=workers,
                )
            finally:
                executor.close()
            if name == "in-process":
                figures.update(analysis_seconds(Path(folder) / "s"))
        figures[name] = report.ran / report.seconds * 60
        print(f"{name}: {figures[name]:.1f} runs/min", flush=True)
    # The ratios, measured in this run: executor overhead against the plain loop, and
    # what more workers buy (pool and Dask, against one worker of the same kind).
    if "plain loop" in figures and "in-process" in figures:
        loop = figures["plain loop"]
        figures["in-process overhead (%)"] = (loop / figures["in-process"] - 1) * 100
    for kind in ("pool", "dask"):
        for n in args.workers:
            if n != 1 and f"{kind} 1" in figures and f"{kind} {n}" in figures:
                ratio = figures[f"{kind} {n}"] / figures[f"{kind} 1"]
                figures[f"{kind} {n} workers / 1 worker"] = ratio
    figures["minutes for 1,000 runs (best executor)"] = 1000 / max(
        v
        for k, v in figures.items()
        if k.startswith(("pool", "dask", "in-process", "plain"))
        and not k.endswith(("(%)", "worker"))
    )
    rounded = {k: round(v, 2) for k, v in figures.items()}
    print(json.dumps(rounded, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "sweep": args.sweep,
                "runs": len(runs),
                "replications": sweep.replications,
                "figures": rounded,
            },
            indent=2,
        ),
        encoding="utf-8",
    )


def analysis_seconds(folder: Path) -> dict[str, float]:
    """Seconds to analyse a store (Sobol, robustness, PRIM without a target) and to write its
    tables and figures."""
    from liangye.results.sweep_analysis import analyse_sweep, write_analysis

    started = time.perf_counter()
    analysis = analyse_sweep(folder)
    analysed = time.perf_counter()
    write_analysis(analysis)
    return {
        "analyse (s)": analysed - started,
        "write tables and figures (s)": time.perf_counter() - analysed,
    }


if __name__ == "__main__":
    main()
