"""Sweep throughput: a plain loop against the in-process, pool and Dask executors (runs/min), and
the seconds `liangye analyse` takes on the stored runs."""

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


def main() -> None:
    """Run the first ``--runs`` runs of a sweep file with each executor; print runs/min, and
    the seconds the analysis of the in-process store takes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sweep", help="a sweep file or bundled name")
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "sweep.json")
    args = parser.parse_args()
    prepared = prepare(Path(args.sweep))
    runs = prepared.design.runs[: args.runs]
    figures: dict[str, float] = {}
    started = time.perf_counter()
    for spec in runs:
        prepared.model(spec.parameters, spec.seed)
    figures["plain loop"] = len(runs) / (time.perf_counter() - started) * 60
    executors = [("in-process", InProcessExecutor, 1)]
    for n in args.workers:
        executors += [(f"pool {n}", lambda n=n: PoolExecutor(n), n)]
        executors += [(f"dask {n}", lambda n=n: DaskExecutor(workers=n), n)]
    for name, make, workers in executors:
        with tempfile.TemporaryDirectory() as folder:
            design = build_design(prepared.sweep)
            design.runs = runs
            store = open_store(
                Path(folder) / "s",
                prepared.sweep,
                design,
                fingerprint(prepared.sweep, prepared.scenario_hash),
                False,
                {},
            )
            executor = make()
            try:
                report = execute(
                    store,
                    design,
                    prepared.model,
                    prepared.sweep.outcomes,
                    executor,
                    workers=workers,
                )
            finally:
                executor.close()
            if name == "in-process":
                figures.update(analysis_seconds(Path(folder) / "s"))
        figures[name] = report.ran / report.seconds * 60
    # The ratios, measured in this run: executor overhead against the plain loop, and
    # what a second worker buys (pool and Dask, when 1 and 2 workers were both asked for).
    loop = figures["plain loop"]
    figures["in-process overhead (%)"] = (loop / figures["in-process"] - 1) * 100
    for kind in ("pool", "dask"):
        if f"{kind} 1" in figures and f"{kind} 2" in figures:
            figures[f"{kind} 2 workers / 1 worker"] = figures[f"{kind} 2"] / figures[f"{kind} 1"]
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
        json.dumps({"sweep": args.sweep, "runs": len(runs), "figures": rounded}, indent=2),
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
