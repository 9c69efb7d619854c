"""A plan's money as tables for people: what it pays by year, programme and level, inside the
horizon and after it (commitments), for the optimum and the bureau's rank-by-score plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .options import AllocationProblem

SPEND_COLUMNS = [
    "year",
    "programme",
    "programme_name",
    "level",
    "designations",
    "expected",
    "if_conferred",
    "after_horizon",
]


def designation_count(problem: AllocationProblem, chosen: np.ndarray) -> int:
    """How many designations and nominations the plan ``chosen`` makes, counted as its rows
    in ``AllocationResult.selected``: an upgrade chain is two (its first designation and the
    upgrade), every other option one. The plan's summary, the rank-by-score plan's and the
    budget frontier's columns all count this way, so that they agree where they meet."""
    chosen = np.asarray(chosen, dtype=int)
    upgrades = problem.options["from_option"].to_numpy()[chosen] >= 0
    return len(chosen) + int(np.count_nonzero(upgrades))


def spend_by_tier(problem: AllocationProblem, chosen: np.ndarray) -> pd.DataFrame:
    """One row per (year, programme, level) in which the plan ``chosen`` designates or pays
    anything (columns ``SPEND_COLUMNS``): designations made that year, the expected spend
    (万元; conferrals × their chance, as the budget rows count them) and the spend if every
    conferral comes; ``after_horizon`` marks years past the horizon (commitments).

    Every payment is counted at the tier that owes it: an upgrade chain's first
    designation at its own tier, the upgrade's top-up at the upgrade's. The expected spend of
    the horizon's years adds up to ``checks.expected_spend``."""
    options = problem.options
    chosen = np.asarray(chosen, dtype=int)
    if len(chosen) == 0:
        return pd.DataFrame(columns=SPEND_COLUMNS)
    later = problem.later_payments
    origin = options["from_option"].to_numpy()
    # Who owes each payment: the option itself, or for a chain's first designation (part 0
    # of a chain's later payments) the option it starts from.
    later_rows = later[later["option"].isin(chosen)]
    later_option = later_rows["option"].to_numpy(dtype=int)
    owner = np.where(
        (later_rows["part"].to_numpy() == 0) & (origin[later_option] >= 0),
        origin[later_option],
        later_option,
    )
    chance_own = options["probability"].to_numpy(dtype=float)[chosen]
    own_cost = options["cost"].to_numpy(dtype=float)[chosen]
    payments = pd.DataFrame(
        {
            "owner": np.concatenate([chosen, owner]),
            "year": np.concatenate(
                [options["year"].to_numpy(dtype=int)[chosen], later_rows["year"].to_numpy(int)]
            ),
            "if_conferred": np.concatenate([own_cost, later_rows["cost"].to_numpy(dtype=float)]),
            "expected": np.concatenate(
                [own_cost * chance_own, later_rows["expected_cost"].to_numpy(dtype=float)]
            ),
        }
    )
    payments["programme"] = options["programme"].to_numpy()[payments["owner"]]
    payments["level"] = options["level"].to_numpy()[payments["owner"]]
    money = payments.groupby(["year", "programme", "level"], sort=True)[
        ["expected", "if_conferred"]
    ].sum()
    designations = problem.designations()
    made = designations[designations["option"].isin(chosen)]
    counts = made.groupby(["year", "programme", "level"]).size().rename("designations")
    table = money.join(counts, how="outer").reset_index()
    table["designations"] = table["designations"].fillna(0).astype(int)
    table[["expected", "if_conferred"]] = table[["expected", "if_conferred"]].fillna(0.0).round(4)
    names = {p.id: p.name for p in problem.policy.programmes}
    table["programme_name"] = [names.get(p, p) for p in table["programme"]]
    table["after_horizon"] = table["year"] > max(problem.years)
    # Policy order of programmes, then the higher level first, within each year.
    order = {p.id: i for i, p in enumerate(problem.policy.programmes)}
    rank = {"national": 0, "provincial": 1, "municipal": 2, "district": 3}
    table = table.assign(
        _p=table["programme"].map(order), _l=table["level"].map(rank).fillna(9)
    ).sort_values(["year", "_p", "_l"], kind="stable")
    return table[SPEND_COLUMNS].reset_index(drop=True)


def budget_table(problem: AllocationProblem) -> pd.DataFrame:
    """Each year's budget (万元; NaN where none) and, in a row of year ``None``, the horizon
    total when one is set; ``carry_over`` says whether unspent money moves on."""
    budget = problem.budget
    rows = [
        {
            "year": t,
            "budget": float(budget.per_year[t]) if t in budget.per_year else np.nan,
            "carry_over": budget.carry_over,
        }
        for t in problem.years
    ]
    if budget.total is not None:
        rows.append({"year": None, "budget": float(budget.total), "carry_over": budget.carry_over})
    return pd.DataFrame(rows, columns=["year", "budget", "carry_over"])
