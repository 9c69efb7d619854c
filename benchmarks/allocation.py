"""Allocation speed: liangye against the plain Pyomo + HiGHS model, the LP relaxation and CP-SAT.

Usage:  python benchmarks/allocation.py [--sizes 100 1000 10000] [--families tight generous]
                                         [--seeds 0 7] [--repeats 3] [--out FILE]

Every method runs on the same seeded instances (``instances.py``: two budget families,
integer expert scores and continuous ones, plus the bundled default scenario), each run in
a fresh subprocess so that peak memory is its own. All methods start from the same
validated options table ("prepare": eligibility, history, costs), which is timed but not
charged to anyone; after it, each method's figures are

- build:   liangye: Pyomo model + compilation to HiGHS; baseline: Pyomo model; CP-SAT: its model
- solve:   the solver, to a relative gap of 1e-4 (CP-SAT's ``relative_gap_limit`` likewise)
- extract: liangye only: reading the plan, checking it against every rule, the greedy plan
           and every candidate's explanation
- total:   build + solve + extract (the issue's "end to end")
- whole:   liangye only: prepare + total, the whole ``allocate`` from tables to reasons

Medians over ``--repeats`` runs for liangye and the LP relaxation; the baseline and CP-SAT
(slow at 10,000) run once. Printed as a table with ratios and the issue's targets;
written to ``benchmarks/out/allocation.json`` (git-ignored) unless ``--out`` says
otherwise. Needs the benchmark extras: ``pip install -e '.[benchmark]'``.
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
LIMIT = 120.0  # seconds, every method
GAP = 1e-4


def prepared(spec: dict, **settings: object):
    """The instance's options table, and how long it took to make."""
    started = time.perf_counter()
    problem = benchmark_problem(
        spec["n"], spec["seed"], spec["scores"] == "continuous", spec["family"], **settings
    )
    return problem, time.perf_counter() - started


def run_liangye(spec: dict) -> dict:
    """liangye: Pyomo build, compile, relaxation-first solve, extraction (checks, greedy)."""
    from liangye.model.allocation import allocate

    problem, prepare = prepared(spec, time_limit=LIMIT, mip_gap=GAP)
    started = time.perf_counter()
    result = allocate(problem)  # the whole allocate: greedy, checks and explanations too
    total = time.perf_counter() - started
    return {
        "prepare": prepare,
        "build": result.build_seconds,
        "solve": result.solve_seconds,
        "extract": total - result.build_seconds - result.solve_seconds,
        "total": total,
        "whole": prepare + total,  # what `liangye allocate` spends from tables to reasons
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "status": result.status,
        "method": result.method,
        "binaries": problem.size,
    }


def _baseline_model(problem):
    """The straightforward model: per-element Pyomo rules over (c, p, l, t) tuples; yearly
    budgets, one designation per candidate and matter, quotas per programme and year (the
    rules of the benchmark families; the default scenario's horizon quotas are kept too)."""
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
    periods = [(q, t) for q in range(len(quotas)) for t in problem.years] + [
        (q, 0) for q in range(len(quotas))
    ]
    m.Q = pyo.Set(initialize=periods, dimen=2)

    def quota(m, q, t):
        spec = quotas[q]
        if (spec.per == "year") != (t != 0):
            return pyo.Constraint.Skip
        scope = [
            k
            for k in keys
            if (t == 0 or k[3] == t)
            and (spec.programmes is None or k[1] in spec.programmes)
            and (spec.levels is None or k[2] in [lv.value for lv in spec.levels])
        ]
        if not scope:
            return pyo.Constraint.Skip
        return pyo.inequality(spec.min, sum(m.x[k] for k in scope), spec.max)

    m.quota = pyo.Constraint(m.Q, rule=quota)
    m.value = pyo.Objective(expr=sum(merit[k] * m.x[k] for k in keys), sense=pyo.maximize)
    return m


def run_baseline(spec: dict) -> dict:
    """Plain Pyomo model + HiGHS (Pyomo's own interface), default options but the gap."""
    from pyomo.contrib.solver.solvers.highs import Highs

    problem, prepare = prepared(spec)
    started = time.perf_counter()
    m = _baseline_model(problem)
    built = time.perf_counter()
    results = Highs().solve(
        m,
        time_limit=LIMIT,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        solver_options={"mip_rel_gap": GAP},
    )
    done = time.perf_counter()
    objective = results.incumbent_objective
    bound = results.objective_bound if results.objective_bound is not None else objective
    gap = abs(bound - objective) / abs(objective) if objective and bound is not None else None
    return {
        "prepare": prepare,
        "build": built - started,
        "solve": done - built,
        "total": done - started,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "status": results.termination_condition.name,
    }


def run_lp(spec: dict) -> dict:
    """The LP relaxation alone: liangye's model, compiled, solved once as an LP."""
    import highspy

    from liangye.model.programme import build_model
    from liangye.model.solve import HighsProgramme

    problem, prepare = prepared(spec)
    started = time.perf_counter()
    programme = HighsProgramme(build_model(problem), problem.settings)
    relaxation = programme.prepare_relaxation(LIMIT)  # liangye's own LP method and options
    built = time.perf_counter()
    relaxation.run()
    done = time.perf_counter()
    value = relaxation.getInfo().objective_function_value
    assert relaxation.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return {
        "prepare": prepare,
        "build": built - started,
        "solve": done - built,
        "total": done - started,
        "objective": value,
        "bound": value,
        "gap": 0.0,
        "status": "lp_optimal",
    }


def run_cpsat(spec: dict) -> dict:
    """OR-Tools CP-SAT on the same rows as the baseline (merit ×100 and costs ×10 as integers,
    exact for scores with two decimals and amounts in tenths of 万元)."""
    from ortools.sat.python import cp_model

    from liangye.model.programme import quota_scopes

    problem, prepare = prepared(spec)
    options = problem.options
    started = time.perf_counter()
    model = cp_model.CpModel()
    x = [model.NewBoolVar(f"x{o}") for o in range(len(options))]
    for members in options.groupby(["candidate", "matter"]).indices.values():
        if len(members) > 1:
            model.AddAtMostOne(x[o] for o in members)
    cost = np.round(options["expected_cost"].to_numpy(float) * 10).astype(int)
    year = options["year"].to_numpy()
    for t in problem.years:
        members = np.flatnonzero(year == t)
        cap = int(np.floor(float(problem.budget.per_year[t]) * 10 + 1e-9))
        model.Add(sum(int(cost[o]) * x[o] for o in members) <= cap)
    for q, _, members in quota_scopes(problem):  # the same rows liangye states
        quota = problem.policy.quotas[q]
        upper = len(members) if quota.max is None else quota.max
        model.AddLinearConstraint(sum(x[o] for o in members), quota.min or 0, upper)
    merit = np.round(options["merit"].to_numpy(float) * 100).astype(int)
    model.Maximize(sum(int(merit[o]) * x[o] for o in range(len(options))))
    built = time.perf_counter()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = LIMIT
    solver.parameters.num_workers = 2
    solver.parameters.relative_gap_limit = GAP
    status = solver.Solve(model)
    done = time.perf_counter()
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    objective = solver.ObjectiveValue() / 100 if found else None
    bound = solver.BestObjectiveBound() / 100
    return {
        "prepare": prepare,
        "build": built - started,
        "solve": done - built,
        "total": done - started,
        "objective": objective,
        "bound": bound,
        "gap": abs(bound - objective) / abs(objective) if objective else None,
        "status": solver.StatusName(status),
    }


RUNNERS = {"liangye": run_liangye, "lp": run_lp, "baseline": run_baseline, "cpsat": run_cpsat}


def one(method: str, spec: dict) -> dict:
    """Run one method once in this process and add its peak resident memory (MiB).

    A tiny instance runs first, untimed, so one-off import costs (Pyomo's deferred import of
    scipy takes about a second) are not charged to the first solve of any method.
    """
    RUNNERS[method]({**spec, "n": 200, "seed": spec["seed"] + 1, "family": "tight"})
    figures = RUNNERS[method](spec)
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def in_subprocess(method: str, spec: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--one", method, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=3 * LIMIT + 300,
    )
    if done.returncode != 0:
        return {"status": "failed", "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(spec: dict, methods: list[str], repeats: int) -> dict:
    row: dict = dict(spec)
    for method in methods:
        times = repeats if method in ("liangye", "lp") else 1
        runs = [in_subprocess(method, spec) for _ in range(times)]
        good = [r for r in runs if r.get("status") != "failed"]
        if not good:
            row[method] = runs[0]
            continue
        summary = dict(good[0])
        for key in ("prepare", "build", "solve", "extract", "total", "peak_mib"):
            if key in summary:
                summary[key] = statistics.median(r[key] for r in good)
        summary["runs"] = len(good)
        row[method] = summary
    return row


def ratios(row: dict) -> dict[str, float]:
    ours = row.get("liangye", {}).get("total")
    found: dict[str, float] = {}
    if not ours:
        return found
    for method in ("baseline", "cpsat"):
        if row.get(method, {}).get("total"):
            found[f"{method}/liangye"] = row[method]["total"] / ours
    if row.get("lp", {}).get("total"):
        found["liangye/lp"] = ours / row["lp"]["total"]
        found["liangye/lp-solve"] = ours / row["lp"]["solve"]
    return found


def targets(row: dict) -> list[str]:
    """The speed issue's targets that apply to this row, each PASS or FAIL with its figure."""
    ours = row.get("liangye", {})
    if "total" not in ours:
        return []
    r = ratios(row)
    checks = [("gap <= 1e-4 (proven)", (ours.get("gap") or 0) <= GAP, f"{ours.get('gap')}")]
    if "cpsat/liangye" in r:
        checks.append(
            ("not slower than CP-SAT", r["cpsat/liangye"] >= 1, f"{r['cpsat/liangye']:.1f}×")
        )
    if row["n"] == 1000 and row["family"] != "default":
        checks.append(("<= 0.5 s end to end", ours["total"] <= 0.5, f"{ours['total']:.2f} s"))
        if "baseline/liangye" in r:
            checks.append(
                (
                    ">= 30× the baseline",
                    r["baseline/liangye"] >= 30,
                    f"{r['baseline/liangye']:.1f}×",
                )
            )
    if row["n"] == 10000:
        checks.append(("<= 5 s end to end", ours["total"] <= 5, f"{ours['total']:.2f} s"))
        if "liangye/lp" in r:
            checks.append(
                ("<= 3× the LP relaxation", r["liangye/lp"] <= 3, f"{r['liangye/lp']:.2f}×")
            )
        checks.append(("<= 1 GiB peak", ours["peak_mib"] <= 1024, f"{ours['peak_mib']:.0f} MiB"))
    return [f"{'PASS' if ok else 'FAIL'} {name}: {figure}" for name, ok, figure in checks]


def print_row(row: dict, methods: list[str]) -> None:
    head = f"\n{row['family']}: {row['n']} candidates, {row['scores']} scores, seed {row.get('seed', 0)}"
    if "binaries" in row.get("liangye", {}):
        head += f", {row['liangye']['binaries']} binaries"
        head += f" (prepare {row['liangye']['prepare']:.2f} s, not charged)"
    print(head)
    print(
        f"  {'method':<9}{'build s':>9}{'solve s':>9}{'extract s':>10}{'total s':>9}"
        f"{'objective':>14}{'gap':>10}{'peak MiB':>10}  status"
    )
    for method in methods:
        r = row.get(method, {})
        if r.get("status") == "failed":
            print(f"  {method:<9} failed: {r.get('error')}")
            continue
        gap = "—" if r.get("gap") is None else f"{r['gap']:.1e}"
        objective = "—" if r.get("objective") is None else f"{r['objective']:.2f}"
        extract = f"{r['extract']:.2f}" if "extract" in r else "—"
        status = r["status"] + (f" ({r['method']})" if r.get("method") else "")
        print(
            f"  {method:<9}{r['build']:>9.2f}{r['solve']:>9.2f}{extract:>10}{r['total']:>9.2f}"
            f"{objective:>14}{gap:>10}{r['peak_mib']:>10.0f}  {status}"
        )
    if "whole" in row.get("liangye", {}):
        print(
            f"  whole allocate (prepare + total, explanations included): {row['liangye']['whole']:.2f} s"
        )
    found = ratios(row)
    if found:
        print("  ratios: " + ", ".join(f"{k} {v:.2f}×" for k, v in found.items()))
    for line in targets(row):
        print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument(
        "--families",
        nargs="+",
        default=["tight", "generous", "applied-tight", "applied-generous"],
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="instance seeds (each family and size)"
    )
    parser.add_argument("--no-default", action="store_true", help="skip the default scenario")
    parser.add_argument("--repeats", type=int, default=3, help="liangye and LP runs (median)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "allocation.json")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        method, spec = args.one
        print(json.dumps(one(method, json.loads(spec)), default=str))
        return
    specs = [
        {"family": family, "n": n, "scores": scores, "seed": seed}
        for family in args.families
        for n in args.sizes
        for scores in ("integer", "continuous")
        for seed in args.seeds
    ]
    if not args.no_default:
        specs.append({"family": "default", "n": 512, "scores": "integer", "seed": 0})
    rows = []
    for spec in specs:
        row = measure(spec, args.methods, args.repeats)
        row["ratios"] = ratios(row)
        row["targets"] = targets(row)
        rows.append(row)
        print_row(row, args.methods)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(  # after every row: a long run killed midway keeps what it measured
            json.dumps(
                {"python": sys.version.split()[0], "gap": GAP, "limit": LIMIT, "rows": rows},
                indent=2,
                default=str,
            )
            + "\n"
        )
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
