"""What it would have taken: the score each candidate left out needed, the money that would
have made room for it, and how far each selected one's score could fall before it lost its
place.

**Score.** An option's merit is weight(level) × chance × score (``options.build_problem``;
an upgrade chain's is its upgrade's plus its first designation's where the upgrade is not
conferred), so a candidate's score moves the objective coefficient of each of its options
by a known slope ``k`` (``score_slopes``). "Its score" is the candidate's score in every application it made (the score column
when there is no applications table): raising it by δ raises every option of the candidate
by k·δ. Plans without the candidate do not change, so whether it is selected is monotone
in δ; the threshold is the smallest δ that selects it, and for a selected one the margin is
the largest fall that keeps it selected (in any of its own, non-entitlement designations).

**Estimate for every candidate** (cheap: the relaxation's basis moved a few pivots). The
relaxation at the solution's rows, with duals y: an option's *net value* is its objective
coefficient minus what it uses of every shared row (budgets, quotas, balance, caps), priced
at y; its candidate-and-matter row is left out, being the candidate's own. A candidate left
out needs its best option's net value raised to zero: δ = −net / k, the smallest over its
options, with y the prices of taking rows (the relaxation with the shared rows a little
tighter: a full quota is worth what its last one in is). A selected one keeps its place
while one of its options' net value stays positive: its margin is the largest net / k, with
y the prices of freeing rows (a little looser: what the first one out is worth). The extra budget is estimated as the relaxation spends a larger
budget: options (the best of each candidate and matter left out) enter in order of net
value before money per 万元, so a candidate needs the money of every one ahead of it in its
year, plus its own cost, less what the plan leaves unspent.

**Settled by re-solving** (``threshold_settle.py``): exact figures from the programme
solved again with the candidate forced in or out (``threshold_solves.py``: a few solves per
candidate instead of a bisection), each checked by solving the allocation itself at the
figure and one step short of it, on a grid of 0.1 points and 1万元; by default for as many
candidates as a deterministic budget of work allows (every one on a small instance), and
for the N closest each side when asked (``--confirm N``). ``threshold_confirmed`` says which
rows were settled whole, ``score_confirmed`` and ``money_confirmed`` which figure of a row
(the score needed or the margin; the extra budget); the rest keep the estimate, marked 估算.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd

from .budget_risk import row_budget_needed
from .checks import expected_spend
from .options import AllocationProblem
from .threshold_prices import Prices
from .units import Level

log = logging.getLogger(__name__)

THRESHOLD_COLUMNS = [
    "score_needed",
    "extra_budget_wan",
    "extra_budget_year",
    "score_margin",
    "threshold_at",
    "threshold_confirmed",
    "score_confirmed",
    "money_confirmed",
]
SCORE_STEP = 0.1  # scores are given to one decimal
MONEY_STEP = 1.0  # 万元
# Past this many options the relaxation solved again for its duals costs seconds (at
# 200,000 options, 10,000 candidates: compile 0.8 s and the interior point method 1.6-2.8 s
# on 2 cores, against a whole allocate of about 5 s): estimates are left out there.
ESTIMATE_LIMIT = 60_000


# A raise past max(SCORE_CAP, twice the candidate's own best score) counts as "no score would
# do", estimated or settled (``threshold_settle``).
SCORE_CAP = 100.0


def level_weights(problem: AllocationProblem) -> np.ndarray:
    """Each option's level weight (settings.weight of its level), looked up once per level:
    a lookup per option was 30 ms of a 1,000-candidate allocate's explanations."""
    codes, levels = pd.factorize(problem.options["level"].to_numpy())
    weights = np.array([problem.settings.weight(Level(lv)) for lv in levels], dtype=float)
    return weights[codes]


def score_slopes(problem: AllocationProblem) -> np.ndarray:
    """Merit per point of score, per option, as ``rescored`` moves it: weight × chance, 0 for
    an entitlement (it adds no merit); an upgrade chain's is its upgrade's plus its first
    designation's where the upgrade is not conferred, weight_A × chance_A × (1 − chance_B)
    (the first's is 0 when it is an entitlement, whose score does not move)."""
    options = problem.options
    weight = level_weights(problem)
    chance = options["probability"].to_numpy(dtype=float)
    own = np.where(options["forced"].to_numpy(dtype=bool), 0.0, weight * chance)
    origin = options["from_option"].to_numpy()
    chain = origin >= 0
    slope = own.copy()
    slope[chain] = own[origin[chain]] * (1 - chance[chain]) + own[chain]
    return slope


def rescored(problem: AllocationProblem, candidate: int, delta: float) -> AllocationProblem:
    """The problem with candidate (position) ``candidate``'s score moved by ``delta`` in every
    option it has (never below 0), merits recomputed as ``options.build_problem`` makes them."""
    options = problem.options.copy()
    mine = (options["candidate"].to_numpy() == candidate) & ~options["forced"].to_numpy(bool)
    score = options["score"].to_numpy(dtype=float).copy()
    score[mine] = np.maximum(score[mine] + delta, 0.0)
    weight = level_weights(problem)
    chance = options["probability"].to_numpy(dtype=float)
    forced = options["forced"].to_numpy(dtype=bool)
    own = weight * score * chance
    origin = options["from_option"].to_numpy()
    chain = origin >= 0
    merit = own.copy()
    # A chain is worth its first designation's merit where the upgrade is not conferred,
    # none when that designation is an entitlement (decisions.upgrade_chains).
    first = np.where(forced, 0.0, own)
    merit[chain] = first[origin[chain]] * (1 - chance[chain]) + own[chain]
    options["score"] = score
    options["merit"] = np.where(mine, merit, options["merit"].to_numpy(dtype=float))
    return replace(problem, options=options)


def with_more_money(
    problem: AllocationProblem, year: int | None, delta: float
) -> AllocationProblem:
    """The problem with ``delta`` 万元 more in ``year``'s budget (and in the horizon total,
    if there is one); ``year`` None raises the total only."""
    budget = problem.budget
    extra = Decimal(str(delta))
    per_year = dict(budget.per_year)
    if year is not None and year in per_year:
        per_year[year] = per_year[year] + extra
    total = None if budget.total is None else budget.total + extra
    return problem.with_budget(budget.model_copy(update={"per_year": per_year, "total": total}))


def estimate(problem: AllocationProblem, chosen: np.ndarray, prices: Prices | None) -> pd.DataFrame:
    """Estimated thresholds for every candidate (index: candidate positions; columns
    ``THRESHOLD_COLUMNS``), from the relaxation's ``prices`` (module docstring); NaN where a
    figure does not apply or cannot be estimated."""
    options = problem.options
    n_candidates = len(problem.candidates)
    table = pd.DataFrame(
        {
            "score_needed": np.nan,
            "extra_budget_wan": np.nan,
            "extra_budget_year": pd.array([pd.NA] * n_candidates, dtype="Int64"),
            "score_margin": np.nan,
            "threshold_at": pd.array([None] * n_candidates, dtype=object),
            "threshold_confirmed": False,
            "score_confirmed": False,
            "money_confirmed": False,
        },
        index=problem.candidates.index,
    )
    objective = problem.settings.objective
    if prices is None or options.empty or objective == "min_cost":
        return table
    candidate = options["candidate"].to_numpy()
    free = ~options["forced"].to_numpy(dtype=bool)
    picked = np.zeros(len(options), dtype=bool)
    picked[np.asarray(chosen, dtype=int)] = True
    winners = np.unique(candidate[picked & free])
    has_free = np.unique(candidate[free])
    losers = np.setdiff1d(has_free, winners)
    score = options["score"].to_numpy(dtype=float)
    at = option_names(options)
    if objective == "merit":
        slope = score_slopes(problem)
        usable = free & (slope > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(usable, prices.net / slope, np.nan)
            coming_in = np.where(usable, prices.entering / slope, np.nan)
        # Left out: the option needing the smallest raise, at the prices of entering.
        raise_by = np.where(
            usable & np.isin(candidate, losers), np.maximum(-coming_in, 0.0), np.inf
        )
        # Figures gathered per candidate, then written a column at a time: a cell write
        # through pandas (.at) per candidate was 0.1 s of 10,000 candidates' explanations.
        needed, margin, where = {}, {}, {}
        best = _argmin_by(candidate, raise_by)
        for c, o in best.items():
            if math.isfinite(raise_by[o]):
                steps = max(1, math.ceil(raise_by[o] / SCORE_STEP - 1e-9))
                needed[c] = round(score[o] + steps * SCORE_STEP, 1)
                where[c] = at[o]
                if needed[c] > max(SCORE_CAP, 2 * score[o]):
                    # priced out by a row that cannot give (``_side``): no score would do
                    needed[c], where[c] = math.inf, None
        # Selected: the largest fall one of its options' net value survives.
        keep = np.where(usable & np.isin(candidate, winners), ratio, -np.inf)
        best = _argmin_by(candidate, -keep)
        named = _named_at(candidate, keep, picked)
        for c, o in best.items():
            if math.isfinite(keep[o]):
                steps = max(0, math.floor(max(keep[o], 0.0) / SCORE_STEP + 1e-9))
                margin[c] = round(min(steps * SCORE_STEP, score[o]), 1)
                where[c] = at[named[c]]
        _put(table, "score_needed", needed)
        _put(table, "score_margin", margin)
        _put(table, "threshold_at", where)
    _estimate_money(problem, chosen, prices, losers, table)
    return table


def _named_at(candidate: np.ndarray, keep: np.ndarray, picked: np.ndarray) -> dict[int, int]:
    """For each candidate, the option its margin is said to be measured at: one the plan
    ``picked`` (of those, one whose margin ``keep`` ties the largest, within 1e-6 of it,
    relative, if there is one), else the first of those that tie. The margin moves every
    option of the candidate at once (``threshold_prices.rescored``), so "降至X分" reads from
    the designation the candidate was given: measured at another of its options, a firm
    designated at 73.5 read "降至51.5分" from a 65.6 it applied for and was not given
    (review 20)."""
    top = np.full(int(candidate.max(initial=-1)) + 1, -np.inf)
    np.maximum.at(top, candidate, keep)
    best = top[candidate]
    tied = np.isfinite(best) & (keep >= best - 1e-6 * np.maximum(1.0, np.abs(best)))
    rank = np.where(tied & picked, 0, np.where(picked, 1, np.where(tied, 2, 3)))
    return _argmin_by(candidate, rank)


def _put(table: pd.DataFrame, column: str, values: dict) -> None:
    """``table.at[c, column] = v`` for every (c, v) of ``values``, in one write."""
    if values:
        table.loc[list(values), column] = pd.Series(values, dtype=table[column].dtype)


def _estimate_money(
    problem: AllocationProblem,
    chosen: np.ndarray,
    prices: Prices,
    losers: np.ndarray,
    table: pd.DataFrame,
) -> None:
    """The extra budget each candidate left out needs (module docstring), into ``table``."""
    budget = problem.budget
    if budget.unlimited:
        return
    options = problem.options
    left = _money_left(problem, chosen)
    candidate = options["candidate"].to_numpy()
    year = options["year"].to_numpy()
    cost = options["expected_cost"].to_numpy(dtype=float)
    free = ~options["forced"].to_numpy(dtype=bool)
    value = prices.before_money
    with np.errstate(divide="ignore", invalid="ignore"):
        per_wan = np.where(free & (cost > 0) & (value > 1e-9), value / cost, np.nan)
    picked = np.zeros(len(options), dtype=bool)
    picked[np.asarray(chosen, dtype=int)] = True
    groups = options.groupby(["candidate", "matter"], sort=False).ngroup().to_numpy()
    chosen_group = np.zeros(groups.max() + 1, dtype=bool)
    chosen_group[groups[picked]] = True
    waiting = ~chosen_group[groups] & np.isfinite(per_wan)
    extra = np.full(len(options), np.inf)
    # Per year, the contenders' options in the order the relaxation would fund them, and for
    # each loser's option how many of them come first (for the overrun bound, below).
    funded_first: dict[int, np.ndarray] = {}
    ahead_of: dict[int, int] = {}
    for t in problem.years:
        room = left.get(t)
        if room is None:
            continue
        # The contenders of year t: each waiting candidate-and-matter's best option in t.
        in_year = np.flatnonzero(waiting & (year == t))
        if len(in_year) == 0:
            continue
        frame = pd.DataFrame({"o": in_year, "g": groups[in_year], "r": per_wan[in_year]})
        leaders = frame.sort_values(["g", "r"], ascending=[True, False]).drop_duplicates("g")
        order = np.argsort(-leaders["r"].to_numpy(), kind="stable")
        ratios = leaders["r"].to_numpy()[order]
        spent_before = np.concatenate([[0.0], np.cumsum(cost[leaders["o"].to_numpy()[order]])])
        mine = in_year[np.isin(candidate[in_year], losers)]
        # Money of every contender strictly ahead (a higher value per 万元), then its own.
        ahead = np.searchsorted(-ratios, -per_wan[mine], side="left")
        extra[mine] = spent_before[ahead] + cost[mine] - float(room)
        funded_first[t] = leaders["o"].to_numpy()[order]
        ahead_of.update(zip(mine.tolist(), ahead.tolist(), strict=True))
    at = option_names(options)
    best = _argmin_by(candidate, np.where(np.isin(candidate, losers), extra, np.inf))
    alpha = problem.settings.overrun_risk
    if alpha is not None:
        # Under an overrun bound the budget must carry the larger plan's risk, not only its
        # expected cost: the row's budget it needs at the bound, less the budget it has. On
        # the default scenario the expected money alone fell short by a quarter to a half
        # (E00248: 1,875万元 estimated; 1.25 times it did not select it, 1.5 times did).
        for o in best.values():
            if not math.isfinite(extra[o]):
                continue
            t = int(year[o])
            plan = np.union1d(chosen, [*funded_first[t][: ahead_of[o]], o]).astype(int)
            label = str(t) if t in budget.per_year else "total"
            needed = row_budget_needed(problem, plan, label, alpha)
            if needed is not None:
                extra[o] = max(extra[o], float(needed[0] - needed[1]))
    named = dict(zip(table.index, table["threshold_at"].notna(), strict=True))
    # Worth nothing even with money no limit (a full quota): no budget brings it in.
    helpless: set[int] = set()
    if prices.rich is not None:
        worth = np.where(free, prices.rich, -np.inf)
        top = np.full(int(candidate.max(initial=-1)) + 1, -np.inf)
        np.maximum.at(top, candidate, worth)
        helpless = {int(c) for c in losers if top[c] <= 1e-9}
    money, years, where = {}, {}, {}
    for c, o in best.items():
        if c in helpless and math.isfinite(extra[o]):
            money[c] = math.inf
            years[c] = int(year[o]) if budget.per_year else pd.NA
        elif math.isfinite(extra[o]):
            steps = max(1, math.ceil(extra[o] / MONEY_STEP - 1e-9))
            money[c] = steps * MONEY_STEP
            years[c] = int(year[o]) if budget.per_year else pd.NA
            if not named[c]:
                where[c] = at[o]
    _put(table, "extra_budget_wan", money)
    _put(table, "extra_budget_year", years)
    _put(table, "threshold_at", where)


def _money_left(problem: AllocationProblem, chosen: np.ndarray) -> dict[int, Decimal]:
    """Money the plan leaves in each year it may still be spent (with carry-over, what has
    accumulated; with a horizon total, no more than the total's rest). With an overrun
    bound none: the bound, not the money expected, is what limits the plan."""
    budget = problem.budget
    if problem.settings.overrun_risk is not None:
        return {
            t: Decimal(0) for t in problem.years if t in budget.per_year or budget.total is not None
        }
    spend = expected_spend(problem, chosen)
    total_left = None if budget.total is None else budget.total - sum(spend.values())
    left: dict[int, Decimal] = {}
    running = Decimal(0)
    for t in problem.years:
        if t in budget.per_year:
            running = (running if budget.carry_over else Decimal(0)) + budget.per_year[t] - spend[t]
            left[t] = running if total_left is None else min(running, total_left)
        elif total_left is not None:
            left[t] = total_left
    return {t: max(v, Decimal(0)) for t, v in left.items()}


def _argmin_by(groups: np.ndarray, values: np.ndarray) -> dict[int, int]:
    """For each group, the position of its smallest value (the first on ties)."""
    order = np.lexsort((np.arange(len(values)), values, groups))
    first = np.concatenate([[True], groups[order][1:] != groups[order][:-1]]) if len(order) else []
    return {int(groups[o]): int(o) for o in order[np.asarray(first, dtype=bool)]}


def option_names(options: pd.DataFrame) -> np.ndarray:
    """programme:level:year of every option (the form ``upgrade_of`` uses), as an object
    array of texts. Made once per distinct tier and year (a few dozen) and spread by code:
    joining the texts of 20,000 options was 4 ms a call, three calls an allocation."""
    codes, uniques = [], []
    for column in ("programme", "level", "year"):
        code, unique = pd.factorize(options[column])
        codes.append(code)
        uniques.append([str(v) for v in unique])
    if not len(options):
        return np.array([], dtype=object)
    if any((code < 0).any() for code in codes):  # a missing value: the texts as pandas joins them
        return (
            options["programme"].astype(str)
            + ":"
            + options["level"].astype(str)
            + ":"
            + options["year"].astype(str)
        ).to_numpy()
    combined = np.ravel_multi_index(codes, [max(1, len(u)) for u in uniques])
    present, inverse = np.unique(combined, return_inverse=True)
    names = np.empty(len(present), dtype=object)
    programmes, levels, years = np.unravel_index(present, [len(u) for u in uniques])
    for k, (p, lv, y) in enumerate(zip(programmes, levels, years, strict=True)):
        names[k] = f"{uniques[0][p]}:{uniques[1][lv]}:{uniques[2][y]}"
    return names[inverse.ravel()]


# --- helpers shared with the settling (threshold_settle.py) ----------------------------


def best_score(problem: AllocationProblem, c: int) -> float:
    """Candidate c's highest score among its options of the city's choice."""
    options = problem.options
    mine = (options["candidate"].to_numpy() == c) & ~options["forced"].to_numpy(dtype=bool)
    return float(options["score"].to_numpy(dtype=float)[mine].max())


def scores_at(problem: AllocationProblem, where: pd.Series) -> pd.Series:
    """The score each candidate (the index) has at the option ``where`` names
    (programme:level:year; NaN where none)."""
    options = problem.options
    key = pd.Series(option_names(options), index=options.index)
    lookup = pd.Series(
        options["score"].to_numpy(dtype=float),
        index=pd.MultiIndex.from_arrays([options["candidate"].to_numpy(), key.to_numpy()]),
    )
    lookup = lookup[~lookup.index.duplicated()]
    pairs = pd.MultiIndex.from_arrays([where.index.to_numpy(), where.astype(object).to_numpy()])
    return pd.Series(lookup.reindex(pairs).to_numpy(), index=where.index)


def money_cap(problem: AllocationProblem) -> int:
    """Enough money to pay every option there is in full, and every later instalment (a
    rebate over three years), whether or not a higher government confers it: past it, money
    cannot be what keeps a candidate out, in ``year``'s row, the horizon total's or any
    cumulative row, and under an overrun bound too (expected costs, or one year's own
    amounts, would not be: review 13 found two firms told no money would do, which 230万元
    did, their awards' instalments falling in the next year). The same for any row raised."""
    cost = float(problem.options["cost"].to_numpy(dtype=float).sum())
    later = problem.later_payments
    if len(later):
        cost += float(later["cost"].to_numpy(dtype=float).sum())
    return max(1, math.ceil(cost / MONEY_STEP) + 1)
