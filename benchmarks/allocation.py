"""Allocation speed: liangye against the plain Pyomo + HiGHS model, the LP relaxation and CP-SAT.

Usage:  python benchmarks/allocation.py [--sizes 100 1000 10000] [--repeats 3] [--out FILE]

Every method runs on the same seeded instances (``instances.py``; integer expert scores and
continuous ones), each in a fresh subprocess so that peak memory is its own. Printed as a
table with ratios; written to ``benchmarks/out/allocation.json`` (git-ignored) unless
``--out`` says otherwise. Needs the benchmark extras: ``pip install -e '.[benchmark]'``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from instances import benchmark_problem  # noqa: E402

METHODS = ("liangye", "lp", "baseline", "cpsat")
LIMITS = {"baseline": 120.0, "cpsat": 120.0, "liangye": 120.0}


def run_liangye(n: int, seed: int, continuous: bool) -> dict:
    """liangye end to end: options, Pyomo build, compile, relaxation-first solve, extraction."""
    from liangye.model.allocation import allocate

    started = time.perf_counter()
    problem = benchmark_problem(n, seed, continuous, time_limit=LIMITS["liangye"], mip_gap=1e-4)
    options_seconds = time.perf_counter() - started
    result = allocate(problem, explain=False)
    total = time.perf_counter() - started
    return {
        "build": options_seconds + result.build_seconds,
        "solve": result.solve_seconds,
        "total": total,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "status": result.status,
        "binaries": problem.size,
    }


def _baseline_model(problem):
    """The straightforward model: per-element Pyomo rules over (c, p, l, t) tuples."""
    import pyomo.environ as pyo

    options = problem.options
    keys = list(
        zip(
            options["candidate"],
            options["programme"],
            options["level"],
            options["year"],
            strict=True,
        )
    )
    merit = dict(zip(keys, options["merit"], strict=True))
    cost = dict(zip(keys, options["expected_cost"], strict=True))
    m = pyo.ConcreteModel()
    m.X = pyo.Set(initialize=keys, dimen=4)
    m.x = pyo.Var(m.X, domain=pyo.Binary)
    matter = dict(zip(keys, options["matter"], strict=True))
    groups: dict = {}
    for k in keys:
        groups.setdefault((k[0], matter[k]), []).append(k)
    m.G = pyo.Set(initialize=list(groups), dimen=2)
    m.one = pyo.Constraint(m.G, rule=lambda m, c, g: sum(m.x[k] for k in groups[(c, g)]) <= 1)
    m.T = pyo.Set(initialize=problem.years)
    budget = problem.budget.per_year
    m.budget = pyo.Constraint(
        m.T, rule=lambda m, t: sum(cost[k] * m.x[k] for k in keys if k[3] == t) <= float(budget[t])
    )
    quotas = problem.policy.quotas
    m.Q = pyo.Set(initialize=[(q, t) for q in range(len(quotas)) for t in problem.years], dimen=2)

    def quota(m, q, t):
        scope = [
            k
            for k in keys
            if k[3] == t
            and k[1] in quotas[q].programmes
            and k[2] in [lv.value for lv in quotas[q].levels]
        ]
        if not scope:
            return pyo.Constraint.Skip
        return pyo.inequality(quotas[q].min, sum(m.x[k] for k in scope), quotas[q].max)

    m.quota = pyo.Constraint(m.Q, rule=quota)
    m.value = pyo.Objective(expr=sum(merit[k] * m.x[k] for k in keys), sense=pyo.maximize)
    return m


def run_baseline(n: int, seed: int, continuous: bool, relax: bool = False) -> dict:
    """Plain Pyomo model + HiGHS with default options (or its LP relaxation)."""
    import pyomo.environ as pyo
    from pyomo.contrib.solver.solvers.highs import Highs

    problem = benchmark_problem(n, seed, continuous)
    started = time.perf_counter()
    m = _baseline_model(problem)
    if relax:
        pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    built = time.perf_counter()
    results = Highs().solve(
        m,
        time_limit=LIMITS["baseline"],
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        solver_options={} if relax else {"mip_rel_gap": 1e-4},
    )
    done = time.perf_counter()
    objective = results.incumbent_objective
    bound = results.objective_bound if results.objective_bound is not None else objective
    gap = abs(bound - objective) / abs(objective) if objective and bound is not None else None
    return {
        "build": built - started,
        "solve": done - built,
        "total": done - started,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "status": results.termination_condition.name,
    }


def run_lp(n: int, seed: int, continuous: bool) -> dict:
    """The LP relaxation alone: the same arrays liangye hands HiGHS, default LP options."""
    import highspy

    from liangye.model.programme import build_model
    from liangye.model.solve import HighsProgramme

    problem = benchmark_problem(n, seed, continuous)
    started = time.perf_counter()
    programme = HighsProgramme(build_model(problem), problem.settings)
    relaxation = programme.relaxation
    built = time.perf_counter()
    relaxation.run()
    done = time.perf_counter()
    value = relaxation.getInfo().objective_function_value
    assert relaxation.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return {
        "build": built - started,
        "solve": done - built,
        "total": done - started,
        "objective": value,
        "bound": value,
        "gap": 0.0,
        "status": "lp_optimal",
    }


def run_cpsat(n: int, seed: int, continuous: bool) -> dict:
    """OR-Tools CP-SAT on the same options (merit scaled to integers ×100, exact for 2-decimal scores)."""
    from ortools.sat.python import cp_model

    problem = benchmark_problem(n, seed, continuous)
    options = problem.options
    started = time.perf_counter()
    model = cp_model.CpModel()
    x = [model.NewBoolVar(f"x{o}") for o in range(len(options))]
    for members in options.groupby(["candidate", "matter"]).indices.values():
        if len(members) > 1:
            model.AddAtMostOne(x[o] for o in members)
    cost = np.round(options["expected_cost"].to_numpy(float)).astype(int)
    for t in problem.years:
        members = np.flatnonzero(options["year"].to_numpy() == t)
        model.Add(sum(int(cost[o]) * x[o] for o in members) <= int(problem.budget.per_year[t]))
    for quota in problem.policy.quotas:
        for t in problem.years:
            members = np.flatnonzero(
                (options["year"].to_numpy() == t)
                & options["programme"].isin(quota.programmes).to_numpy()
                & options["level"].isin([lv.value for lv in quota.levels]).to_numpy()
            )
            model.AddLinearConstraint(
                sum(x[o] for o in members), quota.min or 0, quota.max or len(members)
            )
    merit = np.round(options["merit"].to_numpy(float) * 100).astype(int)
    model.Maximize(sum(int(merit[o]) * x[o] for o in range(len(options))))
    built = time.perf_counter()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = LIMITS["cpsat"]
    solver.parameters.num_workers = 2
    solver.parameters.relative_gap_limit = 1e-4
    status = solver.Solve(model)
    done = time.perf_counter()
    objective = (
        solver.ObjectiveValue() / 100 if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    )
    bound = solver.BestObjectiveBound() / 100
    return {
        "build": built - started,
        "solve": done - built,
        "total": done - started,
        "objective": objective,
        "bound": bound,
        "gap": abs(bound - objective) / abs(objective) if objective else None,
        "status": solver.StatusName(status),
    }


RUNNERS = {"liangye": run_liangye, "lp": run_lp, "baseline": run_baseline, "cpsat": run_cpsat}


def one(method: str, n: int, seed: int, continuous: bool) -> dict:
    """Run one method once in this process and add its peak resident memory (MiB).

    A tiny instance runs first, untimed, so one-off import costs (Pyomo's deferred import of
    scipy takes about a second) are not charged to the first solve of any method.
    """
    RUNNERS[method](200, seed + 1, continuous)
    figures = RUNNERS[method](n, seed, continuous)
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def in_subprocess(method: str, n: int, seed: int, continuous: bool) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--one", method, str(n), str(seed), str(int(continuous))],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        return {"status": "failed", "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument(
        "--repeats", type=int, default=3, help="liangye and LP runs per instance (median)"
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "allocation.json")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        method, n, seed, continuous = args.one
        print(json.dumps(one(method, int(n), int(seed), bool(int(continuous)))))
        return
    rows = []
    for n in args.sizes:
        for continuous in (False, True):
            row: dict = {"candidates": n, "scores": "continuous" if continuous else "integer"}
            for method in args.methods:
                repeats = args.repeats if method in ("liangye", "lp") else 1
                runs = [in_subprocess(method, n, 0, continuous) for _ in range(repeats)]
                good = [r for r in runs if r.get("status") != "failed"]
                if not good:
                    row[method] = runs[0]
                    continue
                summary = dict(good[0])
                for key in ("build", "solve", "total", "peak_mib"):
                    summary[key] = statistics.median(r[key] for r in good)
                summary["runs"] = len(good)
                row[method] = summary
            rows.append(row)
            print_row(row, args.methods)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"python": sys.version.split()[0], "rows": rows}, indent=2) + "\n"
    )
    print(f"\nwritten: {args.out}")


def print_row(row: dict, methods: list[str]) -> None:
    head = f"\n{row['candidates']:>6} candidates, {row['scores']} scores"
    if "liangye" in row and "binaries" in row["liangye"]:
        head += f", {row['liangye']['binaries']} binaries"
    print(head)
    print(
        f"  {'method':<9}{'build s':>9}{'solve s':>9}{'total s':>9}{'objective':>14}{'gap':>10}{'peak MiB':>10}  status"
    )
    for method in methods:
        r = row.get(method, {})
        if r.get("status") == "failed":
            print(f"  {method:<9} failed: {r.get('error')}")
            continue
        gap = "—" if r.get("gap") is None else f"{r['gap']:.1e}"
        objective = "—" if r.get("objective") is None else f"{r['objective']:.2f}"
        print(
            f"  {method:<9}{r['build']:>9.2f}{r['solve']:>9.2f}{r['total']:>9.2f}{objective:>14}{gap:>10}"
            f"{r['peak_mib']:>10.0f}  {r['status']}"
        )
    ours = row.get("liangye", {}).get("total")
    if ours:
        ratios = []
        for method, label in (("baseline", "baseline/liangye"), ("cpsat", "cpsat/liangye")):
            if row.get(method, {}).get("total"):
                ratios.append(f"{label} {row[method]['total'] / ours:.1f}×")
        if row.get("lp", {}).get("solve"):
            ratios.append(f"liangye/LP-solve {ours / row['lp']['solve']:.2f}×")
        print("  ratios: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
