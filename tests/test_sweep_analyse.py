"""``liangye analyse``: Ishigami's Sobol indices, invalid tables, regret by hand, PRIM, bad targets."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liangye.results.sweep_analysis import analyse_sweep
from liangye.results.sweep_data import load_sweep_data
from liangye.results.sweep_store import DESIGN
from liangye.scenarios.sweep import build_design
from liangye.scenarios.sweep_executors import InProcessExecutor
from liangye.scenarios.sweep_models import ishigami, ishigami_indices
from liangye.scenarios.sweep_run import execute, fingerprint, open_store
from liangye.scenarios.sweep_schema import Sweep, outcome_names, parse_target

from conftest import liangye

PI = math.pi
ISHIGAMI_TOML = f"""
id = "ish"
model = "ishigami"
root_seed = 4
outcomes = ["y"]
batch_size = 2048

[sampler]
kind = "sobol"
samples = 1024

[levers]
a = [7.0, 2.0]

[uncertainties]
x1 = {{ low = {-PI!r}, high = {PI!r} }}
x2 = {{ low = {-PI!r}, high = {PI!r} }}
x3 = {{ low = {-PI!r}, high = {PI!r} }}

[analysis]
targets = ["y <= 8"]
better = {{ y = "lower" }}
"""


def stored(folder: Path, data: dict, model, limit: int | None = None) -> Path:
    """Run ``model`` over the sweep ``data`` through the sweep's own design, store and
    in-process executor into ``folder``."""
    sweep = Sweep.model_validate(data)
    design = build_design(sweep)
    store = open_store(folder, sweep, design, fingerprint(sweep, None), False, {})
    execute(store, design, model, sweep.outcomes, InProcessExecutor(), limit=limit, batch_size=64)
    return folder


def targets(sweep: dict, *texts: str):
    names = outcome_names(Sweep.model_validate(sweep))
    return [parse_target(t, names) for t in texts]


def test_ishigami_indices_per_lever_setting_through_sweep_and_analyse(tmp_path):
    path = tmp_path / "ish.toml"
    path.write_text(ISHIGAMI_TOML, encoding="utf-8")
    out = tmp_path / "out"
    ran = liangye("sweep", str(path), "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    done = liangye("analyse", str(out), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["sobol"]["valid"] and summary["runs"]["failed"] == 0
    table = pd.read_parquet(out / "analysis" / "sobol.parquet")
    assert len(table) == 2 * 3 and table["valid"].all()
    for a, rows in table.groupby("a"):
        known = ishigami_indices(a=a)
        rows = rows.set_index("factor").loc[["x1", "x2", "x3"]]
        assert rows["S1"].to_list() == pytest.approx(known["S1"], abs=0.06), a
        assert rows["ST"].to_list() == pytest.approx(known["ST"], abs=0.06), a
        assert (rows["S1_conf"] < 0.15).all() and (rows["ST_conf"] < 0.15).all()
    # the two settings differ as the analytic indices do: x2 matters far less with a = 2
    x2 = table[table["factor"] == "x2"].set_index("a")["S1"]
    assert x2[2.0] < 0.1 < 0.4 < x2[7.0]
    for name in ("sobol.png", "robustness.png", "outcomes_by_a.png"):
        assert (out / "analysis" / name).stat().st_size > 10_000, name
    assert (out / "analysis" / "sobol.png").read_bytes()[:4] == b"\x89PNG"
    # a lower y is better: in every world the a = 2 setting (the smaller sin² term) is best
    assert summary["best_setting"]["levers"] == {"a": 2.0}
    again = liangye("analyse", str(out), "--json")
    assert json.loads(again.stdout)["sobol"] == summary["sobol"]  # the same numbers
    assert pd.read_parquet(out / "analysis" / "sobol.parquet").equals(table)


def failing_ishigami(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """Ishigami, raising where x1 > 3 (a few runs of the design)."""
    if float(parameters["x1"]) > 3.0:
        raise RuntimeError("x1 too large")
    return ishigami(parameters, seed)


SOBOL_SWEEP = {
    "id": "fails",
    "outcomes": ["y"],
    "uncertainties": {k: {"low": -PI, "high": PI} for k in ("x1", "x2", "x3")},
    "sampler": {"kind": "sobol", "samples": 64},
}


def test_a_failed_or_missing_run_makes_the_sobol_table_invalid_and_says_so(tmp_path):
    design = build_design(Sweep.model_validate(SOBOL_SWEEP))
    failing = sum(1 for r in design.runs if float(r.uncertainties["x1"]) > 3.0)
    assert 0 < failing < len(design.runs)
    folder = stored(tmp_path / "s", SOBOL_SWEEP, failing_ishigami)
    done = liangye("analyse", str(folder))
    assert done.returncode == 0, done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert "INVALID" in said and f"{failing} 次运行失败" in said
    table = pd.read_parquet(folder / "analysis" / "sobol.parquet")
    assert len(table) == 3 and not table["valid"].any() and table["S1"].isna().all()
    assert (table["runs_failed"] == failing).all()
    people = pd.read_csv(folder / "analysis" / "sobol.csv", encoding="utf-8-sig")
    assert set(people["是否有效"]) == {"否"} and people["说明"].str.contains("INVALID").all()
    # the same design with every run fine but 10 not yet run: invalid, naming the 10
    partial = stored(tmp_path / "p", SOBOL_SWEEP, ishigami, limit=len(design.runs) - 10)
    analysis = analyse_sweep(partial)
    assert analysis.sobol is not None and not analysis.sobol.valid
    assert "10 次运行尚未完成" in analysis.sobol.message and analysis.sobol.missing == 10


def test_the_invalid_message_counts_the_failures_of_every_setting(tmp_path):
    """Two lever settings, each with the same failures: the message said "N 次运行失败" with
    one setting's N (its rows' reasons, made unique by their text), not the sweep's 2N."""
    sweep = {**SOBOL_SWEEP, "levers": {"a": [7.0, 7.5]}}
    design = build_design(Sweep.model_validate(sweep))
    failing = sum(1 for r in design.runs if float(r.uncertainties["x1"]) > 3.0)
    folder = stored(tmp_path / "two", sweep, failing_ishigami)
    analysis = analyse_sweep(folder)
    assert analysis.sobol is not None and analysis.sobol.failed == failing
    assert f"共 {failing} 次运行失败" in analysis.sobol.message
    assert failing % 2 == 0 and f"：{failing // 2} 次" not in analysis.sobol.message


def test_second_order_indices_are_given_when_the_design_paid_for_them(tmp_path):
    """``sampler.second_order`` ran N·(2D+2) runs but the analysis kept only S1 and ST
    (review 11). Ishigami's only interaction is x1 with x3 (S13 = ST1 − S1 ≈ 0.244)."""
    from liangye.results.sweep_analysis import analysis_tables, write_analysis

    sweep = {
        **SOBOL_SWEEP,
        "sampler": {"kind": "sobol", "samples": 512, "second_order": True},
    }
    folder = stored(tmp_path / "so", sweep, ishigami)
    analysis = analyse_sweep(folder)
    pairs = analysis_tables(analysis)["sobol_pairs"].set_index(["factor", "factor_2"])
    assert len(pairs) == 3 and pairs["valid"].all()
    assert pairs.at[("x1", "x3"), "S2"] == pytest.approx(0.244, abs=0.1)
    assert abs(pairs.at[("x1", "x2"), "S2"]) < 0.1 and abs(pairs.at[("x2", "x3"), "S2"]) < 0.1
    written_paths = write_analysis(analysis)
    written = {p.name for p in written_paths}
    assert {"sobol_pairs.csv", "sobol_pairs.parquet"} <= written
    # the CSVs a person opens in Excel carry no float noise (2.1999999999999993, review
    # 14): at most 10 significant digits in any number
    import re

    for path in written_paths:
        if path.suffix == ".csv":
            for number in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", path.read_text("utf-8-sig")):
                digits = number.split("e")[0].lstrip("-").replace(".", "").lstrip("0")
                assert len(digits) <= 10, (path.name, number)
    assert "sobol_pairs" not in analysis_tables(
        analyse_sweep(stored(tmp_path / "f", SOBOL_SWEEP, ishigami))
    )
    # one sampled factor has no pair: the table keeps its columns, its CSV a header
    one = {**sweep, "uncertainties": {"x1": {"low": -PI, "high": PI}}}
    alone = analyse_sweep(stored(tmp_path / "one", one, ishigami))
    write_analysis(alone)
    read = pd.read_csv(tmp_path / "one" / "analysis" / "sobol_pairs.csv", encoding="utf-8-sig")
    assert read.empty and "二阶指数S2" in read.columns


def lookup(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """A table of outcomes by hand: y (higher is better) and c (lower is better) by a and b;
    a = 2, b = 2 fails when ``fail`` is set; c is undefined for a = 3, b = 0."""
    a, b = int(float(parameters["a"])), int(float(parameters["b"]))
    if a == 2 and b == 2 and parameters.get("fail"):
        raise ValueError("refused")
    y = {(1, 0): 5, (2, 0): 3, (3, 0): 1, (1, 1): 2, (2, 1): 4, (3, 1): 3, (1, 2): 0, (2, 2): 2}
    c = {(1, 0): 10, (2, 0): 20, (3, 0): None, (1, 1): 10, (2, 1): 5, (3, 1): 8}
    return {"y": y.get((a, b), 6), "c": c.get((a, b), 1.0)}


HAND = {
    "id": "hand",
    "outcomes": ["y", "c"],
    "levers": {"a": [1, 2, 3]},
    "uncertainties": {"b": [0, 1, 2]},
    "analysis": {"better": {"y": "higher"}},
}


def test_regret_spread_and_target_shares_by_hand(tmp_path):
    folder = stored(tmp_path / "s", HAND, lookup)
    better = {"y": "higher", "c": "lower"}
    analysis = analyse_sweep(folder, targets(HAND, "y >= 3", "c <= 9"), better)
    spread = analysis.robust.spread.set_index(["a", "outcome"])
    # y by world b = 0, 1, 2: a=1 → 5, 2, 0; a=2 → 3, 4, 2; a=3 → 1, 3, 6; best 5, 4, 6
    y = spread.xs("y", level="outcome")
    assert y["regret_mean"].to_list() == pytest.approx([8 / 3, 2, 5 / 3])
    assert y["regret_max"].to_list() == [6, 4, 4]
    assert y["best_share"].to_list() == pytest.approx([1 / 3] * 3)
    assert y.loc[1.0, "p10"] == pytest.approx(0.4) and y.loc[1.0, "p90"] == pytest.approx(4.4)
    assert y["mean"].to_list() == pytest.approx([7 / 3, 3, 10 / 3])
    assert y["better"].eq("higher").all()
    # c: lower is better (as asked), undefined for a=3 in world b=0: that world
    # has no regret for c, and for a=3 the spread is over the two worlds where c exists
    c = spread.xs("c", level="outcome")
    assert c["regret_worlds"].to_list() == [2, 2, 2] and c["regret_excluded"].to_list() == [1] * 3
    # c in b1: 10, 5, 8 (least 5); in b2: 1, 1, 1
    assert c["regret_mean"].to_list() == pytest.approx([(5 + 0) / 2, 0, (3 + 0) / 2])
    assert c.loc[3.0, "worlds"] == 2 and c.loc[3.0, "undefined"] == 1
    shares = analysis.robust.targets.set_index(["a", "target"])["share"]
    assert [shares[(a, "y >= 3")] for a in (1.0, 2.0, 3.0)] == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    # c <= 9: a=1 in b=2; a=2 in b=1 and b=2; a=3 in b=1, b=2 (undefined in b=0: not met)
    assert [shares[(a, "c <= 9")] for a in (1.0, 2.0, 3.0)] == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    # both: a=1 never (y in b0, c in b2); a=2 in b1; a=3 in b1 and b2
    assert [shares[(a, "全部目标")] for a in (1.0, 2.0, 3.0)] == pytest.approx([0, 1 / 3, 2 / 3])
    assert analysis.robust.best_setting == (3.0,) and "平均后悔值最小" in analysis.robust.best_by


def test_a_failed_run_leaves_its_world_out_of_regret_and_is_counted(tmp_path):
    data = {**HAND, "set": []}
    folder = stored(tmp_path / "s", data, lambda p, s: lookup({**p, "fail": True}, s))
    analysis = analyse_sweep(folder, targets(HAND, "y >= 3"), {"y": "higher"})
    y = analysis.robust.spread.set_index(["a", "outcome"]).xs("y", level="outcome")
    # world b = 2 is left out of every setting's regret (a=2 failed there): in b0 (best 5)
    # the regrets are 0, 2, 4 and in b1 (best 4) 2, 0, 1
    assert y["regret_worlds"].to_list() == [2, 2, 2]
    assert y["regret_excluded"].to_list() == [1, 1, 1]
    assert y["regret_mean"].to_list() == pytest.approx([1, 1, 2.5])
    assert y["failed"].to_list() == [0, 1, 0] and y.loc[2.0, "worlds"] == 2
    shares = analysis.robust.targets.set_index("a")
    assert shares.loc[2.0, "judged"] == 2 and shares.loc[2.0, "share"] == pytest.approx(1.0)
    assert shares.loc[2.0, "failed"] == 1


def planted(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """y = 0 (the target y >= 0.5 fails) exactly where x1 > 0.7 and x2 < 0.3."""
    inside = float(parameters["x1"]) > 0.7 and float(parameters["x2"]) < 0.3
    return {"y": 0.0 if inside else 1.0}


def box_sweep(samples: int) -> dict:
    unit = {"low": 0.0, "high": 1.0}
    return {
        "id": "box",
        "outcomes": ["y"],
        "uncertainties": {"x1": unit, "x2": unit, "x3": unit},
        "sampler": {"kind": "lhs", "samples": samples},
        "root_seed": 5,
    }


def test_prim_finds_a_planted_failure_box(tmp_path):
    folder = stored(tmp_path / "s", box_sweep(1000), planted)
    found = analyse_sweep(folder, targets(box_sweep(1000), "y >= 0.5")).discovery
    assert found.box is not None and not found.message
    box = found.box.set_index("factor")
    assert set(box.index[box["restricted"]]) == {"x1", "x2"}
    assert box.loc["x1", "lower"] == pytest.approx(0.7, abs=0.03)
    assert box.loc["x2", "upper"] == pytest.approx(0.3, abs=0.03)
    assert box.loc["x1", "upper"] > 0.97 and box.loc["x2", "lower"] < 0.03
    assert found.coverage >= 0.9 and found.density >= 0.9
    assert found.failures == pytest.approx(1000 * 0.3 * 0.3, rel=0.1)
    done = liangye("analyse", str(folder), "--target", "y >= 0.5")
    assert done.returncode == 0, done.stderr
    assert "覆盖率" in done.stdout and "x1" in done.stdout
    table = pd.read_csv(folder / "analysis" / "discovery.csv", encoding="utf-8-sig")
    assert set(table.loc[table["是否受限"] == "是", "因素键"]) == {"x1", "x2"}
    # the box's own figures, on every row: the CSV is read apart from the screen
    assert table["覆盖率（未达标世界落在范围内的比例）"].tolist() == pytest.approx(
        [found.coverage] * len(table)
    )
    assert table["密度（范围内世界未达标的比例）"].tolist() == pytest.approx(
        [found.density] * len(table)
    )
    assert set(table["方案"]) == {found.setting}


def test_prim_says_when_there_are_too_few_runs_failures_or_no_target(tmp_path):
    few = stored(tmp_path / "few", box_sweep(20), planted)
    found = analyse_sweep(few, targets(box_sweep(20), "y >= 0.5")).discovery
    assert found.box is None and "运行太少" in found.message
    rare = stored(tmp_path / "rare", box_sweep(200), planted)
    found = analyse_sweep(rare, targets(box_sweep(200), "y >= -1")).discovery
    assert found.box is None and found.failures == 0 and "未达标的世界太少" in found.message
    found = analyse_sweep(rare).discovery
    assert found.box is None and "没有目标" in found.message


# A Sobol design over a listed x1: some cells repeat a parameter set, sharing one run.
LISTED_SOBOL = {
    **SOBOL_SWEEP,
    "uncertainties": {
        "x1": [-1.0, 0.0, 1.0],
        "x2": {"low": -PI, "high": PI},
        "x3": {"low": -PI, "high": PI},
    },
    "sampler": {"kind": "sobol", "samples": 16},
}


def test_sobol_over_listed_values_keeps_every_design_cell(tmp_path):
    data = LISTED_SOBOL
    design = build_design(Sweep.model_validate(data))
    assert design.aliases  # listed values repeat: some cells share a run
    folder = stored(tmp_path / "s", data, ishigami)
    assert len(pd.read_parquet(folder / DESIGN)) == 16 * 5
    analysis = analyse_sweep(folder)
    assert analysis.sobol is not None and analysis.sobol.valid, analysis.sobol.message
    assert load_sweep_data(folder).counts() == {"ok": len(design.runs), "failed": 0, "missing": 0}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("y>=3", ("y", ">=", 3.0)),
        (" y ≤ -2.5 ", ("y", "<=", -2.5)),
        ("share_above_20 > 30%", ("servitization.share_above_20", ">", 0.3)),
        ("servitization.share_above_20<1e-3", ("servitization.share_above_20", "<", 0.001)),
    ],
)
def test_targets_parse_without_eval(text, expected):
    names = {"y": "y", "share_above_20": "servitization.share_above_20"}
    names["servitization.share_above_20"] = "servitization.share_above_20"
    target = parse_target(text, names)
    assert (target.outcome, target.op, target.value) == expected


def test_bad_targets_and_settings_exit_2_naming_them(tmp_path):
    folder = stored(tmp_path / "s", HAND, lookup)
    done = liangye(
        "analyse",
        str(folder),
        *("--target", "nope <= 1", "--target", "y => 1", "--target", "y <= abc"),
        *("--target", "y <= nan", "--target", "__import__('os') < 1"),
    )
    assert done.returncode == 2
    text = " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert "--target: 'nope <= 1': 'nope' is no outcome of this sweep (its outcomes: c, y)" in text
    assert "'y => 1' is not a target: expected OUTCOME <= NUMBER" in text
    assert "'abc' is not a number" in text and "'nan' is not a finite number" in text
    assert "__import__" in text and not (folder / "analysis").exists()
    for setting, words in (
        ("a=9", "no setting match"),
        ("a", "expected LEVER=VALUE"),
        ("z=1", "z is no lever"),
    ):
        done = liangye("analyse", str(folder), "--setting", setting)
        assert done.returncode == 2 and words in " ".join(done.stderr.split()), done.stderr
    chosen = liangye("analyse", str(folder), "--setting", "a=2", "--target", "y>=3", "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["discovery"]["levers"] == {"a": 2.0}
    assert liangye("analyse", str(tmp_path)).returncode == 2


def test_bad_analysis_table_in_a_sweep_file_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'id = "bad"\nmodel = "ishigami"\noutcomes = ["y"]\n[uncertainties]\n'
        "x1 = [0.0, 1.0]\n[analysis]\n"
        'targets = ["y <= 1", "profit >= 3"]\nbetter = { z = "higher" }\n',
        encoding="utf-8",
    )
    done = liangye("sweep", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    text = " ".join(done.stderr.split())
    assert "bad.toml analysis.targets[1]: 'profit >= 3': 'profit' is no outcome" in text
    assert "bad.toml analysis.better.z: is no outcome of this sweep" in text
    assert not (tmp_path / "out").exists()


def test_a_named_model_refuses_keys_it_does_not_read(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'id = "bad"\nmodel = "ishigami"\nset = ["c=1", "a=\\"x\\""]\noutcomes = ["y", "z"]\n'
        "[uncertainties]\nx9 = [0.0, 1.0]\n",
        encoding="utf-8",
    )
    done = liangye("sweep", str(path), "--out", str(tmp_path / "out"))
    text = " ".join(done.stderr.split())
    assert done.returncode == 2
    assert "bad.toml set.c: the ishigami model reads no 'c'" in text
    assert "bad.toml set.a: expected a number" in text
    assert "bad.toml uncertainties.x9: the ishigami model reads no 'x9'" in text
    assert "bad.toml outcomes[1]: 'z' is no outcome of the ishigami model" in text
    path.write_text('id = "bad"\nmodel = "nosuch"\noutcomes = ["y"]\n', encoding="utf-8")
    done = liangye("sweep", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "'nosuch' is no model (scenario, ishigami)" in done.stderr


def test_no_setting_is_crowned_on_part_of_the_comparison(tmp_path):
    """Two runs of the first setting against none of the others were enough for
    "★ 最稳健的方案" (the first setting, chosen for lack of anything to compare)."""
    partial = stored(tmp_path / "p", HAND, lookup, limit=2)
    analysis = analyse_sweep(partial, targets(HAND, "y >= 3"), {"y": "higher"})
    assert not analysis.robust.crowned and "不评选" in analysis.robust.best_by
    done = liangye("analyse", str(partial), "--target", "y >= 3")
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 0 and "★" not in said and "最稳健的方案：未评出" in said
    whole = stored(tmp_path / "w", HAND, lookup)
    assert analyse_sweep(whole, [], {"y": "higher"}).robust.crowned


def test_sobol_indices_from_too_few_samples_are_flagged_imprecise_and_a_constant_outcome_named(
    tmp_path,
):
    """Two base samples gave indices of 0.7 ± 1.2 marked valid, with nothing said; an
    outcome constant over the samples was reported without its name, with advice to resume
    a sweep that had nothing left to run."""
    few = {**SOBOL_SWEEP, "outcomes": ["y", "x"], "sampler": {"kind": "sobol", "samples": 4}}
    folder = stored(tmp_path / "f", few, lambda p, s: {**ishigami(p, s), "x": 1.0})
    sobol = analyse_sweep(folder).sobol
    assert sobol is not None and sobol.imprecise and "sampler.samples" in sobol.imprecise
    rows = sobol.table.set_index("outcome")
    assert rows.loc["y", "valid"].all() and not rows.loc["y", "precise"].any()
    assert not rows.loc["x", "valid"].any() and "“x”在所有样本中相同" in sobol.message
    done = liangye("analyse", str(folder))
    said = " ".join((done.stdout + done.stderr).split())
    assert "精度不足" in said and "--resume" not in said
    # the many samples of the Ishigami test above give precise indices: nothing flagged
    many = stored(
        tmp_path / "m", {**SOBOL_SWEEP, "sampler": {"kind": "sobol", "samples": 1024}}, ishigami
    )
    assert analyse_sweep(many).sobol.imprecise is None


def test_analyse_on_a_run_folder_says_it_is_a_run(tmp_path):
    """A run folder's manifest gave two schema errors ("id: is required but missing")."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"kind": "allocation"}', encoding="utf-8")
    done = liangye("analyse", str(folder))
    said = " ".join(done.stderr.split())
    assert done.returncode == 2 and "folder of a single run (allocation)" in said
    assert "liangye report" in said and "required" not in said


def tied(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """z is the same for every setting (no setting ever beaten on it); y is best for a = 2."""
    a, b = int(float(parameters["a"])), int(float(parameters["b"]))
    return {"z": 0.0, "y": {1: 1.0, 2: 5.0, 3: 2.0}[a] + b}


TIED = {
    "id": "tied",
    "outcomes": ["z", "y"],
    "levers": {"a": [1, 2, 3]},
    "uncertainties": {"b": [0, 1]},
}


def test_a_tie_on_an_outcome_crowns_no_setting_on_it(tmp_path):
    """Every setting with regret 0 on the first target's outcome: the first setting was
    crowned "least mean regret" there; the tie is passed over for the next outcome, and a tie
    on every outcome crowns none."""
    folder = stored(tmp_path / "t", TIED, tied)
    analysis = analyse_sweep(folder, targets(TIED, "z <= 0"), {"z": "lower", "y": "higher"})
    assert analysis.robust.crowned and analysis.robust.best_setting == (2.0,)
    assert "「z」" in analysis.robust.best_by and "并列" in analysis.robust.best_by
    only_z = analyse_sweep(folder, targets(TIED, "z <= 0"), {"z": "lower"})
    assert not only_z.robust.crowned and "并列" in only_z.robust.best_by


def partly_tied(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """On z, settings 1 and 2 tie at the least regret (0) and 3 is beaten; on y, 3 is best
    and 2 beats 1."""
    a, b = int(float(parameters["a"])), int(float(parameters["b"]))
    return {"z": {1: 0.0, 2: 0.0, 3: 1.0}[a], "y": {1: 1.0, 2: 5.0, 3: 9.0}[a] + b}


def test_a_tie_of_some_settings_passes_only_them_on_to_the_next_outcome(tmp_path):
    """Review 11: settings 1 and 2 tie on the first target's outcome and 3 loses it, yet 3
    was crowned on the next outcome, "tied" on the first. Only 1 and 2 go on: 2 wins."""
    folder = stored(tmp_path / "p", TIED, partly_tied)
    analysis = analyse_sweep(folder, targets(TIED, "z <= 0"), {"z": "lower", "y": "higher"})
    assert analysis.robust.crowned and analysis.robust.best_setting == (2.0,)
    assert "在「z」上与其他方案并列最小" in analysis.robust.best_by


def test_invalid_indices_say_invalid_once_and_ask_for_the_retry_failed_runs_need(tmp_path):
    """The panel said 无效（INVALID）：无效（INVALID）… and asked for --resume, which skips
    failed runs: failed runs need --retry-failed."""
    folder = stored(tmp_path / "s", SOBOL_SWEEP, failing_ishigami)
    analysis = analyse_sweep(folder)
    assert analysis.sobol is not None and analysis.sobol.message.count("INVALID") == 1
    done = liangye("analyse", str(folder))
    said = " ".join((done.stdout + done.stderr).split())
    assert "--resume --retry-failed" in said and said.count("INVALID）：无效") == 0


def test_the_discovery_message_keeps_its_brackets(tmp_path):
    """ "[analysis] targets" was read by rich as a style tag and printed as " targets"."""
    folder = stored(tmp_path / "t", TIED, tied)
    done = liangye("analyse", str(folder))
    assert done.returncode == 0, done.stderr
    assert "[analysis] targets" in " ".join(done.stdout.split())


def test_a_yes_no_lever_is_chosen_as_the_sweep_file_writes_it():
    """--setting "simulation.awards_enabled=true" found no setting: stored True was compared
    with the text 'true'."""
    from liangye.results.sweep_robustness import _same

    assert _same(True, "true") and _same(np.True_, "True") and _same(False, "false")
    assert not _same(True, "false") and not _same(False, "1.0")
    assert _same(2.0, "2") and _same("jiaxing", " jiaxing ")


def test_target_shares_count_failures_in_the_same_worlds_they_judge(tmp_path):
    """Over listed values a Sobol design runs one parameter set for several cells: worlds
    judged were counted in cells and failures in runs, so judged + failed added up to
    neither the cells nor the runs. Both count cells now."""

    def failing_at_one(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
        if float(parameters["x1"]) == 1.0:
            raise RuntimeError("refused")
        return ishigami(parameters, seed)

    data = LISTED_SOBOL
    assert build_design(Sweep.model_validate(data)).aliases
    folder = stored(tmp_path / "s", data, failing_at_one)
    analysis = analyse_sweep(folder, targets(data, "y <= 8"))
    cells = len(pd.read_parquet(folder / DESIGN))
    for row in analysis.robust.targets.itertuples():
        assert row.judged + row.failed + row.missing == cells
    assert analysis.robust.targets["failed"].gt(0).all()


def overran(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """An event outcome: 1 in one world of the ten (b = 9), 0 in the others."""
    return {"o": 1.0 if int(float(parameters["b"])) == 9 else 0.0}


def test_an_event_outcome_has_observed_percentiles_and_reads_as_a_share(tmp_path):
    """An outcome that is 1 where something happened and 0 elsewhere (an overrun) keeps
    percentiles some world had (interpolated, one world in ten read as a 90th percentile of
    0.1) and its mean reads as a share of worlds in the terminal."""
    from rich.console import Console

    from liangye.scenarios.sweep_display import show_analysis

    sweep = {"id": "event", "outcomes": ["o"], "uncertainties": {"b": list(range(10))}}
    folder = stored(tmp_path / "s", sweep, overran)
    analysis = analyse_sweep(folder, [], {})
    row = analysis.robust.spread.set_index("outcome").loc["o"]
    assert bool(row["event"]) and row["mean"] == pytest.approx(0.1)
    assert (row["p10"], row["p90"]) == (0.0, 0.0)  # nine worlds in ten: none
    console = Console(record=True, width=120)
    show_analysis(console, Console(record=True), analysis, [])
    shown = console.export_text()
    assert "10%" in shown and "0.1" not in shown


def counted(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """A count the rules know (rounds without minimum quotas) that is 0 or 1 in every world,
    and an event (an overrun) that never happens."""
    b = int(float(parameters["b"]))
    return {"rounds.without_minimums": float(b % 2), "overrun.occurred.any_year": 0.0}


def test_whether_an_outcome_is_an_event_comes_from_what_it_is_not_its_values(tmp_path):
    """Guessed from the values, a count that was 0 or 1 read as a share (40%), and an event
    that never happened as a count; the outcome's rule decides."""
    sweep = {
        "id": "kinds",
        "outcomes": ["rounds.without_minimums", "overrun.occurred.any_year"],
        "uncertainties": {"b": list(range(10))},
    }
    folder = stored(tmp_path / "s", sweep, counted)
    spread = analyse_sweep(folder, [], {}).robust.spread.set_index("outcome")
    assert not bool(spread.loc["rounds.without_minimums", "event"])
    assert bool(spread.loc["overrun.occurred.any_year", "event"])


def overran_by_setting(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """An overrun in world b = 9 under a = 1, and in worlds 8 and 9 under a = 2."""
    b, a = int(float(parameters["b"])), int(float(parameters["a"]))
    return {"overrun.occurred.any_year": 1.0 if b >= 10 - a else 0.0}


def test_an_events_regret_percentiles_are_values_some_world_had(tmp_path):
    """The regret of an event is 0 or 1 in each world: its 90th percentile read 0.5 where no
    world had it, interpolated (review 19); the CSV says 是/否 of an event, not True/False."""
    sweep = {
        "id": "regret",
        "outcomes": ["overrun.occurred.any_year"],
        "levers": {"a": [1, 2]},
        "uncertainties": {"b": list(range(10))},
    }
    folder = stored(tmp_path / "s", sweep, overran_by_setting)
    analysis = analyse_sweep(folder, [], {})
    spread = analysis.robust.spread
    assert set(spread["regret_p90"]) <= {0.0, 1.0}
    assert spread["regret_mean"].max() == pytest.approx(0.1)  # a = 2 in world 8
    done = liangye("analyse", str(folder))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(folder / "analysis" / "robustness.csv", encoding="utf-8-sig")
    assert set(table["是否事件（均值即发生比例）"]) == {"是"}


def test_lever_values_with_a_name_are_shown_by_it(tmp_path):
    """A tier design read as its id (jiaxing, steep) in the analysis's tables and figures,
    but as its title in the run reports (review 19): values given a name show by it, in
    the settings' labels and in the lever's column of the CSV."""
    sweep = {
        "id": "named",
        "outcomes": ["overrun.occurred.any_year"],
        "levers": {"a": [1, 2]},
        "uncertainties": {"b": list(range(10))},
    }
    folder = stored(tmp_path / "s", sweep, overran_by_setting)
    names = {"a": {"1": "一号方案", "2": "二号方案"}}
    analysis = analyse_sweep(folder, [], {}, value_names=names)
    assert set(analysis.robust.spread["setting"]) == {"一号方案", "二号方案"}
    from liangye.results.sweep_analysis import write_analysis

    write_analysis(analysis, folder / "analysis")
    table = pd.read_csv(folder / "analysis" / "robustness.csv", encoding="utf-8-sig")
    assert set(table["a"]) == {"一号方案", "二号方案"}
    from liangye.scenarios.sweep_analyse import lever_value_names

    assert lever_value_names()["tier_design"]["jiaxing"] == "嘉兴 150/50/20"
