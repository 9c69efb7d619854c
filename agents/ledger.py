"""A government's money: instalments owed and paid, and what a yearly round may still commit.

Each round solves the allocation over the years of the budget still to come, with what is
left of each year's money after the instalments earlier rounds owe, so that multi-year
payouts are charged to the years they fall in (docs/design.md, "The allocation model": budget
per year, a horizon total, carry-over). Only the round year's options are offered, so the
solve decides this year's designations and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import accumulate

import numpy as np
import pandas as pd

from liangye.model.options import LATER_PAYMENT_COLUMNS, AllocationProblem
from liangye.model.settings import Budget


@dataclass(frozen=True)
class Instalment:
    """One payment owed to a firm (by its position) for a designation, in 万元."""

    due: int
    firm: int
    programme: str
    level: str
    amount: float


class Ledger:
    """What one government owes (pending instalments) and has paid, by year."""

    def __init__(self) -> None:
        self.pending: list[Instalment] = []
        self.paid: dict[int, float] = defaultdict(float)
        self.cancelled = 0.0

    def owe(self, instalments: Iterable[Instalment]) -> None:
        self.pending.extend(instalments)

    def fall_due(self, year: int) -> list[Instalment]:
        """Remove and return the instalments due in ``year`` (and any overdue), counted as paid."""
        due = [p for p in self.pending if p.due <= year]
        self.pending = [p for p in self.pending if p.due > year]
        for p in due:
            self.paid[year] += p.amount
        return due

    def cancel(self, firm: int, programme: str) -> float:
        """Cancel everything still owed to ``firm`` for ``programme``; return the 万元 freed.

        The freed money is no longer committed, so it returns to the budgets of the years the
        instalments fell in (``owed_by_year`` no longer counts it)."""
        kept = [p for p in self.pending if not (p.firm == firm and p.programme == programme)]
        freed = sum(p.amount for p in self.pending) - sum(p.amount for p in kept)
        self.pending = kept
        self.cancelled += freed
        return freed

    def owed_by_year(self) -> dict[int, float]:
        """Pending instalments summed by the year they fall due."""
        owed: dict[int, float] = defaultdict(float)
        for p in self.pending:
            owed[p.due] += p.amount
        return dict(owed)

    def owed(self) -> float:
        """万元 owed and not yet paid."""
        return float(sum(p.amount for p in self.pending))


def _money(value: float | Decimal) -> Decimal:
    """A non-negative amount of 万元 as a Decimal, rounded to 1/10000 万元 (one yuan)."""
    return max(Decimal(0), Decimal(str(round(float(value), 4))))


def budget_horizon(budget: Budget, policy_years: Sequence[int]) -> list[int]:
    """The years a budget governs: the policy's years, those with a yearly line if any."""
    return [t for t in policy_years if not budget.per_year or t in budget.per_year]


def round_budget(
    budget: Budget,
    horizon: Sequence[int],
    year: int,
    paid: Mapping[int, float],
    owed: Mapping[int, float],
    rounds: Sequence[int] | None = None,
    obligations: Mapping[int, float] | None = None,
) -> Budget:
    """What a round in ``year`` may still commit, for each year of ``horizon`` from ``year``.

    With B_t the yearly budget, P_s what was paid in an earlier year s and O_t what earlier
    rounds still owe in year t (t ≥ year):

    without carry-over:  B'_t = max(0, B_t − O_t)
    with carry-over:     cumulative limits C_t = Σ_{s<year} (B_s − P_s) + Σ_{year≤u≤t} (B_u − O_u);
                         new spending up to t must stay within C_u for every u ≥ t, so the
                         round's limits are L_t = max(0, min_{u≥t} C_u) and B'_t = L_t − L_{t−1}
    horizon total:       T' = max(0, T − Σ_{s<year} P_s − Σ_{t≥year} O_t)

    **Paced** over the rounds still to come (``rounds``: the years with a round), as the
    horizon's quotas are (``rounds.paced_policy``): a later year's money is shared by the
    rounds that can still commit it, this one and those up to that year, so this round may
    take B'_t / k_t with k_t = #{rounds r: year ≤ r ≤ t} (1 for its own year), and of the
    horizon total T' / #{rounds r ≥ year}. Unpaced, the first round of a scenario paying in
    instalments booked 92% of the next year's budget for its own designations (200 municipal
    design centres where paying at once bought 43), and the next year overran in every
    replication, its own entitlements unpaid for, its round left to pay obligations only
    (review 22). A round knows only this year's applicants; the rounds to come have theirs.
    What the round owes by right (``obligations``: its entitlements' payments by year, at
    expected cost) is paid whatever its share: its limits are the share plus those, at most
    what is left (review 24: a round whose entitlements paid 20 into a next year of 60 was
    held to 30 and lost its whole plan). With carry-over the limits are cumulative, so the
    round may still move money of its own year to a later one, as carry-over allows.

    Payments after the horizon are commitments outside these limits, as in ``liangye.model``.
    """
    years = [t for t in horizon if t >= year]
    per_year: dict[int, Decimal] = {}
    if budget.per_year:
        if budget.carry_over:
            carried = sum(float(budget.per_year[s]) - paid.get(s, 0.0) for s in horizon if s < year)
            steps = [float(budget.per_year[t]) - owed.get(t, 0.0) for t in years]
            cumulative = [carried + c for c in accumulate(steps)]
            limits = np.maximum(0.0, np.minimum.accumulate(cumulative[::-1])[::-1])
            previous = Decimal(0)
            for t, limit in zip(years, limits, strict=True):
                per_year[t] = _money(float(_money(limit) - previous))
                previous += per_year[t]
        else:
            per_year = {t: _money(float(budget.per_year[t]) - owed.get(t, 0.0)) for t in years}
    total = None
    if budget.total is not None:
        spent = sum(paid.get(s, 0.0) for s in horizon if s < year)
        total = _money(float(budget.total) - spent - sum(owed.get(t, 0.0) for t in years))
    if rounds is not None:
        own = obligations or {}
        for t, money in per_year.items():
            sharing = sum(1 for r in rounds if year <= r <= t)
            if sharing > 1:
                per_year[t] = _money(min(float(money), float(money) / sharing + own.get(t, 0.0)))
        left = sum(1 for r in rounds if r >= year)
        if total is not None and left > 1:
            owed_now = sum(v for t, v in own.items() if t >= year)
            total = _money(min(float(total), float(total) / left + owed_now))
    return Budget(per_year=per_year, total=total, carry_over=budget.carry_over)


def obligations_by_year(problem: AllocationProblem) -> dict[int, float]:
    """What ``problem``'s entitlements (options forced into every plan) pay, by year, at
    expected cost: their own years' and their later payments."""
    option, year, cost = problem.payments()
    forced = problem.options["forced"].to_numpy(dtype=bool)
    mine = forced[option]
    out: dict[int, float] = {}
    for t, c in zip(year[mine].tolist(), cost[mine].tolist(), strict=True):
        out[t] = out.get(t, 0.0) + c
    return out


def with_payout_schedule(
    problem: AllocationProblem, schedule: Mapping[str, Sequence[float]]
) -> tuple[AllocationProblem, np.ndarray]:
    """The problem with each option's designation-year cost split by its programme's
    ``schedule`` (fractions paid in the designation year and the years after), and the
    options' full costs.

    The first fraction stays on the option; the others become later payments in the years
    they fall, beside the policy's own later payouts, so the budget rows of the solve charge
    every year what it will pay. Programmes without a schedule pay at once.
    """
    options = problem.options
    full = options["cost"].to_numpy(dtype=object).copy()
    if not schedule or options.empty:
        return problem, full
    first = np.ones(len(options))
    later: list[pd.DataFrame] = [problem.later_payments]
    for programme, fractions in schedule.items():
        at = np.flatnonzero((options["programme"] == programme).to_numpy())
        if len(at) == 0 or list(fractions) == [1.0]:
            continue
        first[at] = fractions[0]
        rows = options.iloc[at]
        for k, fraction in enumerate(fractions[1:], start=1):
            share = Decimal(str(fraction))
            later.append(
                pd.DataFrame(
                    {
                        "option": at,
                        "year": rows["year"].to_numpy(dtype=int) + k,
                        "cost": [c * share for c in rows["cost"]],
                        "expected_cost": rows["expected_cost"].to_numpy(dtype=float) * fraction,
                        "chance": rows["probability"].to_numpy(dtype=float),
                        "part": 1,
                    }
                )
            )
    shares = [Decimal(str(f)) for f in first]
    split = options.assign(
        cost=[c * s for c, s in zip(options["cost"], shares, strict=True)],
        expected_cost=options["expected_cost"].to_numpy(dtype=float) * first,
    )
    frames = [f for f in later if len(f)]
    payments = (
        pd.concat(frames, ignore_index=True)
        .groupby(["option", "year", "chance", "part"], as_index=False, sort=True)
        .agg(cost=("cost", "sum"), expected_cost=("expected_cost", "sum"))[LATER_PAYMENT_COLUMNS]
        if frames
        else problem.later_payments
    )
    return replace(problem, options=split, later_payments=payments), full


def option_dues(problem: AllocationProblem, option: int) -> list[tuple[int, float]]:
    """(year, 万元) of everything ``option`` pays if conferred: its designation year's cost and
    its later payments, in year order."""
    row = problem.options.iloc[option]
    dues = [(int(row["year"]), float(row["cost"]))]
    later = problem.later_payments
    if len(later):
        mine = later[later["option"].to_numpy(dtype=int) == option]
        dues += [(int(y), float(c)) for y, c in zip(mine["year"], mine["cost"], strict=True)]
    return sorted(dues)


def options_dues(
    problem: AllocationProblem, options: Sequence[int]
) -> list[list[tuple[int, float]]]:
    """``option_dues`` of each of ``options`` at once: (year, 万元) of everything it pays if
    conferred, its designation year's cost and its later payments, in year order."""
    chosen = np.asarray(options, dtype=np.int64)
    table = problem.options
    years = table["year"].to_numpy()[chosen].tolist()
    costs = table["cost"].to_numpy()[chosen]
    dues = [[(int(t), float(c))] for t, c in zip(years, costs, strict=True)]
    later = problem.later_payments
    if len(later) and len(chosen):
        position = {int(o): k for k, o in enumerate(chosen.tolist())}
        owner = later["option"].to_numpy(dtype=np.int64)
        mine = np.flatnonzero(np.isin(owner, chosen))
        for o, t, c in zip(
            owner[mine].tolist(),
            later["year"].to_numpy()[mine].tolist(),
            later["cost"].to_numpy()[mine],
            strict=True,
        ):
            dues[position[o]].append((int(t), float(c)))
    return [sorted(d) for d in dues]
