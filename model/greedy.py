"""The bureau's rule of thumb: rank by score and designate until the money runs out."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .options import AllocationProblem
from .programme import quota_scopes


def greedy_plan(problem: AllocationProblem) -> np.ndarray:
    """Options chosen by the by-hand rule, as indices into ``problem.options``.

    Year by year, options are taken in order of weighted score (ties: higher level, then
    earlier candidate) whenever the candidate has nothing yet in that matter, the year's
    money covers the expected cost, and no maximum quota, balance count or per-candidate cap
    would be exceeded. Minimum quotas and balance shares are not pursued: that is what a
    ranking by hand cannot do, and what the optimisation is for.
    """
    options = problem.options
    policy = problem.policy
    budget = problem.budget
    cost = options["expected_cost"].to_numpy(dtype=float)
    candidate = options["candidate"].to_numpy()
    year_of = options["year"].to_numpy()
    stacking_keys = (
        ["candidate", "matter"]
        if policy.stacking == "highest"
        else ["candidate", "programme", "level"]
    )
    stack_key = options.groupby(stacking_keys, sort=False).ngroup().to_numpy()
    cap = problem.settings.cap_per_candidate_per_year or policy.cap_per_candidate_per_year
    counters: dict[int, list[tuple[object, int]]] = defaultdict(list)  # option -> (counter, limit)
    for q, t, scope in quota_scopes(problem):
        if policy.quotas[q].max is not None:
            for o in scope:
                counters[int(o)].append((("quota", q, t), policy.quotas[q].max))
    for key, members, limit in balance_count_groups(problem):
        for o in members:
            counters[int(o)].append((key, limit))
    count: dict[object, int] = defaultdict(int)
    taken: set[int] = set()
    per_candidate_year: dict[tuple[int, int], int] = defaultdict(int)
    chosen: list[int] = []
    total_left = float(budget.total) if budget.total is not None else float("inf")
    carried = 0.0
    # Highest weighted score first; ties: higher level, then earlier candidate.
    ranking = np.lexsort(
        (candidate, options["level_rank"].to_numpy(), -options["merit"].to_numpy())
    )
    for year in problem.years:
        left = float(budget.per_year[year]) + carried if year in budget.per_year else float("inf")
        for o in ranking[year_of[ranking] == year]:
            if stack_key[o] in taken or cost[o] > min(left, total_left) + 1e-9:
                continue
            if cap is not None and per_candidate_year[(candidate[o], year)] >= cap:
                continue
            if any(count[key] >= limit for key, limit in counters[o]):
                continue
            chosen.append(int(o))
            taken.add(stack_key[o])
            left -= cost[o]
            total_left -= cost[o]
            per_candidate_year[(candidate[o], year)] += 1
            for key, _ in counters[o]:
                count[key] += 1
        carried = left if budget.carry_over and left != float("inf") else 0.0
    return np.array(sorted(chosen), dtype=int)


def balance_count_groups(problem: AllocationProblem) -> list[tuple[tuple, np.ndarray, int]]:
    """(counter key, member options, limit) for every balance rule with a max_count."""
    options = problem.options
    groups: list[tuple[tuple, np.ndarray, int]] = []
    for b, rule in enumerate(problem.policy.balance):
        if rule.max_count is None:
            continue
        mask = np.ones(len(options), dtype=bool)
        if rule.programmes is not None:
            mask &= options["programme"].isin(rule.programmes).to_numpy()
        if rule.levels is not None:
            mask &= options["level"].isin([lv.value for lv in rule.levels]).to_numpy()
        group_of = (
            problem.candidates[rule.by].astype(str).to_numpy()[options["candidate"].to_numpy()]
        )
        period_of = options["year"].to_numpy() if rule.per == "year" else np.zeros(len(options))
        for group in np.unique(group_of[mask]):
            for period in np.unique(period_of[mask]):
                members = np.flatnonzero(mask & (group_of == group) & (period_of == period))
                groups.append((("balance", b, group, period), members, rule.max_count))
    return groups
