"""What a plan will cost, as a law rather than a number: each budget row's exact chance of
overrun, its 95th-percentile spend, and the commitments that fall after the horizon.

A plan's payments are certain (the city's own designations, entitlements it pays for sure)
or hang on a conferral: each nomination, and each entitlement conferred by a higher
government, is an independent Bernoulli draw with its level's chance; one draw decides
every payment of the option (its designation year's and its later payouts). A budget row
is what ``programme.add_budget_limits`` limits: a year (cumulative through that year with
carry-over) and the horizon total where one is set. Its spend is certain money plus a sum
of few distinct amounts × binomial counts, whose law ``risk.py`` computes exactly.

Money is held here as integer 元 (万元 × 10,000): exact, and cheap to group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from .joint_risk import MultiRowPayments, RowBudget, joint_overrun
from .options import AllocationProblem
from .risk import Payments, spend_distribution
from .risk_sample import sampled_joint_overrun

YUAN = 10_000  # 元 per 万元
# A plan meets a bound ALPHA when its exact chance is at most ALPHA less this margin, so
# that a recomputation that rounds differently (float sums of ~1e-15) still finds it within.
RISK_MARGIN = 1e-10
HORIZON_TOTAL = "total"


def to_yuan(amount: Decimal | float) -> int:
    """万元 as whole 元 (amounts carry at most 4 decimals: exact)."""
    return int((Decimal(str(amount)) * YUAN).to_integral_value())


def to_wan(yuan: int) -> Decimal:
    """Whole 元 as 万元."""
    return (Decimal(int(yuan)) / YUAN).normalize()


@dataclass(frozen=True)
class BudgetRow:
    """One budget limit: its label ("2025", or "total"), the years whose payments it adds
    up, and the money (元)."""

    label: str
    years: tuple[int, ...]
    budget: int


@dataclass
class PaymentTable:
    """Every option's payments by year in 元: ``certain[o, i]`` what option o pays in
    ``years[i]`` for sure, ``random[o, i]`` what it pays there if its conferral comes, with
    chance ``probability[o]`` (years: the horizon, then any later year). A nomination's
    money is all random; an upgrade chain pays its first designation for sure and the
    upgrade on conferral."""

    years: list[int]
    certain: np.ndarray  # options × years, int64 元
    random: np.ndarray  # options × years, int64 元
    probability: np.ndarray  # per option: the chance of its random part

    def within(self, rows: list[BudgetRow]) -> tuple[np.ndarray, np.ndarray]:
        """(certain, random) options × rows: what each option pays into each budget row (元)."""
        index = {t: i for i, t in enumerate(self.years)}
        out = []
        for table in (self.certain, self.random):
            pays = np.zeros((len(table), len(rows)), dtype=np.int64)
            for r, row in enumerate(rows):
                columns = [index[t] for t in row.years if t in index]
                if columns:
                    pays[:, r] = table[:, columns].sum(axis=1)
            out.append(pays)
        return out[0], out[1]


def _yuan_of(costs: pd.Series) -> np.ndarray:
    """Each cost in 元 (int64), converting each distinct value once (costs repeat per tier)."""
    codes, distinct = pd.factorize(costs, use_na_sentinel=False)  # a missing cost raises
    yuan = np.array([to_yuan(value) for value in distinct], dtype=np.int64)
    return yuan[codes]


def payment_table(problem: AllocationProblem) -> PaymentTable:
    """The options' payments by year (元), certain and on conferral, from their own-year
    cost and their other payments (later payouts, a chain's first designation). Made once
    per problem (the solve, the risk bound, the checks and the explanations all read it);
    read-only."""
    cached = problem.derived().get("payment_table")
    if cached is not None:
        return cached  # type: ignore[return-value]
    table = _payment_table(problem)
    problem.derived()["payment_table"] = table
    return table


def _payment_table(problem: AllocationProblem) -> PaymentTable:
    options = problem.options
    later = problem.later_payments
    later_years = sorted({int(y) for y in later["year"]}) if len(later) else []
    years = sorted(set(problem.years) | set(later_years))
    index = {t: i for i, t in enumerate(years)}
    probability = options["probability"].to_numpy(dtype=float)
    certain = np.zeros((len(options), len(years)), dtype=np.int64)
    random = np.zeros((len(options), len(years)), dtype=np.int64)
    if len(options):
        own = np.array([index[int(t)] for t in options["year"]], dtype=int)
        costs = _yuan_of(options["cost"])
        sure = probability >= 1.0
        rows = np.arange(len(options))
        certain[rows[sure], own[sure]] = costs[sure]
        random[rows[~sure], own[~sure]] = costs[~sure]
    if len(later):
        rows = later["option"].to_numpy(dtype=int)
        cols = np.array([index[int(t)] for t in later["year"]], dtype=int)
        costs = _yuan_of(later["cost"])
        sure = later["chance"].to_numpy(dtype=float) >= 1.0
        np.add.at(certain, (rows[sure], cols[sure]), costs[sure])
        np.add.at(random, (rows[~sure], cols[~sure]), costs[~sure])
    return PaymentTable(years, certain, random, probability)


def budget_rows(problem: AllocationProblem) -> list[BudgetRow]:
    """The budget rows of the problem (``programme.add_budget_limits``), in year order and
    the horizon total last."""
    budget = problem.budget
    rows: list[BudgetRow] = []
    limited = [t for t in problem.years if t in budget.per_year]
    for t in limited:
        if budget.carry_over:
            years = tuple(s for s in problem.years if s <= t)
            money = sum(budget.per_year[s] for s in limited if s <= t)
        else:
            years, money = (t,), budget.per_year[t]
        rows.append(BudgetRow(str(t), years, to_yuan(money)))
    if budget.total is not None:
        rows.append(BudgetRow(HORIZON_TOTAL, tuple(problem.years), to_yuan(budget.total)))
    return rows


def row_payments(
    certain: np.ndarray, random: np.ndarray, probability: np.ndarray, chosen: np.ndarray
) -> tuple[int, list[Payments]]:
    """One row's certain money (元) and its payments on conferral grouped by (amount,
    chance), for the chosen options; ``certain`` and ``random`` are what each option pays
    into the row for sure and if conferred."""
    chosen = np.asarray(chosen, dtype=int)
    sure = int(certain[chosen].sum())
    amount = random[chosen]
    chance = probability[chosen]
    # a payment that is certain to come (chance 1) is certain money; never, nothing
    sure += int(amount[chance >= 1.0].sum())
    hanging = (amount > 0) & (chance > 0) & (chance < 1.0)
    groups: list[Payments] = []
    if hanging.any():
        # Group by (amount, chance) in that order with numpy: this runs for every option a
        # plan is filled with, and a pandas groupby cost ~1 ms a call.
        a, p = amount[hanging], chance[hanging]
        order = np.lexsort((p, a))
        a, p = a[order], p[order]
        first = np.ones(len(a), dtype=bool)
        first[1:] = (a[1:] != a[:-1]) | (p[1:] != p[:-1])
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, len(a)))
        groups = [
            Payments(to_wan(int(a[i])), float(p[i]), int(n))
            for i, n in zip(starts, counts, strict=True)
        ]
    return sure, groups


@dataclass
class PlanRisk:
    """A plan's money as a law: per budget row the chance of overrun, per year the
    expected and 95th-percentile spend, and what falls due after the horizon."""

    overrun: dict[str, float]  # budget row label -> P(spend > budget); "any_year" too
    any_exact: bool  # False: "any_year" is an upper bound (the joint law was too large)
    expected: dict[int, Decimal]  # year -> expected spend (万元), horizon and after
    p95: dict[int, Decimal]  # year -> 95th-percentile spend (万元), horizon years
    commitments: dict[int, Decimal] = field(default_factory=dict)  # after the horizon, expected
    commitments_if_conferred: dict[int, Decimal] = field(default_factory=dict)
    # Where "any_year" is a bound (not ``any_exact``): the largest row's chance, below which
    # the joint chance cannot lie. With carried-over budgets the rows are linked and the
    # upper bound (their sum) often reads 100%; the two together say what is known.
    any_lower: float | None = None
    # Where "any_year" is a bound: a fixed-seed sampling estimate of the joint chance and its
    # standard error (``risk_sample``), which the bounds alone leave wide open.
    any_estimate: tuple[float, float] | None = None

    def within(self, alpha: float) -> bool:
        """Does every budget row keep its overrun chance at most ``alpha``?"""
        return all(
            p <= alpha - RISK_MARGIN for label, p in self.overrun.items() if label != "any_year"
        )


def _chance(p: float) -> float:
    """A probability computed as sums and differences of others, within [0, 1]: rounding
    can leave one a hair below 0 (shown as -0.00%) or above 1."""
    return min(1.0, max(0.0, float(p)))


def row_budget_needed(
    problem: AllocationProblem, chosen: np.ndarray, label: str, alpha: float
) -> tuple[Decimal, Decimal] | None:
    """(the smallest budget of the budget row ``label`` — "2025", or "total" — with which
    plan ``chosen`` overruns it with chance at most ``alpha``, as the bound counts it; that
    row's budget), in 万元; None when the problem has no such row."""
    rows = [row for row in budget_rows(problem) if row.label == label]
    if not rows:
        return None
    table = payment_table(problem)
    certain_in, random_in = table.within(rows)
    certain, groups = row_payments(
        certain_in[:, 0], random_in[:, 0], table.probability, np.asarray(chosen, dtype=int)
    )
    law = spend_distribution(groups, to_wan(certain))
    return law.value_at_risk(alpha - RISK_MARGIN), to_wan(rows[0].budget)


def plan_risk(
    problem: AllocationProblem, chosen: np.ndarray, table: PaymentTable | None = None
) -> PlanRisk:
    """The exact law of what plan ``chosen`` (option indices) will cost."""
    table = table or payment_table(problem)
    chosen = np.asarray(chosen, dtype=int)
    rows = budget_rows(problem)
    certain_in, random_in = table.within(rows)
    overrun: dict[str, float] = {}
    joint_rows: list[RowBudget] = []
    for r, row in enumerate(rows):
        certain, groups = row_payments(certain_in[:, r], random_in[:, r], table.probability, chosen)
        law = spend_distribution(groups, to_wan(certain), limit=to_wan(row.budget) + 1)
        overrun[row.label] = _chance(law.exceeds(to_wan(row.budget)))
        joint_rows.append(RowBudget(to_wan(certain), to_wan(row.budget)))
    any_exact, any_lower = True, None
    any_estimate: tuple[float, float] | None = None
    if rows:
        joint = joint_overrun(joint_rows, _multi_row_groups(random_in, table.probability, chosen))
        rows_chances = list(overrun.values())
        overrun["any_year"] = _chance(joint.probability)
        any_exact = joint.exact
        if not any_exact:
            any_lower = _chance(max(joint.lower, *rows_chances))
            sampled = sampled_joint_overrun(
                joint_rows, _multi_row_groups(random_in, table.probability, chosen)
            )
            # within the exact bounds, which sampling noise must not cross
            estimate = min(max(sampled.probability, any_lower), overrun["any_year"])
            any_estimate = (estimate, sampled.standard_error)
    expected: dict[int, Decimal] = {}
    p95: dict[int, Decimal] = {}
    commitments: dict[int, Decimal] = {}
    if_conferred: dict[int, Decimal] = {}
    last = max(problem.years)
    for i, year in enumerate(table.years):
        certain, groups = row_payments(
            table.certain[:, i], table.random[:, i], table.probability, chosen
        )
        mean = to_wan(certain) + sum(
            (g.amount * Decimal(str(g.probability)) * g.count for g in groups), Decimal(0)
        )
        expected[year] = mean
        if year in problem.years:
            p95[year] = spend_distribution(groups, to_wan(certain)).quantile(0.95)
        elif year > last:
            commitments[year] = mean
            if_conferred[year] = to_wan(certain) + sum(
                (g.amount * g.count for g in groups), Decimal(0)
            )
    return PlanRisk(
        overrun, any_exact, expected, p95, commitments, if_conferred, any_lower, any_estimate
    )


def _multi_row_groups(
    random_in: np.ndarray, probability: np.ndarray, chosen: np.ndarray
) -> list[MultiRowPayments]:
    """The chosen options' payments on conferral grouped by (what they pay into every
    row, chance): one conferral pays into every row its option pays into."""
    chosen = np.asarray(chosen, dtype=int)
    random = chosen[(probability[chosen] > 0) & (probability[chosen] < 1)]
    random = random[random_in[random].sum(axis=1) > 0]
    if len(random) == 0:
        return []
    # Grouped by numpy (rows sorted by every column in turn, as a sorted groupby keys them):
    # the same groups in the same order, a third of the time of a DataFrame groupby.
    keys = np.column_stack([random_in[random].astype(float), probability[random]])
    order = np.lexsort(keys.T[::-1])
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)])
    counts = np.diff(np.r_[starts, len(keys)])
    groups = []
    for start, n in zip(starts.tolist(), counts.tolist(), strict=True):
        *pays, chance = keys[start].tolist()
        groups.append(MultiRowPayments(tuple(to_wan(int(a)) for a in pays), float(chance), int(n)))
    return groups


def row_zh(label: str) -> str:
    """A budget row's name in Chinese: its year (2025年), or 期间总额 for the horizon total."""
    return "期间总额" if label == HORIZON_TOTAL else f"{label}年"


def row_en(label: str) -> str:
    """A budget row's name in English: its year, or "the horizon total"."""
    return "the horizon total" if label == HORIZON_TOTAL else label
