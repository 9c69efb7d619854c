"""Solving within an overrun bound: the expected-cost optimum if it already meets it, else a
plan from loaded budget rows (``risk_loads.py``) and, on small models, rounds of exact cuts
(``risk_cuts.py``) that prove it within the gap. When neither the loaded rows nor the repair
finds a plan within the bound, a search for the least-spending plans (``least_spend``)
proves that none exists or finds one before the rounds look for the best.

The risk-bounded problem is the expected-cost one with the chance constraints added, so the
expected-cost optimum is a relaxation: its bound holds for every plan within the bound, and
the difference between the two objectives is the price of safety. Each round's MIP bound is
valid too (its cuts hold for every plan within α), so the best bound known only tightens.
Finite: every round cuts off the counts it found; bounded: a budget of work counted in
rounds and branch-and-bound nodes, never in seconds, so the answer is the same on any machine.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from .options import AllocationProblem
from .risk_cuts import RiskCuts, repaired
from .risk_loads import filled, loaded_plans
from .status import Status

if TYPE_CHECKING:  # solve.py imports this module
    from .solve import SolveOutcome

log = logging.getLogger(__name__)

# The budget of work of the proof, counted (not timed) so that the answer does not depend on
# the machine: rounds of cuts, and branch-and-bound nodes over all rounds' MIPs, as many as
# PROOF_WORK / columns (a node costs about a simplex pass over the columns).
# Above PROOF_COLUMNS no proof is tried: on the default scenario (15,000 columns) five rounds
# of a few hundred nodes took 30 s and closed the gap from 14% to 12%; at 4,500 columns
# (300 candidates, eight programmes) seven rounds took 22 s and left a 26% gap.
PROOF_ROUNDS = 12
PROOF_WORK = 3_000_000
PROOF_ROUND_NODES = 20
PROOF_COLUMNS = 1_500
# Rounds (and branch-and-bound nodes each) of the search for the least-spending plans when
# neither the loaded rows nor the repair found a plan within α (``least_spend``).
LEAST_SPEND_ROUNDS = 12
LEAST_SPEND_NODES = 200


def risk_bounded(programme, problem: AllocationProblem, alpha: float, first, prove: bool = True):
    """Solve within the overrun bound α, starting from ``first`` (the expected-cost
    optimum's SolveOutcome, a relaxation); returns a SolveOutcome.

    The expected-cost optimum is the answer if it already meets α. Otherwise the loaded
    rows (``risk_loads.py``) and the repair of the expected optimum give incumbents, and
    rounds of cuts (module docstring) try to prove the best within the gap of a valid
    bound, on models of at most ``PROOF_COLUMNS`` columns (and only if ``prove``): at most
    ``PROOF_ROUNDS`` rounds and ``PROOF_WORK`` / columns branch-and-bound nodes in all, a budget of work, not of
    time, so the answer is the same on any machine. A plan proven within the gap is
    "optimal"; otherwise the best plan within α is returned as "work_limit", with the best
    bound known (at worst the expected-cost optimum's) and its gap.
    """
    started = time.perf_counter()
    cuts = RiskCuts(programme, problem, alpha)
    if not cuts.violated(first.chosen):
        return first
    loaded, solves = loaded_plans(programme, cuts, first.chosen)
    incumbent = programme.better(repaired(problem, programme, cuts, first.chosen), loaded)
    bound = first.solver_bound if first.solver_bound is not None else first.solver_objective
    method = f"risk: {solves} loaded"
    if incumbent is None:
        proof, spare = least_spend(programme, cuts, started)
        if proof is not None:
            return proof
        if spare is not None:
            # A plan within α exists: the least-spending one, filled while every row and α
            # still hold, is the incumbent the rounds must beat (and, above PROOF_COLUMNS,
            # the answer: rounds only improve a plan there, and cost seconds each for
            # little; 60 candidates at half budget spent 19 s in 8 rounds for no better plan).
            incumbent = filled(programme, cuts, spare)
            method = f"{method}, least spend filled"
            # The loaded rows calibrated from that plan, not from the expected-cost optimum
            # far beyond α: 60 candidates at 0.55 of their budget 2,976.6 -> 3,748.9 (+0.6 s);
            # small mixed instances +2-3% in 3 of 15, never worse.
            spare_chosen = np.flatnonzero(incumbent[: programme.n_options] > 0.5)
            again, more = loaded_plans(programme, cuts, spare_chosen)
            if again is not None and programme.better(incumbent, again) is again:
                incumbent = again
                method = f"{method}, {more} loaded from it"
    start_method = method
    outcome = first
    nodes_left = max(PROOF_ROUND_NODES, PROOF_WORK // max(1, programme.n_model))
    # Without a plan within α the rounds run on models of any size: they find one, or
    # prove that none exists (an infeasible round), or end without a plan to show.
    small = programme.n_model <= PROOF_COLUMNS
    rounds = PROOF_ROUNDS if (prove and small) or incumbent is None else 0
    for round_ in range(rounds):
        if incumbent is not None and programme.within_gap(incumbent, bound):
            return programme.as_outcome(incumbent, bound, started, method, Status.OPTIMAL)
        if nodes_left <= 0:
            break
        added = cuts.add_cuts(outcome.chosen)
        left = programme.settings.time_limit - (time.perf_counter() - started)
        nodes = min(nodes_left, max(PROOF_ROUND_NODES, nodes_left // 2))
        nodes_left -= nodes
        outcome = programme.mip_phases(started, left, incumbent, node_limit=nodes)
        log.info("risk round %d: %d cuts, %s", round_, added, outcome.status)
        method = f"{start_method}, {round_ + 1} cut rounds"
        if outcome.status == Status.INFEASIBLE:
            return outcome  # no plan meets the cuts, so none meets α
        if outcome.solver_bound is not None:
            tighter = min if programme.maximise else max
            bound = (
                tighter(bound, outcome.solver_bound) if bound is not None else outcome.solver_bound
            )
        if not outcome.has_solution:
            break
        if not cuts.violated(outcome.chosen):
            incumbent = programme.better(incumbent, outcome.values)
            if outcome.status == Status.OPTIMAL:
                return programme.as_outcome(outcome.values, bound, started, method, Status.OPTIMAL)
        else:
            incumbent = programme.better(
                incumbent, repaired(problem, programme, cuts, outcome.chosen)
            )
        if outcome.status == Status.TIME_LIMIT:
            break
    if incumbent is None:
        # Never hand back a plan beyond α: the expected-cost optimum, or a round's plan that
        # its cuts did not yet cut off, is no answer to the bounded problem.
        if outcome.has_solution and cuts.violated(outcome.chosen):
            return dataclasses.replace(
                outcome,
                status=Status.NO_SOLUTION,
                chosen=np.array([], dtype=int),
                values=None,
                method=f"{method} (no plan within the overrun bound found)",
                seconds=time.perf_counter() - started,
            )
        return outcome
    state = Status.OPTIMAL if programme.within_gap(incumbent, bound) else Status.WORK_LIMIT
    if outcome.status == Status.TIME_LIMIT and state != Status.OPTIMAL:
        state = Status.TIME_LIMIT
    return programme.as_outcome(incumbent, bound, started, method, state)


def least_spend(
    programme, cuts: RiskCuts, started: float
) -> tuple[SolveOutcome | None, np.ndarray | None]:
    """When neither the loaded rows nor the repair found a plan within α: does one exist?

    Minimum quotas can force nominations whose conferrals alone overrun too often (a steep
    design's 300万元 national awards at two thirds of the budget, say). The merit-seeking
    rounds then look for the best plan near the bound and can spend their whole budget of
    work without deciding. This search minimises the expected spend instead, with the same
    exact cuts (valid for every plan within α): each round's plan is the least-spending one
    the cuts allow, so the cuts soon close in on the minimums. Returns (an outcome proving
    that no plan meets α — its MIP with the cuts is infeasible — or None; a plan within α,
    model space, or None). At most ``LEAST_SPEND_ROUNDS`` rounds of ``LEAST_SPEND_NODES``
    nodes: counted, not timed. The cuts stay: they hold for every plan within α.
    """
    plan = None
    with programme.counted.minimising_spend():
        for round_ in range(LEAST_SPEND_ROUNDS):
            left = programme.settings.time_limit - (time.perf_counter() - started)
            outcome = programme.mip_phases(started, left, None, node_limit=LEAST_SPEND_NODES)
            log.info("least-spend round %d: %s", round_, outcome.status)
            if outcome.status == Status.INFEASIBLE:
                proof = dataclasses.replace(
                    outcome,
                    method=f"risk: least spend, {round_} cut rounds (no plan within the overrun bound)",
                    seconds=time.perf_counter() - started,
                )
                return proof, None
            if not outcome.has_solution:
                break
            if not cuts.violated(outcome.chosen):
                plan = outcome.values
                break
            if cuts.add_cuts(outcome.chosen) == 0:
                break
    return None, plan
