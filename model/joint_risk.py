"""The chance that some budget row overruns when one conferral pays into several rows (a
title's award and its later instalments), exactly: rows linked by such conferrals are
combined by a dynamic programme over their joint lattice, capped just above each row's
budget so that every overrun collapses into one absorbing state; independent groups of rows
are combined as independent events. The single-row laws are ``risk.py``'s."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .risk import (
    _binomial_pmf,
    _check_count,
    _check_probability,
    _decimal,
    _floor_yuan,
    _lattice,
    _lattice_law,
    _to_yuan,
)

__all__ = ["JointOverrun", "MultiRowPayments", "RowBudget", "joint_overrun"]


@dataclass(frozen=True)
class MultiRowPayments:
    """`count` independent conferrals, each one draw with chance `probability` that pays
    `pays[r]` 万元 into every budget row r."""

    pays: tuple[Decimal, ...]
    probability: float
    count: int

    def __post_init__(self) -> None:
        if any(_decimal(a) < 0 for a in self.pays):
            raise ValueError(f"pays {self.pays} has a negative amount")
        _check_probability(self.probability)
        _check_count(self.count)


@dataclass(frozen=True)
class RowBudget:
    """One budget row: its certain money and its budget (万元)."""

    certain: Decimal
    budget: Decimal


@dataclass(frozen=True)
class JointOverrun:
    """P(some row's spend > its budget): exact, or bounds [lower, upper] with probability = upper."""

    probability: float
    exact: bool
    lower: float
    upper: float


def _union_find_roots(n: int, links: Sequence[Sequence[int]]) -> list[int]:
    """The component root of each of ``n`` items, items in one link sharing a component."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for link in links:
        for other in link[1:]:
            a, b = root(link[0]), root(other)
            if a != b:
                parent[b] = a
    return [root(i) for i in range(n)]


def _combine(chances: Sequence[float]) -> float:
    """1 − Π(1 − P_c): the chance that one of independent events happens (log1p: exact tails)."""
    if any(c >= 1.0 for c in chances):
        return 1.0
    return float(-math.expm1(math.fsum(math.log1p(-c) for c in chances)))


def _joint_law_overrun(
    caps: Sequence[int],
    inside: Sequence[np.ndarray],
    tails: Sequence[float],
    shared: Sequence[tuple[tuple[int, ...], float, int]],
) -> float:
    """P(some row exceeds) by a DP over the joint lattice of linked rows.

    Row r's state is its spend index 0..caps[r] (beyond caps[r] the row is over); ``inside``
    and ``tails`` are each row's own law up to its cap and its chance beyond, from the
    groups paying into it alone; ``shared`` are the groups (steps per row, p, count) paying
    into several rows. Mass that leaves the box is added to the absorbing "over" directly,
    never as 1 − (mass inside), so that tiny chances keep their relative accuracy."""
    state = inside[0]
    for row_law in inside[1:]:
        state = np.multiply.outer(state, row_law)
    over = _combine(tails)
    size = [cap + 1 for cap in caps]
    for steps, probability, count in shared:
        pmf = _binomial_pmf(count, probability)
        # draws j beyond ``fits`` push some row past its cap: all their mass is over
        fits = min(count, *(caps[r] // s for r, s in enumerate(steps) if s > 0))
        total = float(state.sum())
        over += total * float(pmf[fits + 1 :].sum())
        moved = np.zeros_like(state)
        for j in range(fits + 1):
            b = float(pmf[j])
            if b == 0.0:
                continue
            keep = [n - j * s for n, s in zip(size, steps, strict=True)]
            source = tuple(slice(0, k) for k in keep)
            target = tuple(slice(n - k, n) for n, k in zip(size, keep, strict=True))
            moved[target] += b * state[source]
            # what leaves the box, as disjoint slabs: first axis beyond, then the next …
            lost = 0.0
            prefix: list[slice] = []
            for axis, k in enumerate(keep):
                if k < size[axis]:
                    slab = (*prefix, slice(k, None))
                    lost += float(state[slab].sum())
                prefix.append(slice(0, k))
            over += b * lost
        state = moved
    return min(over, 1.0)


def joint_overrun(
    rows: Sequence[RowBudget],
    groups: Sequence[MultiRowPayments],
    max_states: int = 4_000_000,
) -> JointOverrun:
    """P(some row's spend > its budget), each group one draw paying into several rows: exact
    over independent components of rows (a joint DP where rows are linked) when each joint
    lattice has at most ``max_states`` states; else bounds max_r P_r ≤ P ≤ Σ_r P_r per
    component, combined, with probability the upper bound."""
    n_rows = len(rows)
    offsets = [_to_yuan(row.certain, "certain money") for row in rows]
    budgets = [_floor_yuan(row.budget) for row in rows]
    random: list[tuple[list[int], float, int]] = []  # (元 per row, p, count)
    for group in groups:
        if len(group.pays) != n_rows:
            raise ValueError(f"a group pays into {len(group.pays)} rows, not {n_rows}")
        pays = [_to_yuan(a, "amount") for a in group.pays]
        if group.count == 0 or group.probability == 0.0 or not any(pays):
            continue
        if group.probability == 1.0:
            for r, a in enumerate(pays):
                offsets[r] += a * group.count
        else:
            random.append((pays, group.probability, group.count))
    if any(offsets[r] > budgets[r] for r in range(n_rows)):
        return JointOverrun(1.0, True, 1.0, 1.0)  # certain money alone overruns

    # Each row's lattice, and whether it can overrun at all (dead rows never do).
    lattices = [
        _lattice(offsets[r], [(pays[r], p, n) for pays, p, n in random if pays[r] > 0])
        for r in range(n_rows)
    ]
    caps = [(budgets[r] - offsets[r]) // lattices[r].unit for r in range(n_rows)]
    live = [r for r in range(n_rows) if lattices[r].top > caps[r]]
    links = [[r for r in live if pays[r] > 0] for pays, _, _ in random]
    roots = _union_find_roots(n_rows, [link for link in links if len(link) > 1])
    components: dict[int, list[int]] = {}
    for r in live:
        components.setdefault(roots[r], []).append(r)

    def marginal(r: int, steps: Sequence[tuple[int, float, int]]) -> np.ndarray:
        """Row r's law of ``steps`` up to its cap, the last cell its chance beyond."""
        law = _lattice_law(steps, caps[r] + 1)
        return np.concatenate((law, np.zeros(caps[r] + 2 - len(law))))

    lower: list[float] = []
    upper: list[float] = []
    exact = True
    for members in components.values():
        if len(members) == 1:
            r = members[0]
            chance = float(marginal(r, lattices[r].steps)[-1])
            lower.append(chance)
            upper.append(chance)
            continue
        states = math.prod(caps[r] + 1 for r in members) + 1
        if states > max_states:
            chances = [float(marginal(r, lattices[r].steps)[-1]) for r in members]
            lower.append(max(chances))
            upper.append(min(1.0, math.fsum(chances)))
            exact = False
            continue
        own: dict[int, list[tuple[int, float, int]]] = {r: [] for r in members}
        shared: list[tuple[tuple[int, ...], float, int]] = []
        for (pays, p, n), link in zip(random, links, strict=True):
            if not link or roots[link[0]] != roots[members[0]]:
                continue
            if len(link) == 1:
                own[link[0]].append((pays[link[0]] // lattices[link[0]].unit, p, n))
            else:
                shared.append((tuple(pays[r] // lattices[r].unit for r in members), p, n))
        laws = [marginal(r, own[r]) for r in members]
        chance = _joint_law_overrun(
            [caps[r] for r in members],
            [law[:-1] for law in laws],
            [float(law[-1]) for law in laws],
            shared,
        )
        lower.append(chance)
        upper.append(chance)
    low, high = _combine(lower), _combine(upper)
    return JointOverrun(high, exact, low, high)
