"""Plans with a bounded risk of overrun: the chance constraint P(spend_r > B_r) ≤ α of every
budget row r, imposed exactly by cuts over the class counts of the counted HiGHS instance.

**The constraint.** In row r a plan pays certain money c_r (the city's own designations,
entitlements paid for sure) and, for each *row class* j (conferrals paying a_j into the row
with chance p_j), a_j × Binomial(m_j, p_j) where m_j counts the plan's options of the class.
The row keeps its overrun chance at most α exactly when c_r + V_r(m) ≤ B_r, with V_r(m) the
smallest budget for the random part whose overrun chance is at most α (its value at risk,
computed exactly by ``risk.py``). V_r is a step function of the counts, monotone but
neither convex nor concave, so it is imposed lazily, by cuts exact where they are made.

**The cut at a point u** (counts of the row classes). Adding one conferral of amount a_j
raises the value at risk by at most a_j (the law shifts by at most a_j), and so does raising
one conferral from a_{j'} to a_j > a_{j'} of the same chance, by a_j − a_{j'}. So classes of
one chance form a *chain* by amount, a_1 > a_2 > … > a_K (a_{K+1} = 0), and what counts is
the cumulative count M_k = Σ_{i ≤ k} m_i (the conferrals of at least a_k): a plan whose
cumulative counts are all at least u's, U_k, pays at least as much in every outcome
(stochastic dominance), and each unit it falls short at level k saves at most
a_k − a_{k+1}. For every m

    V_r(m) ≥ V_r(u) − Σ_chains Σ_k (a_k − a_{k+1}) (U_k − min(M_k, U_k)),

and every plan meeting the constraint satisfies

    c_r + Σ_chains Σ_k (a_k − a_{k+1}) · min(M_k, U_k) ≤ B_r + D_r(u),
    D_r(u) = Σ_j a_j u_j − V_r(u) ≥ 0        (Σ_k (a_k − a_{k+1}) U_k = Σ_j a_j u_j).

It is exact (c_r + V_r(u) ≤ B_r) at every m whose cumulative counts reach u's, not only at
m ≥ u: a plan that trades one 300万元 nomination for a 290万元 one of the same chance meets
the cut made at the first. It implies the cut over separate classes, Σ_j a_j min(m_j, u_j)
(min(M_k, U_k) ≥ Σ_{i ≤ k} min(m_i, u_i)), which took one round per such trade.
min(M, t) is a continuous column μ with a binary w = [M ≥ t + 1] (links: M − t ≤ (N − t)·w,
(t + 1)·w ≤ M; μ ≥ M − (N − t)·w, μ ≥ t·w), exact at integer points; the cuts sit over the
class counts (payment classes are kept apart by chance, ``payment_classes.py``), so
designations stay continuous in the counts MIP as before.

Cuts are added at a plan's counts and along each class's axis down to where the row would
be met (``RiskCuts.add_cuts``); ``risk_solve.py`` runs the rounds. A plan that breaks the
bound is repaired by dropping conferrals of least value per expected 万元 (``repaired``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np

from .budget_risk import (
    RISK_MARGIN,
    BudgetRow,
    PaymentTable,
    budget_rows,
    payment_table,
    row_payments,
    to_wan,
)
from .highs_model import HighsModel
from .options import AllocationProblem
from .payment_classes import CountedModel
from .risk import Payments, budget_needed, budgets_needed_along

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowClass:
    """Conferrals paying ``amount`` (万元) into one budget row with chance ``chance``."""

    amount: Decimal
    chance: float
    columns: np.ndarray  # counted-instance columns whose sum is the class's count
    options: np.ndarray  # the options (designation columns) of the class
    most: int  # the largest count possible


class RiskCuts:
    """The chance constraints of every budget row as cuts over the counted instance."""

    def __init__(self, model: HighsModel, problem: AllocationProblem, alpha: float):
        self.model = model
        self.problem = problem
        self.alpha = alpha
        self.counted: CountedModel = model.counted
        self.table: PaymentTable = payment_table(problem)
        self.rows: list[BudgetRow] = budget_rows(problem)
        # what each option pays into each row, for sure and on conferral (元)
        self.sure, self.hanging = self.table.within(self.rows)
        self.chance = self.table.probability
        self.n_options = model.n_options
        self.classes = [self._row_classes(r) for r in range(len(self.rows))]
        self.chains = [self._chains(r) for r in range(len(self.rows))]
        self.certain = [self._certain_terms(r) for r in range(len(self.rows))]
        # (row, chain, level, t) -> (w column, μ column) of min(M_k, t)
        self.thresholds: dict[tuple[int, int, int, int], tuple[int, int]] = {}
        self.cut_points: set[tuple[int, tuple[int, ...]]] = set()
        self.counted.extensions.append(self._extend)
        self.threshold_order: list[tuple[int, int, int, int]] = []
        self._needs: dict[tuple[int, tuple[int, ...]], Decimal] = {}

    # --- the row classes of each budget row, in counted space ---

    def _members(self, options: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Counted-instance columns (and coefficients 1) summing ``options``: their payment
        classes' counts when classes exist (a row class is a union of them), else the
        designations themselves."""
        classes = self.model.classes
        if classes is None:
            return options.astype(np.int32), np.ones(len(options))
        ids = np.unique(self._klass[options])
        if np.any(ids < 0):  # not in any class (pays nothing into the budget rows)
            return options.astype(np.int32), np.ones(len(options))
        columns = (self.model.n_model + ids).astype(np.int32)
        return columns, np.ones(len(columns))

    @cached_property
    def _klass(self) -> np.ndarray:
        """Each model column's payment class (-1: none); only read when classes exist."""
        classes = self.model.classes
        klass = np.full(self.model.n_model, -1)
        klass[classes.columns] = classes.klass
        return klass

    def _row_classes(self, r: int) -> list[RowClass]:
        """Row r's classes: its uncertain options grouped by (amount in 元, chance), in
        that order, each group's options in their own order (vectorised: a dict of lists
        over thousands of options cost a millisecond a row)."""
        pays = self.hanging[:, r]
        options = np.arange(self.n_options)
        uncertain = options[(pays > 0) & (self.chance > 0) & (self.chance < 1)]
        if len(uncertain) == 0:
            return []
        amounts = pays[uncertain].astype(np.int64)  # int(), toward zero
        chances = np.asarray(self.chance[uncertain], dtype=float)
        order = np.lexsort((chances, amounts))  # stable: options keep their order
        amounts, chances, uncertain = amounts[order], chances[order], uncertain[order]
        starts = np.flatnonzero(
            np.concatenate([[True], (amounts[1:] != amounts[:-1]) | (chances[1:] != chances[:-1])])
        )
        ends = np.append(starts[1:], len(uncertain))
        out = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            members_array = uncertain[start:end]
            columns, _ = self._members(members_array)
            most = (
                end - start
                if self.model.classes is None
                else round(float(self.counted.all_upper[columns].sum()))
            )
            amount, chance = int(amounts[start]), float(chances[start])
            out.append(RowClass(to_wan(amount), chance, columns, members_array, most))
        return out

    def _chains(self, r: int) -> list[list[int]]:
        """Row r's classes grouped by chance, each group by amount from the largest down
        (module docstring): the chains of the cuts, as lists of class indices."""
        by_chance: dict[float, list[int]] = {}
        for j, rc in enumerate(self.classes[r]):
            by_chance.setdefault(rc.chance, []).append(j)
        return [
            sorted(members, key=lambda j: self.classes[r][j].amount, reverse=True)
            for _, members in sorted(by_chance.items())
        ]

    def _level(self, r: int, chain: int, level: int) -> tuple[np.ndarray, int, float]:
        """Level ``level`` of row r's chain ``chain``: the count columns summing M_k, the
        largest M_k possible, and its coefficient a_k − a_{k+1} (万元)."""
        members = self.chains[r][chain]
        classes = [self.classes[r][j] for j in members[: level + 1]]
        columns = np.concatenate([rc.columns for rc in classes])
        below = (
            float(self.classes[r][members[level + 1]].amount) if level + 1 < len(members) else 0.0
        )
        return columns, sum(rc.most for rc in classes), float(classes[-1].amount) - below

    def _certain_terms(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Counted-instance columns and coefficients (万元) of row r's certain money: what
        options pay for sure (a conferral certain to come, chance 1, included)."""
        pays = self.sure[:, r] + np.where(self.chance >= 1, self.hanging[:, r], 0)
        options = np.flatnonzero(pays > 0)
        classes = self.model.classes
        if classes is None or len(options) == 0:
            return options.astype(np.int32), pays[options] / 1e4
        klass = np.full(self.model.n_model, -1)
        klass[classes.columns] = classes.klass
        ids, first = np.unique(klass[options], return_index=True)
        if np.any(ids < 0):
            return options.astype(np.int32), pays[options] / 1e4
        return (self.model.n_model + ids).astype(np.int32), pays[options[first]] / 1e4

    # --- the plan's point ---

    def counts(self, chosen: np.ndarray, r: int) -> tuple[int, list[int]]:
        """Row r's certain money (元) and each row class's count in plan ``chosen``."""
        picked = np.zeros(self.n_options, dtype=bool)
        picked[np.asarray(chosen, dtype=int)] = True
        sure = self.sure[:, r] + np.where(self.chance >= 1, self.hanging[:, r], 0)
        return int(sure[picked].sum()), [int(picked[c.options].sum()) for c in self.classes[r]]

    def violated(self, chosen: np.ndarray) -> list[int]:
        """The budget rows whose overrun chance exceeds α under plan ``chosen``."""
        out = []
        for r, row in enumerate(self.rows):
            certain, groups = row_payments(self.sure[:, r], self.hanging[:, r], self.chance, chosen)
            need = budget_needed(groups, to_wan(certain), self.alpha - RISK_MARGIN)
            if need > to_wan(row.budget):
                out.append(r)
        return out

    # --- adding one option at a time (risk_loads.filled) ---

    def row_states(self, chosen: np.ndarray) -> list[tuple[int, list[int]]]:
        """Each budget row's certain money (元) and row-class counts under plan ``chosen``:
        the state ``admits`` and ``admit`` work on."""
        return [self.counts(chosen, r) for r in range(len(self.rows))]

    def admits(self, states: list[tuple[int, list[int]]], option: int) -> bool:
        """Whether the plan of ``states`` with ``option`` added keeps every budget row within
        α: exactly ``not violated(chosen + [option])`` (a row's need is its certain money
        plus the value at risk of its classes' counts, ``need``), but only the rows the
        option pays into are looked at, and each count vector's need is computed once."""
        for r, (certain, counts) in enumerate(states):
            sure, klass = self._effect(r, option)
            if sure == 0 and klass < 0:
                continue
            if klass >= 0:
                counts = [*counts[:klass], counts[klass] + 1, *counts[klass + 1 :]]
            if to_wan(certain + sure) + self._need(r, tuple(counts)) > to_wan(self.rows[r].budget):
                return False
        return True

    def admit(self, states: list[tuple[int, list[int]]], option: int) -> None:
        """Add ``option`` to the plan of ``states`` (in place)."""
        for r, (certain, counts) in enumerate(states):
            sure, klass = self._effect(r, option)
            if klass >= 0:
                counts = [*counts[:klass], counts[klass] + 1, *counts[klass + 1 :]]
            states[r] = (certain + sure, counts)

    def _effect(self, r: int, option: int) -> tuple[int, int]:
        """What ``option`` adds to row r: certain money (元) and the row class it counts in
        (-1: none)."""
        if not hasattr(self, "_class_of"):
            self._class_of = np.full((len(self.rows), self.n_options), -1, dtype=np.int64)
            self._sure_of = np.zeros((len(self.rows), self.n_options), dtype=np.int64)
            for row in range(len(self.rows)):
                for j, rc in enumerate(self.classes[row]):
                    self._class_of[row, rc.options] = j
                self._sure_of[row] = self.sure[:, row] + np.where(
                    self.chance >= 1, self.hanging[:, row], 0
                )
        return int(self._sure_of[r, option]), int(self._class_of[r, option])

    def _need(self, r: int, counts: tuple[int, ...]) -> Decimal:
        """``need`` remembered per row and count vector."""
        key = (r, counts)
        if key not in self._needs:
            self._needs[key] = self.need(r, list(counts))
        return self._needs[key]

    def row_index(self, label: str) -> int:
        """The index in ``rows`` of the budget row labelled ``label``."""
        return next(r for r, row in enumerate(self.rows) if row.label == label)

    def need(self, r: int, counts: list[int]) -> Decimal:
        """V_r at ``counts``: the money the row's random part needs at α (万元)."""
        groups = [
            Payments(c.amount, c.chance, n) for c, n in zip(self.classes[r], counts, strict=True)
        ]
        return budget_needed(groups, Decimal(0), self.alpha - RISK_MARGIN)

    # --- cuts ---

    def add_cuts(self, chosen: np.ndarray) -> int:
        """Cuts for every violated row at the plan's counts and along each class's axis
        from there down to where the row would be met; returns how many were added."""
        added = 0
        for r in self.violated(chosen):
            certain, point = self.counts(chosen, r)
            slack = to_wan(self.rows[r].budget) - to_wan(certain)
            added += self._cut(r, point)
            for j, classes in enumerate(self.classes[r]):
                if point[j] == 0:
                    continue
                base = [
                    Payments(c.amount, c.chance, n)
                    for i, (c, n) in enumerate(zip(self.classes[r], point, strict=True))
                    if i != j
                ]
                varying = Payments(classes.amount, classes.chance, 0)
                steps = list(range(point[j] - 1, -1, -1))
                needs = budgets_needed_along(
                    base, varying, steps, Decimal(0), self.alpha - RISK_MARGIN
                )
                for t, need in zip(steps, needs, strict=True):
                    if need <= slack:
                        break
                    u = list(point)
                    u[j] = t
                    added += self._cut(r, u, need)
        return added

    def _cut(self, r: int, u: list[int], need: Decimal | None = None) -> int:
        """c_r + Σ_chains Σ_k (a_k − a_{k+1})·min(M_k, U_k) ≤ B_r + Σ_j a_j u_j − V_r(u)
        (module docstring)."""
        key = (r, tuple(u))
        if key in self.cut_points:
            return 0
        self.cut_points.add(key)
        need = self.need(r, u) if need is None else need
        columns, values = self.certain[r]
        columns, values = list(columns), list(values)
        rhs = float(to_wan(self.rows[r].budget)) - float(need)
        for c, chain in enumerate(self.chains[r]):
            reached = 0  # U_k
            for k, j in enumerate(chain):
                reached += u[j]
                if reached == 0:
                    continue
                level_columns, most, step = self._level(r, c, k)
                rhs += step * reached
                if reached >= most:  # min(M, U) = M
                    columns += list(level_columns)
                    values += [step] * len(level_columns)
                else:
                    _, mu = self._threshold(r, c, k, reached)
                    columns.append(mu)
                    values.append(step)
        self.counted.add_row(-np.inf, rhs, np.asarray(columns), np.asarray(values, dtype=float))
        return 1

    def _threshold(self, r: int, chain: int, level: int, t: int) -> tuple[int, int]:
        """The columns (w, μ) of min(M_k, t) for level k of row r's chain, made on first use."""
        key = (r, chain, level, t)
        if key in self.thresholds:
            return self.thresholds[key]
        count_cols, most, _ = self._level(r, chain, level)
        big = float(most - t)
        w, mu = self.counted.add_columns(
            np.array([0.0, 0.0]), np.array([1.0, float(t)]), np.array([True, False])
        )
        ones = np.ones(len(count_cols))
        inf = np.inf
        # M − (N − t)·w ≤ t  and  (t + 1)·w ≤ M : w = [M ≥ t + 1] at integer points
        self.counted.add_row(-inf, t, np.append(count_cols, w), np.append(ones, -big))
        self.counted.add_row(-inf, 0.0, np.append(count_cols, w), np.append(-ones, t + 1.0))
        # μ ≥ M − (N − t)·w  and  μ ≥ t·w : μ = min(M, t) where it matters
        self.counted.add_row(0.0, inf, np.append(count_cols, [w, mu]), np.append(-ones, [big, 1.0]))
        self.counted.add_row(0.0, inf, np.array([w, mu]), np.array([-float(t), 1.0]))
        self.thresholds[key] = (int(w), int(mu))
        self.threshold_order.append(key)
        return int(w), int(mu)

    def _extend(self, point: np.ndarray) -> np.ndarray:
        """Values of the appended columns at ``point`` (designations, counts, earlier
        appended columns): w = [M ≥ t + 1], μ = min(M, t); ``CountedModel.lift`` calls it."""
        if not self.thresholds:
            return np.zeros(0)
        values = np.zeros(2 * len(self.threshold_order))
        for k, (r, chain, level, t) in enumerate(self.threshold_order):
            count_cols, _, _ = self._level(r, chain, level)
            m = float(point[count_cols].sum())
            values[2 * k] = 1.0 if m >= t + 1 - 1e-9 else 0.0
            values[2 * k + 1] = min(m, float(t))
        return values


def repaired(
    problem: AllocationProblem, model: HighsModel, cuts: RiskCuts, chosen: np.ndarray
) -> np.ndarray | None:
    """A plan within α made from ``chosen`` by dropping conferrals (never obligations) of
    least merit per expected 万元 until every row is met — an upgrade chain falls back to
    its first designation — or None if no such plan meets every other rule (a minimum
    quota, say). The fewest drops in that order are found by bisection."""
    options = problem.options
    chosen = np.asarray(chosen, dtype=int)
    if not cuts.violated(chosen):
        return _as_plan(model, chosen)
    origin = options["from_option"].to_numpy()
    merit = options["merit"].to_numpy(dtype=float)
    gained = np.where(origin >= 0, merit - merit[np.maximum(origin, 0)], merit)
    droppable = chosen[(cuts.chance[chosen] < 1) & ~options["forced"].to_numpy(dtype=bool)[chosen]]
    value = gained[droppable] / np.maximum(
        options["expected_cost"].to_numpy(dtype=float)[droppable], 1e-9
    )
    order = droppable[np.argsort(value, kind="stable")]

    def without(k: int) -> np.ndarray:
        dropped = order[:k]
        kept = np.setdiff1d(chosen, dropped)
        fallback = origin[dropped][origin[dropped] >= 0]
        return np.union1d(kept, fallback)

    if cuts.violated(without(len(order))):
        return None
    low, high = 0, len(order)
    while low < high:
        middle = (low + high) // 2
        if cuts.violated(without(middle)):
            low = middle + 1
        else:
            high = middle
    plan = _as_plan(model, without(low))
    return plan if model.feasible(plan) else None


def _as_plan(model: HighsModel, chosen: np.ndarray) -> np.ndarray:
    x = np.zeros(model.n_model)
    x[np.asarray(chosen, dtype=int)] = 1.0
    return x


__all__ = ["RiskCuts", "repaired"]
