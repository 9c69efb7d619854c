"""The bureau's rule of thumb: rank by score and designate until the money runs out."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .options import AllocationProblem
from .programme import balance_rows, quota_scopes

RANKED_BLOCK = 512  # ranked options made into Python lists at a time (greedy_plan)


def greedy_plan(problem: AllocationProblem) -> np.ndarray:
    """Options chosen by the by-hand rule, as indices into ``problem.options``.

    Entitlements are taken first (they are owed). Then, year by year, options are taken in
    order of weighted score (ties: higher level, then earlier candidate) whenever the
    candidate has nothing yet in that matter (or, for an upgrade, holds what it upgrades
    from this rule's own earlier choice), the year's money covers the expected cost, and no
    maximum quota, balance count or per-candidate cap would be exceeded. Minimum quotas and balance shares are not pursued: that is what a
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
    # a set: an upgrade asks whether the rule chose what it upgrades (a list's scan cost 60 ms
    # of the default's 100 ms plan); the plan is returned sorted anyway
    chosen: set[int] = set()
    origin = options["from_option"].to_numpy()

    def take(o: int, year: int, who: int, stack: int) -> None:
        """Designate ``o`` (of candidate ``who``, stacking group ``stack``) in ``year``."""
        chosen.add(o)
        taken.add(stack)
        purse.pay(o)
        per_candidate_year[(who, year)] += 1
        for key, _ in counters[o]:
            count[key] += 1

    def upgrade(chain: int, year: int, who: int) -> bool:
        """Replace the rule's own earlier choice by the chain that upgrades it (its first
        designation is that choice, so only the upgrade's money and counts are added)."""
        first = int(origin[chain])
        if first not in chosen:
            return False
        purse.refund(first)
        if not purse.affords(chain) or any(
            count[key] >= limit for key, limit in counters[chain] if key not in counted[first]
        ):
            purse.pay(first)
            return False
        chosen.remove(first)
        chosen.add(chain)
        purse.pay(chain)
        per_candidate_year[(who, year)] += 1
        for key, _ in counters[chain]:
            if key not in counted[first]:
                count[key] += 1
        return True

    # The quota keys an option counts in, made when a chain asks for its first designation's
    # (a dict over every option cost 1 s at 200,000 options).
    counted = _KeysOf(counters)
    # Obligations first: entitlements are paid whatever the ranking (even over the budget).
    forced = options["forced"].to_numpy(dtype=bool)
    obligations = np.flatnonzero(forced)
    purse.prepare(obligations)
    for o in obligations.tolist():
        take(o, int(year_of[o]), int(candidate[o]), int(stack_key[o]))
    # Highest weighted score first; ties: higher level, then earlier candidate.
    ranking = np.lexsort(
        (candidate, options["level_rank"].to_numpy(), -options["merit"].to_numpy())
    )
    for year in problem.years:
        in_year = ranking[year_of[ranking] == year]
        cheapest_after = np.minimum.accumulate(purse.now[in_year][::-1])[::-1]
        least = cheapest_after - purse.TOLERANCE
        # the money left changes only when the purse does (``purse.changes`` counts that)
        changes, left = -1, 0.0
        # The ranked loop reads Python lists, a block of options at a time: it is sequential
        # (numpy scalars cost more there) and often stops early (lists of every option
        # cost more than the loop at 200,000 options).
        for first in range(0, len(in_year), RANKED_BLOCK):
            block = in_year[first : first + RANKED_BLOCK]
            purse.prepare(block)
            stop = False
            for o, fits, is_forced, origin_o, who, stack in zip(
                block.tolist(),
                least[first : first + RANKED_BLOCK].tolist(),
                forced[block].tolist(),
                origin[block].tolist(),
                candidate[block].tolist(),
                stack_key[block].tolist(),
                strict=True,
            ):
                if changes != purse.changes:
                    changes, left = purse.changes, purse.left_now(year)
                if left < fits:
                    stop = True
                    break  # nothing later in this year's ranking fits the money left
                if is_forced:
                    continue
                if cap is not None and per_candidate_year[(who, year)] >= cap:
                    continue
                if origin_o >= 0:  # an upgrade of a designation this rule made earlier
                    upgrade(o, year, who)
                    continue
                if stack in taken or not purse.affords(o):
                    continue
                if any(count[key] >= limit for key, limit in counters[o]):
                    continue
                take(o, year, who, stack)
            if stop:
                break
    return np.array(sorted(chosen), dtype=int)


class OptionPayments:
    """What each option pays in each year of the horizon (expected cost), as the greedy rule
    reads it: (year index, cost) pairs in year order and their sum, made for a block of
    options at a time (``prepare``) as the ranked loop reaches them — the rule may ask for
    nearly every option's, or stop after a few hundred of 200,000. They do not read the
    budget: made once per problem (``option_payments``) and shared by the plans of one
    problem under several budgets (a frontier's ten points)."""

    def __init__(self, problem: AllocationProblem):
        years = list(problem.years)
        option, year, cost = problem.payments()
        inside = np.isin(year, years)
        rows = np.searchsorted(years, year[inside])
        matrix = np.zeros((problem.size, len(years)))
        np.add.at(matrix, (option[inside], rows), cost[inside])
        own_year = np.searchsorted(years, problem.options["year"].to_numpy())
        self.now = matrix[np.arange(problem.size), own_year]  # paid in the option's own year
        self.now.flags.writeable = False
        self.matrix = matrix
        self.matrix.flags.writeable = False
        self._pays: dict[int, list[tuple[int, float]]] = {}
        self.sums: dict[int, float] = {}

    def prepare(self, options: np.ndarray) -> None:
        """Make the pairs and sums of ``options`` not made yet (vectorised, where one at a
        time was a numpy row scan each)."""
        made = self.sums
        options = options[[o not in made for o in options.tolist()]]
        if not len(options):
            return
        rows = self.matrix[options]
        held, at = np.nonzero(rows)
        pairs = list(zip(at.tolist(), rows[held, at].tolist(), strict=True))
        start = np.searchsorted(held, np.arange(len(options) + 1)).tolist()
        # each option's slice of the pairs, the loop run by map and zip rather than Python
        slices = map(pairs.__getitem__, map(slice, start[:-1], start[1:]))
        self._pays.update(zip(options.tolist(), slices, strict=True))
        # Each option's sum over its pairs, added in year order as ``sum`` over the pairs
        # would (the zeros between them add nothing): vectorised, the same floats.
        sums = np.zeros(len(options))
        for column in rows.T:
            sums = sums + column
        self.sums.update(zip(options.tolist(), sums.tolist(), strict=True))

    def pays(self, option: int) -> list[tuple[int, float]]:
        """The (year index, cost) pairs of ``option``, in year order."""
        if option not in self._pays:
            self.prepare(np.array([option]))
        return self._pays[option]


def option_payments(problem: AllocationProblem) -> OptionPayments:
    """The problem's ``OptionPayments``, made once per options table and its later payments
    (kept beside them, as ``AllocationProblem.payments`` keeps its arrays)."""
    cached = problem.derived().get("option_payments")
    if (
        cached is not None
        and cached[0] is problem.options
        and cached[1] is problem.later_payments
        and cached[2] == list(problem.years)
    ):
        return cached[3]
    made = OptionPayments(problem)
    problem.derived()["option_payments"] = (
        problem.options,
        problem.later_payments,
        list(problem.years),
        made,
    )
    return made


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
        payments = option_payments(problem)
        self.now = payments.now
        self.sums = payments.sums  # each prepared option's total, in year order
        # the pairs, made ahead of the ranked loop a block at a time, and read once per
        # ranked option (bound here: the loop is sequential and must be cheap)
        self.prepare = payments.prepare
        self.pays = payments.pays
        self.changes = 0  # how often the money spent changed (``pay``, ``refund``)
        # the limits the checks compare with, tolerance included (the same sums, made once)
        self.total_limit = self.total_cap + self.TOLERANCE
        self.limits = [cap + self.TOLERANCE for cap in self.caps]

    def left_now(self, year: int) -> float:
        """An upper bound on the money any option designated in ``year`` may still use then."""
        i = self.index[year]
        if self.carry_over:
            left = sum(self.caps[: i + 1]) - sum(self.spent[: i + 1])
        else:
            left = self.caps[i] - self.spent[i]
        return min(left, self.total_cap - self.total)

    def affords(self, option: int) -> bool:
        pays = self.pays(option)
        if not pays:
            return True
        if self.total + self.sums[option] > self.total_limit:
            return False
        if not self.carry_over:
            spent, limits = self.spent, self.limits
            # a loop, not all() over a generator: this runs once per ranked option
            for i, c in pays:  # noqa: SIM110
                if not spent[i] + c <= limits[i]:
                    return False
            return True
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
        self.changes += 1
        for i, c in self.pays(option):
            self.spent[i] += c
            self.total += c

    def refund(self, option: int) -> None:
        """Undo ``pay`` (an option replaced by the chain that upgrades it)."""
        self.changes += 1
        for i, c in self.pays(option):
            self.spent[i] -= c
            self.total -= c


def balance_count_groups(problem: AllocationProblem) -> list[tuple[tuple, np.ndarray, int]]:
    """(counter key, member options, limit) for every balance rule with a max_count."""
    groups: list[tuple[tuple, np.ndarray, int]] = []
    for (b, t, group), (members, _, _, limit) in balance_rows(problem).items():
        if limit is not None:
            groups.append((("balance", b, group, t), members, limit))
    return groups


class _KeysOf(dict):
    """option -> the set of quota keys it counts in, computed on first use."""

    def __init__(self, counters: list) -> None:
        super().__init__()
        self.counters = counters

    def __missing__(self, option: int) -> set:
        keys = {key for key, _ in self.counters[option]}
        self[option] = keys
        return keys
