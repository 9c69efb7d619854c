"""What a simulated scenario writes and reports: a summary that is the same for the same seed,
the scenario's tier design, money that adds up, and `liangye run` allocating and simulating."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from liangye.agents.model import ServitizationModel
from liangye.agents.population import synthetic_population
from liangye.scenarios.loader import load_scenario
from liangye.scenarios.simulate import run_simulation, simulate_scenario, simulation_setup

from conftest import liangye

SMALL = ["simulation.population.firms=300"]


def test_same_seed_writes_the_same_summary_byte_for_byte(tmp_path):
    """Timings go to the manifest; summary.json holds nothing else that changes between runs."""
    scenario, base = load_scenario(None, SMALL)
    run_simulation(scenario, base, seed=3, replications=1, out=tmp_path / "one")
    run_simulation(scenario, base, seed=3, replications=1, out=tmp_path / "two")
    first, second = ((tmp_path / d / "summary.json").read_bytes() for d in ("one", "two"))
    assert first == second
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["seconds_per_replication"]) == 1
    assert "seconds" not in first.decode("utf-8")


LEVELS = ("national", "provincial", "municipal")


def test_the_scenario_tier_design_prices_the_simulated_awards():
    """tier_design = "wuhan" pays 100/50/20 for service-oriented manufacturing, not the
    Jiaxing policy's 150/50/20: the government the simulation builds uses the design, as the
    allocation of `liangye run` does."""
    scenario, base = load_scenario(None, [*SMALL, 'tier_design="wuhan"'])
    params, governments, start = simulation_setup(scenario, base)
    assert governments[0].settings.amounts["service_manufacturing_demo"]
    model = ServitizationModel(synthetic_population(params, 0), params, governments, start, 0)
    government = next(iter(model.governments))
    amounts = {
        (t.programme.id, t.level): t.amounts()[0] for t in government.tiers(model.state_table())
    }
    assert [amounts[("service_manufacturing_demo", lv)] for lv in LEVELS] == [100.0, 50.0, 20.0]
    assert [amounts[("industrial_design_centre", lv)] for lv in LEVELS] == [150.0, 50.0, 20.0]


def test_money_adds_up_over_programmes_levels_and_years():
    """Half of each award now, half next year, so instalments fall in years with no decision
    and some are owed after 2026 or cancelled on withdrawal: what conferred designations
    commit is what was paid, cancelled and still owed; the programme/level/year table's paid
    column adds up to every payment."""
    schedule = "simulation.payout_schedule={service_manufacturing_demo=[0.5,0.5]}"
    scenario, base = load_scenario(None, [*SMALL, schedule])
    run = simulate_scenario(scenario, base, seed=5, replications=2)
    for k, outcome in enumerate(run.outcomes):
        spend = outcome["spend"]
        parts = spend["paid"] + spend["cancelled"] + spend["owed_after_horizon"]
        assert spend["committed"] == pytest.approx(parts) and spend["owed_after_horizon"] > 0
        table = pd.DataFrame(outcome["designations"]["by_programme_level_year"])
        paid = run.payments.loc[run.payments["replication"] == k, "paid"].sum()
        assert table["paid"].sum() == pytest.approx(paid) == pytest.approx(spend["paid"])
        assert sum(spend["paid_by_year"].values()) == pytest.approx(spend["paid"])


def test_liangye_run_allocates_and_simulates(tmp_path):
    out = tmp_path / "run"
    done = liangye(
        "run", "--set", "allocation.time_limit=5", "--set", "candidates.synthetic.enterprises=200",
        "--set", SMALL[0], "--out", str(out), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] in ("optimal", "work_limit", "time_limit") and answer["selected"]
    simulation = answer["simulation"]
    assert simulation["folder"] == str(out / "simulation") and simulation["replications"] == 1
    assert simulation["summary"]["spend.paid"]["mean"] > 0
    assert (out / "plan.parquet").exists() and (out / "manifest.json").exists()
    trajectories = pd.read_parquet(out / "simulation" / "trajectories.parquet")
    assert set(trajectories["world"]) == {"award", "twin"}
    summary = json.loads((out / "simulation" / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 0 and np.isfinite(summary["summary"]["spend.paid"]["mean"])


def test_other_thresholds_are_plotted_not_only_20_and_30(tmp_path):
    """The servitization plot draws the scenario's own thresholds (it once assumed 20%/30%
    and failed after the whole simulation had run)."""
    scenario, base = load_scenario(None, [*SMALL, "simulation.thresholds=[0.25]"])
    run_simulation(scenario, base, seed=1, replications=1, out=tmp_path)
    assert (tmp_path / "servitization.png").stat().st_size > 0
    trajectories = pd.read_parquet(tmp_path / "trajectories.parquet")
    assert "share_above_25" in trajectories and "share_above_20" not in trajectories


def test_the_payout_panel_draws_each_years_budget_and_the_spread():
    """Two replications paying 90 and 130 in 2024 against a budget of 100: the payout panel
    has the budget line at 100 over 2024's bar and a whisker from 90 to 130 (the year that
    overran in one replication shows it)."""
    from liangye.results import plots

    trajectories = pd.DataFrame(
        {
            "world": ["award", "twin"] * 2,
            "replication": [0, 0, 1, 1],
            "t": [0, 0, 0, 0],
            "quarter": ["2024Q1"] * 4,
            "share_above_20": [0.1, 0.1, 0.2, 0.2],
        }
    )
    payments = pd.DataFrame(
        {
            "year": [2024, 2024],
            "replication": [0, 1],
            "programme": ["P", "P"],
            "paid": [90.0, 130.0],
        }
    )
    figure = plots.servitization_figure(
        trajectories, payments, "t", {"share_above_20": "≥ 20%"}, {2024: 100.0}
    )
    right = figure.axes[1]
    budget_lines = [c for c in right.collections if c.get_label() == "budget"]
    assert len(budget_lines) == 1
    (segment,) = budget_lines[0].get_segments()
    assert segment[0][1] == segment[1][1] == 100.0
    whiskers = [c for c in right.collections if c.get_label() != "budget" and len(c.get_segments())]
    spans = [s for c in whiskers for s in c.get_segments()]
    assert any(sorted([s[0][1], s[1][1]]) == [90.0, 130.0] for s in spans)


def test_yearly_payments_count_every_replication_in_their_mean():
    """A replication paying nothing in a year still counts in that year's mean (as 0): with
    three firms one of three replications pays nothing in 2026, and its year was left out,
    so the yearly means did not add up to the mean paid."""
    scenario, base = load_scenario(None, ["simulation.population.firms=3"])
    run = simulate_scenario(scenario, base, seed=1, replications=3)
    for outcome in run.outcomes:
        assert set(outcome["spend"]["paid_by_year"]) == {"2024", "2025", "2026"}
    assert any(0.0 in o["spend"]["paid_by_year"].values() for o in run.outcomes)
    summary = run.summary()["summary"]
    yearly = [summary[f"spend.paid_by_year.{t}"] for t in (2024, 2025, 2026)]
    assert all(entry["n"] == 3 for entry in yearly)
    assert sum(e["mean"] for e in yearly) == pytest.approx(summary["spend.paid"]["mean"])


def test_the_terminals_headline_shows_shares_as_percents():
    """Shares read as percents beside the 20%/30% thresholds (0.217 beside "≥20%" read as a
    count of firms)."""
    import re

    from liangye.scenarios.simulate import headline

    scenario, base = load_scenario(None, SMALL)
    rows = dict(headline(simulate_scenario(scenario, base, seed=3, replications=1)))
    shares = [
        v for k, v in rows.items() if k.startswith(("制造企业平均服务收入占比", "服务收入占比"))
    ]
    assert len(shares) == 3  # the mean share, and the shares above 20% and 30%
    assert all(re.fullmatch(r"[\d.]+% → [\d.]+% / [\d.]+%", v) for v in shares), shares


def test_the_terminals_headline_says_how_often_a_budget_was_overrun():
    """The overrun chance is a headline outcome (README): it was in summary.json and the
    report only. Shown as the share of replications, the same as the summary's mean."""
    from liangye.scenarios.simulate import headline

    scenario, base = load_scenario(None, SMALL)
    run = simulate_scenario(scenario, base, seed=3, replications=2)
    rows = dict(headline(run))
    share = run.summary()["summary"]["overrun.occurred.any_year"]["mean"]
    assert rows["任一年超支的重复比例"] == f"{share:.0%}"
