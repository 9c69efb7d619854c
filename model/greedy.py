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
        in_year = ranking[year_of[ranking] == year]
        cheapest_after = np.minimum.accumulate(purse.now[in_year][::-1])[::-1]
        for position, o in enumerate(in_year):
            if purse.left_now(year) < cheapest_after[position] - purse.TOLERANCE:
                break  # nothing later in this year's ranking fits the money left
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
    its amount in its year and its later payouts in theirs, all at expected cost.

    Plain Python floats on the common path (one payment, no carry-over): the rule is
    sequential, so it is called once per ranked option and must be cheap.
    """

    TOLERANCE = 1e-9

    def __init__(self, problem: AllocationProblem):
        budget = problem.budget
        self.years = list(problem.years)
        self.index = {t: i for i, t in enumerate(self.years)}
        self.carry_over = budget.carry_over
        inf = float("inf")
        self.caps = [float(budget.per_year[t]) if t in budget.per_year else inf for t in self.years]
        self.total_cap = inf if budget.total is None else float(budget.total)
        self.spent = [0.0] * len(self.years)
        self.total = 0.0
        option, year, cost = problem.payments()
        inside = np.isin(year, self.years)
        rows = np.searchsorted(self.years, year[inside])
        matrix = np.zeros((problem.size, len(self.years)))
        np.add.at(matrix, (option[inside], rows), cost[inside])
        own_year = np.searchsorted(self.years, problem.options["year"].to_numpy())
        self.now = matrix[np.arange(problem.size), own_year]  # paid in the option's own year
        self.matrix = matrix
        self._pairs: dict[int, list[tuple[int, float]]] = {}

    def _pays(self, option: int) -> list[tuple[int, float]]:
        """(year index, cost) pairs of an option, made when first asked (few are asked)."""
        pairs = self._pairs.get(option)
        if pairs is None:
            row = self.matrix[option]
            pairs = [(int(i), float(row[i])) for i in np.flatnonzero(row)]
            self._pairs[option] = pairs
        return pairs

    def left_now(self, year: int) -> float:
        """An upper bound on the money any option designated in ``year`` may still use then."""
        i = self.index[year]
        if self.carry_over:
            left = sum(self.caps[: i + 1]) - sum(self.spent[: i + 1])
        else:
            left = self.caps[i] - self.spent[i]
        return min(left, self.total_cap - self.total)

    def affords(self, option: int) -> bool:
        pays = self._pays(option)
        if not pays:
            return True
        if self.total + sum(c for _, c in pays) > self.total_cap + self.TOLERANCE:
            return False
        if not self.carry_over:
            return all(self.spent[i] + c <= self.caps[i] + self.TOLERANCE for i, c in pays)
        added = [0.0] * len(self.years)
        for i, c in pays:
            added[i] += c
        spent = allowed = 0.0
        for i in range(len(self.years)):
            spent += self.spent[i] + added[i]
            allowed += self.caps[i]
            if spent > allowed + self.TOLERANCE:
                return False
        return True

    def pay(self, option: int) -> None:
        for i, c in self._pays(option):
            self.spent[i] += c
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
