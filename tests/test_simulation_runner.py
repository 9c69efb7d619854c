"""The simulation runner: reproducible, the twin really is the award world without awards,
bigger awards buy no less additionality, and a run folder a user can open."""

from __future__ import annotations

import gc
import json
import logging

import numpy as np
import pandas as pd
import pytest

from liangye.agents.model import ServitizationModel
from liangye.scenarios.loader import load_scenario
from liangye.scenarios.simulate import (
    long_lived_set_aside,
    replication_seeds,
    run_simulation,
    simulate_scenario,
)

from conftest import liangye, report_text

SMALL = ["simulation.population.firms=300"]
SERVITIZATION = [
    "mean_service_share",
    "share_above_20",
    "share_above_30",
    "mean_modes",
    "adoptions",
]


def small(*overrides: str):
    return load_scenario(None, [*SMALL, *overrides])


def worlds(trajectories: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    def pick(world: str) -> pd.DataFrame:
        rows = trajectories[trajectories["world"] == world]
        return rows.drop(columns="world").reset_index(drop=True)

    return pick("award"), pick("twin")


def test_same_seed_same_outputs_other_seed_other_outputs():
    scenario, base = small()
    first = simulate_scenario(scenario, base, seed=4, replications=2)
    again = simulate_scenario(scenario, base, seed=4, replications=2)
    other = simulate_scenario(scenario, base, seed=5, replications=2)
    pd.testing.assert_frame_equal(first.trajectories, again.trajectories)
    pd.testing.assert_frame_equal(first.awards, again.awards)
    pd.testing.assert_frame_equal(first.firms, again.firms)
    assert first.outcomes == again.outcomes
    assert not first.trajectories[SERVITIZATION].equals(other.trajectories[SERVITIZATION])
    # Replications of one run differ from each other too (their own spawned seeds).
    one, two = (first.firms[first.firms["replication"] == k] for k in (0, 1))
    assert not np.allclose(one["end_share_award"], two["end_share_award"])


def test_replication_seeds_are_spawned_from_the_root():
    seeds = replication_seeds(7, 3)
    assert [s.spawn_key for s in seeds] == [(0,), (1,), (2,)]
    assert all(s.entropy == 7 for s in seeds)
    expected = [c.generate_state(2).tolist() for c in np.random.SeedSequence(7).spawn(3)]
    assert [s.generate_state(2).tolist() for s in seeds] == expected


@pytest.mark.parametrize(
    "overrides",
    [
        ["simulation.awards_enabled=false"],
        # Without a budget the city chooses nothing, but what it owes by right is paid
        # anyway: with no prize winners in the population it owes nothing.
        ["budget.2024=0", "budget.2025=0", "budget.2026=0", "simulation.population.design_prize=0"],
    ],
    ids=["awards-off", "zero-budget"],
)
def test_without_awards_the_award_world_is_its_twin(overrides):
    """Same draws, no money: the two worlds are identical quarter by quarter, firm by firm,
    and nothing is additional. (With a zero budget the city may still confer the cultivation
    titles of 三, which carry no money in the default scenario: they are counted, and change
    nothing else.)"""
    scenario, base = small(*overrides)
    run = simulate_scenario(scenario, base, seed=2, replications=1)
    award, twin = worlds(run.trajectories)
    counted = ["designations_held", "conferred"]
    pd.testing.assert_frame_equal(award.drop(columns=counted), twin.drop(columns=counted))
    np.testing.assert_array_equal(run.firms["end_share_award"], run.firms["end_share_twin"])
    if not run.awards.empty:
        conferred = run.awards[run.awards["conferred"]]
        assert (conferred["amount"] == 0).all()
    assert run.payments.empty or run.payments["paid"].sum() == 0
    assert all(
        a["additional"] == 0 and a["reversed"] == 0 for a in run.outcomes[0]["additionality"]
    )


def test_awards_change_the_award_world_only():
    """With the default awards, the twin is the no-award run, and the award world differs."""
    scenario, base = small()
    run = simulate_scenario(scenario, base, seed=2, replications=1)
    off = simulate_scenario(*small("simulation.awards_enabled=false"), seed=2, replications=1)
    award, twin = worlds(run.trajectories)
    pd.testing.assert_frame_equal(twin, worlds(off.trajectories)[1])
    assert run.awards["conferred"].sum() > 0
    assert not award[SERVITIZATION].equals(twin[SERVITIZATION])


def net_additional(run) -> np.ndarray:
    """(replications × thresholds) net additional firms."""
    return np.array([[a["net_additional"] for a in o["additionality"]] for o in run.outcomes])


def test_larger_awards_with_the_money_for_them_do_not_lower_additionality():
    """Tiers and budgets × 10 (the same plans with ten times the money): on average over six
    replications (each its own spawned seed and population of 200 firms, the two runs on
    the same random numbers), at least as many firms cross 20% and 30% only because of
    awards, and some do.

    Larger tiers under the same budget are not asserted: they buy fewer awards, and over 20
    replications tiers × 3 under 3,000万元 a year gave 0.85 and 0.85 net additional firms
    against 0.9 and 1.05 (a difference within about one standard error either way)."""
    budgets = [f"budget.{year}={3000 * 10}" for year in (2024, 2025, 2026)]
    firms = "simulation.population.firms=200"
    base_run = simulate_scenario(*small(firms), seed=11, replications=6)
    large_run = simulate_scenario(
        *small(firms, "simulation.award_scale=10", *budgets), seed=11, replications=6
    )
    base, large = net_additional(base_run), net_additional(large_run)
    assert (large.mean(axis=0) >= base.mean(axis=0)).all(), (base.tolist(), large.tolist())
    assert large.sum() > 0


def test_run_folder_holds_trajectories_summary_and_manifest(tmp_path):
    scenario, base = small()
    _, folder = run_simulation(scenario, base, seed=1, replications=2, out=tmp_path / "run")
    assert folder == tmp_path / "run"
    trajectories = pd.read_parquet(folder / "trajectories.parquet")
    assert set(trajectories["world"]) == {"award", "twin"}
    assert trajectories.groupby(["replication", "world"]).size().tolist() == [13] * 4
    assert trajectories["quarter"].iloc[:2].tolist() == ["2023Q4", "2024Q1"]
    awards = pd.read_parquet(folder / "awards.parquet")
    assert set(awards["year"]) <= {2024, 2025, 2026}
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 2 and len(summary["runs"]) == 2
    assert summary["summary"]["spend.paid"]["n"] == 2
    assert {"servitization", "designations", "spend", "additionality", "districts"} <= set(
        summary["runs"][0]
    )
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "simulation" and manifest["seed"] == 1
    assert "trajectories.parquet" in manifest["files"]
    # The picture a reader looks at first: a PNG, listed in the manifest.
    assert (folder / "servitization.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "servitization.png" in manifest["files"]


def test_progress_hears_every_quarter_of_both_worlds():
    scenario, base = small()
    heard: list[tuple[int, int]] = []
    simulate_scenario(
        scenario, base, seed=1, replications=2, progress=lambda d, t: heard.append((d, t))
    )
    assert heard[-1] == (48, 48) and len(heard) == 48


def test_cli_simulate(tmp_path):
    out = tmp_path / "sim"
    done = liangye(
        "simulate", "--seed", "3", "--replications", "1", "--set", SMALL[0], "--out", str(out),
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["seed"] == 3 and summary["folder"] == str(out)
    assert (out / "trajectories.parquet").exists() and (out / "manifest.json").exists()


def test_default_scenario_is_the_documented_size():
    """About 2,000 firms, 12 quarters from 2024Q1, one round a year (its speed is measured by
    benchmarks/simulation.py, not asserted here)."""
    scenario, _ = load_scenario(None)
    params = scenario.simulation
    assert params.population.firms == 2000 and params.quarters == 12
    assert params.round_quarter == 4 and scenario.years == (2024, 2026)


def test_without_a_budget_entitlements_are_still_paid():
    """A budget of 0 leaves the city no choice, but design prizes (Jiaxing 四（一）3, an
    entitlement) are paid to every winner in the year the prize is won, over the budget."""
    scenario, base = small("budget.2024=0", "budget.2025=0", "budget.2026=0")
    run = simulate_scenario(scenario, base, seed=2, replications=1)
    awards = run.awards[run.awards["conferred"]]
    assert len(awards) > 0
    assert set(awards["decision"]) == {"entitlement"}
    assert set(awards["programme"]) == {"design_award"}
    assert len(set(awards["year"])) > 1  # prizes fall across the years, not all in the first
    assert run.payments["paid"].sum() == pytest.approx(awards["amount"].sum())


def test_finished_worlds_are_let_go_and_the_collector_left_as_it_was():
    """Mesa 3.3 keys agent numbers by model on the Agent class (mesa#3179): a replication's
    worlds must not stay alive through it. Objects set aside from the garbage collector
    while a simulation runs are put back; a caller's own freeze is left alone."""

    def alive() -> int:  # models built by hand in other tests may stay: count these only
        gc.collect()
        return sum(isinstance(o, ServitizationModel) for o in gc.get_objects())

    scenario, base = small()
    before = alive()
    simulate_scenario(scenario, base, seed=1, replications=1)
    assert alive() == before
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    with long_lived_set_aside():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with long_lived_set_aside():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_round_without_a_plan_says_so_in_chinese(caplog):
    """100 firms cannot fill the default policy's minimum quotas: each round says, in the
    reader's language, that it decides without them (the round is not skipped)."""
    import logging

    scenario, base = load_scenario(None, ["simulation.population.firms=100"])
    with caplog.at_level(logging.INFO, logger="liangye.agents.government"):
        run = simulate_scenario(scenario, base, seed=0, replications=1)
    records = [r for r in caplog.records if r.name == "liangye.agents.government"]
    said = [r.getMessage() for r in records if "评审" in r.getMessage()]
    assert said and all("年：没有方案满足全部规则" in s for s in said)
    # logged, not warned: the person reads them once, counted in the headline (below)
    assert not [r for r in records if r.levelno >= logging.WARNING and "评审" in r.getMessage()]
    assert all("本年评审改为不设最低名额" in s for s in said)
    assert run.outcomes[0]["designations"]["decided"] > 0  # the rounds still decided
    # Said to the person once, in the headline, counted over the replications (a warning
    # each round of each replication repeated, naming the policy by its id)
    from liangye.scenarios.simulate import headline

    rows = dict(headline(run))
    counted = rows["年度评审（各次重复合计）：按全部规则 / 不设最低名额 / 只兑现应付 / 未举行"]
    assert counted.split(" / ")[1] == str(len(said))


def test_a_warning_each_replication_repeats_is_said_once(caplog):
    """Zhongshan's programmes cannot be simulated (parks only, or rules on columns the
    firms lack): every replication warned of it again, word for word."""
    import logging

    from liangye.scenarios.loader import PACKAGE_DIR

    scenario, base = load_scenario(
        PACKAGE_DIR / "examples" / "zhongshan-pilots-2021-2023.toml",
        ["simulation.population.firms=200"],
    )
    with caplog.at_level(logging.WARNING, logger="liangye"):
        simulate_scenario(scenario, base, seed=0, replications=3)
    said = [r.getMessage() for r in caplog.records if "没有可模拟的企业奖励项目" in r.getMessage()]
    assert len(said) == 1
    # and said again by the next simulation: once per run, not once per process
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="liangye"):
        simulate_scenario(scenario, base, seed=1, replications=2)
    assert sum("没有可模拟的企业奖励项目" in r.getMessage() for r in caplog.records) == 1


def test_a_round_not_held_is_warned_of_once_and_counted(caplog, monkeypatch):
    """A round whose problem cannot be built is not held: its reason is warned of once per
    run (it repeated for every replication), and the headline counts such rounds."""
    import logging

    from liangye.agents.government import GovernmentAgent
    from liangye.model.errors import InputError, Problem
    from liangye.scenarios.simulate import headline

    def refused(self, table, applying, scores, year):
        raise InputError([Problem("scenario", "amounts", "made to fail", "故意出错")])

    monkeypatch.setattr(GovernmentAgent, "problem", refused)
    scenario, base = load_scenario(None, ["simulation.population.firms=200"])
    with caplog.at_level(logging.WARNING, logger="liangye"):
        run = simulate_scenario(scenario, base, seed=0, replications=2)
    said = [r.getMessage() for r in caplog.records if "评审未举行" in r.getMessage()]
    years = {y for y in (2024, 2025, 2026) if any(f"{y} 年" in m for m in said)}
    assert len(said) == len(years) == 3  # once a year, not once a year and replication
    counted = dict(headline(run))[
        "年度评审（各次重复合计）：按全部规则 / 不设最低名额 / 只兑现应付 / 未举行"
    ]
    assert counted == "0 / 0 / 0 / 6"


def test_a_round_whose_obligations_break_the_budget_says_why_in_chinese(caplog):
    """A budget of 10万元 a year cannot carry what firms are entitled to: each round pays the
    obligations only and says why in the diagnosis's Chinese (not its English)."""
    import logging

    budgets = [f"budget.{year}=10" for year in (2024, 2025, 2026)]
    scenario, base = load_scenario(None, budgets)
    with caplog.at_level(logging.INFO, logger="liangye.agents.government"):
        simulate_scenario(scenario, base, seed=0, replications=1)
    messages = [r.getMessage() for r in caplog.records if r.name == "liangye.agents.government"]
    said = [m for m in messages if "本年" in m]
    assert said and all("本年只兑现按规定应付的奖励" in s for s in said)
    assert all("仅应享奖励" in s and "obligations alone" not in s for s in said)


def test_a_simulation_outside_the_policy_years_says_no_round_is_held(caplog):
    """Starting after the policy's last year holds no round: a world without awards, said
    (in Chinese) rather than left to be discovered in empty tables."""
    import logging

    from liangye.scenarios.simulate import simulation_setup

    scenario, base = load_scenario(None, ["simulation.start_year=2030"])
    with caplog.at_level(logging.WARNING, logger="liangye"):
        simulation_setup(scenario, base)
    assert any("没有重叠" in r.getMessage() and "2030" in r.getMessage() for r in caplog.records)
    caplog.clear()
    scenario, base = load_scenario(None, [])
    with caplog.at_level(logging.WARNING, logger="liangye"):
        simulation_setup(scenario, base)
    assert not any("没有重叠" in r.getMessage() for r in caplog.records)


def test_a_simulation_too_short_for_a_round_says_so_not_that_the_years_do_not_meet(caplog):
    """One quarter of 2024 meets the policy's 2024-2026 but never reaches a round quarter:
    the warning said the years did not overlap (fuzzing)."""
    import logging

    from liangye.scenarios.simulate import simulation_setup

    scenario, base = load_scenario(None, ["simulation.quarters=1"])
    with caplog.at_level(logging.WARNING, logger="liangye"):
        simulation_setup(scenario, base)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "没有重叠" not in said
    assert "共 1 个季度" in said and "评审季度" in said


def test_every_allocated_year_is_simulated_unless_the_scenario_says():
    """A scenario over 2022-2025 is simulated for 16 quarters (its 2025 round was cut off
    by the default twelve); one year is still simulated for three; a quarters key wins."""
    from liangye.scenarios.loader import PACKAGE_DIR
    from liangye.scenarios.simulate import simulation_setup

    wuhan = PACKAGE_DIR / "examples" / "wuhan-service-manufacturing.toml"
    jiangsu = PACKAGE_DIR / "examples" / "jiangsu-pilots-batch3.toml"
    assert simulation_setup(*load_scenario(wuhan))[0].quarters == 16
    assert simulation_setup(*load_scenario(jiangsu))[0].quarters == 12
    assert simulation_setup(*load_scenario(None))[0].quarters == 12
    assert simulation_setup(*load_scenario(wuhan, ["simulation.quarters=8"]))[0].quarters == 8


def test_what_was_simulated_is_recorded_as_run_not_as_the_file_wrote(tmp_path):
    """Wuhan's 2022-2025 is simulated for 16 quarters, and a run with --seed 3
    --replications 2: the summary's parameters and the report say so (they said the file's
    12 quarters, seed 0 and one replication)."""
    from liangye.scenarios.loader import PACKAGE_DIR

    wuhan = PACKAGE_DIR / "examples" / "wuhan-service-manufacturing.toml"
    out = tmp_path / "sim"
    done = liangye(
        "simulate", str(wuhan), "--seed", "3", "--replications", "2",
        "--set", "simulation.population.firms=120", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["quarters"] == 16
    assert summary["parameters"]["seed"] == 3 and summary["parameters"]["replications"] == 2
    text = report_text(out, tmp_path / "report.html")
    assert "16 个季度，重复 2 次，随机种子 3" in text and "12 个季度" not in text


def test_a_policy_with_nothing_to_simulate_says_why_programme_by_programme(caplog):
    """Zhongshan's pilot programmes are for parks or read columns the simulated firms lack:
    the warning names each and why (it said only that no programme pays firms)."""
    from liangye.scenarios.loader import PACKAGE_DIR

    zhongshan = PACKAGE_DIR / "examples" / "zhongshan-pilots-2021-2023.toml"
    scenario, base = load_scenario(zhongshan, ["simulation.population.firms=40"])
    with caplog.at_level("WARNING", logger="liangye"):
        simulate_scenario(scenario, base, seed=1, replications=1)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "仅面向园区" in said and "category" in said and "模拟企业没有" in said


def test_budget_years_no_simulated_round_reaches_are_said(caplog):
    """Six quarters of the default scenario reach only 2024's round: its 2025 and 2026
    budgets are not used, and the simulation says so (they dropped out of the simulated
    overruns without a word); the full horizon says nothing."""
    from liangye.scenarios.simulate import simulation_setup

    def said(overrides: list[str]) -> list[str]:
        caplog.clear()
        scenario, base = load_scenario(None, overrides)
        with caplog.at_level(logging.WARNING, logger="liangye.scenarios.simulate"):
            simulation_setup(scenario, base)
        return [r.getMessage() for r in caplog.records if "额度在模拟中不使用" in r.getMessage()]

    assert said(["simulation.quarters=6"]) == [
        "预算中2025年、2026年的额度在模拟中不使用：模拟的评审年份为2024年"
    ]
    assert said([]) == []


def test_titles_a_firm_file_says_are_held_are_checked_and_read_by_name_too(tmp_path):
    """Review 22: a held title of no programme was ignored by the simulation (the firm paid
    in full again) where allocate refuses it, and one written by the programme's Chinese
    name, as allocate reads it, was ignored too. Now the first is refused, naming the row,
    and the second is held from the start as its id would be."""
    from liangye.model.errors import InputError
    from liangye.scenarios.simulate import check_simulation, checked_population, simulation_setup

    header = "编号,企业名称,类型,所在县区,所属行业,营业收入（万元）,服务收入占比,已获认定"
    rows = [f"E{i},企业{i},企业,南湖区,高端装备,{5000 + i},0.15," for i in range(8)]
    name = "服务型制造示范企业（平台、项目）"
    held_by = {"E1": "service_manufacturing_demo:municipal", "E2": f"{name}:市级"}
    lines = [r + held_by.get(r.split(",")[0], "") for r in rows]
    good = tmp_path / "firms.csv"
    good.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    scenario, base = small(f"simulation.population.file={good}")
    params, governments, start = simulation_setup(scenario, base)
    seed = replication_seeds(params.seed, 1)[0]
    firms = checked_population(params, seed, base, governments)
    model = ServitizationModel(firms, params, governments, start, seed)
    held = {model.firms.firm_id[i]: h for i, h in model.firms.held.items() if h}
    key = ("jiaxing-2024-2026", "service_manufacturing_demo")
    assert held["E1"][key].level == held["E2"][key].level == "municipal"
    assert held["E1"][key].amount == held["E2"][key].amount > 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join([header, *[r + ("bogus:national" if i == 3 else "") for i, r in enumerate(rows)]])
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        check_simulation(*small(f"simulation.population.file={bad}"))
    [problem] = caught.value.problems
    assert problem.where == "row 5" and "bogus:national" in problem.message


def test_what_the_simulation_leaves_out_is_said_with_the_quotas_that_go_with_it():
    """Review 22: two of the default's ten yearly cultivation minimums (design+marketing,
    industrial internet platforms) were never applied, their programmes sitting out, while
    the rounds counted as planned under every rule: said only at -v. Now the summary lists
    what sits out and why, the headline counts the quotas left out, and the report names
    them."""
    from liangye.results.report_simulation import not_simulated_lines
    from liangye.scenarios.simulate import headline

    scenario, base = small()
    run = simulate_scenario(scenario, base, seed=1, replications=1)
    said = run.summary()["not_simulated"]
    quotas = [e for e in said if e["kind"] == "quota"]
    programmes = {e["what"].split(":")[0] for e in said if e["kind"] == "programme"}
    assert {"cultivate_design_marketing", "industrial_internet_platform"} <= programmes
    assert len(quotas) == 2 and all(e["policy"] == "jiaxing-2024-2026" for e in said)
    assert any("设计+营销" in e["what_zh"] and "每年不少于10" in e["what_zh"] for e in quotas)
    assert any(
        label.startswith("未执行的配额") and value.startswith("2 条")
        for label, value in headline(run)
    )
    text = " ".join(not_simulated_lines(said))
    assert "未执行的配额（2 条" in text and "工业互联网平台" in text
    assert json.loads(json.dumps(run.summary()))["not_simulated"] == said


def test_every_outcome_of_a_summary_has_a_chinese_label():
    """The report showed overrun.by_row.total untranslated (review 23): every key a summary
    holds, a horizon total's rows among them, reads in Chinese."""
    import re

    from liangye.results.report_labels import outcome_label

    scenario, base = small()
    run = simulate_scenario(scenario, base, seed=2, replications=1)
    keys = [*run.summary()["summary"], "overrun.by_row.total", "overrun.occurred.total"]
    untranslated = [k for k in keys if not re.search(r"[\u4e00-\u9fff]", outcome_label(k))]
    assert untranslated == []


def test_yes_no_for_a_number_and_a_missing_firm_file_are_refused_by_key():
    """Review 22: award_scale = true ran as 1.0 and share_noise = false as 0.0; a missing
    population file was said once the run had started, by its name alone."""
    from liangye.model.errors import InputError

    for key in (
        "simulation.award_scale=true",
        "simulation.share_noise=false",
        "simulation.population.input_gap=[true, 2]",  # inside a list too (review 24)
    ):
        with pytest.raises(InputError) as caught:
            small(key)
        [problem] = caught.value.problems
        assert "expected a number, not true or false" in problem.message, problem
        assert "应为数字" in problem.zh
    with pytest.raises(InputError) as caught:
        small("simulation.population.file=true")
    assert "expected text" in caught.value.problems[0].message
    assert small("simulation.awards_enabled=false")[0].simulation.awards_enabled is False
    with pytest.raises(InputError) as caught:
        small("simulation.population.file=no-such-firms.csv")
    [problem] = caught.value.problems
    assert problem.where == "simulation.population.file" and "file not found" in problem.message
