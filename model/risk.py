"""Exact laws of what conferrals cost: overrun chances, quantiles and values at risk, no sampling.

A city's spend is certain money plus payments that each hang on an independent Bernoulli
draw (a higher government confers the title or not). Payments of one kind repeat, so the
random part is a sum of few distinct ``amount × Binomial(count, probability)`` terms. Money
is 万元 with at most 4 decimals, i.e. whole 元; on the integer lattice of the gcd of the
random amounts the law is a finite pmf, obtained exactly (up to float64 rounding, ~1e-14)
by convolving each group's binomial pmf, placed with its stride, into the running law.
Comparisons of spend with a budget are made in integer 元, so budgets on the lattice and
certain money beyond the budget are decided exactly. Budget rows linked by conferrals that
pay in several rows are combined in ``joint_risk.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache

import numpy as np

YUAN = 10_000  # 元 per 万元
# Cells a law may hold: far beyond any budget row (5,000 cells is typical), and an error
# rather than an attempt to allocate gigabytes when amounts share only a tiny gcd.
MAX_CELLS = 50_000_000
# Rough costs (µs) of the ways to convolve with a strided pmf, for choosing the cheapest.
_CALL_US = 1.0  # one numpy call
_MAC_US = 0.15e-3  # one multiply-add inside np.convolve
_AXPY_US = 0.4e-3  # one element of ``y[a:b] += c * x``

__all__ = [
    "Payments",
    "SpendDistribution",
    "budget_needed",
    "budgets_needed_along",
    "overrun_probability",
    "spend_distribution",
]


# --- money on the 元 lattice ---


def _decimal(value: Decimal | int | float) -> Decimal:
    """A Decimal for ``value``; a float goes through its shortest repr (0.1 is 0.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _to_yuan(value: Decimal | int | float, what: str) -> int:
    """``value`` 万元 as whole 元; refuses amounts finer than 1 元 (they have no lattice)."""
    scaled = _decimal(value) * YUAN
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {value} is not a whole number of 元 (at most 4 decimals in 万元)")
    return int(scaled)


def _floor_yuan(value: Decimal | int | float) -> int:
    """The largest whole 元 not above ``value`` 万元: spend (whole 元) > value ⟺ spend > this."""
    scaled = _decimal(value) * YUAN
    if not scaled.is_finite():
        raise ValueError(f"budget {value} is not a finite amount")
    return int(scaled.to_integral_value(rounding=ROUND_FLOOR))


def _wan(yuan: int) -> Decimal:
    """Whole 元 as 万元, without trailing zeros or exponent (3000, 12.34)."""
    value = Decimal(yuan).scaleb(-4)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _check_probability(probability: float) -> None:
    if not 0.0 <= probability <= 1.0:  # also refuses NaN
        raise ValueError(f"probability {probability} is not in [0, 1]")


def _check_count(count: int) -> None:
    if count < 0:
        raise ValueError(f"count {count} is negative")


# --- the public records ---


@dataclass(frozen=True)
class Payments:
    """`count` independent payments of `amount` 万元, each made with chance `probability`."""

    amount: Decimal  # >= 0
    probability: float  # in [0, 1]
    count: int  # >= 0

    def __post_init__(self) -> None:
        if _decimal(self.amount) < 0:
            raise ValueError(f"amount {self.amount} is negative")
        _check_probability(self.probability)
        _check_count(self.count)


@dataclass(frozen=True, eq=False)
class SpendDistribution:
    """The exact law of certain + Σ amount × Binomial(count, probability) over groups."""

    offset: Decimal  # the certain part (万元)
    unit: Decimal  # lattice step (万元): spend = offset + k·unit
    # pmf[k] = P(spend = offset + k·unit); if truncated, the last cell holds
    # P(spend >= offset + (len - 1)·unit)
    pmf: np.ndarray
    truncated: bool
    _offset_yuan: int = field(init=False, repr=False)
    _unit_yuan: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unit = _to_yuan(self.unit, "unit")
        if unit <= 0:
            raise ValueError(f"unit {self.unit} is not positive")
        pmf = np.asarray(self.pmf, dtype=float)
        if pmf.ndim != 1 or len(pmf) == 0:
            raise ValueError("pmf must be a non-empty vector")
        pmf.flags.writeable = False  # shared by whoever holds the law: keep it as computed
        object.__setattr__(self, "pmf", pmf)
        object.__setattr__(self, "_offset_yuan", _to_yuan(self.offset, "offset"))
        object.__setattr__(self, "_unit_yuan", unit)

    def _index_at_most(self, budget: Decimal) -> int:
        """The largest k with offset + k·unit <= budget (negative when budget < offset)."""
        return (_floor_yuan(budget) - self._offset_yuan) // self._unit_yuan

    def _value(self, k: int) -> Decimal:
        return _wan(self._offset_yuan + k * self._unit_yuan)

    def _hidden(self) -> bool:
        """Does truncation hide mass (the lumped last cell is not empty)?"""
        return self.truncated and self.pmf[-1] > 0

    def exceeds(self, budget: Decimal) -> float:
        """P(spend > budget), strictly greater; summed over the upper tail directly."""
        k = self._index_at_most(budget)
        if k < 0:
            return 1.0
        if k >= len(self.pmf) - 1:
            if self._hidden():
                raise ValueError(f"budget {budget} is beyond the truncated law's last cell")
            return 0.0
        return float(self.pmf[k + 1 :].sum())

    def at_most(self, budget: Decimal) -> float:
        """P(spend <= budget); summed over the lower side directly."""
        k = self._index_at_most(budget)
        if k < 0:
            return 0.0
        if k >= len(self.pmf) - 1:
            if self._hidden():
                raise ValueError(f"budget {budget} is beyond the truncated law's last cell")
            return 1.0
        return float(self.pmf[: k + 1].sum())

    def quantile(self, q: float) -> Decimal:
        """The smallest v on the lattice with P(spend <= v) >= q (ValueError if truncation hides it)."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile level {q} is not in [0, 1]")
        if q > 0.5:  # the upper tail is the smaller side: P(spend > v) <= 1 - q (exact for q >= .5)
            return self._value(self._var_index(1.0 - q))
        cdf = np.cumsum(self.pmf)
        k = int(np.searchsorted(cdf, q, side="left"))
        if k >= len(self.pmf) or (k == len(self.pmf) - 1 and self._hidden()):
            raise ValueError(f"the {q} quantile lies beyond the truncated law's last cell")
        return self._value(k)

    def _var_index(self, alpha: float) -> int:
        k = _var_index(self.pmf, alpha)
        if k >= len(self.pmf) - 1 and self._hidden():
            raise ValueError(f"the value at risk at {alpha} lies beyond the truncated law")
        return k

    def value_at_risk(self, alpha: float) -> Decimal:
        """The smallest v (on the lattice, >= offset) with P(spend > v) <= alpha: the budget a
        plan needs to keep its overrun chance at most alpha."""
        return self._value(self._var_index(alpha))

    def mean(self) -> float:
        """The expected spend (万元); ValueError if truncation hides mass."""
        if self._hidden():
            raise ValueError("the mean of a truncated law is unknown")
        k = np.arange(len(self.pmf), dtype=float)
        return float(self.offset) + float(self.unit) * float(k @ self.pmf)


def _var_index(pmf: np.ndarray, alpha: float) -> int:
    """The smallest k with P(K > k) = Σ_{i>k} pmf[i] <= alpha, tails summed from the top."""
    if not alpha >= 0.0:  # also refuses NaN
        raise ValueError(f"overrun chance {alpha} is negative: no budget keeps it")
    if alpha >= 1.0 or len(pmf) == 1:
        return 0
    # above[k] = P(K > k), non-increasing also in floats (sums of non-negative terms)
    above = np.cumsum(pmf[:0:-1])[::-1]
    return int(np.searchsorted(-above, -alpha, side="left"))


# --- binomial pmfs and strided convolution ---


@lru_cache(maxsize=512)
def _binomial_pmf(count: int, probability: float) -> np.ndarray:
    """P(Binomial(count, probability) = k), k = 0..count, to ~1e-14; read-only (cached)."""
    pmf = np.zeros(count + 1)
    if probability <= 0.0:
        pmf[0] = 1.0
    elif probability >= 1.0:
        pmf[count] = 1.0
    else:
        # Ratios of neighbours, multiplied outwards from the mode so that every partial
        # product stays in (0, 1]: no overflow, and no lgamma (whose ~1e-11 error at
        # count 10,000 is too coarse); normalised at the end.
        odds = probability / (1.0 - probability)
        mode = min(count, int((count + 1) * probability))
        pmf[mode] = 1.0
        if mode < count:
            k = np.arange(mode, count, dtype=float)  # pmf[k + 1] / pmf[k]
            pmf[mode + 1 :] = np.cumprod((count - k) * odds / (k + 1))
        if mode > 0:
            k = np.arange(mode, 0, -1, dtype=float)  # pmf[k - 1] / pmf[k]
            pmf[mode - 1 :: -1] = np.cumprod(k / ((count - k + 1) * odds))
        pmf /= pmf.sum()
    pmf.flags.writeable = False
    return pmf


def _convolve_strided(law: np.ndarray, pmf: np.ndarray, stride: int) -> np.ndarray:
    """The law of K + stride·J, K ~ ``law`` and J ~ ``pmf`` independent (exact zeros of
    ``pmf`` at its ends, underflowed tails, cost nothing)."""
    nonzero = np.flatnonzero(pmf)
    low, high = int(nonzero[0]), int(nonzero[-1])
    terms = pmf[low : high + 1]
    m, n = len(terms), len(law)
    if m == 1:
        out = law * terms[0]
    else:
        # The cheapest of: one np.convolve with the pmf spread out by zeros; one per residue
        # class mod stride; one shifted multiply-add per term (very wide strides).
        dense = _CALL_US + _MAC_US * n * ((m - 1) * stride + 1)
        residue = stride * _CALL_US + _MAC_US * n * m
        shifted = m * (_CALL_US + _AXPY_US * n)
        if dense <= min(residue, shifted):
            spread = np.zeros((m - 1) * stride + 1)
            spread[::stride] = terms
            out = np.convolve(law, spread)
        elif residue <= shifted:
            out = np.zeros(n + (m - 1) * stride)
            for r in range(min(stride, n)):
                out[r::stride] = np.convolve(law[r::stride], terms)
        else:
            out = np.zeros(n + (m - 1) * stride)
            for j, b in enumerate(terms.tolist()):
                out[j * stride : j * stride + n] += b * law
    if low:
        out = np.concatenate((np.zeros(low * stride), out))
    return out


def _lump(law: np.ndarray, cap: int | None) -> np.ndarray:
    """``law`` with cells at and beyond ``cap`` lumped into cell ``cap`` (summed directly)."""
    if cap is None or len(law) <= cap + 1:
        return law
    out = law[: cap + 1].copy()
    out[cap] = law[cap:].sum()
    return out


def _lattice_law(steps: Sequence[tuple[int, float, int]], cap: int | None) -> np.ndarray:
    """The pmf of Σ stride × Binomial(count, p) over ``steps`` (stride, p, count), lumped
    at ``cap`` after every convolution when given (nothing above it is ever needed)."""
    cells = sum(stride * count for stride, _, count in steps) + 1
    if cap is not None:
        cells = min(cells, cap + 1)
    if cells > MAX_CELLS:
        raise ValueError(
            f"the law needs {cells:,} cells: the amounts share too small a common step"
        )
    law = np.ones(1)
    for stride, probability, count in steps:
        law = _lump(_convolve_strided(law, _binomial_pmf(count, probability), stride), cap)
    return law


@dataclass
class _Lattice:
    """Groups reduced to the 元 lattice: certain money and the random terms on a step."""

    offset: int  # 元, certain money and payments of chance 1
    unit: int  # 元, gcd of the random amounts (1 when there are none)
    steps: list[tuple[int, float, int]]  # (amount / unit, probability, count)

    @property
    def top(self) -> int:
        """The largest index the random part reaches."""
        return sum(stride * count for stride, _, count in self.steps)


def _random_terms(
    groups: Sequence[Payments], certain: Decimal
) -> tuple[int, list[tuple[int, float, int]]]:
    """Certain money (元, with chance-1 payments) and the random groups as (元, p, count)."""
    offset = _to_yuan(certain, "certain money")
    random: list[tuple[int, float, int]] = []
    for group in groups:
        amount = _to_yuan(group.amount, "amount")
        if amount == 0 or group.count == 0 or group.probability == 0.0:
            continue  # pays nothing
        if group.probability == 1.0:
            offset += amount * group.count
        else:
            random.append((amount, group.probability, group.count))
    return offset, random


def _lattice(offset: int, random: Sequence[tuple[int, float, int]], unit: int = 0) -> _Lattice:
    """The lattice of ``random`` (元, p, count) terms, on the gcd of their amounts and ``unit``."""
    for amount, _, _ in random:
        unit = math.gcd(unit, amount)
    unit = unit or 1
    return _Lattice(offset, unit, [(a // unit, p, n) for a, p, n in random])


# --- one budget row ---


def spend_distribution(
    groups: Sequence[Payments], certain: Decimal = Decimal(0), limit: Decimal | None = None
) -> SpendDistribution:
    """Exact law; with `limit`, mass above `limit` is lumped into the last cell (enough for
    exceeds(b) with b < limit, and cheaper)."""
    offset, random = _random_terms(groups, certain)
    lattice = _lattice(offset, random)
    cap = None
    if limit is not None:
        # cells 0..k stay exact (offset + k·unit <= limit); cell k + 1 holds the rest
        cap = max((_floor_yuan(limit) - offset) // lattice.unit + 1, 0)
        if cap >= lattice.top:
            cap = None  # nothing lies beyond: the law is whole
    pmf = _lattice_law(lattice.steps, cap)
    if cap is not None and len(pmf) < cap + 1:  # the top underflowed to nothing
        pmf = np.concatenate((pmf, np.zeros(cap + 1 - len(pmf))))
    return SpendDistribution(_wan(offset), _wan(lattice.unit), pmf, cap is not None)


def overrun_probability(groups: Sequence[Payments], certain: Decimal, budget: Decimal) -> float:
    """P(certain + random > budget), exactly decided on the 元 lattice."""
    return spend_distribution(groups, certain, limit=budget).exceeds(budget)


def budget_needed(groups: Sequence[Payments], certain: Decimal, alpha: float) -> Decimal:
    """certain + the value at risk of the random part at alpha: the smallest budget whose
    overrun chance is at most alpha."""
    return spend_distribution(groups, certain).value_at_risk(alpha)


def budgets_needed_along(
    base: Sequence[Payments],
    varying: Payments,
    counts: Sequence[int],
    certain: Decimal,
    alpha: float,
) -> list[Decimal]:
    """[budget_needed(base + [replace(varying, count=t)], certain, alpha) for t in counts],
    by adding the varying group's draws to the law of ``base`` count by count."""
    for t in counts:
        _check_count(t)
    offset, random = _random_terms(base, certain)
    amount = _to_yuan(varying.amount, "amount")
    p = varying.probability
    if amount == 0 or p == 0.0 or p == 1.0:
        # certain money or nothing: the base's value at risk, shifted by what is certain
        lattice = _lattice(offset, random)
        k = _var_index(_lattice_law(lattice.steps, None), alpha)
        base_need = offset + k * lattice.unit
        extra = amount if p == 1.0 else 0
        return [_wan(base_need + t * extra) for t in counts]
    lattice = _lattice(offset, random, amount)
    stride = amount // lattice.unit
    law = _lattice_law(lattice.steps, None)
    needs: dict[int, int] = {}
    done = 0  # the varying count already in ``law``
    # Ascending counts: each law is the previous one plus Binomial(gap) more draws (a gap of
    # one is a two-term convolution), so the whole sweep costs about one convolution per count.
    for t in sorted(set(counts)):
        if t > done:
            law = _convolve_strided(law, _binomial_pmf(t - done, p), stride)
            done = t
        needs[t] = lattice.offset + _var_index(law, alpha) * lattice.unit
    return [_wan(needs[t]) for t in counts]
