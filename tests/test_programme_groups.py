"""The builder's groupings in numpy (``option_groups.index_groups``, ``group_numbers``) give what
pandas' groupby gives: the same keys (and key types) in the same order, the same option
indices, the same group numbers; missing values are left to pandas. And the budget rows'
payments are made once per options table (``AllocationProblem.payments``)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from liangye.model import option_groups
from liangye.model.options import AllocationProblem


def frame(seed: int, missing: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    table = pd.DataFrame(
        {
            "candidate": rng.integers(0, 40, n),
            "matter": pd.array(rng.choice(["b", "a", "Z", "服务", "a b"], n), dtype="str"),
            "level": pd.array(rng.choice(["national", "municipal"], n), dtype="str"),
            "year": rng.integers(2024, 2027, n),
            "chance": rng.choice([0.3, 0.5, 1.0], n),
            "own": rng.choice([20.0, 50.0, 150.0, 0.0], n),
        }
    )
    if missing:
        table.loc[0, "matter"] = None
    return table


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(
    "keys",
    [["candidate", "matter"], ["candidate", "matter", "level"], ["candidate", "year"]],
)
def test_groups_as_pandas(seed, keys):
    table = frame(seed)
    expected = table.groupby(keys, sort=True).indices
    got = option_groups.index_groups(table, keys)
    assert list(got) == list(expected)
    for ours, theirs in zip(got, expected, strict=True):
        assert [type(v) for v in ours] == [type(v) for v in theirs]
        assert got[ours].tolist() == expected[theirs].tolist()
    assert option_groups.sorted_groups(table, keys) is not None  # read in numpy, not by pandas


def test_no_options():
    empty = frame(0).iloc[:0]
    assert option_groups.sorted_groups(empty, ["candidate", "matter"]) is None
    assert option_groups.index_groups(empty, ["candidate", "matter"]) == {}


def test_missing_keys_are_left_to_pandas():
    table = frame(3, missing=True)
    assert option_groups.sorted_groups(table, ["candidate", "matter"]) is None
    expected = table.groupby(["candidate", "matter"], sort=True).indices
    assert list(option_groups.index_groups(table, ["candidate", "matter"])) == list(expected)


@pytest.mark.parametrize("seed", range(20))
def test_group_numbers_as_pandas(seed):
    table = frame(seed)
    columns = ["chance", "own", "year"]
    expected = table.groupby(columns, sort=True).ngroup().to_numpy()
    got = option_groups.group_numbers([table[c].to_numpy() for c in columns])
    assert got.tolist() == expected.tolist()
    with_nan = table.assign(own=table["own"].where(table.index != 0))
    assert option_groups.group_numbers([with_nan[c].to_numpy() for c in columns]) is None


def test_payments_made_once_per_table():
    options = pd.DataFrame(
        {
            "year": [2024, 2025],
            "cost": [Decimal("20"), Decimal("50.5")],
            "expected_cost": [20.0, 25.25],
        }
    )
    later = pd.DataFrame(
        {"option": [1], "year": [2026], "cost": [Decimal("10")], "expected_cost": [5.0]}
    )
    problem = AllocationProblem.__new__(AllocationProblem)
    problem.__dict__.update(options=options, later_payments=later)
    option, year, cost = problem.payments(expected=False)
    assert option.tolist() == [0, 1, 1]
    assert cost.tolist() == [20.0, 50.5, 10.0] and year.tolist() == [2024, 2025, 2026]
    assert problem.payments(expected=False)[2] is cost  # made once
    assert problem.payments()[2].tolist() == [20.0, 25.25, 5.0]
    with pytest.raises(ValueError):
        cost[0] = 1.0  # shared: read-only
    problem.__dict__["options"] = options.assign(expected_cost=[1.0, 2.0])
    assert problem.payments()[2].tolist() == [1.0, 2.0, 5.0]  # another table: made again


@pytest.mark.parametrize("seed", range(8))
def test_scopes_coded_once_select_what_pandas_isin_selects(seed: int) -> None:
    """``option_groups.Scopes`` codes a table's programme and level columns once and tests each
    scope on the codes: the same rows as pandas' ``isin`` on the texts, for scopes naming
    programmes or levels the table has, lacks or both, levels as enum members or texts,
    empty scopes, and tables with missing values."""
    from liangye.model.units import Level

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 200))
    names = ["P1", "P2", "设计", "a b"]
    levels = ["national", "provincial", "municipal"]
    programmes = rng.choice([*names, None], n) if seed % 2 else rng.choice(names, n)
    table = pd.DataFrame(
        {
            "programme": pd.array(programmes, dtype="str"),
            "level": pd.array(rng.choice(levels, n), dtype="str"),
        }
    )
    scopes = option_groups.Scopes(table)
    for wanted_programmes, wanted_levels in [
        (None, None),
        (["P1"], None),
        (["P2", "设计", "missing"], None),
        ([], None),
        (None, [Level("municipal")]),
        (None, ["national", "provincial"]),
        (["a b", "P1"], [Level("national"), "municipal"]),
        (["nowhere"], ["national"]),
    ]:
        expected = np.ones(n, dtype=bool)
        if wanted_programmes is not None:
            expected &= table["programme"].isin(wanted_programmes).to_numpy(dtype=bool)
        if wanted_levels is not None:
            texts = [getattr(v, "value", v) for v in wanted_levels]
            expected &= table["level"].isin(texts).to_numpy(dtype=bool)
        got = scopes.mask(wanted_programmes, wanted_levels)
        assert got.dtype == bool and got.tolist() == expected.tolist()
        assert (
            option_groups.scope_mask(table, wanted_programmes, wanted_levels).tolist()
            == got.tolist()
        )
