"""The exact spend laws of ``model/risk.py`` against brute force over every conferral outcome.

Brute force expands each group into its individual payments and enumerates all 2^n
outcomes with exact arithmetic: amounts in whole 元 (ints), chances as the exact rationals
of their floats (a common power-of-two denominator, so each outcome's weight is an int).
"""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from liangye.model.joint_risk import MultiRowPayments, RowBudget, joint_overrun
from liangye.model.risk import (
    Payments,
    SpendDistribution,
    _binomial_pmf,
    _convolve_strided,
    budget_needed,
    budgets_needed_along,
    overrun_probability,
    spend_distribution,
)

YUAN = 10_000
TOL = 1e-12  # float64 results against exact rationals
NEAR = 1e-12  # a chance this close to a tail makes a quantile a matter of rounding


def yuan(value: Decimal) -> int:
    return int(value * YUAN)


def wan(value: int) -> Decimal:
    return Decimal(value) / YUAN


# --- brute force ---


def outcomes(individuals: list[tuple[tuple[int, ...], float]], rows: int):
    """Every outcome of independent draws (pays per row in 元, chance): (spend per row,
    weight), the weights exact Fractions summing to 1."""
    chances = [Fraction(p) for _, p in individuals]
    denominator = math.prod(c.denominator for c in chances)
    for drawn in itertools.product((False, True), repeat=len(individuals)):
        weight = 1
        spend = [0] * rows
        for (pays, _), chance, hit in zip(individuals, chances, drawn, strict=True):
            numerator = chance.numerator * (denominator // chance.denominator)
            weight *= numerator if hit else denominator - numerator
            if weight == 0:
                break
            if hit:
                spend = [s + a for s, a in zip(spend, pays, strict=True)]
        if weight:
            yield spend, Fraction(weight, denominator ** len(individuals))


def brute_law(groups: list[Payments], certain: Decimal) -> dict[int, Fraction]:
    """P(spend = s) for spend s in 元, by enumerating every individual payment's draw."""
    individuals = [((yuan(g.amount),), g.probability) for g in groups for _ in range(g.count)]
    law: dict[int, Fraction] = {}
    for (spend,), weight in outcomes(individuals, 1):
        total = yuan(certain) + spend
        law[total] = law.get(total, Fraction(0)) + weight
    assert sum(law.values()) == 1
    return law


def exact_exceeds(law: dict[int, Fraction], budget: Decimal) -> Fraction:
    return sum((w for s, w in law.items() if Decimal(s) > budget * YUAN), Fraction(0))


def exact_tails(law: dict[int, Fraction], offset: int) -> list[tuple[int, Fraction]]:
    """(v, P(spend > v)) for v in {offset} ∪ support, ascending: the candidates of quantiles."""
    values = sorted({offset, *law})
    tails, above = [], Fraction(0)
    for v in reversed(values):
        tails.append((v, above))
        above += law.get(v, Fraction(0))
    return tails[::-1]


def exact_var(law: dict[int, Fraction], offset: int, alpha: float) -> int:
    """The smallest v (元) in {offset} ∪ support with P(spend > v) <= alpha."""
    return next(v for v, tail in exact_tails(law, offset) if tail <= Fraction(alpha))


def exact_quantile(law: dict[int, Fraction], offset: int, q: float) -> int:
    """The smallest v (元) in {offset} ∪ support with P(spend <= v) >= q."""
    return next(v for v, tail in exact_tails(law, offset) if 1 - tail >= Fraction(q))


# --- random instances ---

# 1 元 (0.0001) beside 150 would make a lattice of millions of cells: it has its own test.
AMOUNTS = [
    Decimal("0.5"),
    Decimal("12.3456"),
    Decimal("2.5"),
    Decimal("0.75"),
    Decimal(0),
    Decimal(1),
    Decimal(3),
    Decimal(50),
    Decimal(150),
    Decimal("7.25"),
]


def random_chance(rng: random.Random) -> float:
    return rng.choice([0.0, 1.0, 0.5, 0.3, rng.uniform(0.01, 0.99), rng.uniform(0.01, 0.99)])


def random_groups(rng: random.Random, most: int = 11) -> list[Payments]:
    """Mostly a random part (the first group a real draw) and sometimes none at all."""
    groups: list[Payments] = []
    total = 0
    if rng.random() < 0.85:
        total = rng.randint(1, 4)
        groups.append(Payments(rng.choice(AMOUNTS[:4]), rng.uniform(0.05, 0.95), total))
    for _ in range(rng.randint(0, 3)):
        count = rng.randint(0, min(4, most - total))
        total += count
        groups.append(Payments(rng.choice(AMOUNTS), random_chance(rng), count))
    return groups


def random_budgets(rng: random.Random, law: dict[int, Fraction], certain: Decimal) -> list[Decimal]:
    """Budgets on support points, one 元 either side, between, below the certain money, and
    finer than 元 (which the lattice must floor)."""
    support = sorted(law)
    budgets = [wan(rng.choice(support)) for _ in range(4)]
    budgets += [wan(rng.choice(support) + d) for d in (-1, 1)]
    budgets += [certain - Decimal("0.0001"), certain - 10, certain]
    budgets.append(wan(rng.randint(support[0] - 5, support[-1] + 5)) + Decimal("0.00005"))
    budgets.append(wan(support[-1]))
    return budgets


SEEDS = range(40)


# --- one row ---


@pytest.mark.parametrize("seed", SEEDS)
def test_single_row_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    groups = random_groups(rng)
    certain = rng.choice([Decimal(0), Decimal("100"), Decimal("3.1416")])
    law = brute_law(groups, certain)
    offset = yuan(certain) + sum(yuan(g.amount) * g.count for g in groups if g.probability == 1.0)
    dist = spend_distribution(groups, certain)
    assert not dist.truncated
    assert dist.offset == wan(offset)
    assert math.isclose(dist.pmf.sum(), 1.0, abs_tol=1e-14)
    mean = sum(Fraction(s, YUAN) * w for s, w in law.items())
    assert dist.mean() == pytest.approx(float(mean), rel=1e-13, abs=1e-12)

    for budget in random_budgets(rng, law, certain):
        truth = exact_exceeds(law, budget)
        assert abs(dist.exceeds(budget) - truth) <= TOL, budget
        assert abs(dist.at_most(budget) - (1 - truth)) <= TOL, budget
        assert abs(overrun_probability(groups, certain, budget) - truth) <= TOL, budget
        if budget < certain:
            assert dist.exceeds(budget) == 1.0

    for alpha in [0.0, 0.05, rng.random(), rng.random() / 100, 0.5, 1.0]:
        var = dist.value_at_risk(alpha)
        assert budget_needed(groups, certain, alpha) == var
        # A tail exactly at alpha (p = 0.5 makes such ties) is decided by float rounding:
        # there the answer may be either neighbour; elsewhere it is the exact one.
        low = exact_var(law, offset, alpha + NEAR)
        high = exact_var(law, offset, max(alpha - NEAR, 0.0))
        assert low <= yuan(var) <= high, alpha
        if low == high:  # the defining property, on the exact law
            assert exact_exceeds(law, var) <= Fraction(alpha)
            if yuan(var) > offset:
                assert exact_exceeds(law, var - dist.unit) > Fraction(alpha)

    for q in [0.0, 0.05, 0.5, rng.random(), 0.95, 1.0]:
        low = exact_quantile(law, offset, max(q - NEAR, 0.0))
        high = exact_quantile(law, offset, min(q + NEAR, 1.0))
        assert low <= yuan(dist.quantile(q)) <= high, q


def test_one_yuan_amounts() -> None:
    """Amounts of 1 and 3 元 beside 0.5 万元: a lattice of 1 元 steps, decided exactly."""
    groups = [
        Payments(Decimal("0.0001"), 0.4, 3),
        Payments(Decimal("0.0003"), 0.7, 2),
        Payments(Decimal("0.5"), 0.2, 2),
    ]
    certain = Decimal("0.0002")
    law = brute_law(groups, certain)
    dist = spend_distribution(groups, certain)
    assert dist.unit == Decimal("0.0001") and len(dist.pmf) == 10_010
    for spend in sorted(law):
        for budget in (wan(spend - 1), wan(spend), wan(spend) + Decimal("0.00009")):
            assert abs(dist.exceeds(budget) - exact_exceeds(law, budget)) <= TOL
    for alpha in (0.01, 0.1, 0.33, 0.8):
        assert yuan(dist.value_at_risk(alpha)) == exact_var(law, yuan(certain), alpha)


@pytest.mark.parametrize("seed", range(20))
def test_limit_truncation_matches_whole_law(seed: int) -> None:
    rng = random.Random(1000 + seed)
    groups = random_groups(rng)
    certain = Decimal(rng.randint(0, 20))
    law = brute_law(groups, certain)
    whole = spend_distribution(groups, certain)
    support = sorted(law)
    limit = wan(rng.randint(support[0] - 3, support[-1] + 3))
    cut = spend_distribution(groups, certain, limit=limit)
    if cut.truncated:
        # the last cell lumps everything from its value on
        last = cut.offset + (len(cut.pmf) - 1) * cut.unit
        assert last > limit
        assert abs(cut.pmf[-1] - exact_exceeds(law, last - Decimal("0.0001"))) <= TOL
        with pytest.raises(ValueError):
            cut.exceeds(last)
    else:
        np.testing.assert_array_equal(cut.pmf, whole.pmf)
    for budget in random_budgets(rng, law, certain):
        if budget < limit:
            assert abs(cut.exceeds(budget) - whole.exceeds(budget)) <= 1e-15
            assert abs(cut.exceeds(budget) - exact_exceeds(law, budget)) <= TOL


def test_truncated_quantiles_refuse_what_is_hidden() -> None:
    groups = [Payments(Decimal(10), 0.5, 6)]
    cut = spend_distribution(groups, limit=Decimal(25))
    assert cut.truncated and len(cut.pmf) == 4  # 0, 10, 20 exact; ≥ 30 lumped
    assert cut.pmf[-1] == pytest.approx(42 / 64, abs=1e-15)
    assert cut.value_at_risk(0.7) == Decimal(20)  # P(> 20) = 42/64 <= 0.7
    with pytest.raises(ValueError):
        cut.value_at_risk(0.5)
    with pytest.raises(ValueError):
        cut.quantile(0.9)
    with pytest.raises(ValueError):
        cut.mean()
    assert cut.quantile(0.2) == Decimal(20)  # P(<= 20) = 22/64
    below = spend_distribution(groups, Decimal(100), limit=Decimal(50))  # limit under certain
    assert below.truncated and below.exceeds(Decimal(99)) == 1.0


def test_certain_and_degenerate_groups() -> None:
    groups = [
        Payments(Decimal(40), 1.0, 2),  # certain money
        Payments(Decimal(7), 0.0, 5),  # never paid
        Payments(Decimal(0), 0.4, 9),  # pays nothing
        Payments(Decimal(3), 0.4, 0),  # no payments
    ]
    dist = spend_distribution(groups, Decimal("1.5"))
    assert dist.offset == Decimal("81.5") and len(dist.pmf) == 1
    assert dist.exceeds(Decimal("81.4999")) == 1.0
    assert dist.exceeds(Decimal("81.5")) == 0.0
    assert dist.value_at_risk(0.0) == dist.quantile(1.0) == Decimal("81.5")
    assert budget_needed(groups, Decimal(0), 0.01) == Decimal(80)
    assert dist.mean() == 81.5


def test_amounts_finer_than_a_yuan_and_bad_input_are_refused() -> None:
    with pytest.raises(ValueError):
        spend_distribution([Payments(Decimal("1.00001"), 0.5, 1)])
    with pytest.raises(ValueError):
        Payments(Decimal(-1), 0.5, 1)
    with pytest.raises(ValueError):
        Payments(Decimal(1), 1.5, 1)
    with pytest.raises(ValueError):
        Payments(Decimal(1), float("nan"), 1)
    with pytest.raises(ValueError):
        Payments(Decimal(1), 0.5, -1)
    with pytest.raises(ValueError):
        spend_distribution([Payments(Decimal(1), 0.5, 3)]).value_at_risk(-1e-10)


@pytest.mark.parametrize("seed", range(12))
def test_budgets_needed_along_equals_one_by_one(seed: int) -> None:
    rng = random.Random(2000 + seed)
    base = [g for g in random_groups(rng, most=40) if g.amount != Decimal("12.3456")]
    varying = Payments(rng.choice(AMOUNTS[2:]), random_chance(rng), 0)
    counts = [*rng.sample(range(60), 15), 0, 3, 3]
    certain = Decimal(rng.randint(0, 50))
    for alpha in (0.05, 0.2, rng.random(), rng.random() / 50):
        along = budgets_needed_along(base, varying, counts, certain, alpha)
        one_by_one = [
            budget_needed([*base, Payments(varying.amount, varying.probability, t)], certain, alpha)
            for t in counts
        ]
        assert along == one_by_one


# --- the binomial and a large case ---


@pytest.mark.parametrize(("count", "chance"), [(2000, 0.3), (2000, 0.5), (500, 0.013), (40, 0.97)])
def test_binomial_pmf_is_accurate(count: int, chance: float) -> None:
    pmf = _binomial_pmf(count, chance)
    p = Fraction(chance)
    mode = int(count * chance)
    for k in {0, count, mode, max(0, mode - 40), min(count, mode + 40)}:
        exact = float(math.comb(count, k) * p**k * (1 - p) ** (count - k))
        assert abs(pmf[k] - exact) <= 1e-13 * exact + 1e-300, k


def test_binomial_pmf_edges() -> None:
    assert list(_binomial_pmf(3, 0.0)) == [1, 0, 0, 0]
    assert list(_binomial_pmf(3, 1.0)) == [0, 0, 0, 1]
    big = _binomial_pmf(10_000, 0.37)
    assert abs(big.sum() - 1) <= 1e-14 and np.all(big >= 0)
    assert abs(big @ np.arange(10_001) - 3700) <= 1e-9


def straightforward_law(groups: list[tuple[int, float, int]], unit: int) -> np.ndarray:
    """Each group's pmf from math.comb, spread on the lattice, np.convolve'd in turn."""
    law = np.ones(1)
    for amount, p, count in groups:
        stride = amount // unit
        spread = np.zeros(count * stride + 1)
        for k in range(count + 1):
            spread[k * stride] = math.comb(count, k) * p**k * (1 - p) ** (count - k)
        law = np.convolve(law, spread)
    return law


def test_large_case_against_convolution_and_normal() -> None:
    raw = [(50, 0.5, 120), (150, 0.3, 10), (30, 0.2, 300), (80, 0.65, 200)]
    groups = [Payments(Decimal(a), p, n) for a, p, n in raw]
    certain = Decimal(1000)
    dist = spend_distribution(groups, certain)
    assert dist.unit == 10
    reference = straightforward_law(raw, 10)
    np.testing.assert_allclose(dist.pmf, reference, rtol=1e-10, atol=1e-15)
    mean = 1000 + sum(a * p * n for a, p, n in raw)
    sd = math.sqrt(sum(a * a * p * (1 - p) * n for a, p, n in raw))
    assert dist.mean() == pytest.approx(mean, rel=1e-13)
    for z in (-1.5, -0.5, 0.0, 0.7, 2.0):
        budget = Decimal(round(mean + z * sd))
        k = (yuan(budget) - yuan(certain)) // (10 * YUAN)
        assert abs(dist.exceeds(budget) - reference[k + 1 :].sum()) <= 1e-13
        normal = 0.5 * math.erfc((float(budget) + 5 - mean) / (sd * math.sqrt(2)))
        assert abs(dist.exceeds(budget) - normal) <= 0.01
        cut = spend_distribution(groups, certain, limit=budget + 1)
        assert abs(cut.exceeds(budget) - dist.exceeds(budget)) <= 1e-15
    var = dist.value_at_risk(0.05)
    assert dist.exceeds(var) <= 0.05 < dist.exceeds(var - dist.unit)
    assert abs(float(var) - (mean + 1.645 * sd)) <= 2 * float(dist.unit) + 0.05 * sd


# --- several rows ---


def brute_joint(rows: list[RowBudget], groups: list[MultiRowPayments]) -> Fraction:
    individuals = [
        (tuple(yuan(a) for a in g.pays), g.probability) for g in groups for _ in range(g.count)
    ]
    total = Fraction(0)
    for spend, weight in outcomes(individuals, len(rows)):
        if any(
            yuan(row.certain) + s > row.budget * YUAN for row, s in zip(rows, spend, strict=True)
        ):
            total += weight
    return total


def random_joint(rng: random.Random, n_rows: int) -> tuple[list[RowBudget], list[MultiRowPayments]]:
    """Rows linked by a first group paying into all of them, then groups paying into some;
    budgets between the certain money and the most the row can spend, or on a spend."""
    amounts = [Decimal(0), Decimal(5), Decimal(10), Decimal("2.5"), Decimal(20)]
    total = rng.randint(1, 3)
    pays = tuple(rng.choice(amounts[1:]) for _ in range(n_rows))
    groups = [MultiRowPayments(pays, rng.uniform(0.05, 0.95), total)]
    for _ in range(rng.randint(1, 3)):
        count = rng.randint(0, min(3, 10 - total))
        total += count
        pays = tuple(rng.choice(amounts) for _ in range(n_rows))
        groups.append(MultiRowPayments(pays, random_chance(rng), count))
    rows = []
    for r in range(n_rows):
        certain = Decimal(rng.randint(0, 10))
        most = certain + sum((g.pays[r] * g.count for g in groups), Decimal(0))
        share = Decimal(rng.random()).quantize(Decimal("0.01"))
        budget = rng.choice([certain + (most - certain) * share, certain + 10, most])
        rows.append(RowBudget(certain, budget))
    return rows, groups


@pytest.mark.parametrize("seed", range(30))
def test_joint_overrun_against_brute_force(seed: int) -> None:
    rng = random.Random(3000 + seed)
    rows, groups = random_joint(rng, rng.choice([2, 3]))
    truth = brute_joint(rows, groups)
    joint = joint_overrun(rows, groups)
    assert joint.exact
    assert abs(joint.probability - truth) <= TOL
    assert joint.lower == joint.upper == joint.probability

    # squeezed below any joint lattice: bounds from each row's own chance, holding the truth
    squeezed = joint_overrun(rows, groups, max_states=1)
    chances = [
        brute_joint([row], [MultiRowPayments((g.pays[r],), g.probability, g.count) for g in groups])
        for r, row in enumerate(rows)
    ]
    assert squeezed.lower <= truth + TOL and truth <= squeezed.upper + TOL
    assert squeezed.probability == squeezed.upper
    if not squeezed.exact:
        # one linked component: exactly the bounds max_r P_r and min(1, Σ_r P_r)
        linked = all(
            sum(1 for a in g.pays if a > 0) == len(rows)
            for g in groups
            if g.count and 0 < g.probability < 1
        )
        if linked:
            assert abs(squeezed.lower - max(chances)) <= TOL
            assert abs(squeezed.upper - min(1, sum(chances))) <= TOL


def test_joint_overrun_linked_rows_differ_from_independent() -> None:
    """One draw paying into both rows: the rows overrun together, P = P(one) not 1 − (1 − P)²."""
    rows = [RowBudget(Decimal(0), Decimal(5)), RowBudget(Decimal(0), Decimal(5))]
    shared = [MultiRowPayments((Decimal(10), Decimal(10)), 0.3, 1)]
    assert joint_overrun(rows, shared).probability == pytest.approx(0.3, abs=1e-15)
    apart = [
        MultiRowPayments((Decimal(10), Decimal(0)), 0.3, 1),
        MultiRowPayments((Decimal(0), Decimal(10)), 0.3, 1),
    ]
    assert joint_overrun(rows, apart).probability == pytest.approx(0.51, abs=1e-15)
    forced = joint_overrun(rows, shared, max_states=1)
    assert not forced.exact
    assert forced.lower == pytest.approx(0.3) and forced.upper == pytest.approx(0.6)


def test_joint_overrun_certain_money_and_empty() -> None:
    assert joint_overrun([], []).probability == 0.0
    rows = [RowBudget(Decimal(10), Decimal(9)), RowBudget(Decimal(0), Decimal(100))]
    assert joint_overrun(rows, []).probability == 1.0
    certain = [MultiRowPayments((Decimal(5), Decimal(60)), 1.0, 2)]
    assert joint_overrun(rows[1:] * 2, certain).probability == 1.0  # 120 > 100 for sure
    with pytest.raises(ValueError):
        joint_overrun(rows, [MultiRowPayments((Decimal(1),), 0.5, 1)])


def test_joint_overrun_larger_shared_rows() -> None:
    """Years paying a designation and its later payout: a DP over 3 rows of ~60 cells each,
    against an independent enumeration of the shared group's counts."""
    rows = [
        RowBudget(Decimal(100), Decimal(1500)),
        RowBudget(Decimal(0), Decimal(1200)),
        RowBudget(Decimal(50), Decimal(2600)),
    ]
    groups = [
        MultiRowPayments((Decimal(50), Decimal(25), Decimal(75)), 0.5, 40),
        MultiRowPayments((Decimal(0), Decimal(50), Decimal(50)), 0.4, 30),
        MultiRowPayments((Decimal(100), Decimal(0), Decimal(100)), 0.2, 12),
    ]
    joint = joint_overrun(rows, groups)
    assert joint.exact
    # independent: enumerate the three binomial counts
    pmfs = [
        [
            math.comb(g.count, k) * g.probability**k * (1 - g.probability) ** (g.count - k)
            for k in range(g.count + 1)
        ]
        for g in groups
    ]
    truth = 0.0
    for ks in itertools.product(*(range(g.count + 1) for g in groups)):
        spend = [
            row.certain + sum((g.pays[r] * k for g, k in zip(groups, ks, strict=True)), Decimal(0))
            for r, row in enumerate(rows)
        ]
        if any(s > row.budget for s, row in zip(spend, rows, strict=True)):
            truth += math.prod(pmf[k] for pmf, k in zip(pmfs, ks, strict=True))
    assert joint.probability == pytest.approx(truth, abs=1e-12)
    marginal = [
        overrun_probability(
            [Payments(g.pays[r], g.probability, g.count) for g in groups], row.certain, row.budget
        )
        for r, row in enumerate(rows)
    ]
    assert max(marginal) <= joint.probability + 1e-15 <= sum(marginal) + 2e-15


def test_spend_distribution_record() -> None:
    dist = SpendDistribution(Decimal(5), Decimal("0.5"), np.array([0.25, 0.5, 0.25]), False)
    assert dist.exceeds(Decimal("5.4999")) == 0.75
    assert dist.exceeds(Decimal("5.5")) == 0.25
    assert dist.value_at_risk(0.25) == Decimal("5.5")
    assert dist.quantile(0.75) == Decimal("5.5")
    assert dist.mean() == 5.5
    with pytest.raises(ValueError):
        dist.pmf[0] = 1.0  # read-only: a law is shared, never edited


@pytest.mark.parametrize(
    ("length", "terms", "stride"),
    [(50, 20, 1), (2000, 50, 7), (10, 3, 10_000), (7, 6, 3), (3, 40, 5)],
)
def test_strided_convolution_every_way(length: int, terms: int, stride: int) -> None:
    """Each way of convolving (spread pmf, per residue, shifted adds) against a plain loop;
    the leading and trailing zeros of the pmf are skipped but keep their place."""
    rng = np.random.default_rng(length + terms + stride)
    law = rng.random(length)
    pmf = np.concatenate(([0.0, 0.0], rng.random(terms), [0.0]))
    expected = np.zeros(length + (len(pmf) - 1) * stride)
    for j, b in enumerate(pmf):
        expected[j * stride : j * stride + length] += b * law
    got = _convolve_strided(law, pmf, stride)
    assert len(got) == len(expected) - stride  # the trailing zero term adds no cells
    np.testing.assert_allclose(got, expected[: len(got)], rtol=1e-13, atol=0)


def test_joint_overrun_rows_with_own_and_shared_payments() -> None:
    """Linked rows whose own payments alone can overrun each row: the DP's start state."""
    rows = [RowBudget(Decimal(0), Decimal(25)), RowBudget(Decimal(5), Decimal(30))]
    groups = [
        MultiRowPayments((Decimal(10), Decimal(0)), 0.45, 3),  # row 0 alone: 30 > 25
        MultiRowPayments((Decimal(0), Decimal("12.5")), 0.6, 3),  # row 1 alone: 42.5 > 30
        MultiRowPayments((Decimal(5), Decimal(5)), 0.35, 3),  # both rows
    ]
    joint = joint_overrun(rows, groups)
    assert joint.exact
    assert abs(joint.probability - brute_joint(rows, groups)) <= TOL


def test_a_plan_whose_joint_overrun_is_too_large_to_count_carries_both_bounds(monkeypatch):
    """Carried-over budgets link the rows; where the joint law is too large the "any year"
    chance is an upper bound (often 100%), and the plan's risk carries the lower one too."""
    import functools

    import liangye.model.budget_risk as budget_risk
    from liangye.model.budget_risk import plan_risk

    from conftest import make_candidates, make_policy, programme, solve

    nominated = programme("P", {"provincial": 50, "municipal": 20})
    nominated["levels"][0]["conferred_by"] = "provincial"  # a nomination, conferred or not
    policy = make_policy([nominated], years=[2024, 2026])
    candidates = make_candidates([{"id": c, "score": 90 - i} for i, c in enumerate("ABCDEF")])
    result = solve(
        policy,
        candidates,
        {2024: 60, 2025: 60, 2026: 60},
        carry_over=True,
        success_probability={"provincial": 0.5},
        level_weights={"provincial": 4, "municipal": 1},
    )
    exact = plan_risk(result.problem, result.chosen)
    assert exact.any_exact and exact.any_lower is None
    assert 0 < exact.overrun["any_year"] < 1  # nominations that may all be conferred
    monkeypatch.setattr(
        budget_risk, "joint_overrun", functools.partial(budget_risk.joint_overrun, max_states=1)
    )
    bounded = plan_risk(result.problem, result.chosen)
    rows = [p for label, p in bounded.overrun.items() if label != "any_year"]
    assert not bounded.any_exact
    assert bounded.any_lower == pytest.approx(max(rows))
    assert bounded.any_lower <= exact.overrun["any_year"] + 1e-12
    assert exact.overrun["any_year"] <= bounded.overrun["any_year"] + 1e-12
    # the sampled estimate between the bounds, and near the exact chance
    estimate, error = bounded.any_estimate
    assert bounded.any_lower <= estimate <= bounded.overrun["any_year"]
    assert 0 < error < 0.005
    assert abs(estimate - exact.overrun["any_year"]) <= 4 * error + 1e-9
    assert plan_risk(result.problem, result.chosen).any_estimate == bounded.any_estimate  # seeded
    assert exact.any_estimate is None
    answer = result.to_dict()
    assert answer["overrun_probability_any_year_lower"] is None
    assert answer["overrun_probability_any_year_estimate"] is None


@pytest.mark.parametrize("seed", range(12))
def test_sampled_joint_overrun_against_brute_force(seed: int) -> None:
    """The fixed-seed estimate the plan gives where the exact joint law is too large: within
    four standard errors of the enumerated truth, and the same on every call."""
    from liangye.model.risk_sample import sampled_joint_overrun

    rng = random.Random(5000 + seed)
    rows, groups = random_joint(rng, rng.choice([2, 3]))
    truth = float(brute_joint(rows, groups))
    sampled = sampled_joint_overrun(rows, groups, draws=40_000)
    assert abs(sampled.probability - truth) <= 4 * sampled.standard_error + 1e-9
    assert sampled_joint_overrun(rows, groups, draws=40_000) == sampled
