"""The outcomes of a replication on tables small enough to count by hand: additionality and
deadweight, the programme/level/year table, the spread over districts, the summary."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from liangye.agents.agents import AWARD_COLUMNS, PAYMENT_COLUMNS, REVOCATION_COLUMNS
from liangye.agents.model import WorldResult
from liangye.agents.outcomes import (
    additionality,
    awards_table,
    district_spread,
    pooled_costs,
    summarise,
)


def firm_rows() -> pd.DataFrame:
    """Seven manufacturers and one service firm; τ = 20%.

    firm  start  award  twin  awarded  received
    M1    .10    .25    .15   yes      20      crosses only with awards: additional
    M2    .10    .22    .21   yes      50      crosses in both: deadweight (crossed anyway)
    M3    .30    .31    .29   yes      150     above all along: deadweight (already above)
    M4    .25    .18    .19   yes      20      fell below in both worlds: not deadweight
    M5    .15    .19    .21   no       0       crosses only in the twin: reversed
    M6    .05    .06    .06   no       0       nothing
    M7    .12    .21    .12   no       0       crosses only with awards (a spillover)
    M8    .22    .23    .22   yes      0       a title without money, above all along
    S1    .70    .70    .70   yes      10      a service firm: no crossing; deadweight
    """
    rows = [
        ("M1", "manufacturer", 0.10, 0.25, 0.15, 20.0),
        ("M2", "manufacturer", 0.10, 0.22, 0.21, 50.0),
        ("M3", "manufacturer", 0.30, 0.31, 0.29, 150.0),
        ("M4", "manufacturer", 0.25, 0.18, 0.19, 20.0),
        ("M5", "manufacturer", 0.15, 0.19, 0.21, 0.0),
        ("M6", "manufacturer", 0.05, 0.06, 0.06, 0.0),
        ("M7", "manufacturer", 0.12, 0.21, 0.12, 0.0),
        ("M8", "manufacturer", 0.22, 0.23, 0.22, 0.0),
        ("S1", "service", 0.70, 0.70, 0.70, 10.0),
    ]
    return pd.DataFrame(
        rows,
        columns=["firm_id", "role", "start_share", "end_share_award", "end_share_twin", "received"],
    )


AWARDED = {"M1", "M2", "M3", "M4", "M8", "S1"}


def test_additionality_and_deadweight_by_hand():
    """Crossed with awards: M1, M2, M7 (3); in the twin: M2, M5 (2). Additional M1, M7;
    reversed M5; net 1. Paid 250 in all: 250 per net additional firm. Deadweight: awarded
    firms at or above 20% at the end of the twin — M2 (crossed anyway), M3, M8 and the
    service firm S1 (already above) — not M4, whose award world and twin both end below.
    M8's title paid nothing: six awarded firms, five of them paid; four deadweight, three
    of them paid (the deadweight of money). They got 50 + 150 + 10 = 210 of the 250: 84%
    (S1's 10 was in the 250 and left out of the deadweight: 80%)."""
    result = additionality(firm_rows(), AWARDED, 0.2, 250.0)
    assert result == {
        "threshold": 0.2,
        "crossed_award": 3,
        "crossed_twin": 2,
        "additional": 2,
        "reversed": 1,
        "net_additional": 1,
        "kept_above": 0,
        "dropped_below": 0,
        "net_above": 1,
        "additional_awarded": 1,
        "awarded_firms": 6,
        "awarded_firms_paid": 5,
        "deadweight": 4,
        "deadweight_firms_paid": 3,
        "deadweight_already_above": 3,
        "deadweight_crossed_anyway": 1,
        "deadweight_paid": 210.0,
        "deadweight_paid_share": pytest.approx(0.84),
        "cost_per_additional": 250.0,
    }


def test_firms_kept_above_or_dropped_below_by_the_awards_are_counted():
    """Crossings leave out firms that start above τ (review 22: one more firm above 20% with
    awards, net additional 0). At 30% M3 (.30 → .31 with awards, .29 without) is kept above:
    nobody crosses, but one more manufacturer ends above with awards. At 18.5% M4 (.25 →
    .18 with, .19 without) is dropped below, and the end counts say so."""
    at_30 = additionality(firm_rows(), AWARDED, 0.3, 0.0)
    assert (at_30["net_additional"], at_30["kept_above"], at_30["net_above"]) == (0, 1, 1)
    at_185 = additionality(firm_rows(), AWARDED, 0.185, 0.0)
    assert at_185["dropped_below"] == 1 and at_185["kept_above"] == 0
    assert at_185["net_above"] == at_185["net_additional"] - 1


def test_no_net_additional_firm_leaves_the_cost_undefined():
    """At 30%: nobody crosses in either world, net 0: no cost per additional firm. M3 ends
    the twin at 29%: the only deadweight at 30% is the service firm. Nothing paid: no
    money share."""
    result = additionality(firm_rows(), AWARDED, 0.3, 0.0)
    assert result["net_additional"] == 0 and result["cost_per_additional"] is None
    assert result["deadweight"] == 1 and result["deadweight_paid_share"] is None


def world(awards: list[tuple], payments: list[tuple]) -> WorldResult:
    """Award rows (year, firm, district, programme, level, nomination, conferred, committed)
    and payment rows (year, firm, district, programme, level, paid)."""
    award_rows = [
        {
            "year": y,
            "policy": "p",
            "firm_id": f,
            "district": d,
            "sector": "S",
            "programme": p,
            "level": lv,
            "nomination": n,
            "conferred": c,
            "amount": m,
            "cost": m,
            "committed": m if c else 0.0,
            "score": 70.0,
        }
        for y, f, d, p, lv, n, c, m in awards
    ]
    payment_rows = [
        {
            "year": y,
            "policy": "p",
            "firm_id": f,
            "district": d,
            "programme": p,
            "level": lv,
            "paid": x,
        }
        for y, f, d, p, lv, x in payments
    ]
    return WorldResult(
        trajectory=pd.DataFrame(),
        firms=pd.DataFrame(),
        awards=pd.DataFrame(award_rows, columns=AWARD_COLUMNS),
        payments=pd.DataFrame(payment_rows, columns=PAYMENT_COLUMNS),
        revocations=pd.DataFrame(columns=REVOCATION_COLUMNS),
    )


def two_years() -> WorldResult:
    """2024: A nominated provincially and conferred (50, paid 25 + 25 over 2024-2025); B
    nominated and not conferred; C designated municipal in district Y (20, paid in 2024).
    2025: D designated municipal (20, paid 2025). No provincial decision in 2025."""
    return world(
        [
            (2024, "A", "X", "demo", "provincial", True, True, 50.0),
            (2024, "B", "X", "demo", "provincial", True, False, 50.0),
            (2024, "C", "Y", "demo", "municipal", False, True, 20.0),
            (2025, "D", "X", "demo", "municipal", False, True, 20.0),
        ],
        [
            (2024, "A", "X", "demo", "provincial", 25.0),
            (2024, "C", "Y", "demo", "municipal", 20.0),
            (2025, "A", "X", "demo", "provincial", 25.0),
            (2025, "D", "X", "demo", "municipal", 20.0),
        ],
    )


def test_awards_table_keeps_later_payments_and_adds_up_to_what_was_paid():
    """Rows by programme, level, year: decisions where they were made, money where it was
    paid. A's second 25 (2025, provincial) gets a row with no decision; paid sums to 90."""
    table = awards_table(two_years())
    assert table.values.tolist() == [
        ["demo", "municipal", 2024, 1, 0, 1, 20.0, 20.0],
        ["demo", "municipal", 2025, 1, 0, 1, 20.0, 20.0],
        ["demo", "provincial", 2024, 2, 2, 1, 50.0, 25.0],
        ["demo", "provincial", 2025, 0, 0, 0, 0.0, 25.0],
    ]
    assert table["paid"].sum() == 90.0 and table["committed"].sum() == 90.0


def test_awards_table_of_a_world_without_awards_is_empty():
    assert awards_table(world([], [])).empty


def test_district_spread_by_hand():
    """Conferred: A, D in X, C in Y (B's nomination failed and does not count). Counts X 2,
    Y 1: shares ⅔, ⅓; largest ⅔; Herfindahl 4/9 + 1/9 = 5/9. Paid: X 25 + 25 + 20 = 70,
    Y 20."""
    spread = district_spread(two_years())
    assert spread["designations"] == {"X": 2, "Y": 1}
    assert spread["paid"] == {"X": 70.0, "Y": 20.0}
    assert spread["districts_reached"] == 2
    assert spread["largest_share"] == pytest.approx(2 / 3)
    assert spread["herfindahl"] == pytest.approx(5 / 9)


def test_district_spread_names_every_district_of_the_firms_with_zeros():
    """A district of the firms that got nothing is there with 0, so that its mean over
    replications counts the replications it got nothing in: Z got nothing in the first
    world and 40 in the second, a mean of 20 (not 40 over the one replication naming it)."""
    firms = pd.DataFrame({"firm_id": ["A", "C", "E"], "district": ["X", "Y", "Z"]})
    first = dataclasses.replace(two_years(), firms=firms)
    spread = district_spread(first)
    assert spread["designations"] == {"X": 2, "Y": 1, "Z": 0}
    assert spread["paid"] == {"X": 70.0, "Y": 20.0, "Z": 0.0}
    assert spread["districts_reached"] == 2
    assert spread["herfindahl"] == pytest.approx(5 / 9)
    second = world(
        [(2024, "E", "Z", "demo", "municipal", False, True, 40.0)],
        [(2024, "E", "Z", "demo", "municipal", 40.0)],
    )
    second = dataclasses.replace(second, firms=firms)
    runs = [{"districts": district_spread(w)} for w in (first, second)]
    summary = summarise(runs)
    assert summary["districts.paid.Z"]["mean"] == 20.0
    assert summary["districts.paid.Z"]["n"] == 2


def outcome(paid: float, net: int, cost: float | None) -> dict:
    return {
        "spend": {"paid": paid},
        "additionality": [{"threshold": 0.2, "net_additional": net, "cost_per_additional": cost}],
    }


def test_summarise_reports_undefined_replications_instead_of_averaging_the_rest():
    """Three replications paid 100, 200, 300 and bought 1, 0, 2 net additional firms: costs
    100, undefined, 150. Paid: mean 200, min 100, max 300. Cost: no mean (one replication
    undefined), min 100, max 150 over the two defined. Pooled: 600 / 3 = 200 a firm, one
    replication of three without a net additional firm."""
    runs = [outcome(100.0, 1, 100.0), outcome(200.0, 0, None), outcome(300.0, 2, 150.0)]
    summary = summarise(runs)
    assert summary["spend.paid"] == {"mean": 200.0, "min": 100.0, "max": 300.0, "n": 3}
    assert summary["additionality.20.cost_per_additional"] == {
        "mean": None,
        "min": 100.0,
        "max": 150.0,
        "n": 2,
        "undefined": 1,
    }
    assert summary["additionality.20.net_additional"]["mean"] == 1.0
    assert "additionality.20.threshold" not in summary
    assert pooled_costs(runs) == [
        {
            "threshold": 0.2,
            "cost_per_additional": 200.0,
            "net_additional": 3,
            "paid": 600.0,
            "replications": 3,
            "without_net_additional": 1,
        }
    ]


def test_pooled_cost_is_undefined_when_awards_bought_nothing_overall():
    """Net +1 and −1: no firm in all; the pooled cost is undefined, both are counted."""
    runs = [outcome(100.0, 1, 100.0), outcome(100.0, -1, None)]
    pooled = pooled_costs(runs)[0]
    assert pooled["cost_per_additional"] is None and pooled["without_net_additional"] == 1
    summary = summarise([outcome(100.0, 0, None)])
    assert summary["additionality.20.cost_per_additional"] == {
        "mean": None,
        "min": None,
        "max": None,
        "n": 0,
        "undefined": 1,
    }


def test_every_outcome_a_replication_reports_has_a_name_sweeps_accept():
    """The sweep's check of outcome names (``OUTCOME_PATTERNS``) against what a replication
    really reports, with other thresholds and a carried-over budget."""
    from liangye.agents.outcomes import is_outcome_name, summarise
    from liangye.scenarios.loader import load_scenario
    from liangye.scenarios.simulate import simulate_scenario

    scenario, base = load_scenario(
        None, ["simulation.population.firms=80", "simulation.thresholds=[0.15, 0.4]"]
    )
    run = simulate_scenario(scenario, base, seed=3, replications=1)
    keys = list(summarise(run.outcomes))
    assert any(k.startswith("additionality.15.") for k in keys)
    assert any(k.startswith("districts.paid.") for k in keys)
    assert [k for k in keys if not is_outcome_name(k)] == []


@pytest.mark.parametrize(
    "name",
    ["spend.nosuch", "spend.paid.2025", "additionality.20.net", "designations", "overrun", "x.y"],
)
def test_a_misspelt_outcome_is_no_outcome_name(name):
    from liangye.agents.outcomes import is_outcome_name

    assert not is_outcome_name(name)


def test_each_round_is_counted_by_how_it_ended(caplog):
    """The steep design at two thirds of the default's budget cannot meet its minimum quotas
    in some rounds: they decide without them, and the replication's outcomes count them (it
    was only logged), as many as the warnings say, every year's round counted once."""
    import logging

    from liangye.model.policy import read_toml
    from liangye.scenarios.loader import PACKAGE_DIR, load_scenario
    from liangye.scenarios.simulate import simulate_scenario
    from liangye.scenarios.sweep import overrides_for

    overrides = overrides_for(
        {"tier_design": "steep", "budget_scale": 0.67}, read_toml(PACKAGE_DIR / "default.toml")
    )
    scenario, base = load_scenario(None, [*overrides, "simulation.population.firms=300"])
    with caplog.at_level(logging.INFO, logger="liangye.agents.government"):
        run = simulate_scenario(scenario, base, seed=1, replications=1)
    rounds = run.outcomes[0]["rounds"]
    warned = sum("本年评审改为不设最低名额" in r.getMessage() for r in caplog.records)
    assert rounds["without_minimums"] == warned >= 1
    assert sum(rounds.values()) == 3  # 2024, 2025 and 2026
    assert run.summary()["summary"]["rounds.without_minimums"]["mean"] == warned
