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
    purse = _Purse(problem)
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
    # Highest weighted score first; ties: higher level, then earlier candidate.
    ranking = np.lexsort(
        (candidate, options["level_rank"].to_numpy(), -options["merit"].to_numpy())
    )
    for year in problem.years:
        for o in ranking[year_of[ranking] == year]:
            if stack_key[o] in taken or not purse.affords(int(o)):
                continue
            if cap is not None and per_candidate_year[(candidate[o], year)] >= cap:
                continue
            if any(count[key] >= limit for key, limit in counters[o]):
                continue
            chosen.append(int(o))
            taken.add(stack_key[o])
            purse.pay(int(o))
            per_candidate_year[(candidate[o], year)] += 1
            for key, _ in counters[o]:
                count[key] += 1
    return np.array(sorted(chosen), dtype=int)


class _Purse:
    """The greedy rule's money: what is spent in each year of the horizon, checked against
    the yearly budgets (cumulatively with carry-over) and the horizon total. An option pays
    its amount in its year and its later payouts in theirs, all at expected cost."""

    TOLERANCE = 1e-9

    def __init__(self, problem: AllocationProblem):
        self.budget = problem.budget
        self.years = list(problem.years)
        self.spent = dict.fromkeys(self.years, 0.0)
        self.total = 0.0
        option, year, cost = problem.payments()
        inside = np.isin(year, self.years)
        self.payments: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for o, t, c in zip(option[inside], year[inside], cost[inside], strict=True):
            self.payments[int(o)].append((int(t), float(c)))

    def affords(self, option: int) -> bool:
        pays = self.payments.get(option, [])
        budget = self.budget
        cost = sum(c for _, c in pays)
        if budget.total is not None and self.total + cost > float(budget.total) + self.TOLERANCE:
            return False
        if not budget.per_year:
            return True
        new: dict[int, float] = defaultdict(float)
        for t, c in pays:
            new[t] += c
        if budget.carry_over:
            spent = allowed = 0.0
            for t in self.years:
                spent += self.spent[t] + new.get(t, 0.0)
                allowed += float(budget.per_year[t])
                if spent > allowed + self.TOLERANCE:
                    return False
            return True
        return all(
            self.spent[t] + c <= float(budget.per_year[t]) + self.TOLERANCE for t, c in new.items()
        )

    def pay(self, option: int) -> None:
        for t, c in self.payments.get(option, []):
            self.spent[t] += c
            self.total += c


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
