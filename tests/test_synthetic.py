"""The synthetic candidate pool and its applications: seeded, multi-valued titles, and
entitlements dated across the horizon."""

from __future__ import annotations

import pandas as pd

from liangye.model.decisions import ENTITLEMENT
from liangye.model.eligibility import read_tiers
from liangye.model.expressions import cell_values
from liangye.model.synthetic import (
    GREEN_MANUFACTURING_TITLES,
    SMART_MANUFACTURING_TITLES,
    synthetic_applications,
    synthetic_candidates,
)
from liangye.scenarios.loader import PACKAGE_DIR, load_scenario
from liangye.scenarios.runner import scenario_policy

YEARS = [2024, 2025, 2026]


def jiaxing():
    scenario, base = load_scenario(PACKAGE_DIR / "default.toml", [])
    return scenario_policy(scenario, base)


def test_the_basic_columns_do_not_change_with_the_extension():
    basic = synthetic_candidates(80, 4, seed=5)
    extended = synthetic_candidates(80, 4, seed=5, extended=True)
    pd.testing.assert_frame_equal(basic, extended[basic.columns])


def test_title_cells_hold_one_or_two_known_titles():
    pool = synthetic_candidates(2000, 30, seed=3, extended=True)
    for column, known in (
        ("smart_manufacturing", SMART_MANUFACTURING_TITLES),
        ("green_manufacturing", GREEN_MANUFACTURING_TITLES),
    ):
        cells = pool.loc[pool["kind"] == "enterprise", column].dropna()
        sizes = [len(cell_values(c)) for c in cells]
        assert set(sizes) == {1, 2}
        assert all(set(cell_values(c)) <= set(known) for c in cells)
    parks = pool.loc[pool["kind"] == "park", "green_manufacturing"].dropna()
    assert len(parks) > 0 and all(cell.endswith("绿色园区") for cell in parks)


def test_applications_are_the_eligible_pairs_with_entitlements_dated():
    policy, settings = jiaxing()
    pool = synthetic_candidates(300, 12, seed=7, extended=True)
    apps = synthetic_applications(pool, policy, settings, YEARS, seed=7)
    tiers, _ = read_tiers(policy, settings, pool, [], [])
    expected = {
        (cid, t.programme.id, t.level) for t in tiers for cid in pool["id"].to_numpy()[t.eligible]
    }
    got = set(zip(apps["candidate_id"], apps["programme"], apps["level"], strict=True))
    assert got == expected and len(apps) == len(expected)
    kind = {(t.programme.id, t.level): t.decision for t in tiers}
    pairs = zip(apps["programme"], apps["level"], strict=True)
    entitled = [kind[(p, lv)] == ENTITLEMENT for p, lv in pairs]
    dated = apps["year"].notna().to_numpy()
    assert (dated == entitled).all()
    assert set(apps.loc[dated, "year"].astype(int)) == set(YEARS)
    # the same seed gives the same table; another seed other years
    pd.testing.assert_frame_equal(apps, synthetic_applications(pool, policy, settings, YEARS, 7))
    other = synthetic_applications(pool, policy, settings, YEARS, seed=8)
    assert not other["year"].equals(apps["year"])


def test_a_pool_of_one_enterprise_has_a_score():
    """One enterprise has no spread of quality to standardise by: it was scored NaN (and so
    dropped as if ineligible, without a word); it now scores as an average one would."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the division by a zero spread warned
        one = synthetic_candidates(1, 0, seed=6)
    assert one["score"].notna().all() and 50 <= float(one["score"].iloc[0]) <= 99


def test_synthetic_candidates_are_named_as_example_data():
    """A bureau reading a plan of the synthetic pool sees example data, not firm names that
    read as real (嘉兴合成企业… read as a chemical-synthesis company)."""
    from liangye.model.synthetic import synthetic_candidates

    table = synthetic_candidates(enterprises=3, parks=1, seed=0)
    assert all(name.endswith("（示例数据）") for name in table["name"])
    assert not any("合成" in name for name in table["name"])
