"""The fast readings of the options' rules against their plain references, on random instances.

``reference_options.py`` keeps the per-row formulations the fast code replaced. Each test
draws candidate pools over the bundled policies (and variants of their stacking and upgrade
rules), with missing values, designations already held and applications, and checks that
the fast code gives the same tiers, reasons, costs, exclusions and options, to the row and
dtype.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from reference_options import (
    ReferenceColumns,
    reference_apply_history,
    reference_join_applications,
    reference_read_tiers,
    reference_settle_entitlements,
    reference_upgrade_chains,
)

from liangye.model import gathered, later_payments, options
from liangye.model.decisions import settle_entitlements
from liangye.model.eligibility import read_tiers
from liangye.model.options import build_problem
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.synthetic import synthetic_applications, synthetic_candidates
from liangye.scenarios.loader import load_policy_reference

POLICIES = [
    "jiaxing-2024-2026",
    "wuhan-service-manufacturing",
    "zhongshan-pilots-2021-2023",
    "jiangsu-pilots-batch3",
    "zhejiang-integration",
]
SETTINGS = AllocationSettings(
    success_probability={"national": 0.3, "provincial": 0.5},
    level_weights={"national": 3.0, "provincial": 2.0, "municipal": 1.0},
)
# Each case: a bundled policy, a seed, and the stacking and upgrade rules it is read with.
CASES = [
    (policy_id, seed, stacking, upgrade)
    for seed, (stacking, upgrade) in enumerate(
        [("highest", "top_up"), ("highest", "full"), ("highest", "none"), ("all", "top_up")]
    )
    for policy_id in POLICIES
]


def random_pool(policy, seed: int, enterprises: int = 150) -> pd.DataFrame:
    """A synthetic pool with holes in its numbers and random titles already held (one to
    three of the policy's tiers, written with either separator)."""
    rng = np.random.default_rng([seed, 11])
    pool = synthetic_candidates(enterprises, parks=8, seed=seed, extended=True)
    for column in ("revenue", "service_revenue_share", "service_input_share"):
        pool.loc[rng.random(len(pool)) < 0.05, column] = np.nan
    titles = [f"{p.id}:{lv.level.value}" for p in policy.programmes for lv in p.levels]
    held = []
    for _ in range(len(pool)):
        if rng.random() < 0.3:
            chosen = rng.choice(titles, size=int(rng.integers(1, 4)))
            held.append(str(rng.choice([";", "；"])).join(chosen))
        else:
            held.append(None)
    pool["held"] = held
    return pool


def random_applications(pool, policy, years, seed: int) -> pd.DataFrame:
    """Applications from the pool: half of what it is eligible for (undated, or dated in a
    random year), some twice, and a fifth as many for tiers the candidate is not eligible for."""
    rng = np.random.default_rng([seed, 12])
    eligible = synthetic_applications(pool, policy, SETTINGS, years, seed=seed)
    eligible = eligible.iloc[np.flatnonzero(rng.random(len(eligible)) < 0.5)]
    tiers = [(p.id, lv.level.value) for p in policy.programmes for lv in p.levels]
    count = max(1, len(eligible) // 5)
    picked = rng.integers(0, len(tiers), count)
    anyone = pd.DataFrame(
        {
            "candidate_id": pool["id"].to_numpy()[rng.integers(0, len(pool), count)],
            "programme": [tiers[k][0] for k in picked],
            "level": [tiers[k][1] for k in picked],
            "year": np.where(rng.random(count) < 0.5, np.nan, rng.choice(years, count)),
            "score": np.round(rng.uniform(50, 100, count), 1),
        }
    )
    again = eligible.iloc[np.flatnonzero(rng.random(len(eligible)) < 0.1)]
    table = pd.concat([eligible, anyone, again], ignore_index=True)
    undated = rng.random(len(table)) < 0.5
    table["year"] = np.where(undated, np.nan, rng.choice(years, len(table)).astype(float))
    table["row"] = [f"row {i + 2}" for i in range(len(table))]
    table.attrs["source"] = "applications.csv"
    return table


def policy_case(policy_id: str, stacking: str, upgrade: str):
    policy = load_policy_reference(policy_id)
    return policy.model_copy(update={"stacking": stacking, "upgrade": upgrade})


def settings_for(policy) -> AllocationSettings:
    """SETTINGS with an amount for every tier the document leaves blank (40, 30, 20万元 by
    level order, within the tier's cap)."""
    amounts: dict[str, dict[str, Decimal]] = {}
    for programme in policy.programmes:
        for k, award in enumerate(programme.levels):
            if award.amount is None and not award.bands:
                value = Decimal(40 - 10 * k)
                if award.cap is not None:
                    value = min(value, award.cap)
                amounts.setdefault(programme.id, {})[award.level.value] = value
    return SETTINGS.model_copy(update={"amounts": AllocationSettings(amounts=amounts).amounts})


def assert_same_frame(fast: pd.DataFrame, plain: pd.DataFrame) -> None:
    assert list(fast.columns) == list(plain.columns)
    assert list(fast.dtypes) == list(plain.dtypes)
    assert fast.index.equals(plain.index)
    assert fast.equals(plain)


@pytest.mark.parametrize(("policy_id", "seed", "stacking", "upgrade"), CASES)
def test_read_tiers_matches_the_plain_reading(policy_id, seed, stacking, upgrade):
    """Eligibility, reasons, amounts, problems and notes as the Series-by-Series reading
    gives them; without reasons, the same but for the reasons."""
    policy = policy_case(policy_id, stacking, upgrade)
    pool = random_pool(policy, seed)
    if seed % 2:  # a table lacking a column some rules read: problems and notes
        pool = pool.drop(columns=["market_share_rank"])
    plain_problems, plain_notes = [], []
    plain, plain_taking = reference_read_tiers(policy, SETTINGS, pool, plain_problems, plain_notes)
    for with_reasons in (True, False):
        problems, notes = [], []
        tiers, taking = read_tiers(policy, SETTINGS, pool, problems, notes, reasons=with_reasons)
        assert taking == plain_taking
        assert [str(p) for p in problems] == [str(p) for p in plain_problems]
        assert [note.en for note in notes] == [note.en for note in plain_notes]
        assert len(tiers) == len(plain)
        for tier, expected in zip(tiers, plain, strict=True):
            assert (tier.programme.id, tier.level, tier.where) == (
                expected.programme.id,
                expected.level,
                expected.where,
            )
            assert (tier.decision, tier.chance, tier.amount) == (
                expected.decision,
                expected.chance,
                expected.amount,
            )
            assert tier.eligible.dtype == bool
            assert np.array_equal(tier.eligible, expected.eligible)
            assert np.array_equal(tier.amounts(), expected.amounts(), equal_nan=True)
            if with_reasons:
                assert tier.reasons.tolist() == expected.reasons.tolist()
            else:
                assert tier.reasons is None
    # The instance is not trivial: someone is eligible and someone is not, for some reason.
    assert any(t.eligible.any() for t in plain) and any((~t.eligible).any() for t in plain)


def test_read_tiers_gives_the_first_failing_reason():
    """Kind before applicants before the sector list before the rules, in their order."""
    policy = load_policy_reference("jiaxing-2024-2026")
    pool = random_pool(policy, 3)
    tiers, _ = read_tiers(policy, SETTINGS, pool, [], [])
    parks = (pool["kind"] == "park").to_numpy()
    for tier in tiers:
        if tier.programme.kinds == ["enterprise"]:
            assert set(tier.reasons[parks]) == {"kind enterprise only"}
        assert all(r is None for r in tier.reasons[tier.eligible])
        assert all(isinstance(r, str) for r in tier.reasons[~tier.eligible])


def plain_steps(monkeypatch) -> None:
    """Make ``build_problem`` use the reference of every step that has a fast form."""
    monkeypatch.setattr(options, "read_tiers", reference_read_tiers)
    monkeypatch.setattr(options, "apply_history", reference_apply_history)
    monkeypatch.setattr(options, "join_applications", reference_join_applications)
    monkeypatch.setattr(options, "_upgrade_chains", reference_upgrade_chains)
    monkeypatch.setattr(options, "settle_entitlements", reference_settle_entitlements)
    monkeypatch.setattr(options, "_Columns", ReferenceColumns)
    # Later payments always summed by pandas' groupby, even one row per key.
    monkeypatch.setattr(later_payments, "_single_payments", lambda payments: None)


@pytest.mark.parametrize(("policy_id", "seed", "stacking", "upgrade"), CASES)
@pytest.mark.parametrize("applied", ["none", "applications", "one year"])
def test_build_problem_matches_the_plain_steps(
    monkeypatch, policy_id, seed, stacking, upgrade, applied
):
    """The options, their later payments, the candidates and every exclusion with its
    reason, built with the fast steps and with the references: every candidate for every
    tier, an applications table, and applications in one year (as a simulated round's)."""
    policy = policy_case(policy_id, stacking, upgrade)
    pool = random_pool(policy, seed)
    years = list(policy.year_range)
    applications = None
    if applied != "none":
        applications = random_applications(pool, policy, years, seed)
    if applied == "one year":
        applications = applications.assign(year=float(years[-1]))
    settings = settings_for(policy)
    fast = build_problem(policy, pool, Budget(), settings, years, applications)
    with monkeypatch.context() as patched:
        plain_steps(patched)
        plain = build_problem(policy, pool, Budget(), settings, years, applications)
    assert fast.size > 0
    for name in ("options", "exclusions", "later_payments", "candidates"):
        assert_same_frame(getattr(fast, name), getattr(plain, name))
    assert_same_frame(fast.designations(), plain.designations())
    assert [note.en for note in fast.notes] == [note.en for note in plain.notes]
    assert fast.policy == plain.policy


def test_history_rules_out_and_prices_what_is_held():
    """The random pools exercise every way history acts: a higher award priced by the
    upgrade rule, a repeat refused, a title held refused under stacking "all"."""
    seen = set()
    for policy_id, seed, stacking, upgrade in CASES:
        policy = policy_case(policy_id, stacking, upgrade)
        pool = random_pool(policy, seed)
        problem = build_problem(
            policy, pool, Budget(), settings_for(policy), list(policy.year_range)
        )
        reasons = problem.exclusions["reason"].astype(str)
        for start in ("already paid", "already designated", "already holds"):
            if reasons.str.startswith(start).any():
                seen.add(start)
        held = problem.candidates["held"].notna().to_numpy()[problem.options["candidate"]]
        plain = problem.options["from_option"].to_numpy() < 0
        topped = held & plain & (problem.options["cost"] != problem.options["amount"]).to_numpy()
        if topped.any():
            seen.add("priced")
    assert seen == {"already paid", "already designated", "already holds", "priced"}


def test_join_applications_matches_on_bad_and_ineligible_tables(monkeypatch):
    """Applications naming unknown candidates, programmes, levels and years give the same
    problems in the same order; a table of applications nobody is eligible for gives no
    option and the same exclusions."""
    from liangye.model.applications import join_applications
    from liangye.model.errors import InputError

    compared = []

    def both(pairs, candidates, applications, policy, years):
        fast = join_applications(pairs, candidates, applications, policy, years)
        framed = pairs.frame() if isinstance(pairs, gathered.GatheredColumns) else pairs
        plain = reference_join_applications(framed, candidates, applications, policy, years)
        assert [str(p) for p in fast[1]] == [str(p) for p in plain[1]]
        assert_same_frame(fast[0], plain[0])
        if len(plain[2]):
            assert_same_frame(fast[2], plain[2])
        compared.append(len(fast[1]))
        return fast

    monkeypatch.setattr(options, "join_applications", both)
    policy = policy_case("wuhan-service-manufacturing", "highest", "top_up")
    pool = random_pool(policy, 5)
    years = list(policy.year_range)
    settings = settings_for(policy)
    applications = random_applications(pool, policy, years, 5)
    bad = applications.copy()
    bad.loc[3, "candidate_id"] = "nobody"
    bad.loc[5, "programme"] = "no_such_programme"
    bad.loc[7, "level"] = "district"
    bad.loc[9, "year"] = 1999
    bad.loc[11, "level"] = "no_such_level"
    with pytest.raises(InputError, match="nobody"):
        build_problem(policy, pool, Budget(), settings, years, bad)
    parks = pool.loc[pool["kind"] == "park", "id"].to_numpy()
    ineligible = applications.head(len(parks)).assign(candidate_id=parks)  # firms' programmes
    problem = build_problem(policy, pool, Budget(), settings, years, ineligible)
    assert problem.size == 0
    assert (problem.exclusions["reason"] == "applied but not eligible").sum() > 0
    assert compared[0] == 5 and compared[1] == 0


@pytest.mark.parametrize("dtype", [None, object, "string"])
def test_held_cells_read_as_parse_held_reads_each(dtype):
    """A held column read at once equals parse_held cell by cell: a text column with holes,
    an object column of texts, None and NaN, and a "string" column, whose missing <NA> is
    not a designation (parse_held refuses it, and so does the column read)."""
    from liangye.model.candidates import parse_held, parse_held_cells

    cells = ["a:国家级；b:市级", None, "a:国家级；b:市级", "c:provincial", None]
    column = pd.Series(cells, dtype=dtype)
    if dtype is object:
        column[4] = float("nan")
    if dtype == "string":
        with pytest.raises(ValueError):
            parse_held(column[1])
        with pytest.raises(ValueError):
            parse_held_cells(column)
        return
    expected = [parse_held(cell) for cell in column.tolist()]
    assert parse_held_cells(column) == expected
    assert expected[0] and expected[1] == [] and expected[4] == []


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("stacking", ["highest", "all"])
def test_settle_entitlements_matches_the_plain_settling(seed, stacking):
    """Random pair tables with several entitlements per candidate and matter (ties in
    amount, year and level, a missing amount, dated and undated, uncertain ones): the same
    options and set-aside rows as pandas' sort, set_index and reindex over every pair."""
    rng = np.random.default_rng([seed, 21])
    n = 400
    amounts = np.array([Decimal(10), Decimal(20), Decimal("20.0"), Decimal(50), None], dtype=object)
    pairs = pd.DataFrame(
        {
            "candidate": rng.integers(0, 40, n),
            "programme": rng.choice(["p1", "p2", "p3", "p4"], n),
            "programme_order": rng.integers(0, 4, n),
            "matter": rng.choice(["m1", "m2"], n),
            "level": rng.choice(["national", "provincial", "municipal"], n),
            "level_rank": rng.integers(0, 3, n),
            "amount": amounts[rng.choice(len(amounts), n, p=[0.3, 0.3, 0.1, 0.25, 0.05])],
            "probability": rng.choice([1.0, 0.5], n),
            "decision": rng.choice(["entitlement", "discretionary", "nomination"], n),
            "year": rng.choice([2024, 2025, 2026], n),
            "dated": rng.random(n) < 0.5,
            "score": rng.uniform(50, 100, n),
        }
    )
    pairs = pairs.iloc[rng.permutation(n)[: n - 20]]  # an index with holes, as build_problem's
    fast = settle_entitlements(pairs, 2024, stacking)
    plain = reference_settle_entitlements(pairs, 2024, stacking)
    assert_same_frame(fast[0], plain[0])
    assert_same_frame(fast[1], plain[1])
    assert len(plain[1]) > 0


# Scalars and arrays a pair or exclusion block may carry, typed or not (numpy scalars,
# None, NaN, Decimal, mixed kinds), for the framing of gathered columns.
COLUMN_VALUES = [
    lambda rng, n: int(rng.integers(-5, 5)),
    lambda rng, n: 2**63 + int(rng.integers(0, 5)),  # beyond int64
    lambda rng, n: np.int64(rng.integers(0, 5)),
    lambda rng, n: float(rng.choice([0.5, np.nan, -0.0])),
    lambda rng, n: bool(rng.random() < 0.5),
    lambda rng, n: str(rng.choice(["national", "provincial", "市级"])),
    lambda rng, n: Decimal(str(rng.choice(["30", "30.0", "12.5"]))),
    lambda rng, n: None,
    lambda rng, n: rng.integers(0, 9, n),
    lambda rng, n: rng.random(n),
    lambda rng, n: rng.random(n) < 0.5,
    lambda rng, n: np.array(rng.choice(["a", "b", "kind enterprise only"], n), dtype=object),
    lambda rng, n: np.array([None if rng.random() < 0.3 else "b" for _ in range(n)], dtype=object),
    lambda rng, n: np.array(
        [Decimal(int(k)) if k else None for k in rng.integers(0, 3, n)], dtype=object
    ),
]


@pytest.mark.parametrize("seed", range(40))
def test_gathered_columns_frame_as_the_plain_inference(seed):
    """Columns gathered block by block (scalars of one kind or mixed kinds, arrays, empty
    blocks) frame with the dtypes and values of inferring the whole repeated column; some
    rows framed alone are those rows of the whole frame; the codes of a column group its
    rows as pd.factorize of the framed column does."""
    rng = np.random.default_rng([seed, 31])
    names = [f"c{k}" for k in range(6)]
    fast, plain = options._Columns(names), ReferenceColumns(names)
    # Each column draws its blocks from one or two kinds of value.
    kinds = {
        name: rng.choice(len(COLUMN_VALUES), size=int(rng.integers(1, 3))) for name in names[1:]
    }
    for _ in range(int(rng.integers(0, 5))):
        size = int(rng.choice([0, 1, 7]))
        block = {names[0]: rng.integers(0, 100, size)}
        for name in names[1:]:
            block[name] = COLUMN_VALUES[int(rng.choice(kinds[name]))](rng, size)
        if any(isinstance(v, np.ndarray) and len(v) != size for v in block.values()):
            continue
        fast.add(**block)
        plain.add(**block)
    whole = plain.frame()
    assert_same_frame(fast.frame(), whole)
    # Some rows only (as the applications' join takes them), in any order, some twice.
    rows = rng.integers(0, fast.rows, int(rng.integers(0, 12))) if fast.rows else np.arange(0)
    assert_same_frame(fast.frame(rows), whole.iloc[rows].reset_index(drop=True))
    # Codes equal where the framed column's values are (as pd.factorize numbers them).
    for name in names:
        codes = fast.codes(name)
        expected, distinct = pd.factorize(whole[name], use_na_sentinel=False)
        assert len(codes.codes) == len(expected) == fast.rows
        assert np.array_equal(codes.codes[:, None] == codes.codes, expected[:, None] == expected)
        assert len(codes.distinct) == len(distinct)


@pytest.mark.parametrize("seed", range(20))
def test_codes_look_up_as_get_indexer(seed):
    """A factorised column's positions in an index (texts by a dict when few, else pandas'
    lookup) are ``get_indexer``'s: texts as "str" or objects, missing values, absent ones."""
    rng = np.random.default_rng([seed, 41])
    words = np.array(["national", "provincial", "municipal", "市级", "design_award"], dtype=object)
    values = words[rng.integers(0, len(words), 30)]
    if seed % 3 == 0:
        values[rng.integers(0, 30, 3)] = None
    column = pd.Series(values, dtype=object if seed % 2 else None)
    within = pd.Index(list(rng.permutation(words)[: int(rng.integers(0, 5))]))
    for index in (within, within.astype(object), np.asarray(within, dtype=object)):
        codes = gathered._Codes(column)
        expected = pd.Index(index).get_indexer(column)
        assert np.array_equal(codes.positions_in(index), expected)
        assert np.array_equal(codes.at(np.arange(5)).positions_in(index), expected[:5])
