"""``liangye compare``: designs on the same candidates and seeds, one table and one report."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from liangye.results.report_designs import (
    exceeds_spread,
    metric_rows,
    paired_difference,
    replication_metrics,
    wilson_interval,
)

from conftest import liangye, small_run


def said(done) -> str:
    """What the command printed, its line wrapping undone."""
    return "".join((done.stdout + done.stderr).split())


def test_two_designs_compared(design_runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    done = liangye(
        "compare", str(design_runs["jiaxing"]), str(design_runs["steep"]), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "方案比较" in done.stdout and str(out / "compare.csv") in said(done)
    table = pd.read_csv(out / "compare.csv", encoding="utf-8-sig")
    assert list(table.columns)[:4] == ["指标", "方案", "运行文件夹", "均值"]
    assert len(table) == 10  # five metrics × two designs
    assert set(table["方案"]) == {"嘉兴 150/50/20", "陡峭 300/50/10（示意）"}
    base = table[table["运行文件夹"] == str(design_runs["jiaxing"])]
    other = table[table["运行文件夹"] == str(design_runs["steep"])]
    assert set(base["差异是否超出重复间波动"]) == {"基准"}
    assert set(other["差异是否超出重复间波动"].dropna()) <= {"是", "否"}
    # The difference is of the means, as the table says.
    spend = table[table["指标"] == "实际支付（万元）"].set_index("运行文件夹")
    assert spend.loc[str(design_runs["steep"]), "与基准之差"] == pytest.approx(
        spend.loc[str(design_runs["steep"]), "均值"]
        - spend.loc[str(design_runs["jiaxing"]), "均值"]
    )
    # The metrics read at a threshold say which, in the table itself.
    assert "净新增服务化企业（家），门槛 20%" in set(table["指标"])
    html = (out / "compare.html").read_text(encoding="utf-8")
    assert "奖励方案比较报告" in html and html.count("data:image/png;base64,") == 1


def test_runs_on_other_seeds_or_candidates_are_refused(
    design_runs: dict[str, Path], tmp_path: Path
) -> None:
    reseeded = small_run(tmp_path / "reseeded", "tier_design=steep", "simulation.seed=9")
    other = small_run(tmp_path / "other", "tier_design=steep", enterprises=31)
    done = liangye(
        "compare",
        str(design_runs["jiaxing"]),
        str(reseeded),
        str(other),
        "--out",
        str(tmp_path / "x"),
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    text = said(done)
    assert f"{reseeded}模拟随机种子" in text and "9，而基准为0" in text
    # a seed is named once, as the run drew it (not again as the scenario's key)
    assert text.count(f"{reseeded}模拟随机种子") == 1 and f"{reseeded}simulation.seed" not in text
    # the setting that differs is named by its key, with both values
    assert f"{other}candidates.synthetic.enterprises" in text and "31，而基准为30" in text
    assert f"{other}候选编号" in text
    assert "只能比较在相同候选与随机种子下运行的方案" in text
    assert not (tmp_path / "x").exists()  # nothing written for a refused comparison


def test_runs_in_another_world_are_refused_and_other_choices_are_named(
    design_runs: dict[str, Path], tmp_path: Path
) -> None:
    """Only what the city chooses may differ between the runs compared: a run whose firms
    behave otherwise (imitation) or whose nominations are conferred with another chance is
    refused, naming the setting; one with another budget or award scale is compared, and
    the terminal and the report say in what it differs (it read as the same design)."""
    imitating = small_run(tmp_path / "imitating", "tier_design=steep", "simulation.imitation_q=0.9")
    done = liangye(
        "compare", str(design_runs["jiaxing"]), str(imitating), "--out", str(tmp_path / "x")
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{imitating}simulation.imitation_q" in said(done) and "0.9，而基准为" in said(done)
    richer = small_run(tmp_path / "richer", "tier_design=jiaxing", "simulation.award_scale=2")
    out = tmp_path / "cmp"
    done = liangye("compare", str(design_runs["jiaxing"]), str(richer), "--out", str(out))
    assert done.returncode == 0, done.stderr
    line = "与基准不同的设置：simulation.award_scale=2.0（基准1.0）"
    assert line in said(done)
    assert line in "".join((out / "compare.html").read_text(encoding="utf-8").split())


def test_one_folder_or_a_folder_without_a_simulation_is_refused(
    design_runs: dict[str, Path], tmp_path: Path
) -> None:
    done = liangye("compare", str(design_runs["jiaxing"]))
    assert done.returncode == 2 and "至少需要两个运行文件夹" in said(done)
    done = liangye("compare", str(design_runs["jiaxing"]), str(tmp_path))
    assert done.returncode == 2 and f"{tmp_path}:不是liangye的运行文件夹" in said(done)


def replications(spends: list[float], nets: list[float], overruns: list[int]) -> pd.DataFrame:
    runs = [
        {
            "replication": k,
            "spend": {"paid": s},
            "overrun": {"occurred": {"any_year": o}},
            "additionality": [
                {"threshold": 0.2, "net_additional": n, "deadweight_paid_share": 0.25,
                 "cost_per_additional": s / n if n > 0 else None}
            ],
        }
        for k, (s, n, o) in enumerate(zip(spends, nets, overruns, strict=True))
    ]  # fmt: skip
    return replication_metrics(runs, 20)


def test_metrics_pool_costs_and_bound_the_overrun_chance() -> None:
    frame = replications([100.0, 300.0], [0.0, 4.0], [0, 1])
    rows = {r["metric"]: r for r in metric_rows("甲", frame)}
    assert (rows["spend"]["mean"], rows["spend"]["low"], rows["spend"]["high"]) == (200, 100, 300)
    # Pooled: 400 paid over 4 net additional firms, though one replication had none.
    assert rows["cost_per_additional"]["mean"] == 100.0
    # Its range: 75 in the replication that added firms, no upper end from the one that
    # added none (the pooled 100 lies above every finite replication's figure).
    assert rows["cost_per_additional"]["low"] == 75.0
    assert rows["cost_per_additional"]["high"] == math.inf
    # One overrun in two: 50%, its Wilson interval wide.
    overrun = rows["overrun_risk"]
    assert overrun["mean"] == 0.5 and overrun["low"] < 0.1 and overrun["high"] > 0.9


@pytest.mark.parametrize(
    ("hits", "trials"), [(0, 1), (1, 2), (0, 20), (3, 20), (20, 20), (7, 1000)]
)
def test_the_wilson_interval_is_scipys(hits: int, trials: int) -> None:
    from scipy.stats import binomtest

    expected = binomtest(hits, trials).proportion_ci(method="wilson")
    low, high = wilson_interval(hits, trials)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_a_difference_exceeds_the_spread_only_when_larger_than_either_range() -> None:
    base = replications([100.0, 110.0, 105.0], [1, 1, 1], [0, 0, 0])
    close = replications([104.0, 118.0, 108.0], [1, 1, 1], [0, 0, 0])
    far = replications([150.0, 160.0, 152.0], [1, 1, 1], [0, 0, 0])
    diff, spread, verdict = exceeds_spread(base, close, "spend")
    assert (diff, spread, verdict) == (pytest.approx(5.0), 14.0, False)
    diff, spread, verdict = exceeds_spread(base, far, "spend")
    assert (diff, spread, verdict) == (pytest.approx(49.0), 10.0, True)
    assert paired_difference(base, far, "spend") == (pytest.approx(49.0), 47.0, 50.0, 3)
    # One replication: no telling.
    one = replications([100.0], [1], [0])
    _, spread, verdict = exceeds_spread(one, replications([200.0], [1], [0]), "spend")
    assert verdict is None and math.isnan(spread)


def test_an_interval_without_an_upper_end_is_an_empty_cell_in_the_csv(tmp_path) -> None:
    """compare.csv wrote the text "inf" for a cost range that has no upper end."""
    from liangye.results.report_compare import write_csv

    table = pd.DataFrame(
        {
            "metric": ["cost_per_additional"],
            "design": ["甲"],
            "folder": ["a"],
            "mean": [100.0],
            "low": [75.0],
            "high": [math.inf],
            "difference": [math.nan],
            "paired_low": [math.nan],
            "paired_high": [math.nan],
            "spread": [math.inf],
            "exceeds": [None],
        }
    )
    path = write_csv(table, tmp_path / "compare.csv")
    text = path.read_text(encoding="utf-8-sig")
    assert "inf" not in text.lower()
    read = pd.read_csv(path, encoding="utf-8-sig")
    assert read["下限"].iloc[0] == 75.0 and pd.isna(read["上限"].iloc[0])


def test_shares_in_the_csv_are_in_percent_and_say_so(tmp_path) -> None:
    """A bureau read 0.227396 for a deadweight share of 22.7%: shares are written in
    percent, their metric named with （%）, and other metrics are left as they are."""
    from liangye.results.report_compare import write_csv

    table = pd.DataFrame(
        {
            "metric": ["无效激励资金占比，门槛 20%", "任一年超支比例", "实际支付（万元）"],
            "design": ["甲", "甲", "甲"],
            "folder": ["a", "a", "a"],
            "mean": [0.227396, 0.75, 8660.0],
            "low": [0.2, 0.300642, 8370.0],
            "high": [0.258602, 0.954413, 9010.0],
            "difference": [math.nan] * 3,
            "paired_low": [math.nan] * 3,
            "paired_high": [math.nan] * 3,
            "spread": [math.nan] * 3,
            "exceeds": [None] * 3,
            "key": ["deadweight_share", "overrun_risk", "spend"],
        }
    )
    read = pd.read_csv(write_csv(table, tmp_path / "compare.csv"), encoding="utf-8-sig")
    rows = read.set_index("指标")
    assert list(rows.index) == [
        "无效激励资金占比（%），门槛 20%",
        "任一年超支比例（%）",
        "实际支付（万元）",
    ]
    assert rows.loc["无效激励资金占比（%），门槛 20%", "均值"] == pytest.approx(22.7396)
    assert rows.loc["任一年超支比例（%）", "上限"] == pytest.approx(95.4413)
    assert rows.loc["实际支付（万元）", "均值"] == 8660.0


def test_one_table_by_two_paths_is_the_same_world(tmp_path) -> None:
    """Manifests name a scenario's files by absolute path (review 23), so copies of one
    scenario in two folders named two tables and compare refused them (review 24): files
    of the same bytes are the same setting; a table that differs is not."""
    from liangye.results.report_compare import FILE_SETTINGS, same_file_content

    first, copy, other = (tmp_path / n for n in ("a.csv", "b.csv", "c.csv"))
    first.write_text("id,score\nA,80\n", encoding="utf-8")
    copy.write_text("id,score\nA,80\n", encoding="utf-8")
    other.write_text("id,score\nA,81\n", encoding="utf-8")
    assert "candidates.file" in FILE_SETTINGS
    assert same_file_content(str(first), str(copy))
    assert not same_file_content(str(first), str(other))
    assert not same_file_content("firms.csv", str(copy))  # a path not found: compared as written
